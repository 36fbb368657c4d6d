// The second baseline: what a teacher who knows Docker would use instead of hurrynet, the world as a
// compose file brought up with `docker compose up -d --wait` and taken down with `down`. The file is
// generated from the same world and plan as hurrynet's (its own instance name and subnets, so it runs
// beside anything else), with a health check every 0.5 s: the quickest wait compose can be given.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import type { Driver } from '../orchestrator/runtime/driver.js';
import { PROJECT } from '../orchestrator/runtime/plan.js';
import { composeBody } from '../orchestrator/world/compose.js';
import type { World } from '../orchestrator/world/world.js';
import { freeSubnets } from './stages/context.js';

/** Whether `docker compose` (v2, the CLI plugin) is installed. */
export async function hasComposeV2(): Promise<boolean> {
  const r = await $({ quiet: true, nothrow: true })`docker compose version`;
  return r.exitCode === 0;
}

export interface ComposeWorld {
  /** Seconds from `up -d --wait` to its return (every node healthy). */
  up(signal?: AbortSignal): Promise<number>;
  /** Seconds of `down -t 0` (no grace period: the same forced removal hurrynet's stop does). */
  down(signal?: AbortSignal): Promise<number>;
  /** Removes the generated file. */
  dispose(): void;
}

export function composeWorld(driver: Driver, world: World, instance: string): ComposeWorld {
  const dir = mkdtempSync(join(tmpdir(), 'hurrynet-bench-compose-'));
  const file = join(dir, 'docker-compose.yml');
  // Free subnets are looked up before each up (untimed), as a teacher's file would name unused ones.
  const write = async () => {
    const subnets = await freeSubnets(driver, world.links.length);
    writeFileSync(file, composeBody(world, { instance, subnets, healthInterval: '500ms' }));
  };
  const project = `${PROJECT}-${instance}`;
  const timed = async (args: string[], signal?: AbortSignal) => {
    const t0 = performance.now();
    await $({ quiet: true, signal })`docker compose -p ${project} -f ${file} ${args}`;
    return (performance.now() - t0) / 1000;
  };
  return {
    up: async (signal) => {
      await write();
      return timed(['up', '-d', '--wait'], signal);
    },
    down: (signal) => timed(['down', '-t', '0'], signal),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
