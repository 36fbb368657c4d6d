// Runs a lab's checks: all at once, each retried until its deadline (validate-with-retry, never
// a fixed sleep), and scores them. Pure of Docker: the context supplies every observation.
import type { Check, CheckContext, CheckResult, Report, Verdict } from './types.js';

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

/** Retries a check until it passes or its deadline passes; a throw counts as a failure. */
export async function runCheck(check: Check, ctx: CheckContext, clock: Clock = realClock): Promise<CheckResult> {
  const started = clock.now();
  const deadline = started + (check.deadlineMs ?? DEFAULT_DEADLINE_MS);
  let attempts = 0;
  let verdict: Verdict;
  for (;;) {
    attempts++;
    try {
      verdict = await check.run(ctx);
    } catch (err) {
      verdict = { passed: false, reason: `the check could not run: ${(err as Error).message}`, evidence: [] };
    }
    if (verdict.passed || clock.now() + RETRY_INTERVAL_MS > deadline) break;
    await clock.sleep(RETRY_INTERVAL_MS);
  }
  const required = check.required ?? true;
  return {
    id: check.id,
    title: check.title,
    points: check.points,
    earned: verdict.passed ? check.points : 0,
    required,
    passed: verdict.passed,
    reason: verdict.reason,
    hint: verdict.passed ? undefined : check.hint,
    evidence: verdict.evidence,
    attempts,
    ms: clock.now() - started,
  };
}

export interface RunMeta {
  lab: string;
  title: string;
  instance: string;
  seed: string;
}

export async function runChecks(checks: Check[], ctx: CheckContext, meta: RunMeta, clock: Clock = realClock): Promise<Report> {
  const started = clock.now();
  const startedAt = new Date().toISOString();
  const results = await Promise.all(checks.map((c) => runCheck(c, ctx, clock)));
  return summarize(results, meta, clock.now() - started, startedAt);
}

export function summarize(results: CheckResult[], meta: RunMeta, ms: number, startedAt: string): Report {
  return {
    ...meta,
    score: results.reduce((s, r) => s + r.earned, 0),
    maxScore: results.reduce((s, r) => s + r.points, 0),
    passed: results.every((r) => r.passed || !r.required),
    results,
    ms,
    startedAt,
  };
}
