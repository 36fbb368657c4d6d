// `hurrynet bench --flake K`: does a verdict hold on a loaded machine? Every lab is started K
// times; each time the untouched world is graded (it must fail) and then the reference solution
// (it must pass), while other worlds are graded in a loop beside it and CPU burners keep the load
// at twice the core count or more. A verdict flip or an inconclusive check is a defect of the
// grader, never of a learner; see docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Report } from '../checks/types.js';
import type { Driver } from '../orchestrator/runtime/driver.js';
import { stop } from '../orchestrator/runtime/engine.js';
import { discover, gradeClass } from '../orchestrator/grading/grade.js';
import type { Progress } from '../orchestrator/runtime/images.js';
import { percentile } from './stages/context.js';
import { findLab, loadLabs, type Lab } from '../orchestrator/labs/lab.js';
import { applySubmission, checkLab, startLab, validateSubmission } from '../orchestrator/labs/labrun.js';

export const FLAKE_INSTANCE = 'bench-flake';
export const FLAKE_BATCH_PREFIX = 'bench-fb';

export interface FlakeOptions {
  /** Rounds per lab (default 5). */
  rounds: number;
  /** Only these labs (numbers or ids); default all. */
  labs?: string[];
  /** CPU burners beside the grading (default twice the cores). */
  burners?: number;
  /** Lab graded in a loop in the background, as a teacher's batch would be (default 1). */
  batchLab?: string;
  signal?: AbortSignal;
}

/** One lab's verdicts over the rounds. */
export interface FlakeLab {
  lab: string;
  rounds: number;
  /** Rounds whose verdict was not the expected one (untouched passed, or solution failed). */
  flips: { untouched: number; solved: number };
  /** Checks whose status differed between rounds of the same condition ("untouched:web"). */
  unstableChecks: string[];
  inconclusive: number;
  checkMs: { p50: number; p95: number };
}

export interface FlakeReport {
  rounds: number;
  labs: FlakeLab[];
  burners: number;
  /** The 1-minute load average, sampled every 5 s while the labs were graded. */
  load: { min: number; mean: number; max: number };
  cores: number;
  flips: number;
  inconclusive: number;
  seconds: number;
}

export { percentile };

/** Check ids whose status is not the same in every report. */
export function unstable(reports: Report[]): string[] {
  const ids = [...new Set(reports.flatMap((r) => r.results.map((c) => c.id)))];
  return ids.filter(
    (id) => new Set(reports.map((r) => r.results.find((c) => c.id === id)?.status ?? 'missing')).size > 1,
  );
}

/** Summarizes one lab's rounds: verdict flips, unstable checks, inconclusive checks, durations. */
export function summarizeLab(lab: string, untouched: Report[], solved: Report[]): FlakeLab {
  const all = [...untouched, ...solved];
  return {
    lab,
    rounds: untouched.length,
    flips: {
      untouched: untouched.filter((r) => r.passed || r.inconclusive.length).length,
      solved: solved.filter((r) => !r.passed).length,
    },
    unstableChecks: [
      ...unstable(untouched).map((c) => `untouched:${c}`),
      ...unstable(solved).map((c) => `solved:${c}`),
    ],
    inconclusive: all.reduce((n, r) => n + r.inconclusive.length, 0),
    checkMs: {
      p50: percentile(
        all.map((r) => r.ms),
        50,
      ),
      p95: percentile(
        all.map((r) => r.ms),
        95,
      ),
    },
  };
}

/** Busy loops that keep `n` cores saturated until stopped. */
function startBurners(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

/** A teacher's batch beside the labs: the same small class graded again and again until stopped. */
async function batchLoop(driver: Driver, lab: Lab, stopped: () => boolean): Promise<number> {
  const classDir = mkdtempSync(join(tmpdir(), 'hurrynet-flake-class-'));
  const outDir = mkdtempSync(join(tmpdir(), 'hurrynet-flake-grades-'));
  for (const id of ['b1', 'b2']) {
    cpSync(join(lab.dir, 'solution'), join(classDir, id), { recursive: true });
    writeFileSync(join(classDir, id, 'learner.yaml'), `id: ${id}\n`);
  }
  mkdirSync(join(classDir, 'b3'));
  let batches = 0;
  try {
    while (!stopped()) {
      await gradeClass(driver, lab, discover(classDir, lab), { jobs: 2, outDir, instancePrefix: FLAKE_BATCH_PREFIX });
      batches++;
    }
  } finally {
    rmSync(classDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
  return batches;
}

export async function benchFlake(driver: Driver, progress: Progress, opts: FlakeOptions): Promise<FlakeReport> {
  const t0 = performance.now();
  const labs = (await loadLabs()).filter(
    (l) => !opts.labs?.length || opts.labs.includes(l.id) || opts.labs.includes(String(l.number)),
  );
  const cores = cpus().length;
  const burnerCount = opts.burners ?? 2 * cores;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(loadavg()[0] ?? 0), 5000);
  const burners = startBurners(burnerCount);
  let stopBatch = false;
  const batch = batchLoop(driver, await findLab(opts.batchLab ?? '1'), () => stopBatch || !!opts.signal?.aborted);
  const results: FlakeLab[] = [];
  try {
    for (const lab of labs) {
      const untouched: Report[] = [];
      const solved: Report[] = [];
      for (let round = 1; round <= opts.rounds && !opts.signal?.aborted; round++) {
        const seed = `flake-${round}`;
        const run = await startLab(driver, lab, {
          instance: FLAKE_INSTANCE,
          seed,
          replace: true,
          standby: false,
          signal: opts.signal,
        });
        const running = { lab, seed, vars: run.vars };
        untouched.push(await checkLab(driver, FLAKE_INSTANCE, running));
        await applySubmission(
          driver,
          FLAKE_INSTANCE,
          lab,
          validateSubmission(lab, run.vars, join(lab.dir, 'solution')),
        );
        solved.push(await checkLab(driver, FLAKE_INSTANCE, running));
        const u = untouched.at(-1) as Report;
        const s = solved.at(-1) as Report;
        progress(
          `  lab ${lab.id} round ${round}/${opts.rounds}: untouched ${u.score}/${u.maxScore}${u.passed ? ' PASSED (flip)' : ''}, solved ${s.score}/${s.maxScore}${s.passed ? '' : ' FAILED (flip)'}, load ${(loadavg()[0] ?? 0).toFixed(1)}`,
        );
      }
      const summary = summarizeLab(lab.id, untouched, solved);
      results.push(summary);
      progress(
        `=> lab ${lab.id}: ${summary.flips.untouched + summary.flips.solved} flips, ${summary.inconclusive} inconclusive, check p50 ${summary.checkMs.p50} ms, p95 ${summary.checkMs.p95} ms`,
      );
    }
  } finally {
    clearInterval(sampler);
    stopBatch = true;
    for (const b of burners) b.kill('SIGKILL');
    await batch.catch(() => 0);
    await stop(driver, FLAKE_INSTANCE).catch(() => undefined);
  }
  const mean = samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : 0;
  return {
    rounds: opts.rounds,
    labs: results,
    burners: burnerCount,
    load: { min: Math.min(...samples, mean), mean: Math.round(mean * 10) / 10, max: Math.max(...samples, mean) },
    cores,
    flips: results.reduce((n, l) => n + l.flips.untouched + l.flips.solved, 0),
    inconclusive: results.reduce((n, l) => n + l.inconclusive, 0),
    seconds: Math.round((performance.now() - t0) / 1000),
  };
}

/** The flake report as a Markdown table for docs/benchmarks.md. */
export function flakeMarkdown(r: FlakeReport): string {
  const rows = r.labs.map(
    (l) =>
      `| ${l.lab} | ${l.rounds} | ${l.flips.untouched} | ${l.flips.solved} | ${l.inconclusive} | ${l.checkMs.p50} | ${l.checkMs.p95} | ${l.unstableChecks.join(', ') || '-'} |`,
  );
  return [
    `${r.labs.length} labs x ${r.rounds} rounds x 2 (untouched, solved), ${r.burners} CPU burners and a batch of lab 01 beside them on ${r.cores} cores; load average ${r.load.min.toFixed(1)}-${r.load.max.toFixed(1)} (mean ${r.load.mean}); ${r.seconds} s in all.`,
    '',
    '| lab | rounds | untouched passed | solution failed | inconclusive | check p50 ms | check p95 ms | checks that changed |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Verdict flips: **${r.flips}** (target 0). Inconclusive checks: **${r.inconclusive}** (target 0).`,
  ].join('\n');
}
