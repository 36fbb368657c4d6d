// How busy the machine is, as a factor for the grader's and the start's time limits: a quiet
// machine is 1, and a loaded one stretches deadlines (up to MAX_SCALE) instead of failing learners.
import { cpus, loadavg } from 'node:os';
import type { Driver } from './driver.js';

export const MAX_SCALE = 4;
/** A trivial `docker exec` on a quiet machine of this kind takes about 50-60 ms. */
export const QUIET_EXEC_MS = 100;

const clamp = (x: number) => Math.min(MAX_SCALE, Math.max(1, Number.isFinite(x) ? x : 1));

/** From the load average: runnable processes per core beyond 1 slow everything down. */
export function loadScale(load = loadavg()[0] ?? 0, cores = cpus().length): number {
  return clamp(load / Math.max(1, cores));
}

/** From how long one trivial exec took (what every probe pays), combined with the load average. */
export function scaleFrom(execMs: number, load = loadavg()[0] ?? 0, cores = cpus().length): number {
  return Math.round(Math.max(clamp(execMs / QUIET_EXEC_MS), loadScale(load, cores)) * 100) / 100;
}

/** Measures the time scale on a running container; a failed exec means a very busy engine. */
export async function measureTimeScale(driver: Driver, container: string): Promise<number> {
  const t0 = Date.now();
  try {
    await driver.exec(container, ['true'], { timeoutMs: 5000 });
    return scaleFrom(Date.now() - t0);
  } catch {
    return MAX_SCALE;
  }
}
