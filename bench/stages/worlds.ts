// Measurement 6: N worlds up and stopped at once, against one up and one stop of this run.
import { performance } from 'node:perf_hooks';
import { status, stop, up } from '../../orchestrator/runtime/engine.js';
import { containerName } from '../../orchestrator/runtime/plan.js';
import { assertGone, carried, percentile, round, type StageContext } from './context.js';

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
  // One world's status at a time: each asks every node at once, and 30 worlds' asks together would
  // time out on their own load and count healthy worlds as sick.
  let healthy = 0;
  for (const n of names) if ((await status(driver, n))[0]?.healthy) healthy++;
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
  // With all of them running: one command's round trip on each world's alice in turn (the class
  // server's question: how many learner worlds one machine holds with shells that stay quick).
  const times: number[] = [];
  for (let i = 0; i < Math.max(60, worlds * 3); i++) {
    const t = performance.now();
    await driver.exec(containerName(names[i % worlds] as string, 'alice'), ['true'], { timeoutMs: 10_000 });
    times.push(performance.now() - t);
  }
  ctx.add({
    name: `${worlds} worlds running: exec round trip p95`,
    value: round(percentile(times, 95), 1),
    unit: 'ms',
    target: 250,
    targetOn: 'value',
  });
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
