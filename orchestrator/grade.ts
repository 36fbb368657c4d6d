// Batch grading: every submission in a folder is applied to a fresh, isolated instance of the lab
// with that learner's variation, graded with the same checks learners run, and torn down.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem } from 'node:os';
import { join, relative } from 'node:path';
import type { Report } from '../checks/types.js';
import type { Driver } from './driver.js';
import { stop } from './engine.js';
import type { Lab } from './lab.js';
import { applySubmission, checkLab, startLab } from './labrun.js';
import { readSubmission, SubmissionError, type SubmissionPlan } from './submission.js';
import { nodeNames } from './world.js';
import { labWorld } from './labrun.js';
import { varsFor } from './lab.js';

export type LearnerStatus = 'graded' | 'invalid' | 'error';

export interface LearnerResult {
  id: string;
  folder: string;
  seed: string;
  status: LearnerStatus;
  score: number;
  maxScore: number;
  passed: boolean;
  error?: string;
  /** Content key: the same submission of the same lab version grades the same. */
  key: string;
  checks: Report['results'];
  durations: { startMs: number; applyMs: number; checkMs: number; totalMs: number };
  gradedAt: string;
}

export interface ClassResults {
  lab: string;
  title: string;
  labVersion: string;
  generatedAt: string;
  shard?: string;
  learners: LearnerResult[];
}

export interface Submission {
  id: string;
  folder: string;
  seed: string;
  key: string;
  plan?: SubmissionPlan;
  invalid?: string;
}

export const LEARNER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) h.update(`${relative(dir, full)}\0`).update(readFileSync(full)).update('\0');
      else h.update(`${relative(dir, full)}\0link\0`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** A version of the lab's definition: its folder's content (handout, checks, solution). */
export function labVersion(lab: Lab): string {
  return hashTree(lab.dir).slice(0, 12);
}

/** Finds the submissions (one subfolder each), in a stable order, validated but not run. */
export function discover(root: string, lab: Lab): Submission[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`no submissions folder at ${root}`);
  const version = labVersion(lab);
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const seen = new Set<string>();
  return folders.map((name) => {
    const folder = join(root, name);
    let plan: SubmissionPlan | undefined;
    let invalid: string | undefined;
    let id = name;
    let seed = name;
    try {
      // Validate against the lab's nodes; the learner's seed may come from learner.yaml.
      plan = readSubmission(folder, lab.submissionNodes, nodeNames(labWorld(lab, varsFor(lab, name))));
      id = plan.learner?.id ?? name;
      seed = plan.learner?.seed ?? id;
    } catch (err) {
      invalid = err instanceof SubmissionError ? err.problems.join('; ') : (err as Error).message;
    }
    if (!LEARNER_ID.test(id)) {
      invalid = `learner id "${id}" must be 1-64 letters, digits, dots, dashes or underscores`;
      id = name;
    }
    if (seen.has(id)) invalid = `learner id "${id}" is used by two submissions`;
    seen.add(id);
    const key = createHash('sha256').update(`${lab.id}:${version}:${seed}:${hashTree(folder)}`).digest('hex').slice(0, 16);
    return { id, folder, seed, key, plan, invalid };
  });
}

/** Parses "I/N" (1-based) and keeps a deterministic slice: every N-th submission from the I-th. */
export function shard<T>(items: T[], spec?: string): T[] {
  if (!spec) return items;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || i < 1 || i > n) throw new Error(`--shard takes I/N with 1 <= I <= N, for example 2/4 (got "${spec}")`);
  return items.filter((_, k) => k % n === i - 1);
}

/** Parallel jobs that fit this machine: Docker-bound work overlaps well beyond the core count. */
export function autoJobs(cores = cpus().length, freeBytes = freemem()): number {
  const byMemory = Math.floor(freeBytes / (600 * 1024 * 1024));
  return Math.max(1, Math.min(cores * 2, byMemory, 8));
}

export interface GradeOptions {
  jobs: number;
  outDir: string;
  resume?: boolean;
  shard?: string;
  /** Seconds for one whole submission (start, apply, check). */
  timeoutSeconds?: number;
  scriptTimeoutSeconds?: number;
  cpusPerNode?: number;
  instancePrefix?: string;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface Progress {
  total: number;
  done: number;
  running: number;
  failed: number;
  skipped: number;
  etaSeconds?: number;
  last?: LearnerResult;
}

function emptyResult(s: Submission, status: LearnerStatus, error: string, maxScore: number): LearnerResult {
  return {
    id: s.id,
    folder: s.folder,
    seed: s.seed,
    status,
    score: 0,
    maxScore,
    passed: false,
    error,
    key: s.key,
    checks: [],
    durations: { startMs: 0, applyMs: 0, checkMs: 0, totalMs: 0 },
    gradedAt: new Date().toISOString(),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function gradeOne(driver: Driver, lab: Lab, s: Submission, instance: string, opts: GradeOptions, maxScore: number): Promise<LearnerResult> {
  if (s.invalid || !s.plan) return emptyResult(s, 'invalid', s.invalid ?? 'not a valid submission', maxScore);
  const t0 = Date.now();
  let startMs = 0;
  let applyMs = 0;
  // One signal per submission: its time limit (or the batch's Ctrl-C) stops its start cleanly.
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  const work = (async () => {
    await startLab(driver, lab, { instance, seed: s.seed, replace: true, standby: false, cpus: opts.cpusPerNode, signal: controller.signal });
    startMs = Date.now() - t0;
    let applyError: string | undefined;
    try {
      await applySubmission(driver, instance, lab, s.plan as SubmissionPlan, { scriptTimeoutSeconds: opts.scriptTimeoutSeconds });
    } catch (err) {
      // A failing script is the learner's result, not the grader's: grade what the world shows.
      applyError = (err as Error).message;
    }
    applyMs = Date.now() - t0 - startMs;
    const report = await checkLab(driver, instance, { lab, seed: s.seed, vars: varsFor(lab, s.seed) });
    return { report, applyError };
  })();
  try {
    const { report, applyError } = await withTimeout(work, (opts.timeoutSeconds ?? 300) * 1000, 'grading this submission');
    const totalMs = Date.now() - t0;
    return {
      id: s.id,
      folder: s.folder,
      seed: s.seed,
      status: 'graded',
      score: report.score,
      maxScore: report.maxScore,
      passed: report.passed,
      error: applyError,
      key: s.key,
      checks: report.results,
      durations: { startMs, applyMs, checkMs: totalMs - startMs - applyMs, totalMs },
      gradedAt: new Date().toISOString(),
    };
  } catch (err) {
    controller.abort();
    // Let the abandoned work settle so that nothing is created after the instance is removed.
    await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, 30000))]);
    return { ...emptyResult(s, 'error', (err as Error).message, maxScore), durations: { startMs, applyMs, checkMs: 0, totalMs: Date.now() - t0 } };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await stop(driver, instance).catch(() => undefined);
  }
}

function cachePath(outDir: string, id: string): string {
  return join(outDir, 'learners', `${id}.json`);
}

/** Grades every submission with a pool of `jobs` workers; never throws for one learner's fault. */
export async function gradeClass(driver: Driver, lab: Lab, submissions: Submission[], opts: GradeOptions): Promise<ClassResults> {
  const mine = shard(submissions, opts.shard);
  const maxScore = lab.checks(varsFor(lab, 'max')).reduce((s, c) => s + c.points, 0);
  mkdirSync(join(opts.outDir, 'learners'), { recursive: true });
  const results: LearnerResult[] = new Array(mine.length);
  const todo: number[] = [];
  let skipped = 0;
  mine.forEach((s, i) => {
    if (opts.resume && existsSync(cachePath(opts.outDir, s.id))) {
      const cached = JSON.parse(readFileSync(cachePath(opts.outDir, s.id), 'utf8')) as LearnerResult;
      if (cached.key === s.key && cached.status !== 'error') {
        results[i] = cached;
        skipped++;
        return;
      }
    }
    todo.push(i);
  });
  const progress: Progress = { total: mine.length, done: skipped, running: 0, failed: 0, skipped };
  const started = Date.now();
  let gradedCount = 0;
  const prefix = opts.instancePrefix ?? `g${process.pid.toString(36)}`;
  let next = 0;
  const worker = async (w: number) => {
    while (next < todo.length && !opts.signal?.aborted) {
      const i = todo[next++] as number;
      const s = mine[i] as Submission;
      progress.running++;
      opts.onProgress?.({ ...progress });
      const r = await gradeOne(driver, lab, s, `${prefix}-${w}`.slice(0, 24), opts, maxScore);
      results[i] = r;
      writeFileSync(cachePath(opts.outDir, s.id), JSON.stringify(r, null, 2));
      progress.running--;
      progress.done++;
      gradedCount++;
      if (r.status !== 'graded') progress.failed++;
      const perItem = (Date.now() - started) / gradedCount;
      progress.etaSeconds = Math.round(((todo.length - gradedCount) * perItem) / Math.max(1, opts.jobs) / 1000);
      opts.onProgress?.({ ...progress, last: r });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length || 1)) }, (_, w) => worker(w + 1)));
  return {
    lab: lab.id,
    title: lab.title,
    labVersion: labVersion(lab),
    generatedAt: new Date().toISOString(),
    shard: opts.shard,
    learners: results.filter(Boolean).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** Combines the results of several shards (or runs) into one class; later entries win per learner. */
export function mergeResults(parts: ClassResults[]): ClassResults {
  if (!parts.length) throw new Error('nothing to merge');
  const first = parts[0] as ClassResults;
  for (const p of parts) {
    if (p.lab !== first.lab) throw new Error(`cannot merge results of lab ${p.lab} with lab ${first.lab}`);
  }
  const byId = new Map<string, LearnerResult>();
  for (const p of parts) for (const l of p.learners) byId.set(l.id, l);
  return {
    lab: first.lab,
    title: first.title,
    labVersion: first.labVersion,
    generatedAt: new Date().toISOString(),
    learners: [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}
