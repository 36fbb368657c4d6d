// The CLI and the instance lifecycle on a real engine: commands as a user types them, and the
// faults a user meets (name clash, unknown node, a node that dies, Ctrl-C, leftovers, full pool).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeStartError, stop, up } from '../../orchestrator/runtime/engine.js';
import { bridgeName, networkName, LABEL, PROJECT } from '../../orchestrator/runtime/plan.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world/world.js';
import { cli, driver, eventually, labelledObjects } from './helpers.js';

const I = 't-cli';

beforeAll(async () => {
  const r = await cli(['up', '--instance', I, '--replace']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/ready.*instance t-cli is up \(7 nodes/);
});

afterAll(async () => {
  await stop(driver, I);
});

describe('hurrynet CLI on a running instance', () => {
  it('exec prints output and passes the exit code through', async () => {
    const ok = await cli(['exec', '--instance', I, 'alice', '--', 'dig', '+short', 'web.bob.example']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe('198.51.100.80');
    const fail = await cli(['exec', '--instance', I, 'alice', '--', 'sh', '-c', 'echo oops >&2; exit 7']);
    expect(fail.code).toBe(7);
    expect(fail.stderr).toContain('oops');
  });

  it('status --json lists nodes, addresses and health', async () => {
    const r = await cli(['status', '--json', '--instance', I]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      instances: {
        instance: string;
        healthy: boolean;
        nodes: { node: string; ready: boolean; addresses: { link: string; address: string }[] }[];
      }[];
    };
    const inst = doc.instances.find((x) => x.instance === I)!;
    expect(inst.healthy).toBe(true);
    expect(inst.nodes.map((n) => n.node)).toEqual(canonicalWorld.nodes.map((n) => n.name));
    const edge = inst.nodes.find((n) => n.node === 'edge')!;
    // Interface order follows Docker's attach order, which is not fixed: compare as a set.
    expect(edge.addresses).toHaveLength(3);
    expect(edge.addresses).toEqual(
      expect.arrayContaining([
        { link: 'backbone', address: '198.51.100.2/24' },
        { link: 'backbone', address: '198.51.100.80/24' },
        { link: 'vpc', address: '10.0.1.1/24' },
      ]),
    );
    const text = await cli(['status', '--instance', I]);
    expect(text.stdout).toMatch(/alice\s+ready\s+lan 192\.168\.1\.101\/24/);
  });

  it('shell gives an interactive terminal whose exit code comes back', () => {
    // `script` gives the CLI a real pseudo-terminal, as a learner's terminal would.
    const bin = join(projectRoot(), 'bin', 'hurrynet.js');
    const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} shell --instance ${I}`, '/dev/null'], {
      input: 'tty >/dev/null && echo "tty-ok $(hostname) $((6*7))"; exit 3\n',
      encoding: 'utf8',
      timeout: 20000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.stdout).toContain('tty-ok alice 42');
    expect(r.status).toBe(3);
  });

  it('refuses a second instance with the same name', async () => {
    const r = await cli(['up', '--instance', I]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/instance "t-cli" is already running.*hurrynet stop --instance t-cli/);
  });

  it('explains an unknown node, an unknown instance and an invalid name', async () => {
    const node = await cli(['exec', '--instance', I, 'bob', '--', 'true']);
    expect(node.code).toBe(2);
    expect(node.stderr).toMatch(/unknown node "bob". The nodes are: alice, home, isp, dns, edge, web, ftp/);
    const inst = await cli(['shell', '--instance', 'nosuch']);
    expect(inst.code).toBe(2);
    expect(inst.stderr).toMatch(/no instance "nosuch" is running/);
    const bad = await cli(['stop', '--instance', 'No Way']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid instance name/);
  });

  it('graph prints the topology', async () => {
    const r = await cli(['graph']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/alice .*home.*isp.*edge.*web/);
  });
});

describe('faults during start', () => {
  it('reports which node died with its last lines, and leaves nothing behind', async () => {
    const broken: World = structuredClone(canonicalWorld);
    findNode(broken, 'web')!.services = ['no-such-service'];
    const err = await up(driver, { instance: 't-dead', world: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeStartError);
    expect((err as NodeStartError).node).toBe('web');
    expect((err as Error).message).toMatch(/node web exited during start.*unknown service no-such-service/s);
    expect(await labelledObjects('t-dead')).toBe(0);
  });

  it('cleans up after Ctrl-C during up, and the next up works', async () => {
    let pid = 0;
    const running = cli(['up', '--instance', 't-int'], { onSpawn: (p) => (pid = p) });
    // Interrupt once the first containers exist, i.e. in the middle of the start.
    const seen = await eventually(
      async () => (await driver.listContainers({ [LABEL.instance]: 't-int' })).length > 0,
      60000,
      50,
    );
    expect(seen).toBe(true);
    process.kill(pid, 'SIGINT');
    const r = await running;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(await labelledObjects('t-int')).toBe(0);
  });

  it('removes leftovers of a crashed run instead of failing on them', async () => {
    // A crash can leave a network behind; its subnet must not cause a "Pool overlaps" failure.
    await driver.createNetwork({
      link: 'lan',
      name: networkName('t-left', 'lan'),
      bridge: bridgeName(networkName('t-left', 'lan'), 't-left'),
      subnet: '10.250.200.0/28',
      gateway: '10.250.200.1',
      labels: { [LABEL.project]: PROJECT, [LABEL.instance]: 't-left', [LABEL.lab]: 'free' },
      options: { 'com.docker.network.bridge.name': bridgeName(networkName('t-left', 'lan'), 't-left') },
    });
    const r = await up(driver, { instance: 't-left' });
    expect(r.leftoversRemoved).toBe(1);
    await stop(driver, 't-left');
    expect(await labelledObjects('t-left')).toBe(0);
  });

  it('says clearly when the subnet pool is full', async () => {
    const saved = process.env.HURRYNET_SUBNET_POOL;
    process.env.HURRYNET_SUBNET_POOL = '10.251.0.0/27'; // room for two /28s, the world needs four
    try {
      await expect(up(driver, { instance: 't-full' })).rejects.toThrow(/no room for 4 more networks/);
    } finally {
      if (saved === undefined) delete process.env.HURRYNET_SUBNET_POOL;
      else process.env.HURRYNET_SUBNET_POOL = saved;
    }
    expect(await labelledObjects('t-full')).toBe(0);
  });

  it('reports a Docker engine that cannot be reached, with advice', async () => {
    const r = await cli(['status'], { env: { DOCKER_HOST: 'unix:///tmp/hurrynet-no-such.sock' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach the Docker engine.*Start it/);
  });
});

describe('clean', () => {
  // A project label of its own: clean must be tested without touching anyone else's labs.
  const project = `hurrynet-test-clean-${process.pid}`;
  it("removes every labelled container and network of its project, and nobody else's", async () => {
    await up(driver, { instance: 't-bystander', replace: true });
    process.env.HURRYNET_PROJECT = project;
    try {
      await up(driver, { instance: 't-clean', replace: true });
      expect(await labelledObjects()).toBe(11);
      const r = await cli(['clean', '--json'], { env: { HURRYNET_PROJECT: project } });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ containers: 7, networks: 4 });
      expect(await labelledObjects()).toBe(0);
    } finally {
      delete process.env.HURRYNET_PROJECT;
    }
    expect(await labelledObjects('t-bystander')).toBe(11);
    await stop(driver, 't-bystander');
  }, 300_000);
});
