// The generated docker-compose.yml on the real engine: Compose v2 (the docker CLI plugin) brings
// up the same world as the CLI, and so does Compose v1 (docker-compose) when it is installed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMPOSE_INSTANCE, COMPOSE_PROJECT } from '../../orchestrator/world/compose.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { driver } from './helpers.js';

const FILE = join(projectRoot(), 'docker-compose.yml');

function run(cmd: string, args: string[], timeoutMs = 240_000) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, COMPOSE_PROJECT_NAME: COMPOSE_PROJECT },
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const v2 = run('docker', ['compose', 'version'], 20_000).code === 0;
const v1 = run('docker-compose', ['version'], 20_000).code === 0;

/** Waits for every node's ready file (compose v1 has no --wait). */
async function ready(): Promise<boolean> {
  for (let i = 0; i < 120; i++) {
    const states = await Promise.all(
      ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp'].map((n) =>
        driver.exec(`hurrynet-compose-${n}`, ['test', '-f', '/run/hurrynet/ready']).then(
          (r) => r.exitCode === 0,
          () => false,
        ),
      ),
    );
    if (states.every(Boolean)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function curlFromAlice(): Promise<string> {
  const r = await driver.exec('hurrynet-compose-alice', ['curl', '-sS', '-m', '5', 'http://web.bob.example/whoami'], {
    timeoutMs: 15_000,
  });
  return r.stdout + r.stderr;
}

/** The tool that brought the world up takes it down: Compose v1 and v2 label networks differently, and
 * v2 refuses to reuse (or remove) a network v1 created. Whatever either leaves behind carries the compose
 * instance's labels, and the engine's own stop removes exactly those objects. */
let upWith: 'v1' | 'v2' | undefined;
async function down(): Promise<void> {
  if (upWith === 'v2') run('docker', ['compose', '-f', FILE, 'down', '--timeout', '2']);
  if (upWith === 'v1') run('docker-compose', ['-f', FILE, 'down', '--timeout', '2']);
  upWith = undefined;
  await stop(driver, COMPOSE_INSTANCE);
}

beforeAll(() => stop(driver, COMPOSE_INSTANCE), 120_000);
afterEach(down, 120_000);

describe('docker-compose.yml', () => {
  it.skipIf(!v2)(
    'comes up with Compose v2 (docker compose up --wait) and alice reaches web by name',
    async () => {
      upWith = 'v2';
      const up = run('docker', ['compose', '-f', FILE, 'up', '-d', '--wait']);
      expect(up.code, up.out).toBe(0);
      expect(await ready()).toBe(true);
      expect(await curlFromAlice()).toContain('203.0.113.5');
    },
    300_000,
  );
  it.skipIf(!v1)(
    'comes up with Compose v1 (docker-compose 1.29) and alice reaches web by name',
    async () => {
      upWith = 'v1';
      const up = run('docker-compose', ['-f', FILE, 'up', '-d']);
      expect(up.code, up.out).toBe(0);
      expect(await ready()).toBe(true);
      expect(await curlFromAlice()).toContain('203.0.113.5');
    },
    300_000,
  );
});
