// Lab 08's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, { DOWNLOAD_BYTES, MTU_MAX, MTU_MIN, nodesOn, SCENARIOS, STANDARD_MTU } from '../../labs/08-mtu/lab.js';
import { varsFor } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);

describe('lab 08: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: every scenario and many MTUs occur', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    const scenarios = new Set(all.map((v) => `${String(v.link)}/${String(v.filterNode)}/${String(v.chain)}`));
    expect(scenarios).toEqual(new Set(SCENARIOS.map((s) => `${s.link}/${s.filterNode}/${s.chain}`)));
    expect(new Set(all.map((v) => v.mtu)).size).toBeGreaterThan(15);
    // The integration test relies on these three seeds covering the three scenarios.
    expect(varsFor(lab, 'seed-a')).toMatchObject({ link: 'backbone', filterNode: 'edge', chain: 'OUTPUT' });
    expect(varsFor(lab, 'seed-b')).toMatchObject({ link: 'access', filterNode: 'isp', chain: 'OUTPUT' });
    expect(varsFor(lab, 'seed-f')).toMatchObject({ link: 'access', filterNode: 'edge', chain: 'FORWARD' });
    expect(varsFor(lab, 'seed-a').mtu).not.toBe(varsFor(lab, 'seed-b').mtu);
  });

  it('shrinks a link between Alice and Bob, below 1500 and not below IPv6-era minimums', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      expect(Number(v.mtu)).toBeGreaterThanOrEqual(MTU_MIN);
      expect(Number(v.mtu)).toBeLessThanOrEqual(MTU_MAX);
      expect(Number(v.mtu)).toBeLessThan(STANDARD_MTU);
      expect(Number(v.mtu) % 10).toBe(0);
      expect(['access', 'backbone']).toContain(v.link);
    }
  });

  it('puts the filter on a router the learner may change, and shrinks every end of the link', () => {
    expect(nodesOn('access').sort()).toEqual(['home', 'isp']);
    expect(nodesOn('backbone').sort()).toEqual(['dns', 'edge', 'isp']);
    for (const s of SEEDS.slice(0, 50)) {
      const v = varsFor(lab, s);
      expect(lab.submissionNodes).toContain(v.filterNode);
      expect(findNode(canonicalWorld, String(v.filterNode))?.router).toBe(true);
      const faults = lab.faults(v);
      for (const node of nodesOn(String(v.link))) {
        expect(faults.find((f) => f.node === node)?.script).toBe(`ip link set dev ${String(v.link)} mtu ${Number(v.mtu)}`);
      }
      expect(faults.find((f) => f.node === v.filterNode && f.script.startsWith('iptables'))?.script).toBe(
        `iptables -I ${String(v.chain)} 1 -p icmp --icmp-type fragmentation-needed -j DROP`,
      );
    }
  });

  it('keeps the canonical world (faults only: standby worlds serve it) and a task card that does not give the fault away', () => {
    expect(lab.overlay).toBeUndefined();
    const v = varsFor(lab, 'seed-a');
    const card = Object.values(lab.task?.(v) ?? {}).join('\n');
    expect(card).toContain(`/bytes/${DOWNLOAD_BYTES}`);
    expect(card).not.toContain(String(v.mtu));
    expect(card).not.toMatch(/icmp|backbone|access|fragmentation/i);
    const required = lab.checks(v).filter((c) => c.required !== false).map((c) => c.id);
    expect(required).toEqual(['reach', 'link-mtu', 'alice-standard', 'download', 'answer-path-mtu']);
  });
});
