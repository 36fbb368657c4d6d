// The packet journey on a real engine: captures on every interface of every node while a command
// runs on alice, matched hop by hop through both NATs. The free world shows the home NAT and the
// edge's DNAT with the right addresses and ports, TTL one lower per router, new MACs per link,
// the DNS cache answering a second lookup at home, and FTP's active data connection linked to its
// control connection; lab worlds show where a packet dies and why (lab 05's missing route, lab
// 08's small link fragmenting). The CLI explains bad input and leaves no sidecar behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyDocument, type JourneyDoc } from '../../orchestrator/journey/document.js';
import { journeyCommand } from '../../orchestrator/journey/presets.js';
import { runJourney } from '../../orchestrator/journey/run.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { dockerContext } from '../../orchestrator/labs/labrun.js';
import { traceProbe } from '../../orchestrator/journey/trace.js';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { Driver } from '../../orchestrator/runtime/driver.js';
import routing from '../../labs/05-routing/lab.js';
import { start } from './lab-harness.js';
import { cli, driver, eventually } from './helpers.js';

const I = 't-journey';
const L = 't-journey-lab';

async function journey(
  instance: string,
  words: string[],
  opts: { explicit?: boolean; active?: boolean; maxPackets?: number; timeoutMs?: number } = {},
): Promise<JourneyDoc> {
  const command = journeyCommand(words, { explicit: opts.explicit ?? false, active: opts.active ?? false });
  const run = await runJourney(driver, {
    instance,
    from: 'alice',
    command,
    timeoutMs: opts.timeoutMs,
    ...(opts.maxPackets ? { limits: { maxPackets: opts.maxPackets, snapLength: 320, maxSeconds: 60 } } : {}),
  });
  await run.removed;
  return journeyDocument(run);
}

async function sidecarsOf(instance: string): Promise<number> {
  const all = await driver.listContainers(Driver.projectLabels({ [LABEL.instance]: instance, [LABEL.kind]: 'probe' }));
  return all.length;
}

beforeAll(async () => {
  await up(driver, { instance: I, replace: true });
}, 180_000);

afterAll(async () => {
  await Promise.all([stop(driver, I), stop(driver, L)]);
});

describe('journey on the free world', () => {
  it('follows a web request through the home NAT and the edge DNAT, and back', async () => {
    const doc = await journey(I, ['web']);
    expect(doc.exitCode).toBe(0);
    const http = doc.flows.find((f) => f.app === 'http');
    expect(http).toBeDefined();
    const packets = doc.packets.filter((p) => p.flow === http?.id);
    const syn = packets.find((p) => p.label === 'SYN');
    expect(syn?.path).toEqual(['alice', 'home', 'isp', 'edge', 'web']);
    const change = (node: string, field: string) => syn?.changes.find((c) => c.node === node && c.field === field);
    expect(change('home', 'src ip')).toMatchObject({ from: '192.168.1.101', to: '203.0.113.5', why: 'snat' });
    expect(change('edge', 'dst ip')).toMatchObject({ from: '198.51.100.80', to: '10.0.1.10', why: 'dnat' });
    // Ports as the routers' conntrack has them: the source port web sees is the one home chose.
    const atWeb = syn?.hops.find((h) => h.node === 'web');
    const leftHome = syn?.hops.find((h) => h.node === 'home' && h.dir === 'out');
    expect(atWeb?.sport).toBe(leftHome?.sport);
    expect(atWeb?.ip.src).toBe('203.0.113.5');
    expect(syn?.changes.filter((c) => c.field === 'ttl').map((c) => `${c.node}:${c.from}>${c.to}`)).toEqual([
      'home:64>63',
      'isp:63>62',
      'edge:62>61',
    ]);
    const macs = syn?.hops.filter((h) => h.dir === 'out').map((h) => `${h.eth.srcOwner}>${h.eth.dstOwner}`);
    expect(macs).toEqual(['alice>home', 'home>isp', 'isp>edge', 'edge>web']);
    const answer = packets.find((p) => p.app?.startsWith('HTTP/1.1 200'));
    expect(answer?.path).toEqual(['web', 'edge', 'isp', 'home', 'alice']);
    expect(answer?.fate).toMatchObject({ kind: 'delivered', node: 'alice' });
    expect(doc.warnings).toEqual([]);
    expect(await sidecarsOf(I)).toBe(0);
  }, 120_000);

  it("answers a second lookup from the home router's cache: the question never reaches the dns node", async () => {
    const name = `cache-${Date.now()}.bob.example`;
    const first = await journey(I, ['dns', name]);
    const upstream = (doc: JourneyDoc) => doc.flows.filter((f) => f.app === 'dns' && f.server.node === 'dns');
    expect(upstream(first).length).toBeGreaterThan(0);
    const lookup = first.flows.find((f) => f.app === 'dns' && f.client.node === 'alice');
    expect(lookup?.related.map((r) => r.why).join()).toContain('home asked upstream');
    const second = await journey(I, ['dns', name]);
    expect(second.flows.some((f) => f.app === 'dns' && f.client.node === 'alice')).toBe(true);
    expect(upstream(second)).toEqual([]);
    expect(second.flows.find((f) => f.client.node === 'alice')?.note).toMatch(/home answered without asking anyone/);
  }, 120_000);

  it("links FTP's active-mode data connection to its control connection", async () => {
    const doc = await journey(I, ['ftp'], { active: true });
    expect(doc.exitCode).toBe(0);
    const control = doc.flows.find((f) => f.server.port === 21);
    const data = doc.flows.find((f) => f.related.some((r) => r.flow === control?.id && r.why.includes('active')));
    expect(data, JSON.stringify(doc.flows)).toBeDefined();
    // Active mode: the server opens the data connection, through the home router's FTP helper.
    const first = doc.packets.find((p) => p.flow === data?.id);
    const shown = JSON.stringify(
      doc.packets
        .filter((p) => p.flow === data?.id || p.from === 'ftp')
        .map((p) => [p.id, p.flow, p.label, p.path, p.fate, p.changes.filter((c) => !c.field.includes('mac'))]),
    );
    expect(first?.from, shown).toBe('ftp');
    expect(first?.path[first.path.length - 1]).toBe('alice');
  }, 120_000);

  it('says when a capture reached its limit, and keeps what it captured', async () => {
    const doc = await journey(I, ['ping'], { maxPackets: 3 });
    expect(doc.warnings.join('\n')).toMatch(/reached its limit of 3 packets/);
    expect(doc.packets.length).toBeGreaterThan(0);
  }, 120_000);

  it('stops a command that never ends, says so, and leaves nothing behind', async () => {
    const r = await cli(['journey', '--instance', I, '--timeout', '2', '--max', '5', '--', 'sleep', '60']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not end within 2 s/);
    expect(await sidecarsOf(I)).toBe(0);
  }, 120_000);

  it('removes its captures after Ctrl-C and exits 130, without waiting for the command', async () => {
    let pid = 0;
    const started = Date.now();
    const done = cli(['journey', '--instance', I, '--timeout', '60', '--', 'sleep', '50'], {
      onSpawn: (p) => (pid = p),
    });
    // The command runs once every capture is up: then the interrupt comes.
    expect(await eventually(async () => (await sidecarsOf(I)) >= 7, 60_000, 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid, 'SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(await sidecarsOf(I)).toBe(0);
  }, 120_000);

  it('explains an unknown node, a word that is not a story, and an option of the wrong kind', async () => {
    const node = await cli(['journey', '--instance', I, '--from', 'mallory', 'web']);
    expect(node.code).toBe(2);
    expect(node.stderr).toMatch(/mallory/);
    const story = await cli(['journey', '--instance', I, 'curl', 'http://x/']);
    expect(story.code).toBe(2);
    expect(story.stderr).toMatch(/put it after "--"/);
    const max = await cli(['journey', '--instance', I, '--max', 'lots', 'web']);
    expect(max.code).toBe(2);
    expect(await sidecarsOf(I)).toBe(0);
  }, 60_000);
});

describe('journey in a broken lab world', () => {
  it("finds where lab 05's packets die: the router with no route, and why", async () => {
    // A seed whose variation leaves a router without any route to Bob's block.
    const seed = ['seed-a', 'seed-b', 'seed-c', 'seed-d', 'seed-e', 'seed-f', 'seed-g', 'seed-h', 'seed-p'].find((s) =>
      String(varsFor(routing, s).kind).endsWith('-missing'),
    );
    expect(seed).toBeDefined();
    const kind = String(varsFor(routing, seed as string).kind);
    const router = kind.replace(/-missing$/, '');
    await start('5', L, seed as string);
    const doc = await journey(L, ['ping', '-c', '1', '-W', '2', '198.51.100.80'], { explicit: true });
    const lost = doc.packets.filter((p) => p.fate.kind === 'died');
    expect(lost.length, JSON.stringify(doc.packets.map((p) => [p.label, p.path, p.fate]))).toBeGreaterThan(0);
    // The request, or the answer on its way back: either way it dies at the router without the route.
    expect(lost.map((p) => p.fate.node)).toContain(router);
    const at = lost.find((p) => p.fate.node === router);
    expect(at?.fate.reason, JSON.stringify(at?.fate)).toBe('no route');

    // The grader's trace of a failed check says the same, from its own probe and its own captures.
    const ctx = dockerContext(driver, L, await findLab('5'), varsFor(routing, seed as string));
    try {
      const probe = await ctx.probe('alice');
      const evidence = await traceProbe(driver, L, () => probe.run('ping -c 1 -W 2 198.51.100.80'));
      expect(evidence.graderError).toBeUndefined();
      expect(evidence.output).toMatch(new RegExp(`reached ${router} on \\S+ and never left: ${router} has no route`));
    } finally {
      await ctx.close();
    }
    expect(await sidecarsOf(L)).toBe(0);
  }, 240_000);

  it("shows lab 08's small link fragmenting a datagram that may be fragmented", async () => {
    await start('8', L, 'seed-a');
    // 1500 bytes without DF: the router in front of the small link must cut it up.
    const doc = await journey(L, ['ping', '-c', '1', '-W', '2', '-M', 'dont', '-s', '1472', '198.51.100.80'], {
      explicit: true,
    });
    const small = doc.nodes.flatMap((n) => n.interfaces.filter((i) => i.mtu < 1500).map((i) => `${n.name}:${i.name}`));
    expect(small.length).toBeGreaterThan(0);
    const request = doc.packets.find((p) => p.label === 'echo request' && p.from === 'alice');
    const cut = request?.changes.find((c) => c.field === 'fragments');
    expect(cut, JSON.stringify(request?.changes)).toBeDefined();
    const out = request?.hops.filter((h) => h.node === cut?.node && h.dir === 'out') ?? [];
    expect(out.length).toBeGreaterThan(1);
    expect(small).toContain(`${cut?.node}:${out[0]?.iface}`);
    expect(out.some((h) => h.ip.mf) && out.some((h) => h.ip.fragOffset > 0)).toBe(true);
  }, 240_000);

  it("finds where lab 07's handshake dies: Bob's answer, at the edge's stateless FORWARD rules", async () => {
    await start('7', L, 'seed-a');
    const doc = await journey(L, ['curl', '-sS', '-m', '5', '-o', '/dev/null', 'http://web.bob.example/'], {
      explicit: true,
    });
    const lost = doc.packets.filter((p) => p.fate.kind === 'died' && p.fate.node === 'edge');
    expect(lost.length, JSON.stringify(doc.packets.map((p) => [p.label, p.path, p.fate]))).toBeGreaterThan(0);
    const answer = lost.find((p) => p.from === 'web');
    expect(answer?.label).toBe('SYN-ACK');
    expect(answer?.fate.reason).toBe('firewall');
    expect(answer?.fate.summary).toMatch(/FORWARD/);
  }, 240_000);
});
