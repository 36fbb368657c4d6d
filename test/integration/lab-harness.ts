// What every lab test does: start the lab on a real engine, grade it untouched, grade a faked
// submission, grade the reference solution.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findLab, type Lab, varsFor } from '../../orchestrator/labs/lab.js';
import { applySubmission, checkLab, startLab, validateSubmission } from '../../orchestrator/labs/labrun.js';
import type { Report } from '../../checks/types.js';
import { driver } from './helpers.js';

export interface LabRun {
  lab: Lab;
  instance: string;
  seed: string;
  vars: Record<string, string | number>;
}

export async function start(query: string, instance: string, seed: string): Promise<LabRun> {
  const lab = await findLab(query);
  const r = await startLab(driver, lab, { instance, seed, replace: true });
  return { lab, instance, seed, vars: r.vars };
}

export async function grade(run: LabRun): Promise<Report> {
  return checkLab(driver, run.instance, { lab: run.lab, seed: run.seed, vars: varsFor(run.lab, run.seed) });
}

export async function apply(run: LabRun, dir: string): Promise<void> {
  await applySubmission(driver, run.instance, run.lab, validateSubmission(run.lab, run.vars, dir));
}

export function solutionDir(run: LabRun): string {
  return join(run.lab.dir, 'solution');
}

/** Writes a throw-away submission folder from a map of relative path to content. */
export function submissionFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hurrynet-sub-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export function failedIds(report: Report): string[] {
  return report.results.filter((r) => !r.passed).map((r) => r.id);
}

/** A readable dump for assertion messages. */
export function explain(report: Report): string {
  return report.results.map((r) => `${r.passed ? 'PASS' : 'FAIL'} ${r.id}: ${r.reason}`).join('\n');
}
