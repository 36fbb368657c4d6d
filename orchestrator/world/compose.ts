// docker-compose.yml generated from the same world data and plan as the CLI uses, so both bring
// up the same world the same way (each node's entrypoint configures itself from its environment).
import { Document, isScalar, visit } from 'yaml';
import { PROJECT, planInstance } from '../runtime/plan.js';
import { ROLES } from '../runtime/images.js';
import type { Role, World } from './world.js';

export const COMPOSE_INSTANCE = 'compose';
export const COMPOSE_READY_SECONDS = 120;
/** Fixed Docker subnets for the compose world, at the top of the project's pool. */
export const COMPOSE_SUBNETS = [
  '10.250.255.0/28',
  '10.250.255.16/28',
  '10.250.255.32/28',
  '10.250.255.48/28',
  '10.250.255.64/28',
  '10.250.255.80/28',
];

/** Compose interpolates $VAR in values: a literal dollar (zone files use $TTL) is written $$. */
function escapeDollars(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** What the benchmark changes to run a compose world of its own beside the checked-in one. */
export interface ComposeOptions {
  instance?: string;
  /** One Docker subnet per link, in the world's link order. */
  subnets?: string[];
  /** How often Docker runs each node's health check ("2s" in the checked-in file). */
  healthInterval?: string;
}

export function composeObject(world: World, opts: ComposeOptions = {}): Record<string, unknown> {
  const chosen = opts.subnets ?? COMPOSE_SUBNETS;
  if (world.links.length > chosen.length) throw new Error('the compose world has more links than reserved subnets');
  const subnets = Object.fromEntries(world.links.map((l, i) => [l.name, chosen[i] as string]));
  // Compose uses the ":latest" tags that "hurrynet build" puts on the current images.
  const images = Object.fromEntries(ROLES.map((r) => [r, `${PROJECT}/${r}:latest`])) as Record<Role, string>;
  // Compose cannot stretch its waits with the machine's load as the CLI does: give services long enough.
  const plan = planInstance(world, {
    instance: opts.instance ?? COMPOSE_INSTANCE,
    subnets,
    images,
    readySeconds: COMPOSE_READY_SECONDS,
  });
  const interval = opts.healthInterval ?? '2s';
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
      healthcheck: {
        test: ['CMD', 'test', '-f', '/run/hurrynet/ready'],
        interval,
        timeout: '2s',
        retries: Math.ceil(COMPOSE_READY_SECONDS / intervalSeconds(interval)),
      },
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
  // Format 2.4 is what both Compose v1 (docker-compose 1.29) and v2 read with these keys; v1 knows
  // no top-level "name", so the project name is given with -p (see the header).
  return { version: '2.4', services, networks };
}

function intervalSeconds(interval: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(interval);
  if (!m) throw new Error(`a health-check interval like "2s" or "500ms" was expected, not "${interval}"`);
  return Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
}

export const COMPOSE_PROJECT = `${PROJECT}-${COMPOSE_INSTANCE}`;

/** The YAML of composeObject, without the checked-in file's header. */
export function composeBody(world: World, opts: ComposeOptions = {}): string {
  const doc = new Document(composeObject(world, opts));
  // A raw tab is valid YAML 1.2 but PyYAML (Compose v1) refuses it: quote such values and escape it.
  visit(doc, {
    Scalar(_, node) {
      if (isScalar(node) && typeof node.value === 'string' && node.value.includes('\t')) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

export function composeYaml(world: World): string {
  const header = [
    '# Generated from the world data in orchestrator/world/world.ts by "npm run compose". Do not edit by hand:',
    '# a test fails when this file drifts from the world data. Build the images first with "npx hurrynet build".',
    `# Start it with "docker compose -p ${COMPOSE_PROJECT} up -d --wait" (or docker-compose -p ${COMPOSE_PROJECT} up -d);`,
    '# the CLI ("npx hurrynet up") brings up the same world with parallel start and readiness checks.',
  ].join('\n');
  return `${header}\n${composeBody(world)}`;
}
