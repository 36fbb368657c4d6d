// Measurement 6: N worlds up and stopped at once, against one up and one stop of this run.
import { performance } from 'node:perf_hooks';
import { status, stop, up } from '../../orchestrator/runtime/engine.js';
import { assertGone, carried, round, type StageContext } from './context.js';

export async function worldsStage(ctx: StageContext): Promise<void> {
  const { driver, progress, worlds: names } = ctx;
  const worlds = names.length;
  const oneUp = carried(ctx.carried.oneUp, 'one up');
  const oneStop = carried(ctx.carried.oneStop, 'one stop');
  progress(`${worlds} worlds at once: ${names.join(', ')}`);
  const t0 = performance.now();
  const settled = await Promise.allSettled(names.map((n) => up(driver, ctx.upOpts(n))));
  const wall = (performance.now() - t0) / 1000;
  ctx.check();
  for (const [i, s] of settled.entries()) {
    if (s.status === 'rejected') progress(`  ${names[i]} failed: ${(s.reason as Error).message.split('\n')[0]}`);
  }
  const healthy = (await Promise.all(names.map((n) => status(driver, n)))).filter((l) => l[0]?.healthy).length;
  ctx.add({
    name: `${worlds} worlds up at once`,
    value: round(wall, 2),
    unit: 's',
    baseline: round(oneUp, 2),
    baselineName: 'one up',
  });
  // A count's target is a floor (all of them), so "ok" is set here rather than as "<= target".
  ctx.push({
    name: `${worlds} worlds healthy`,
    value: healthy,
    unit: `of ${worlds}`,
    target: worlds,
    targetOn: 'value',
    ok: healthy === worlds,
  });
  progress(`=> ${healthy} of ${worlds} worlds healthy`);
  const t1 = performance.now();
  await Promise.all(names.map((n) => stop(driver, n)));
  const stopAll = (performance.now() - t1) / 1000;
  for (const n of names) await assertGone(driver, n, 'stop()');
  ctx.add({
    name: `${worlds} worlds stop at once`,
    value: round(stopAll, 2),
    unit: 's',
    baseline: round(oneStop, 2),
    baselineName: 'one stop',
  });
}
