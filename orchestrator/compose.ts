// docker-compose.yml generated from the same world data and plan as the CLI uses, so both bring
// up the same world the same way (each node's entrypoint configures itself from its environment).
import { stringify } from 'yaml';
import { PROJECT, planInstance } from './plan.js';
import { ROLES } from './images.js';
import type { Role, World } from './world.js';

export const COMPOSE_INSTANCE = 'compose';
/** Fixed Docker subnets for the compose world, at the top of the project's pool. */
export const COMPOSE_SUBNETS = ['10.250.255.0/28', '10.250.255.16/28', '10.250.255.32/28', '10.250.255.48/28', '10.250.255.64/28', '10.250.255.80/28'];

/** Compose interpolates $VAR in values: a literal dollar (zone files use $TTL) is written $$. */
function escapeDollars(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

export function composeObject(world: World): Record<string, unknown> {
  if (world.links.length > COMPOSE_SUBNETS.length) throw new Error('the compose world has more links than reserved subnets');
  const subnets = Object.fromEntries(world.links.map((l, i) => [l.name, COMPOSE_SUBNETS[i] as string]));
  // Compose uses the ":latest" tags that "hurrynet build" puts on the current images.
  const images = Object.fromEntries(ROLES.map((r) => [r, `${PROJECT}/${r}:latest`])) as Record<Role, string>;
  const plan = planInstance(world, { instance: COMPOSE_INSTANCE, subnets, images });
  const linkOf = new Map(plan.networks.map((n) => [n.name, n.link]));
  const services: Record<string, unknown> = {};
  for (const c of plan.containers) {
    services[c.node] = {
      image: c.image,
      container_name: c.name,
      hostname: c.hostname,
      labels: c.labels,
      environment: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, escapeDollars(v)])),
      networks: c.networks.map((n) => linkOf.get(n)),
      cap_drop: ['ALL'],
      cap_add: c.capAdd,
      security_opt: ['no-new-privileges'],
      sysctls: c.sysctls,
      mem_limit: `${Math.round(c.memoryBytes / 1024 / 1024)}m`,
      memswap_limit: `${Math.round(c.memoryBytes / 1024 / 1024)}m`,
      pids_limit: c.pidsLimit,
      healthcheck: { test: ['CMD', 'test', '-f', '/run/hurrynet/ready'], interval: '2s', timeout: '2s', retries: 30 },
    };
  }
  const networks: Record<string, unknown> = {};
  for (const n of plan.networks) {
    networks[n.link] = {
      name: n.name,
      driver: 'bridge',
      driver_opts: n.options,
      labels: n.labels,
      ipam: { config: [{ subnet: n.subnet, gateway: n.gateway }] },
    };
  }
  return { name: `${PROJECT}-${COMPOSE_INSTANCE}`, services, networks };
}

export function composeYaml(world: World): string {
  const header = [
    '# Generated from the world data in orchestrator/world.ts by "npm run compose". Do not edit by hand:',
    '# a test fails when this file drifts from the world data. Build the images first with "npx hurrynet build".',
    '# The CLI ("npx hurrynet up") brings up the same world with parallel start and readiness checks.',
  ].join('\n');
  return `${header}\n${stringify(composeObject(world), { lineWidth: 0 })}`;
}
