// One role image at a time, with testcontainers (its wait strategies are the natural tool here):
// each image starts on its own, outside any lab world, and its service answers inside it. This
// pins a broken image to its role before a whole world fails to start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { READY_MARKER } from '../../orchestrator/runtime/engine.js';
import { imageSet } from '../../orchestrator/runtime/images.js';
import { LABEL, planInstance, projectLabelValue } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld, type Role } from '../../orchestrator/world/world.js';

// Ryuk (testcontainers' reaper) is an image from a registry this machine cannot reach; we remove
// what we start ourselves, in afterAll.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const INSTANCE = 't-roles';

/** The node's own environment from the world plan, without its links: it runs alone. */
function standaloneEnv(node: string): Record<string, string> {
  const subnets = Object.fromEntries(canonicalWorld.links.map((l, i) => [l.name, `10.250.254.${i * 16}/28`]));
  const plan = planInstance(canonicalWorld, { instance: INSTANCE, subnets, images: imageSet().roles });
  const c = plan.containers.find((x) => x.node === node);
  if (!c) throw new Error(`no node ${node}`);
  const { HN_LINKS: _links, HN_ROUTES: _routes, ...env } = c.env;
  return { ...env, HN_NAMESERVER: '127.0.0.1' };
}

async function startRole(role: Role, node: string): Promise<StartedTestContainer> {
  return new GenericContainer(imageSet().roles[role])
    .withEnvironment(standaloneEnv(node))
    .withLabels({
      [LABEL.project]: projectLabelValue(),
      [LABEL.instance]: INSTANCE,
      [LABEL.kind]: 'node',
      [LABEL.node]: node,
    })
    .withAddedCapabilities('NET_ADMIN', 'NET_RAW')
    .withWaitStrategy(Wait.forLogMessage(READY_MARKER))
    .withStartupTimeout(120_000)
    .start();
}

const started: StartedTestContainer[] = [];
let dns: StartedTestContainer;
let web: StartedTestContainer;

beforeAll(async () => {
  [dns, web] = await Promise.all([startRole('dns', 'dns'), startRole('web', 'web')]);
  started.push(dns, web);
}, 300_000);

afterAll(async () => {
  await Promise.all(started.map((c) => c.stop({ remove: true }).catch(() => undefined)));
});

describe('role images on their own', () => {
  it('dns: bind answers for bob.example from its zone and logs the query', async () => {
    const r = await dns.exec(['dig', '+short', '@127.0.0.1', 'web.bob.example', 'A']);
    expect(r.output.trim()).toBe('198.51.100.80');
    const log = await dns.exec(['sh', '-c', 'sleep 0.5; cat /var/log/named/queries.log']);
    expect(log.output).toMatch(/query: web\.bob\.example IN A/);
  });
  it('web: the express app answers /whoami with the address it saw', async () => {
    const r = await web.exec(['curl', '-sS', '-m', '5', 'http://127.0.0.1/whoami']);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain('127.0.0.1');
  });
});
