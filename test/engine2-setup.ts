// Global setup of the engine2 project: the second engine answers, is not the first one under
// another name, and has the lab images (copied from the first engine when it has them, which is
// much faster than building; ensureImages then builds whatever is still missing).
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { Driver } from '../orchestrator/runtime/driver.js';
import { ensureImages, imagesReady } from '../orchestrator/runtime/images.js';
import { projectRoot } from '../orchestrator/runtime/paths.js';
import { socketOf } from './engine2.js';

const say = (m: string) => process.stderr.write(`[engine2] ${m}\n`);

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.HURRYNET_SKIP_INTEGRATION === '1') return;
  const host = project.config.env.DOCKER_HOST ?? '';
  const engine2 = new Driver(new Docker({ socketPath: socketOf(host) }));
  try {
    await engine2.ping();
  } catch (err) {
    throw new Error(
      `the second engine does not answer at ${host} (${(err as Error).message}); start it: scripts/engine2.sh start`,
    );
  }
  const [info, first] = await Promise.all([
    engine2.docker.info() as Promise<{ ID: string }>,
    new Driver().docker.info().then(
      (i: { ID: string }) => i.ID,
      () => undefined,
    ),
  ]);
  if (info.ID === first)
    throw new Error(`${host} is the first engine again: the engine2 project would test nothing new`);
  const { version, apiVersion } = await engine2.version();
  say(`Docker ${version} (API ${apiVersion}) at ${host}: ${project.config.include.length} smoke files run here`);
  if (!(await imagesReady(engine2))) {
    // The script copies what the first engine has (docker save | docker load keeps tags and labels).
    execFileSync('bash', ['scripts/engine2.sh', 'images'], {
      cwd: projectRoot(),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  const { report } = await ensureImages(engine2, (m) => say(`[images] ${m}`));
  say(`[images] ${report.built.length} built, ${report.reused.length} up to date in ${report.seconds.toFixed(1)} s`);
}
