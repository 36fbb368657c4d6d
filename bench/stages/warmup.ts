// Not a measurement: the first world after a while pays for cold page caches, so one untimed up
// of the warm world comes first. The exec and memory stages measure that running world.
import { getImages, up } from '../../orchestrator/runtime/engine.js';
import type { StageContext } from './context.js';

export async function warmUpStage(ctx: StageContext): Promise<void> {
  ctx.check(); // an interrupted cold build stops here, before anything starts
  ctx.carried.images = (await getImages(ctx.driver, ctx.progress)).roles;
  ctx.progress(`warm-up: up ${ctx.warm} (not timed), then exec and memory measurements`);
  await up(ctx.driver, ctx.upOpts(ctx.warm));
  ctx.check();
}
