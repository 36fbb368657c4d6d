// Runs a lab's checks: all at once, each retried until its deadline (validate-with-retry, never
// a fixed sleep), and scores them. Pure of Docker: the context supplies every observation.
// Three outcomes: passed, failed (the learner's), inconclusive (the grader could not observe).
import {
  DEFAULT_HINT_LEVEL,
  inconclusive,
  type Check,
  type CheckContext,
  type CheckResult,
  type CheckStatus,
  type Report,
  type Verdict,
} from './types.js';

export const DEFAULT_DEADLINE_MS = 3000;
export const RETRY_INTERVAL_MS = 250;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** A verdict that rests on an observation the grader could not make says nothing about the learner. */
export function isInconclusive(v: Verdict): boolean {
  return !!v.inconclusive || v.evidence.some((e) => e.graderError !== undefined);
}

/**
 * Retries a check until it passes or its deadline (scaled by the context's time scale) passes.
 * An inconclusive attempt (the grader's own timeout, a probe that did not start, a throw) is
 * always retried at least once; when no attempt could observe, the result is inconclusive, and a
 * conclusive failure seen earlier wins over a later inconclusive attempt.
 */
export async function runCheck(
  check: Check,
  ctx: CheckContext,
  clock: Clock = realClock,
  hintLevel: number = DEFAULT_HINT_LEVEL,
): Promise<CheckResult> {
  const result = await judgeCheck(check, ctx, clock, hintLevel);
  return (await traceFailed([{ check, result }], ctx, clock))[0] as CheckResult;
}

/** The retries of one check and its verdict, without the trace of a failure. */
async function judgeCheck(check: Check, ctx: CheckContext, clock: Clock, hintLevel: number): Promise<CheckResult> {
  const started = clock.now();
  const deadline = started + (check.deadlineMs ?? DEFAULT_DEADLINE_MS) * Math.max(1, ctx.timeScale ?? 1);
  let attempts = 0;
  let verdict: Verdict;
  let conclusive: Verdict | undefined;
  for (;;) {
    attempts++;
    try {
      verdict = await check.run(ctx);
    } catch (err) {
      verdict = inconclusive(`the check could not run: ${(err as Error).message}`);
    }
    const unsure = isInconclusive(verdict);
    if (!unsure) {
      conclusive = verdict;
      if (verdict.passed) break;
    }
    if (clock.now() + RETRY_INTERVAL_MS > deadline && !(unsure && attempts < 2)) break;
    await clock.sleep(unsure ? 2 * RETRY_INTERVAL_MS : RETRY_INTERVAL_MS);
  }
  const final = isInconclusive(verdict) && conclusive ? conclusive : verdict;
  const status: CheckStatus = isInconclusive(final) ? 'inconclusive' : final.passed ? 'passed' : 'failed';
  const required = check.required ?? true;
  return {
    id: check.id,
    title: check.title,
    points: check.points,
    earned: status === 'passed' ? check.points : 0,
    required,
    passed: status === 'passed',
    status,
    reason:
      status === 'inconclusive'
        ? `the grader could not observe this (${final.reason}); it is not your mistake: run the check again`
        : final.reason,
    hints: status === 'failed' && hintLevel > 0 ? check.hint.slice(0, hintLevel) : undefined,
    evidence: final.evidence,
    attempts,
    ms: clock.now() - started,
  };
}

/** Whether a judged check is final only after the run's shared trace. */
const awaitsTrace = (check: Check, result: CheckResult, ctx: CheckContext) =>
  result.status === 'failed' && !!check.trace && !!ctx.trace;

/**
 * Failed reachability checks say where their packets stopped: their probes are sent once more,
 * one after another, under one set of the grader's captures for the whole run (a capture on
 * every node costs seconds, and one per failed check on a broken world cost a learner 20 s more).
 * Every traced check gets the same evidence, which follows each probe's own packets.
 */
async function traceFailed(
  judged: { check: Check; result: CheckResult }[],
  ctx: CheckContext,
  clock: Clock,
): Promise<CheckResult[]> {
  const pending = judged.filter((j) => awaitsTrace(j.check, j.result, ctx));
  if (!pending.length || !ctx.trace) return judged.map((j) => j.result);
  const started = clock.now();
  const evidence = await ctx.trace(async () => {
    for (const { check } of pending) await check.trace?.(ctx).catch(() => undefined);
  });
  const ms = clock.now() - started;
  return judged.map((j) =>
    pending.includes(j) ? { ...j.result, evidence: [...j.result.evidence, evidence], ms: j.result.ms + ms } : j.result,
  );
}

export interface RunMeta {
  lab: string;
  title: string;
  instance: string;
  seed: string;
  timeScale?: number;
  /** Hint levels a failed check shows (default DEFAULT_HINT_LEVEL; 0: none). */
  hintLevel?: number;
}

export interface RunHooks {
  /** Called with each check's result as soon as it is final (the checks run at once, so in any order). */
  onResult?: (result: CheckResult) => void;
}

export async function runChecks(
  checks: Check[],
  ctx: CheckContext,
  meta: RunMeta,
  clock: Clock = realClock,
  hooks: RunHooks = {},
): Promise<Report> {
  const started = clock.now();
  const startedAt = new Date().toISOString();
  const hintLevel = meta.hintLevel ?? DEFAULT_HINT_LEVEL;
  // A result is reported as soon as it is final: a failed check with a trace after the shared trace.
  const judged = await Promise.all(
    checks.map(async (check) => {
      const result = await judgeCheck(check, ctx, clock, hintLevel);
      if (!awaitsTrace(check, result, ctx)) hooks.onResult?.(result);
      return { check, result };
    }),
  );
  const results = await traceFailed(judged, ctx, clock);
  judged.forEach((j, i) => {
    if (awaitsTrace(j.check, j.result, ctx)) hooks.onResult?.(results[i] as CheckResult);
  });
  return summarize(results, { ...meta, hintLevel }, clock.now() - started, startedAt);
}

export function summarize(results: CheckResult[], meta: RunMeta, ms: number, startedAt: string): Report {
  return {
    ...meta,
    score: results.reduce((s, r) => s + r.earned, 0),
    maxScore: results.reduce((s, r) => s + r.points, 0),
    passed: results.every((r) => r.passed || !r.required),
    inconclusive: results.filter((r) => r.status === 'inconclusive').map((r) => r.id),
    results,
    ms,
    startedAt,
  };
}
