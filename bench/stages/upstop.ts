// Measurements 2 and 3: up (to ready) and stop of the warm world, round by round against two
// baselines built from the same plan: the naive script of sequential docker CLI calls
// (bench/naive.ts) and `docker compose up -d --wait` / `down` of a generated file (bench/compose.ts).
import { performance } from 'node:perf_hooks';
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { AbortedError, stop, up } from '../../orchestrator/runtime/engine.js';
import type { ImageSet } from '../../orchestrator/runtime/images.js';
import { planInstance, type InstancePlan } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld, type World } from '../../orchestrator/world/world.js';
import { composeWorld, hasComposeV2 } from '../compose.js';
import { naiveStopCommands, naiveUpCommands, runInSequence, waitReadyInTurn } from '../naive.js';
import {
  assertGone,
  carried,
  COMPOSE_BENCH_INSTANCE,
  freeSubnets,
  median,
  NAIVE_INSTANCE,
  READY_TIMEOUT_MS,
  round,
  sweep,
  type StageContext,
} from './context.js';

async function planNaive(driver: Driver, world: World, images: ImageSet['roles']): Promise<InstancePlan> {
  const chosen = await freeSubnets(driver, world.links.length);
  const subnets = Object.fromEntries(world.links.map((l, i) => [l.name, chosen[i] as string]));
  return planInstance(world, { instance: NAIVE_INSTANCE, subnets, images });
}

/** One naive up: plan, then the CLI calls in turn. Retries when another process took the same subnets meanwhile. */
async function naiveUp(
  driver: Driver,
  images: ImageSet['roles'],
  signal?: AbortSignal,
): Promise<{ seconds: number; plan: InstancePlan }> {
  for (let attempt = 0; ; attempt++) {
    const plan = await planNaive(driver, canonicalWorld, images);
    const t0 = performance.now();
    try {
      await runInSequence(naiveUpCommands(plan), signal);
      await waitReadyInTurn(plan, READY_TIMEOUT_MS, signal);
      return { seconds: (performance.now() - t0) / 1000, plan };
    } catch (err) {
      if (signal?.aborted) throw new AbortedError();
      await sweep(driver, [NAIVE_INSTANCE]);
      if (!/overlap/i.test(String((err as { stderr?: string }).stderr ?? err)) || attempt >= 3)
        throw new Error(`the naive up failed: ${(err as Error).message.trim()}`);
    }
  }
}

async function naiveStop(plan: InstancePlan, signal?: AbortSignal): Promise<number> {
  const t0 = performance.now();
  // Like a hand-written clean-up script: one failed removal does not stop the others.
  await runInSequence(naiveStopCommands(plan), signal, { nothrow: true });
  return (performance.now() - t0) / 1000;
}

export async function upStopStage(ctx: StageContext): Promise<void> {
  const { driver, progress, signal, warm } = ctx;
  const images = carried(ctx.carried.images, 'the role images');
  const repeat = ctx.settings.repeat;
  const upS: number[] = [];
  const stopS: number[] = [];
  const naiveUpS: number[] = [];
  const naiveStopS: number[] = [];
  const composeUpS: number[] = [];
  const composeDownS: number[] = [];
  const compose = (await hasComposeV2()) ? composeWorld(driver, canonicalWorld, COMPOSE_BENCH_INSTANCE) : undefined;
  if (!compose)
    progress('docker compose (v2) is not installed: the compose baseline is skipped (npm run setup installs it)');
  const engineRound = async (i: number) => {
    const t0 = performance.now();
    await up(driver, ctx.upOpts(warm));
    upS.push((performance.now() - t0) / 1000);
    ctx.check();
    const t1 = performance.now();
    await stop(driver, warm);
    stopS.push((performance.now() - t1) / 1000);
    await assertGone(driver, warm, 'stop()');
    progress(`  round ${i + 1}: up ${upS.at(-1)?.toFixed(2)} s, stop ${stopS.at(-1)?.toFixed(2)} s`);
  };
  const naiveRound = async (i: number) => {
    const { seconds, plan } = await naiveUp(driver, images, signal);
    naiveUpS.push(seconds);
    ctx.check();
    naiveStopS.push(await naiveStop(plan, signal));
    await assertGone(driver, NAIVE_INSTANCE, 'the naive stop script');
    progress(`  round ${i + 1}: naive up ${seconds.toFixed(2)} s, naive stop ${naiveStopS.at(-1)?.toFixed(2)} s`);
  };
  const composeRound = async (i: number) => {
    if (!compose) return;
    try {
      composeUpS.push(await compose.up(signal));
      ctx.check();
    } finally {
      composeDownS.push(await compose.down(signal));
    }
    await assertGone(driver, COMPOSE_BENCH_INSTANCE, 'docker compose down');
    progress(
      `  round ${i + 1}: compose up --wait ${composeUpS.at(-1)?.toFixed(2)} s, down ${composeDownS.at(-1)?.toFixed(2)} s`,
    );
  };
  const rounds = [engineRound, naiveRound, composeRound];
  try {
    for (let i = 0; i < repeat; i++) {
      progress(`up/stop round ${i + 1} of ${repeat}: engine vs naive docker CLI script vs docker compose`);
      // Rotate who goes first so that drift on a shared machine favours none of them.
      for (let k = 0; k < rounds.length; k++) await (rounds[(i + k) % rounds.length] as typeof engineRound)(i);
      ctx.check();
    }
  } finally {
    compose?.dispose();
  }
  ctx.carried.oneUp = median(upS);
  ctx.carried.oneStop = median(stopS);
  /** Our median against a baseline's, both from this run; the samples are ours. */
  const versus = (name: string, ours: number[], theirs: number[], baselineName: string) =>
    ctx.add({
      name,
      value: round(median(ours), 2),
      unit: 's',
      baseline: round(median(theirs), 2),
      baselineName,
      target: 0.5,
      targetOn: 'ratio',
      samples: ours.map((v) => round(v, 2)),
    });
  versus('up (warm, to ready)', upS, naiveUpS, 'naive CLI script');
  versus('stop', stopS, naiveStopS, 'naive CLI script');
  if (!composeUpS.length) return;
  versus('up (warm, to ready) vs compose', upS, composeUpS, 'docker compose up -d --wait');
  versus('stop vs compose', stopS, composeDownS, 'docker compose down -t 0');
}
