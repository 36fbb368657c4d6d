// Lab 08's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, {
  DOWNLOAD_BYTES,
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
    expect(required).toEqual(['reach', 'link-mtu', 'alice-standard', 'download', 'answer-path-mtu']);
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
