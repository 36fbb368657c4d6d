// The second engine the tests also run on (scripts/engine2.sh: Docker 26.1 from Debian trixie, beside
// the machine's 20.10). Its environment comes from the script itself, so the socket and subnet pool
// are written down once. The full suite runs on the first engine; these smoke files also run here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ENGINE2_SMOKE = [
  'test/integration/lifecycle.test.ts',
  'test/integration/world.test.ts',
  'test/integration/lab-cli.test.ts',
  'test/integration/roles.test.ts',
  'test/integration/seal.test.ts',
  'test/integration/lab-11.test.ts',
];

/** `scripts/engine2.sh env` as a record: DOCKER_HOST and HURRYNET_SUBNET_POOL. */
export function engine2Env(root: string): Record<string, string> {
  const out = execFileSync('bash', [join(root, 'scripts', 'engine2.sh'), 'env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1] as string] = m[2] as string;
  if (!env.DOCKER_HOST?.startsWith('unix://'))
    throw new Error(`scripts/engine2.sh env gave no unix DOCKER_HOST:\n${out}`);
  return env;
}

export function socketOf(dockerHost: string): string {
  return dockerHost.replace(/^unix:\/\//, '');
}

/** Whether the second engine's socket exists (a cheap check at config time; the setup pings it). */
export function engine2Present(env: Record<string, string>): boolean {
  return existsSync(socketOf(env.DOCKER_HOST ?? ''));
}
