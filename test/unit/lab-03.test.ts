// Lab 03 without Docker: the per-learner variation, the overlay and faults it drives, and the log
// parsing the grader relies on.
import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/world/addresses.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { canonicalWorld, type World } from '../../orchestrator/world/world.js';
import lab, {
  BAD_RESOLVERS,
  cacheStory,
  dnsFacts,
  FAULT_NODE,
  FAULTS,
  isAliceSide,
  nodesNamed,
  ZONE,
} from '../../labs/03-dns/lab.js';
import { parseDnsmasqLog, parseQueryLog, zoneAddress } from '../../labs/kit/dns.js';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
const registered = await findLab('3');
const zoneOf = (w: World) => w.settings.zones.find((z) => z.name === ZONE);
const usedAddresses = canonicalWorld.nodes.flatMap((n) =>
  n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])),
);
const worldOf = (seed: string) => labWorld(registered, varsFor(lab, seed));
/** The facts every learner's world shares (the overlay only touches the zone). */
const f = dnsFacts(canonicalWorld);

describe('lab 03 variation', () => {
  it('is deterministic per seed and draws each variable from its own stream', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
    expect(drawsIndependently(lab.vary)).toBe(true);
  });

  it('differs across seeds in every value a learner must find or answer', () => {
    const all = seeds.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.fault))).toEqual(new Set(FAULTS));
    expect(new Set(all.map((v) => v.mustResolve)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(all.map((v) => v.cacheName)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(all.map((v) => v.ttl)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.filter((v) => v.fault !== 'record').map((v) => v.badAddress)).size).toBeGreaterThanOrEqual(5);
    // Two learners rarely share the same TTL, so a copied ttl_first fails.
    const same = seeds.slice(1).filter((s) => varsFor(lab, s).ttl === all[0]?.ttl).length;
    expect(same / seeds.length).toBeLessThan(0.15);
  });

  it('only uses values that are valid in the world', () => {
    const existing = zoneOf(canonicalWorld)?.records.map((r) => `${r.name}.${ZONE}`) ?? [];
    for (const s of seeds) {
      const v = varsFor(lab, s);
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
      expect(
        canonicalWorld.links.some((l) => contains(l.prefix, v.badAddress)),
        v.badAddress,
      ).toBe(true);
      expect(usedAddresses).not.toContain(v.badAddress);
      expect(contains('192.0.2.0/24', v.badAddress)).toBe(false);
      expect(v.badAddress).not.toBe(canonicalWorld.settings.resolver.upstream);
      // The grader's fresh machine answers on its seat while it grades: never a "dead" resolver.
      expect(v.badAddress).not.toBe(dnsFacts(worldOf(s)).freshLan);
    }
    expect(BAD_RESOLVERS).not.toContain(f.freshLan);
  });

  it('overlays a consistent world: the TTL and the cache name always, the name to resolve unless it is the fault', () => {
    const before = JSON.stringify(canonicalWorld);
    for (const s of seeds.slice(0, 60)) {
      const v = varsFor(lab, s);
      const w = worldOf(s);
      expect(worldProblems(w)).toEqual([]);
      expect(zoneOf(w)?.ttl).toBe(v.ttl);
      const has = (full: string) => zoneAddress(w, full) === f.bobPublic;
      expect(has(v.cacheName)).toBe(true);
      if (v.fault === 'record') expect(() => zoneAddress(w, v.mustResolve)).toThrow(/no A record/);
      else expect(has(v.mustResolve)).toBe(true);
      // Everything the checks read besides the zone is the canonical world's.
      expect(dnsFacts(w)).toEqual(f);
    }
    expect(JSON.stringify(canonicalWorld)).toBe(before);
  });

  it('injects the fault on the node the answer names', () => {
    for (const s of seeds.slice(0, 60)) {
      const v = varsFor(lab, s);
      const faults = lab.faults(v, worldOf(s));
      if (v.fault === 'record') {
        expect(faults).toEqual([]);
        continue;
      }
      expect(faults.map((x) => x.node)).toEqual([FAULT_NODE[v.fault]]);
      expect(faults[0]?.script).toContain(v.badAddress);
    }
  });

  it('gives every learner the same kind of task card, which never reveals the fault', () => {
    for (const s of seeds.slice(0, 60)) {
      const v = varsFor(lab, s);
      const card = lab.task?.(v) ?? {};
      expect(Object.keys(card)).toEqual(['must_resolve', 'expected_address', 'cache_name']);
      expect(card).toEqual({ must_resolve: v.mustResolve, expected_address: f.bobPublic, cache_name: v.cacheName });
      const text = Object.values(card).join(' ');
      if (v.badAddress) expect(text).not.toContain(v.badAddress);
      expect(text).not.toMatch(/resolver|forwarder|record|alice|home|dns\b/);
    }
  });

  it('has a check for every question and unique check ids', () => {
    const checks = labChecks(registered, varsFor(lab, 'x'));
    expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(11);
    for (const q of lab.questions)
      expect(
        checks.some((c) => c.id === `answer-${q.key.replace(/_/g, '-')}`),
        q.key,
      ).toBe(true);
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

  it("follows a name through dnsmasq: alice's lookups, the cached ones, and the TTL she saw", () => {
    const story = cacheStory(f, parseDnsmasqLog(dnsmasq), 'wiki.bob.example', 900);
    expect(story.lookups).toBe(2);
    // The last cached answer went to the router itself, not to alice.
    expect(story.hits).toEqual([{ t: expect.any(Number), inserted: expect.any(Number), ttlSeen: 896 }]);
  });

  it("counts lookups from Alice's LAN, but never the router's own nor the grader's fresh machine", () => {
    expect(isAliceSide(f, '192.168.1.101')).toBe(true);
    expect(isAliceSide(f, '192.168.1.150')).toBe(true);
    expect(isAliceSide(f, f.router)).toBe(false);
    expect(isAliceSide(f, f.freshLan)).toBe(false);
    expect(isAliceSide(f, '127.0.0.1')).toBe(false);
    const text = [
      `Nov 25 11:13:00 dnsmasq[39]: query[A] wiki.bob.example from ${f.freshLan}`,
      'Nov 25 11:13:00 dnsmasq[39]: forwarded wiki.bob.example to 198.51.100.53',
      'Nov 25 11:13:00 dnsmasq[39]: reply wiki.bob.example is 198.51.100.80',
      `Nov 25 11:13:04 dnsmasq[39]: query[A] wiki.bob.example from ${f.freshLan}`,
      'Nov 25 11:13:04 dnsmasq[39]: cached wiki.bob.example is 198.51.100.80',
    ].join('\n');
    expect(cacheStory(f, parseDnsmasqLog(text), 'wiki.bob.example', 900)).toEqual({ lookups: 0, hits: [] });
  });

  it('spans a day boundary and ignores lines it does not know', () => {
    const text = [
      'Nov 30 23:59:58 dnsmasq[1]: reply x.bob.example is 198.51.100.80',
      'junk',
      'Dec  1 00:00:03 dnsmasq[1]: query[A] x.bob.example from 192.168.1.150',
      'Dec  1 00:00:03 dnsmasq[1]: cached x.bob.example is 198.51.100.80',
    ].join('\n');
    expect(cacheStory(f, parseDnsmasqLog(text), 'x.bob.example', 600).hits[0]?.ttlSeen).toBe(595);
  });

  it("reads bind's query log", () => {
    const q = parseQueryLog(
      [
        '25-Nov-2026 11:12:58.632 client @0x7f8fea4d7098 127.0.0.1#59256 (version.bind): query: version.bind CH TXT +E(0)K (127.0.0.1)',
        `25-Nov-2026 11:13:00.924 client @0x7f8fea4d8c98 ${f.routerPublic}#33222 (Wiki.bob.example): query: Wiki.bob.example IN A +E(0)K (198.51.100.53)`,
        `25-Nov-2026 11:13:02.996 client @0x7f8fea4d8c98 ${f.routerPublic}#33623 (wiki.bob.example): query: wiki.bob.example IN AAAA + (198.51.100.53)`,
      ].join('\n'),
    );
    expect(q.map((x) => [x.client, x.name, x.qtype])).toEqual([
      [f.routerPublic, 'wiki.bob.example', 'A'],
      [f.routerPublic, 'wiki.bob.example', 'AAAA'],
    ]);
    expect((q[1]?.t ?? 0) - (q[0]?.t ?? 0)).toBeCloseTo(2.072, 3);
  });

  it('understands which node an answer names', () => {
    expect(nodesNamed('home')).toEqual(['home']);
    expect(nodesNamed('The Home router')).toEqual(['home']);
    expect(nodesNamed("alice's laptop")).toEqual(['alice']);
    expect(nodesNamed('dns')).toEqual(['dns']);
    expect(nodesNamed('home or dns')).toEqual(['home', 'dns']);
    expect(f.router).toBe('192.168.1.1');
  });
});
