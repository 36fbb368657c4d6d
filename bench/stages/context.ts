// What every bench stage shares: one context built by runBench, and the helpers more than one
// stage needs. A stage is a small function that measures one thing and adds its results.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { stop, type UpOptions } from '../../orchestrator/runtime/engine.js';
import type { ImageSet, Progress } from '../../orchestrator/runtime/images.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { allocateSubnets, DEFAULT_POOL } from '../../orchestrator/world/addresses.js';
import type { BenchResult } from '../run.js';

/** A result before runBench works out its ratio and whether it met its target. */
export type Measurement = Omit<BenchResult, 'ratio' | 'ok'>;

export interface BenchSettings {
  skipCold: boolean;
  repeat: number;
  /** How many worlds the parallel stage starts. */
  worlds: number;
  skipLabs: boolean;
  labs?: string[];
  /** 0 skips the grading stage. */
  gradeCount: number;
  /** The labs the grading stage grades, each with --jobs auto and --jobs 1. */
  gradeLabs: string[];
  /** How many worlds at once the world curve starts (empty skips it). */
  curveWorlds: number[];
  /** Class sizes the grading curve grades (empty skips it), all of curveLab. */
  curveGrades: number[];
  curveLab: string;
  /** Where the SVG charts go: the results file's folder. */
  chartDir: string;
}

/** Values one stage measures and a later one uses as its baseline or input. */
export interface Carried {
  /** Role images, looked up once after the cold build (the naive script needs their names). */
  images?: ImageSet['roles'];
  /** Median single up and stop of the up/stop rounds, in seconds. */
  oneUp?: number;
  oneStop?: number;
}

export interface StageContext {
  readonly driver: Driver;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
  readonly settings: BenchSettings;
  /** The world the warm-up, exec, memory and up/stop stages use (bench-1). */
  readonly warm: string;
  /** The worlds the parallel stage starts (bench-1 .. bench-N). */
  readonly worlds: string[];
  /** Options of every timed `up()`: our signal, the ready timeout, progress tagged by instance. */
  upOpts(instance: string): UpOptions;
  /** Adds a result, with its ratio and target check worked out, and prints it. */
  add(result: Measurement): void;
  /** Adds a result exactly as given (for results that decide their own "ok"). */
  push(result: BenchResult): void;
  /** Throws AbortedError once the bench is interrupted. */
  check(): void;
  readonly carried: Carried;
}

export type Stage = (ctx: StageContext) => Promise<void>;

export const BENCH_PREFIX = 'bench';
export const NAIVE_INSTANCE = `${BENCH_PREFIX}-naive`;
export const COMPOSE_BENCH_INSTANCE = `${BENCH_PREFIX}-compose`;
export const READY_TIMEOUT_MS = 180_000;

export function benchInstance(i: number): string {
  return `${BENCH_PREFIX}-${i}`;
}

export function median(values: number[]): number {
  if (!values.length) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The p-th percentile by nearest rank (0 for no values: a stage with nothing measured). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

export const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** A value an earlier stage carries; missing means the stages ran out of order. */
export function carried<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`bench: ${what} is not measured yet (stages out of order)`);
  return value;
}

/** Subnets from the project's pool that no Docker network uses now, one per link (for the baselines' worlds). */
export async function freeSubnets(driver: Driver, count: number): Promise<string[]> {
  const taken = (await driver.listNetworks()).flatMap((n) => n.subnets);
  return allocateSubnets(process.env.HURRYNET_SUBNET_POOL ?? DEFAULT_POOL, taken, count);
}

async function labelledObjects(driver: Driver, instance: string): Promise<number> {
  const labels = Driver.projectLabels({ [LABEL.instance]: instance });
  const [c, n] = await Promise.all([driver.listContainers(labels), driver.listNetworks(labels)]);
  return c.length + n.length;
}

/** Fails loudly when a stop left anything labelled with the instance behind. */
export async function assertGone(driver: Driver, instance: string, how: string): Promise<void> {
  const left = await labelledObjects(driver, instance);
  if (left) throw new Error(`${how} of instance "${instance}" left ${left} labelled containers/networks behind`);
}

/** Removes every object of the given instances, repeating a few times against late arrivals. */
export async function sweep(driver: Driver, instances: string[]): Promise<number> {
  let removed = 0;
  for (let pass = 0; pass < 3; pass++) {
    const counts = await Promise.all(instances.map((i) => stop(driver, i).then((r) => r.containers + r.networks)));
    const n = counts.reduce((a, b) => a + b, 0);
    removed += n;
    if (!n) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return removed;
}

/** Resident memory of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * Starts a long-lived CLI server (`hurrynet ui`, `hurrynet serve`) in a process of its own, without
 * standby worlds; resolves once `find` finds what it waits for in the server's output.
 */
export function startCliServer<T>(
  args: string[],
  find: (stdout: string) => T | undefined,
): Promise<{ child: ChildProcess; found: T }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'hurrynet.js'), ...args], {
    env: { ...process.env, NO_COLOR: '1', HURRYNET_STANDBY: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const found = find(out);
      if (found !== undefined) resolve({ child, found });
    });
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => reject(new Error(`bench: hurrynet ${args[0] ?? ''} exited (${code}): ${err.trim()}`)));
  });
}

/** Stops a CLI server as Ctrl-C would, and waits for it to exit. */
export function stopCliServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}
