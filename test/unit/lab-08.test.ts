// Lab 08's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, {
  DOWNLOAD_BYTES,
  FRAG_MAX,
  FRAG_MIN,
  fragmentsOf,
  MTU_MAX,
  MTU_MIN,
  nodesOn,
  parseLinks,
  routersOf,
  SCENARIOS,
  SMALL_LINKS,
  STANDARD_MTU,
} from '../../labs/08-mtu/lab.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { canonicalWorld, findNode } from '../../orchestrator/world/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);

describe('lab 08: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: every scenario and many MTUs occur', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    const scenarios = new Set(all.map((v) => `${v.link}/${v.filterNode}/${v.chain}`));
    expect(scenarios).toEqual(new Set(SCENARIOS.map((s) => `${s.link}/${s.filterNode}/${s.chain}`)));
    expect(new Set(all.map((v) => v.mtu)).size).toBeGreaterThan(15);
    // The integration test relies on these three seeds covering the three scenarios.
    expect(varsFor(lab, 'seed-a')).toMatchObject({ link: 'backbone', filterNode: 'edge', chain: 'OUTPUT' });
    expect(varsFor(lab, 'seed-2')).toMatchObject({ link: 'access', filterNode: 'isp', chain: 'OUTPUT' });
    expect(varsFor(lab, 'seed-c')).toMatchObject({ link: 'access', filterNode: 'edge', chain: 'FORWARD' });
    expect(varsFor(lab, 'seed-a').mtu).not.toBe(varsFor(lab, 'seed-2').mtu);
  });

  it('draws each variable from its own stream, the filter among the places that fit the small link', () => {
    expect(drawsIndependently(lab.vary)).toBe(true);
    expect(SMALL_LINKS).toEqual(['access', 'backbone']);
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      expect(SCENARIOS).toContainEqual({ link: v.link, filterNode: v.filterNode, chain: v.chain });
    }
  });

  it('shrinks a link between Alice and Bob, below 1500 and not below IPv6-era minimums', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      expect(v.mtu).toBeGreaterThanOrEqual(MTU_MIN);
      expect(v.mtu).toBeLessThanOrEqual(MTU_MAX);
      expect(v.mtu).toBeLessThan(STANDARD_MTU);
      expect(v.mtu % 10).toBe(0);
      expect(['access', 'backbone']).toContain(v.link);
    }
  });

  it('puts the filter on a router the learner may change, and shrinks every end of the link', async () => {
    const registered = await findLab('8');
    expect(nodesOn(canonicalWorld, 'access').sort()).toEqual(['home', 'isp']);
    expect(nodesOn(canonicalWorld, 'backbone').sort()).toEqual(['dns', 'edge', 'isp']);
    for (const s of SEEDS.slice(0, 50)) {
      const v = varsFor(lab, s);
      const world = labWorld(registered, v);
      expect(lab.submissionNodes).toContain(v.filterNode);
      expect(findNode(world, v.filterNode)?.router).toBe(true);
      const faults = lab.faults(v, world);
      for (const node of nodesOn(world, v.link)) {
        expect(faults.find((f) => f.node === node)?.script).toBe(`ip link set dev ${v.link} mtu ${v.mtu}`);
      }
      expect(faults.find((f) => f.node === v.filterNode && f.script.startsWith('iptables'))?.script).toBe(
        `iptables -I ${v.chain} 1 -p icmp --icmp-type fragmentation-needed -j DROP`,
      );
    }
  });

  it('keeps the canonical world (faults only: standby worlds serve it) and a task card that does not give the fault away', async () => {
    expect(lab.overlay).toBeUndefined();
    const v = varsFor(lab, 'seed-a');
    const card = Object.values(lab.task?.(v) ?? {}).join('\n');
    expect(card).toContain(`/bytes/${DOWNLOAD_BYTES}`);
    expect(card).not.toContain(String(v.mtu));
    expect(card).not.toMatch(/icmp|backbone|access|fragmentation/i);
    const required = labChecks(await findLab('8'), v)
      .filter((c) => c.required !== false)
      .map((c) => c.id);
    expect(required).toEqual([
      'reach',
      'link-mtu',
      'alice-standard',
      'download',
      'answer-path-mtu',
      'answer-fragments',
      'answer-last-offset',
    ]);
  });

  it("draws a fragmentation ping that the small link must cut and Alice's own network need not, and that names no MTU", () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.fragSize)).size).toBeGreaterThan(12);
    for (const v of all) {
      expect(v.fragSize).toBeGreaterThanOrEqual(FRAG_MIN);
      expect(v.fragSize).toBeLessThanOrEqual(FRAG_MAX);
      expect(v.fragSize % 2).toBe(1);
      expect(v.fragSize + 28).toBeGreaterThan(v.mtu);
      expect(v.fragSize + 28).toBeLessThanOrEqual(STANDARD_MTU);
      expect(lab.task?.(v).fragment).toContain(`ping -M dont -c 1 -s ${v.fragSize} web.bob.example`);
    }
  });
});

describe('lab 08: fragments', () => {
  it('cuts a packet as the live world does: 8-byte units, the last piece the rest', () => {
    // Seen on the live world (mtu 1360, ping -s 1441): "offset 0, flags [+], length 1356" and
    // "offset 1336, flags [none], length 133".
    expect(fragmentsOf(1360, 1441)).toEqual({ count: 2, lastOffset: 1336, lastLength: 133 });
    // (1280 - 20) is a multiple of 8; (1290 - 20) is not, and rounds down.
    expect(fragmentsOf(1280, 1471)).toEqual({ count: 2, lastOffset: 1256, lastLength: 243 });
    expect(fragmentsOf(1290, 1471)).toEqual({ count: 2, lastOffset: 1264, lastLength: 235 });
    expect(fragmentsOf(1500, 1400)).toEqual({ count: 1, lastOffset: 0, lastLength: 1428 });
    expect(fragmentsOf(576, 1400)).toEqual({ count: 3, lastOffset: 1104, lastLength: 324 });
  });

  it('gives every learner the offsets of their own link, so copied answers fail across MTUs', () => {
    const offsets = new Map<number, number>();
    for (let mtu = MTU_MIN; mtu <= MTU_MAX; mtu += 10) offsets.set(mtu, fragmentsOf(mtu, FRAG_MIN).lastOffset);
    expect(new Set(offsets.values()).size).toBe(offsets.size);
    const a = varsFor(lab, 'seed-a');
    expect(a).toMatchObject({ mtu: 1360, fragSize: 1455 });
    expect(fragmentsOf(a.mtu, a.fragSize)).toEqual({ count: 2, lastOffset: 1336, lastLength: 147 });
  });
});

describe('lab 08: observations', () => {
  it('reads every interface and its MTU from ip -o link, without the veth peer suffix', () => {
    const out = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '2: access@if480: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1280 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
      '3: backbone@if490: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default',
    ].join('\n');
    expect([...parseLinks(out)]).toEqual([
      ['lo', 65536],
      ['access', 1280],
      ['backbone', 1500],
    ]);
  });

  it('judges the routers of the world, all of them submission nodes', () => {
    expect(routersOf(canonicalWorld)).toEqual(['home', 'isp', 'edge']);
    for (const r of routersOf(canonicalWorld)) expect(lab.submissionNodes).toContain(r);
  });
});
