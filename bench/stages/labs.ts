// Measurements 7 and 8, as stages: the lab start and check timings and batch grading live in
// bench/labs.ts; these only decide whether they run and add what they measured.
import { benchGrading, benchLabs } from '../labs.js';
import type { StageContext } from './context.js';

export async function labsStage(ctx: StageContext): Promise<void> {
  if (ctx.settings.skipLabs) return;
  ctx.progress('labs: lab N --no-shell with and without a standby world, and check N on a passing world');
  for (const r of await benchLabs(ctx.driver, ctx.progress, ctx.settings.labs)) ctx.add(r);
}

export async function gradingStage(ctx: StageContext): Promise<void> {
  if (!ctx.settings.gradeCount) return;
  for (const lab of ctx.settings.gradeLabs)
    for (const r of await benchGrading(ctx.driver, ctx.progress, lab, ctx.settings.gradeCount)) ctx.add(r);
}
