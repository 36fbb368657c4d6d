// Measurement 1: the no-cache build of the base and every role image, as a first-time user pays
// it. Built under throwaway tags so the real images are never touched.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { AbortedError } from '../../orchestrator/runtime/engine.js';
import { ensureRoot, imagesDir, ROLES, type Progress } from '../../orchestrator/runtime/images.js';
import { LABEL, PROJECT } from '../../orchestrator/runtime/plan.js';
import { round, type StageContext } from './context.js';

export const COLD_REPO = `${PROJECT}-bench`;
const COLD_LABEL = 'io.hurrynet.bench';

function coldTag(role: string): string {
  return `${COLD_REPO}/${role}:cold`;
}

function coldTags(): string[] {
  return [coldTag('base'), ...ROLES.map(coldTag)];
}

export async function removeColdImages(driver: Driver): Promise<void> {
  // Roles first: the base cannot go while images built on it still exist.
  for (const tag of coldTags().reverse()) await driver.removeImage(tag);
  // And anything of ours a rebuild left untagged.
  for (const img of await driver.listImages({ [COLD_LABEL]: 'cold' })) await driver.removeImage(img.id);
}

/** Builds base + every role with no cache under throwaway tags; the real images stay as they are. */
async function coldBuild(driver: Driver, progress: Progress, signal?: AbortSignal): Promise<number> {
  const root = await ensureRoot(driver, progress);
  const dir = imagesDir();
  const labels = (role: string) => ({
    [LABEL.project]: PROJECT,
    [LABEL.kind]: 'image',
    'io.hurrynet.role': role,
    [COLD_LABEL]: 'cold',
  });
  const build = async (role: string, args: Record<string, string>) => {
    if (signal?.aborted) throw new AbortedError();
    const t0 = performance.now();
    await driver.buildImage({
      tag: coldTag(role),
      contextDir: join(dir, role),
      buildArgs: args,
      labels: labels(role),
      noCache: true,
      onProgress: (line) => {
        if (/^Step \d+\/\d+ :/.test(line)) progress(`  [cold ${role}] ${line.slice(0, 100)}`);
      },
    });
    progress(`  built ${coldTag(role)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  const t0 = performance.now();
  await build('base', { ROOT_IMAGE: root });
  await Promise.all(ROLES.map((r) => build(r, { BASE_IMAGE: coldTag('base') })));
  return (performance.now() - t0) / 1000;
}

export async function coldStage(ctx: StageContext): Promise<void> {
  if (ctx.settings.skipCold) return;
  ctx.progress('cold build: base and every role image with no cache (minutes; --skip-cold skips it)');
  // An interrupted earlier run may have left some of the throwaway images.
  await removeColdImages(ctx.driver);
  const seconds = await coldBuild(ctx.driver, ctx.progress, ctx.signal);
  await removeColdImages(ctx.driver);
  ctx.add({ name: 'cold build (no cache)', value: round(seconds, 2), unit: 's' });
}
