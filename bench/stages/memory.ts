// Measurement 5: memory of the running, idle warm world, per node and in total, from each
// container's own cgroup. The warm world is stopped here: the up/stop rounds start from none.
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { containerName } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import { MEMORY_SCRIPT, parseMemoryOutput as parseMemory } from '../../orchestrator/runtime/cgroup.js';
import { assertGone, round, type StageContext } from './context.js';

// The script and its parsing live with the other cgroup readers (v1 and v2, unit-tested there).
export { MEMORY_SCRIPT, parseMemoryOutput as parseMemory } from '../../orchestrator/runtime/cgroup.js';

export async function measureMemory(
  driver: Driver,
  instance: string,
): Promise<{ node: string; bytes: number; limit: number }[]> {
  const plan = canonicalWorld.nodes;
  return Promise.all(
    plan.map(async (node) => {
      const r = await driver.exec(containerName(instance, node.name), ['sh', '-c', MEMORY_SCRIPT], {
        timeoutMs: 10000,
      });
      if (r.exitCode !== 0) throw new Error(`cannot read memory of ${node.name}: ${r.stderr.trim()}`);
      return { node: node.name, bytes: parseMemory(r.stdout), limit: node.memoryMb * 1024 * 1024 };
    }),
  );
}

const MB = 1024 * 1024;

export async function memoryStage(ctx: StageContext): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000)); // let start-up transients settle
  const mem = await measureMemory(ctx.driver, ctx.warm);
  for (const m of mem) {
    ctx.add({
      name: `memory ${m.node}`,
      value: round(m.bytes / MB, 1),
      unit: 'MB',
      baseline: round(m.limit / MB, 1),
      baselineName: 'its limit',
    });
  }
  const total = mem.reduce((a, m) => a + m.bytes, 0);
  const limits = mem.reduce((a, m) => a + m.limit, 0);
  ctx.add({
    name: 'memory total (7 nodes)',
    value: round(total / MB, 1),
    unit: 'MB',
    baseline: round(limits / MB, 1),
    baselineName: 'sum of limits',
    target: 250,
    targetOn: 'value',
  });
  await stop(ctx.driver, ctx.warm);
  await assertGone(ctx.driver, ctx.warm, 'stop()');
  ctx.check();
}
