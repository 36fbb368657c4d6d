// Lab 03 without Docker: the per-learner variation, the overlay and faults it drives, and the log
// parsing the grader relies on.
import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/addresses.js';
import { varsFor } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { canonicalWorld, type World } from '../../orchestrator/world.js';
import lab, {
  BOB_PUBLIC,
  cacheStory,
  dnsVars,
  FAULT_NODE,
  FAULTS,
  nodesNamed,
  parseDnsmasqLog,
  parseQueryLog,
  ROUTER,
  ROUTER_PUBLIC,
} from '../../labs/03-dns/lab.js';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
const zoneOf = (w: World) => w.settings.zones.find((z) => z.name === 'bob.example');
const usedAddresses = canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])));
const overlaid = (seed: string) => (lab.overlay as (w: World, v: Record<string, string | number>) => World)(structuredClone(canonicalWorld), varsFor(lab, seed));

describe('lab 03 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
  });

  it('differs across seeds in every value a learner must find or answer', () => {
    const all = seeds.map((s) => dnsVars(varsFor(lab, s)));
    expect(new Set(all.map((v) => v.fault))).toEqual(new Set(FAULTS));
    expect(new Set(all.map((v) => v.mustResolve)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(all.map((v) => v.cacheName)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(all.map((v) => v.ttl)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.filter((v) => v.fault !== 'record').map((v) => v.badAddress)).size).toBeGreaterThanOrEqual(5);
    // Two learners rarely share the same TTL, so a copied ttl_first fails.
    const same = seeds.slice(1).filter((s) => dnsVars(varsFor(lab, s)).ttl === all[0]?.ttl).length;
    expect(same / seeds.length).toBeLessThan(0.15);
  });

  it('only uses values that are valid in the world', () => {
    const existing = zoneOf(canonicalWorld)?.records.map((r) => `${r.name}.bob.example`) ?? [];
    for (const s of seeds) {
      const v = dnsVars(varsFor(lab, s));
      expect(v.mustResolve).toMatch(/^[a-z]+\.bob\.example$/);
      expect(v.cacheName).toMatch(/^[a-z]+\.bob\.example$/);
      expect(v.cacheName).not.toBe(v.mustResolve);
      expect(existing).not.toContain(v.mustResolve);
      expect(existing).not.toContain(v.cacheName);
      expect(v.ttl % 60).toBe(0);
      expect(v.ttl).toBeGreaterThanOrEqual(360);
      expect(v.ttl).toBeLessThanOrEqual(1800);
      if (v.fault === 'record') {
        expect(v.badAddress).toBe('');
        continue;
      }
      // A free address inside the lab: on one of its links, used by no node, never 192.0.2/24.
      expect(canonicalWorld.links.some((l) => contains(l.prefix, v.badAddress)), v.badAddress).toBe(true);
      expect(usedAddresses).not.toContain(v.badAddress);
      expect(contains('192.0.2.0/24', v.badAddress)).toBe(false);
      expect(v.badAddress).not.toBe(canonicalWorld.settings.resolver.upstream);
    }
  });

  it('overlays a consistent world: the TTL and the cache name always, the name to resolve unless it is the fault', () => {
    const before = JSON.stringify(canonicalWorld);
    for (const s of seeds.slice(0, 60)) {
      const v = dnsVars(varsFor(lab, s));
      const w = overlaid(s);
      expect(worldProblems(w)).toEqual([]);
      const zone = zoneOf(w);
      expect(zone?.ttl).toBe(v.ttl);
      const has = (full: string) => zone?.records.some((r) => `${r.name}.bob.example` === full && r.type === 'A' && r.value === BOB_PUBLIC);
      expect(has(v.cacheName)).toBe(true);
      expect(has(v.mustResolve)).toBe(v.fault !== 'record');
    }
    expect(JSON.stringify(canonicalWorld)).toBe(before);
  });

  it('injects the fault on the node the answer names', () => {
    for (const s of seeds.slice(0, 60)) {
      const v = dnsVars(varsFor(lab, s));
      const faults = lab.faults(varsFor(lab, s));
      if (v.fault === 'record') {
        expect(faults).toEqual([]);
        continue;
      }
      expect(faults.map((f) => f.node)).toEqual([FAULT_NODE[v.fault]]);
      expect(faults[0]?.script).toContain(v.badAddress);
    }
  });

  it('gives every learner the same kind of task card, which never reveals the fault', () => {
    for (const s of seeds.slice(0, 60)) {
      const vars = varsFor(lab, s);
      const v = dnsVars(vars);
      const card = lab.task?.(vars) ?? {};
      expect(Object.keys(card)).toEqual(['must_resolve', 'expected_address', 'cache_name']);
      expect(card).toEqual({ must_resolve: v.mustResolve, expected_address: BOB_PUBLIC, cache_name: v.cacheName });
      const text = Object.values(card).join(' ');
      if (v.badAddress) expect(text).not.toContain(v.badAddress);
      expect(text).not.toMatch(/resolver|forwarder|record|alice|home|dns\b/);
    }
  });

  it('has a check for every question and unique check ids', () => {
    const checks = lab.checks(varsFor(lab, 'x'));
    expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(11);
    for (const q of lab.questions) expect(checks.some((c) => c.id === `answer-${q.key.replace(/_/g, '-')}`), q.key).toBe(true);
  });
});

describe('lab 03 log reading', () => {
  const dnsmasq = [
    'Nov 25 11:12:58 dnsmasq[39]: using nameserver 198.51.100.53#53',
    'Nov 25 11:13:00 dnsmasq[39]: query[A] wiki.bob.example from 192.168.1.101',
    'Nov 25 11:13:00 dnsmasq[39]: forwarded wiki.bob.example to 198.51.100.53',
    'Nov 25 11:13:00 dnsmasq[39]: reply wiki.bob.example is 198.51.100.80',
    'Nov 25 11:13:04 dnsmasq[39]: query[A] wiki.bob.example from 192.168.1.101',
    'Nov 25 11:13:04 dnsmasq[39]: cached wiki.bob.example is 198.51.100.80',
    'Nov 25 11:13:05 dnsmasq[39]: query[AAAA] wiki.bob.example from 192.168.1.101',
    'Nov 25 11:13:05 dnsmasq[39]: forwarded wiki.bob.example to 198.51.100.53',
    'Nov 25 11:13:05 dnsmasq[39]: reply wiki.bob.example is NODATA-IPv6',
    'Nov 25 11:13:09 dnsmasq[39]: query[A] wiki.bob.example from 192.168.1.1',
    'Nov 25 11:13:09 dnsmasq[39]: cached wiki.bob.example is 198.51.100.80',
  ].join('\n');

  it('follows a name through dnsmasq: alice\'s lookups, the cached ones, and the TTL she saw', () => {
    const story = cacheStory(parseDnsmasqLog(dnsmasq), 'wiki.bob.example', 900);
    expect(story.lookups).toBe(2);
    // The last cached answer went to the router itself, not to alice.
    expect(story.hits).toEqual([{ t: expect.any(Number), inserted: expect.any(Number), ttlSeen: 896 }]);
  });

  it('spans a day boundary and ignores lines it does not know', () => {
    const text = ['Nov 30 23:59:58 dnsmasq[1]: reply x.bob.example is 198.51.100.80', 'junk', 'Dec  1 00:00:03 dnsmasq[1]: query[A] x.bob.example from 192.168.1.150', 'Dec  1 00:00:03 dnsmasq[1]: cached x.bob.example is 198.51.100.80'].join('\n');
    expect(cacheStory(parseDnsmasqLog(text), 'x.bob.example', 600).hits[0]?.ttlSeen).toBe(595);
  });

  it('reads bind\'s query log', () => {
    const q = parseQueryLog(
      [
        '25-Nov-2026 11:12:58.632 client @0x7f8fea4d7098 127.0.0.1#59256 (version.bind): query: version.bind CH TXT +E(0)K (127.0.0.1)',
        `25-Nov-2026 11:13:00.924 client @0x7f8fea4d8c98 ${ROUTER_PUBLIC}#33222 (Wiki.bob.example): query: Wiki.bob.example IN A +E(0)K (198.51.100.53)`,
        `25-Nov-2026 11:13:02.996 client @0x7f8fea4d8c98 ${ROUTER_PUBLIC}#33623 (wiki.bob.example): query: wiki.bob.example IN AAAA + (198.51.100.53)`,
      ].join('\n'),
    );
    expect(q.map((x) => [x.client, x.name, x.qtype])).toEqual([
      [ROUTER_PUBLIC, 'wiki.bob.example', 'A'],
      [ROUTER_PUBLIC, 'wiki.bob.example', 'AAAA'],
    ]);
    expect((q[1]?.t ?? 0) - (q[0]?.t ?? 0)).toBeCloseTo(2.072, 3);
  });

  it('understands which node an answer names', () => {
    expect(nodesNamed('home')).toEqual(['home']);
    expect(nodesNamed('The Home router')).toEqual(['home']);
    expect(nodesNamed("alice's laptop")).toEqual(['alice']);
    expect(nodesNamed('dns')).toEqual(['dns']);
    expect(nodesNamed('home or dns')).toEqual(['home', 'dns']);
    expect(ROUTER).toBe('192.168.1.1');
  });
});
