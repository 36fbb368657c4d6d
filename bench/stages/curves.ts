// Measurement 9: how cost grows, so a teacher can read how many learners one machine serves.
// `up` wall time and memory per world for 1, 2, 4, 8 and 16 worlds at once, and grading time for
// 5, 10, 20 and 40 submissions. Each curve is written as an SVG chart next to the results file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findLab } from '../../orchestrator/labs/lab.js';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { lineChart } from '../chart.js';
import { gradeGenerated } from '../labs.js';
import { assertGone, BENCH_PREFIX, carried, round, type StageContext } from './context.js';
import { measureMemory } from './memory.js';

const MB = 1024 * 1024;

/** The instances the world curve starts (kept here so the bench's clean-up can sweep them). */
export function curveInstance(i: number): string {
  return `${BENCH_PREFIX}-c${i}`;
}

export interface CurvePoint {
  n: number;
  seconds: number;
  mbPerWorld?: number;
}

async function worldsCurve(ctx: StageContext): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const n of ctx.settings.curveWorlds) {
    ctx.progress(`curve: ${n} world${n > 1 ? 's' : ''} up at once`);
    const names = Array.from({ length: n }, (_, i) => curveInstance(i + 1));
    const t0 = performance.now();
    try {
      await Promise.all(names.map((name) => up(ctx.driver, { ...ctx.upOpts(name), progress: () => undefined })));
      const seconds = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 2000)); // start-up transients settle, as in measurement 5
      const bytes = (await Promise.all(names.map((name) => measureMemory(ctx.driver, name))))
        .flat()
        .reduce((a, m) => a + m.bytes, 0);
      points.push({ n, seconds: round(seconds, 2), mbPerWorld: round(bytes / MB / n, 1) });
      ctx.progress(`  ${n} at once: ${seconds.toFixed(2)} s, ${(bytes / MB / n).toFixed(1)} MB per world`);
    } finally {
      await Promise.all(names.map((name) => stop(ctx.driver, name)));
    }
    for (const name of names) await assertGone(ctx.driver, name, 'stop()');
    ctx.check();
  }
  return points;
}

async function gradingCurve(ctx: StageContext): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  const lab = await findLab(ctx.settings.curveLab);
  for (const n of ctx.settings.curveGrades) {
    ctx.progress(`curve: grading ${n} submissions of lab ${ctx.settings.curveLab} with --jobs auto`);
    const r = await gradeGenerated(ctx.driver, ctx.progress, lab, n, 'auto', 'bench-gc');
    points.push({ n, seconds: round(r.seconds, 1) });
    ctx.check();
  }
  return points;
}

export async function curvesStage(ctx: StageContext): Promise<void> {
  const { settings } = ctx;
  if (!settings.curveWorlds.length && !settings.curveGrades.length) return;
  const oneUp = carried(ctx.carried.oneUp, 'one up');
  // The results file's folder is made only once every stage is done: the charts may come first.
  mkdirSync(settings.chartDir, { recursive: true });
  if (settings.curveWorlds.length) {
    const w = await worldsCurve(ctx);
    const max = Math.max(...w.map((p) => p.n));
    writeFileSync(
      join(settings.chartDir, 'curve-up.svg'),
      lineChart({
        title: 'Worlds started at once: wall time to ready',
        xLabel: 'worlds started at once',
        yLabel: 'seconds',
        series: [
          { name: 'hurrynet up', points: w.map((p) => [p.n, p.seconds]) },
          {
            name: 'N x one up',
            points: [
              [1, oneUp],
              [max, oneUp * max],
            ],
            dashed: true,
          },
        ],
      }),
    );
    writeFileSync(
      join(settings.chartDir, 'curve-memory.svg'),
      lineChart({
        title: 'Memory per running world',
        xLabel: 'worlds running',
        yLabel: 'MB per world',
        series: [{ name: 'in use per world', points: w.map((p) => [p.n, p.mbPerWorld ?? 0]) }],
      }),
    );
    for (const p of w) {
      ctx.add({
        name: `curve: ${p.n} worlds up at once`,
        value: p.seconds,
        unit: 's',
        baseline: round(oneUp, 2),
        baselineName: 'one up',
      });
      ctx.add({ name: `curve: memory per world with ${p.n} running`, value: p.mbPerWorld ?? 0, unit: 'MB' });
    }
  }
  if (settings.curveGrades.length) {
    const g = await gradingCurve(ctx);
    const most = Math.max(...g.map((p) => p.n));
    writeFileSync(
      join(settings.chartDir, 'curve-grading.svg'),
      lineChart({
        title: `Grading lab ${settings.curveLab} with --jobs auto`,
        xLabel: 'submissions',
        yLabel: 'seconds',
        series: [
          { name: 'wall time', points: g.map((p) => [p.n, p.seconds]) },
          {
            name: '2.5 s a submission',
            points: [
              [0, 0],
              [most, 2.5 * most],
            ],
            dashed: true,
          },
        ],
      }),
    );
    for (const p of g)
      ctx.add({
        name: `curve: grade ${p.n} submissions`,
        value: p.seconds,
        unit: 's',
        target: 2.5 * p.n,
        targetOn: 'value',
      });
  }
  ctx.progress(`wrote the curves as SVG charts in ${settings.chartDir}`);
}
