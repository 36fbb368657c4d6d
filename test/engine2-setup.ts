// Global setup of the engine2 project: the second engine answers, is not the first one under
// another name, and has the lab images (prepareEngine2Images).
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { Driver } from '../orchestrator/runtime/driver.js';
import { prepareEngine2Images } from './engine2-images.js';
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
  await prepareEngine2Images(engine2, say);
}
