// `hurrynet bench`: how fast and how small the lab is, each number next to a plain baseline
// measured in the same run (the machine is shared and noisy, so ratios matter, not absolutes).
// See docs/benchmarks.md for what each number means. Each measurement is a stage in
// bench/stages/; this file runs them in order, writes the report and always cleans up.
import { setMaxListeners } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Driver } from '../orchestrator/runtime/driver.js';
import { AbortedError, listInstances } from '../orchestrator/runtime/engine.js';
import type { Progress } from '../orchestrator/runtime/images.js';
import { projectRoot } from '../orchestrator/runtime/paths.js';
import { progressPrinter, table } from '../orchestrator/cli/ui.js';
import { coldStage, removeColdImages } from './stages/cold.js';
import {
  BENCH_PREFIX,
  benchInstance,
  COMPOSE_BENCH_INSTANCE,
  NAIVE_INSTANCE,
  READY_TIMEOUT_MS,
  round,
  sweep,
  type Measurement,
  type Stage,
  type StageContext,
} from './stages/context.js';
import { curveInstance, curvesStage } from './stages/curves.js';
import { execStage } from './stages/exec.js';
import { journeyStage } from './stages/journey.js';
import { gradingStage, labsStage } from './stages/labs.js';
import { memoryStage } from './stages/memory.js';
import { uiStage } from './stages/ui.js';
import { classroomStage } from './stages/classroom.js';
import { upStopStage } from './stages/upstop.js';
import { warmUpStage } from './stages/warmup.js';
import { worldsStage } from './stages/worlds.js';

// Kept importable from here, where they always were.
export { BENCH_PREFIX, benchInstance, median, NAIVE_INSTANCE } from './stages/context.js';
export { COLD_REPO } from './stages/cold.js';
export { MEMORY_SCRIPT, parseMemory } from './stages/memory.js';

export interface BenchOptions {
  driver?: Driver;
  /** Skip the no-cache build of every image (it needs the Debian mirrors and takes minutes). */
  skipCold?: boolean;
  /** Where to write the JSON results (relative to the current folder). */
  out?: string;
  /** How many worlds to start at once in the last measurement. */
  worlds?: number;
  /** Repeats of each timed measurement; the median is reported. */
  repeat?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Print the table on stdout (default true). */
  print?: boolean;
  /** Skip the lab start and check timings. */
  skipLabs?: boolean;
  /** Only these labs (numbers or ids); default all. */
  labs?: string[];
  /** Submissions in the grading benchmark (0 skips it). */
  gradeCount?: number;
  gradeLabs?: string[];
  /** Worlds at once for the world curve, and class sizes for the grading curve ([] skips one). */
  curveWorlds?: number[];
  curveGrades?: number[];
  curveLab?: string;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  /** What the baseline is, in a few words. */
  baselineName?: string;
  /** value / baseline */
  ratio?: number;
  target?: number;
  /** Whether the target bounds the ratio or the value itself. */
  targetOn?: 'ratio' | 'value';
  ok?: boolean;
  /** Raw samples behind a median, in the result's unit. */
  samples?: number[];
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; memGiB: number; docker: string };
  options: { skipCold: boolean; worlds: number; repeat: number };
  results: BenchResult[];
}

/** Worlds of the bench's grading batches (bench-g…-<job>-<attempt>) that a killed run left behind. */
async function gradingWorlds(driver: Driver): Promise<string[]> {
  return [...(await listInstances(driver)).keys()].filter((i) => i.startsWith(`${BENCH_PREFIX}-g`));
}

/**
 * The measurements, in the order they run. Order matters: the warm-up starts the world that the
 * exec and memory stages measure (memory stops it), and the parallel worlds use the single up
 * and stop of the up/stop rounds as their baselines.
 */
const STAGES: readonly Stage[] = [
  coldStage,
  warmUpStage,
  execStage,
  journeyStage,
  uiStage,
  classroomStage,
  memoryStage,
  upStopStage,
  worldsStage,
  labsStage,
  gradingStage,
  curvesStage,
];

function ratioResult(r: Measurement): BenchResult {
  const out: BenchResult = { ...r };
  if (r.baseline !== undefined && r.baseline > 0) out.ratio = round(r.value / r.baseline, 2);
  if (r.target !== undefined) {
    const measured = r.targetOn === 'ratio' ? out.ratio : r.value;
    if (measured !== undefined) out.ok = measured <= r.target;
  }
  return out;
}

function fmt(v: number, unit: string): string {
  if (unit === 's') return `${v.toFixed(2)} s`;
  if (unit === 'ms') return `${v.toFixed(1)} ms`;
  if (unit === 'MB') return `${v.toFixed(1)} MB`;
  return `${v} ${unit}`;
}

/** The results as an aligned table. */
export function formatReport(report: BenchReport): string {
  const rows = [['measurement', 'value', 'baseline', 'ratio', 'target', '']];
  for (const r of report.results) {
    const target =
      r.target === undefined
        ? ''
        : r.targetOn === 'ratio'
          ? `ratio <= ${r.target}`
          : r.unit.startsWith('of ')
            ? `all ${r.target}`
            : `<= ${fmt(r.target, r.unit)}`;
    rows.push([
      r.name,
      fmt(r.value, r.unit),
      r.baseline === undefined ? '' : `${fmt(r.baseline, r.unit)}${r.baselineName ? ` (${r.baselineName})` : ''}`,
      r.ratio === undefined ? '' : r.ratio.toFixed(2),
      target,
      r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED',
    ]);
  }
  const m = report.machine;
  return `hurrynet bench ${report.date}: ${m.cpus} CPUs, ${m.memGiB} GiB, Docker ${m.docker}\n${table(rows)}\n`;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const driver = opts.driver ?? new Driver();
  const progress = opts.progress ?? progressPrinter();
  const signal = opts.signal;
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 3));
  const worlds = Math.max(1, Math.floor(opts.worlds ?? 4));
  const skipCold = !!opts.skipCold;
  const out = resolve(opts.out ?? join(projectRoot(), 'bench', 'results.json'));
  // Every node of every world waits on the signal at once (7 listeners per world).
  if (signal) setMaxListeners(20 + 10 * worlds, signal);

  await driver.ping();
  const docker = (await driver.version()).version;
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memGiB: round(totalmem() / 2 ** 30, 1), docker },
    options: { skipCold, worlds, repeat },
    results: [],
  };
  const worldNames = Array.from({ length: worlds }, (_, i) => benchInstance(i + 1));
  const curveNames = Array.from({ length: Math.max(0, ...(opts.curveWorlds ?? [])) }, (_, i) => curveInstance(i + 1));
  const ours = [NAIVE_INSTANCE, COMPOSE_BENCH_INSTANCE, ...worldNames, ...curveNames];
  const ctx: StageContext = {
    driver,
    progress,
    signal,
    settings: {
      skipCold,
      repeat,
      worlds,
      skipLabs: !!opts.skipLabs,
      labs: opts.labs,
      gradeCount: opts.gradeCount ?? 0,
      gradeLabs: opts.gradeLabs ?? ['1', '3', '7', '12'],
      curveWorlds: opts.curveWorlds ?? [],
      curveGrades: opts.curveGrades ?? [],
      curveLab: opts.curveLab ?? '1',
      chartDir: dirname(out),
    },
    warm: benchInstance(1),
    worlds: worldNames,
    upOpts: (instance) => ({
      instance,
      signal,
      readyTimeoutMs: READY_TIMEOUT_MS,
      progress: (m: string) => progress(`  [${instance}] ${m}`),
    }),
    add: (r) => {
      const full = ratioResult(r);
      report.results.push(full);
      progress(
        `=> ${full.name}: ${fmt(full.value, full.unit)}${full.ratio !== undefined ? ` (ratio ${full.ratio})` : ''}`,
      );
    },
    push: (r) => void report.results.push(r),
    check: () => {
      if (signal?.aborted) throw new AbortedError();
    },
    carried: {},
  };

  try {
    // Leftovers of an earlier, interrupted bench (only our own instance names).
    const stale = await sweep(driver, [...ours, ...(await gradingWorlds(driver))]);
    if (stale) progress(`removed ${stale} leftovers of an earlier bench run`);
    for (const stage of STAGES) await stage(ctx);

    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    progress(`wrote ${out}`);
    if (opts.print !== false) process.stdout.write(formatReport(report));
    return report;
  } finally {
    // Always: every bench instance, the naive objects and the throwaway images go.
    progress('cleaning up bench instances...');
    await sweep(driver, [...ours, ...(await gradingWorlds(driver).catch(() => []))]).catch((err: Error) =>
      progress(`cleanup failed: ${err.message} (run "hurrynet stop --instance NAME" for ${ours.join(', ')})`),
    );
    if (!skipCold) await removeColdImages(driver).catch(() => undefined);
  }
}
