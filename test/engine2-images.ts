// The second engine's lab images, for its global setup and for tests that use both engines at once.
// Apart from test/engine2.ts, which vitest.config.ts loads: the config stays free of the runtime.
import { execFileSync } from 'node:child_process';
import type { Driver } from '../orchestrator/runtime/driver.js';
import { ensureImages, imagesReady } from '../orchestrator/runtime/images.js';
import { projectRoot } from '../orchestrator/runtime/paths.js';

/**
 * The lab images of the current content on the second engine: copied from the first engine when it
 * has them (docker save | docker load keeps tags and labels, much faster than a build), and then
 * whatever is still missing is built.
 */
export async function prepareEngine2Images(engine2: Driver, say: (m: string) => void): Promise<void> {
  if (!(await imagesReady(engine2)))
    execFileSync('bash', ['scripts/engine2.sh', 'images'], {
      cwd: projectRoot(),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const { report } = await ensureImages(engine2, (m) => say(`[images] ${m}`));
  say(`[images] ${report.built.length} built, ${report.reused.length} up to date in ${report.seconds.toFixed(1)} s`);
}
