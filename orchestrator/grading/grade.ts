// Batch grading: every submission in a folder is applied to a fresh, isolated instance of the lab
// with that learner's variation, graded with the same checks learners run, and torn down.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem } from 'node:os';
import { join, relative } from 'node:path';
import { DEFAULT_HINT_LEVEL, type Report } from '../../checks/types.js';
import type { ClassResults, LearnerResult, LearnerStatus, Retry } from '../../checks/class-types.js';
import type { Driver } from '../runtime/driver.js';
import { listInstances, stop } from '../runtime/engine.js';
import { RemovalQueue } from './removals.js';
import type { Lab } from '../labs/lab.js';
import {
  applySubmission,
  checkLab,
  labChecks,
  labWorld,
  nodeStopped,
  ScriptFailedError,
  startLab,
} from '../labs/labrun.js';
import { containerName, LABEL } from '../runtime/plan.js';
import { imageSet, type ImageSet } from '../runtime/images.js';
import { projectRoot } from '../runtime/paths.js';
import { readSubmission, SubmissionError, type SubmissionPlan } from '../labs/submission.js';
import { nodeNames } from '../world/world.js';
import { varsFor } from '../labs/lab.js';

export type { ClassResults, LearnerResult, LearnerStatus } from '../../checks/class-types.js';

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
      else if (e.isFile())
        h.update(`${relative(dir, full)}\0`)
          .update(readFileSync(full))
          .update('\0');
      else h.update(`${relative(dir, full)}\0link\0`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

/**
 * Everything outside a lab's folder that decides its grades: the check vocabulary and probes, the
 * lab kit, how labs are started and graded, and the world and its service configs.
 */
export const GRADING_SOURCES = ['checks', 'labs/kit', 'orchestrator/labs', 'orchestrator/world'];

/**
 * A version of what grades a lab: its folder (definition, handout, solution, lab files), the
 * shared grading sources, and the images its world runs. `--resume` reuses a grade only when this
 * is unchanged.
 */
export function labVersion(lab: Lab, root = projectRoot(), images: ImageSet = imageSet()): string {
  const h = createHash('sha256').update(hashTree(lab.dir));
  for (const dir of GRADING_SOURCES) {
    const full = join(root, dir);
    h.update(`\0${dir}\0${existsSync(full) ? hashTree(full) : 'absent'}`);
  }
  h.update(`\0${images.base}\0${Object.values(images.roles).sort().join(',')}`);
  return h.digest('hex').slice(0, 12);
}

/** Finds the submissions (one subfolder each), in a stable order, validated but not run. */
export function discover(root: string, lab: Lab): Submission[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`no submissions folder at ${root}`);
  const version = labVersion(lab);
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const found = folders.map((name) => {
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
    const key = createHash('sha256')
      .update(`${lab.id}:${version}:${seed}:${hashTree(folder)}`)
      .digest('hex')
      .slice(0, 16);
    return { id, folder, name, seed, key, plan, invalid };
  });
  return settleClashes(found).map(({ name: _name, ...s }) => s);
}

/**
 * Two folders that claim one learner id would overwrite each other's reports. The folder named
 * after the id keeps it; every other claimant is refused under its own folder name (made unique),
 * with a reason naming all the folders, so no learner's feedback is lost.
 */
export function settleClashes<T extends { id: string; name: string; invalid?: string }>(subs: T[]): T[] {
  const byId = new Map<string, T[]>();
  for (const s of subs) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const taken = new Set(subs.map((s) => s.id));
  const out = subs.map((s) => ({ ...s }));
  for (const [id, group] of byId) {
    if (group.length < 2) continue;
    const folders = group.map((g) => g.name).join(', ');
    const owner = group.find((g) => g.name === id);
    for (const g of out.filter((x) => x.id === id && x.name !== owner?.name)) {
      let alt = g.name;
      for (let n = 2; taken.has(alt); n++) alt = `${g.name}-${n}`;
      taken.add(alt);
      g.invalid = `learner id "${id}" is claimed by the folders ${folders}; ${owner ? `it belongs to folder ${owner.name}` : 'rename the folders or fix learner.yaml'}, so this one is graded under "${alt}" only to report the clash`;
      g.id = alt;
    }
  }
  return out;
}

/** Parses "I/N" (1-based) and keeps a deterministic slice: every N-th submission from the I-th. */
export function shard<T>(items: T[], spec?: string): T[] {
  if (!spec) return items;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const i = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || i < 1 || i > n)
    throw new Error(`--shard takes I/N with 1 <= I <= N, for example 2/4 (got "${spec}")`);
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
  /** Called when an attempt the grader spoiled is thrown away and the submission is tried again. */
  onRetry?: (s: Submission, attempt: number, cause: string) => void;
  /** Called for a finished world Docker would not remove, even when asked twice. */
  onLeftover?: (instance: string, error: string) => void;
  /** Refuse to grade a submission whose world the host could not be sealed from (docs/seal.md). */
  requireSeal?: boolean;
  /** Hint levels each learner's report shows for a failed check (0: none; default 1). */
  hintLevel?: number;
  /** Attempts per submission when the grader fails (default GRADER_ATTEMPTS). */
  attempts?: number;
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

/** How often a submission is tried when the grader (not the learner) fails, and the pause before each retry. */
export const GRADER_ATTEMPTS = 3;
export const RETRY_BACKOFF_MS = [2000, 5000];

/** An attempt the grader spoiled (world start, Docker, its own time limit): never the learner's result. */
class GraderFailure extends Error {
  constructor(
    message: string,
    readonly partial?: LearnerResult,
  ) {
    super(message);
  }
}

type Phase = 'start' | 'apply' | 'check';

/** One attempt on a fresh instance. Throws GraderFailure when the grader is to blame. */
async function attemptOne(
  driver: Driver,
  lab: Lab,
  s: Submission,
  instance: string,
  opts: GradeOptions,
  removals: RemovalQueue,
): Promise<LearnerResult> {
  const t0 = Date.now();
  let startMs = 0;
  let applyMs = 0;
  let phase = 'start' as Phase;
  // One signal per attempt: its time limit (or the batch's Ctrl-C) stops its start cleanly.
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  const work = (async () => {
    let started: Awaited<ReturnType<typeof startLab>>;
    try {
      started = await startLab(driver, lab, {
        instance,
        seed: s.seed,
        replace: true,
        standby: false,
        cpus: opts.cpusPerNode,
        signal: controller.signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new GraderFailure(`the lab's world did not start: ${(err as Error).message}`);
    }
    if (opts.requireSeal && started.seal && !started.seal.sealed)
      throw new GraderFailure(
        `the host could not be sealed from this world: ${started.seal.reason ?? 'unknown reason'}`,
      );
    startMs = Date.now() - t0;
    phase = 'apply';
    let applyError: string | undefined;
    try {
      await applySubmission(driver, instance, lab, s.plan as SubmissionPlan, {
        scriptTimeoutSeconds: opts.scriptTimeoutSeconds,
      });
    } catch (err) {
      // A failing script is the learner's result, not the grader's: grade what the world shows.
      // So is a Docker error caused by a script that stopped its own node.
      if (!(err instanceof ScriptFailedError) && !(await anyNodeStopped(driver, instance, s.plan as SubmissionPlan))) {
        throw new GraderFailure(`the submission could not be applied: ${(err as Error).message}`);
      }
      applyError = (err as Error).message;
    }
    applyMs = Date.now() - t0 - startMs;
    phase = 'check';
    let report: Report;
    try {
      report = await checkLab(
        driver,
        instance,
        { lab, seed: s.seed, vars: varsFor(lab, s.seed) },
        { leaveProbes: true, hintLevel: opts.hintLevel },
      );
    } catch (err) {
      throw new GraderFailure(`the checks could not run: ${(err as Error).message}`);
    }
    // Nodes the submission itself stopped are the learner's doing: what could not be observed there fails.
    const stopped = report.inconclusive.length || applyError ? await stoppedNodes(driver, instance) : [];
    if (stopped.length) report = blameStopped(report, stopped);
    return { report, applyError, stopped };
  })();
  try {
    const { report, applyError, stopped } = await withTimeout(
      work,
      (opts.timeoutSeconds ?? 300) * 1000,
      'grading this submission',
    );
    const totalMs = Date.now() - t0;
    const learnerError =
      [applyError, stopped.length ? `your submission stopped ${stopped.join(', ')}` : undefined]
        .filter(Boolean)
        .join('\n') || undefined;
    const result: LearnerResult = {
      id: s.id,
      folder: s.folder,
      seed: s.seed,
      status: report.inconclusive.length ? 'inconclusive' : 'graded',
      score: report.score,
      maxScore: report.maxScore,
      passed: report.passed,
      error: learnerError,
      errorBy: learnerError ? 'learner' : undefined,
      key: s.key,
      checks: report.results,
      hintLevel: report.hintLevel,
      durations: { startMs, applyMs, checkMs: totalMs - startMs - applyMs, totalMs },
      gradedAt: new Date().toISOString(),
    };
    if (report.inconclusive.length)
      throw new GraderFailure(`the grader could not observe ${report.inconclusive.join(', ')}`, result);
    return result;
  } catch (err) {
    controller.abort();
    // Let the abandoned work settle so that nothing is created after the instance is removed.
    await Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, 30000))]);
    if (err instanceof GraderFailure || opts.signal?.aborted) throw err;
    // Our own time limit: while scripts run it is the learner's (their scripts are slow), otherwise the grader's.
    const message = (err as Error).message;
    if (phase !== 'apply')
      throw new GraderFailure(`${message} (while ${phase === 'start' ? 'starting the world' : 'checking'})`);
    return {
      ...emptyResult(s, 'graded', `${message} while your scripts ran`, 0),
      errorBy: 'learner',
      durations: { startMs, applyMs, checkMs: 0, totalMs: Date.now() - t0 },
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    removals.add(instance);
  }
}

/** Whether a node the submission ran a script on has stopped (giving Docker a moment to notice). */
async function anyNodeStopped(driver: Driver, instance: string, plan: SubmissionPlan): Promise<boolean> {
  const flags = await Promise.all(plan.scripts.map((sc) => nodeStopped(driver, containerName(instance, sc.node))));
  return flags.some(Boolean);
}

/** Lab nodes of an instance that are not running. */
async function stoppedNodes(driver: Driver, instance: string): Promise<string[]> {
  const containers = (await listInstances(driver)).get(instance) ?? [];
  return containers
    .filter((c) => c.labels[LABEL.kind] === 'node' && c.state !== 'running')
    .map((c) => c.labels[LABEL.node] ?? c.name);
}

/** Checks the grader could not observe because the learner's submission stopped a node fail, with that reason. */
export function blameStopped(report: Report, stopped: string[]): Report {
  const results = report.results.map((r) =>
    r.status === 'inconclusive'
      ? {
          ...r,
          status: 'failed' as const,
          reason: `${stopped.join(', ')} stopped running after your submission was applied, so this could not be observed`,
        }
      : r,
  );
  return { ...report, results, inconclusive: [], passed: results.every((r) => r.passed || !r.required) };
}

/**
 * Grades one submission. Attempts the grader spoils are thrown away and tried again on a fresh
 * instance (GRADER_ATTEMPTS in all, with back-off); the result lists them. A submission that is
 * still spoiled after that is an error marked as the grader's (or inconclusive, with what could be seen).
 */
async function gradeOne(
  driver: Driver,
  lab: Lab,
  s: Submission,
  nextInstance: () => string,
  opts: GradeOptions,
  maxScore: number,
  removals: RemovalQueue,
): Promise<LearnerResult> {
  if (s.invalid || !s.plan) return emptyResult(s, 'invalid', s.invalid ?? 'not a valid submission', maxScore);
  const retries: Retry[] = [];
  const attempts = opts.attempts ?? GRADER_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      await removals.room();
      const r = await attemptOne(driver, lab, s, nextInstance(), opts, removals);
      return retries.length ? { ...r, retries } : r;
    } catch (err) {
      if (opts.signal?.aborted)
        return { ...emptyResult(s, 'error', 'grading was interrupted', maxScore), errorBy: 'grader' };
      if (!(err instanceof GraderFailure)) throw err;
      if (attempt >= attempts) {
        const cause = `${err.message}${attempts > 1 ? ` (${attempts} attempts)` : ''}`;
        if (err.partial)
          return {
            ...err.partial,
            status: 'inconclusive',
            error: [err.partial.error, cause].filter(Boolean).join('\n'),
            errorBy: 'grader',
            retries,
          };
        return { ...emptyResult(s, 'error', cause, maxScore), errorBy: 'grader', retries };
      }
      retries.push({ attempt, cause: err.message });
      opts.onRetry?.(s, attempt, err.message);
      await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS[attempt - 1] ?? RETRY_BACKOFF_MS.at(-1)));
    }
  }
}

function cachePath(outDir: string, id: string): string {
  return join(outDir, 'learners', `${id}.json`);
}

/**
 * Seconds left: elapsed / graded is already the wall time per submission with the jobs running in
 * parallel, so it is not divided by the jobs again.
 */
export function gradingEta(elapsedMs: number, graded: number, remaining: number): number {
  return graded > 0 ? Math.round((remaining * elapsedMs) / graded / 1000) : 0;
}

/** Grades every submission with a pool of `jobs` workers; never throws for one learner's fault. */
export async function gradeClass(
  driver: Driver,
  lab: Lab,
  submissions: Submission[],
  opts: GradeOptions,
): Promise<ClassResults> {
  const mine = shard(submissions, opts.shard);
  const maxScore = labChecks(lab, varsFor(lab, 'max')).reduce((s, c) => s + c.points, 0);
  mkdirSync(join(opts.outDir, 'learners'), { recursive: true });
  const results: LearnerResult[] = new Array(mine.length);
  const todo: number[] = [];
  let skipped = 0;
  mine.forEach((s, i) => {
    if (opts.resume && existsSync(cachePath(opts.outDir, s.id))) {
      const cached = JSON.parse(readFileSync(cachePath(opts.outDir, s.id), 'utf8')) as LearnerResult;
      const sameHints = (cached.hintLevel ?? DEFAULT_HINT_LEVEL) === (opts.hintLevel ?? DEFAULT_HINT_LEVEL);
      const done = cached.status === 'graded' || cached.status === 'invalid';
      if (cached.key === s.key && done && (sameHints || cached.status === 'invalid')) {
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
  const jobs = Math.max(1, Math.min(opts.jobs, todo.length || 1));
  const removals = new RemovalQueue((instance) => stop(driver, instance), jobs + 1);
  let next = 0;
  const worker = async (w: number) => {
    // Every attempt gets a world of its own name, so it never waits for the last one's removal.
    let attempts = 0;
    const nextInstance = () => {
      const suffix = `-${w}-${++attempts}`;
      return `${prefix.slice(0, 24 - suffix.length)}${suffix}`;
    };
    while (next < todo.length && !opts.signal?.aborted) {
      const i = todo[next++] as number;
      const s = mine[i] as Submission;
      progress.running++;
      opts.onProgress?.({ ...progress });
      const r = await gradeOne(driver, lab, s, nextInstance, opts, maxScore, removals);
      results[i] = r;
      writeFileSync(cachePath(opts.outDir, s.id), JSON.stringify(r, null, 2));
      progress.running--;
      progress.done++;
      gradedCount++;
      if (r.status !== 'graded') progress.failed++;
      progress.etaSeconds = gradingEta(Date.now() - started, gradedCount, todo.length - gradedCount);
      opts.onProgress?.({ ...progress, last: r });
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, (_, w) => worker(w + 1)));
  } finally {
    for (const { instance, error } of await removals.drain()) opts.onLeftover?.(instance, error);
  }
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
