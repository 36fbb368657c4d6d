// Lab 05's variation and parsers are pure: deterministic per seed, different across seeds, valid
// for the world, and its overlay is a valid world with Bob's block routed by the ISP.
import { describe, expect, it } from 'vitest';
import lab, {
  BLOCK_LENGTHS,
  BOB_LINK,
  KINDS,
  parseTraceroute,
  routeGet,
  routerAddresses,
  routerOf,
  routingFacts,
  ROUTERS,
  type RoutingVars,
} from '../../labs/05-routing/lab.js';
import {
  expectedRules,
  firewallDiff,
  parseFirewall,
  parseRouting,
  parseRoutes,
  parseRules,
  policyFindings,
  routeText,
  ROUTING_COMMAND,
  ruleDiff,
  ruleSignature,
} from '../../labs/kit/routing.js';
import { contains, networkOf } from '../../orchestrator/world/addresses.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world/world.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const registered = await findLab('5');
const worldFor = (v: RoutingVars): World => labWorld(registered, v);
const bare = (cidr: string) => cidr.split('/')[0] as string;
const allAddresses = (w: World) => w.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare)));
/** The addresses of the lab's world (the same for every learner: only Bob's block varies). */
const f = routingFacts(worldFor(varsFor(lab, 'seed-0')));

describe('lab 05: variation', () => {
  it('is deterministic per seed and draws each variable from its own stream', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
    expect(drawsIndependently(lab.vary)).toBe(true);
  });

  it('differs across seeds: every kind of broken route, every block size, many wrong next hops', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.kind))).toEqual(new Set(KINDS));
    expect(new Set(all.map((v) => v.bobBlock)).size).toBe(BLOCK_LENGTHS.length);
    expect(new Set(all.map((v) => v.router))).toEqual(new Set(ROUTERS));
    expect(new Set(all.filter((v) => v.kind === 'home-wrong').map((v) => v.wrongHop)).size).toBeGreaterThan(20);
    expect(new Set(all.filter((v) => v.kind === 'edge-wrong').map((v) => v.wrongHop)).size).toBeGreaterThan(10);
  });

  it('gives values that fit the world: a block around Bob, wrong next hops on the right link that nobody owns', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      const block = v.bobBlock;
      expect(networkOf(block)).toBe(block);
      expect(contains(block, f.bobPublic)).toBe(true);
      expect(contains(block, f.edgeBackbone)).toBe(false);
      const hop = v.wrongHop;
      switch (v.kind) {
        case 'home-wrong':
          expect(contains(f.accessPrefix, hop), hop).toBe(true);
          expect(allAddresses(world)).not.toContain(hop);
          expect([f.ispAccess, f.homePublic, '203.0.113.0', '203.0.113.255']).not.toContain(hop);
          break;
        case 'edge-wrong':
          expect(contains(f.backbonePrefix, hop), hop).toBe(true);
          expect(allAddresses(world)).not.toContain(hop);
          expect(hop).not.toBe(bare(f.backbonePrefix));
          break;
        case 'isp-wrong':
          expect(hop).toBe('198.51.100.53');
          expect(findNode(world, 'dns')?.router).toBe(false);
          break;
        default:
          expect(hop).toBe('');
      }
      expect(v.router).toBe(routerOf(v.kind));
      expect(v.router).toBe(v.kind.split('-')[0]);
      expect(v.stoppedRouter).toBe(v.router === 'home' ? 'home' : 'isp');
    }
  });

  it('pins the kinds of the seeds the integration test uses', () => {
    const kinds = Object.fromEntries(['seed-a', 'seed-b', 'seed-c', 'seed-p'].map((s) => [s, varsFor(lab, s).kind]));
    expect(kinds).toEqual({
      'seed-a': 'home-wrong',
      'seed-b': 'edge-missing',
      'seed-c': 'isp-wrong',
      'seed-p': 'isp-missing',
    });
  });
});

describe('lab 05: world', () => {
  it('overlays a valid world: a narrower backbone, Bob in a block of his own, the ISP routing it to the edge', () => {
    const base = routingFacts(canonicalWorld);
    expect(f).toEqual({ ...base, backbonePrefix: '198.51.100.0/26' });
    for (const s of SEEDS.slice(0, 60)) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      expect(world.links.find((l) => l.name === 'backbone')?.prefix).toBe(f.backbonePrefix);
      expect(world.links.find((l) => l.name === BOB_LINK)?.prefix).toBe(v.bobBlock);
      const edge = findNode(world, 'edge');
      expect(edge?.interfaces.find((i) => i.link === BOB_LINK)?.addresses).toEqual([
        `${f.bobPublic}/${v.bobBlock.split('/')[1]}`,
      ]);
      expect(edge?.interfaces.find((i) => i.link === 'backbone')?.addresses).toEqual([`${f.edgeBackbone}/26`]);
      expect(findNode(world, 'isp')?.routes).toEqual([{ to: v.bobBlock, via: f.edgeBackbone }]);
      expect(findNode(world, 'home')?.routes).toEqual([{ to: 'default', via: f.ispAccess }]);
      expect(findNode(world, 'edge')?.routes).toEqual([{ to: 'default', via: f.ispBackbone }]);
      // Bob's name still points at his public address, and the edge still translates it.
      expect(
        world.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web')?.value,
      ).toBe(f.bobPublic);
      expect(edge?.nat?.some((r) => r.kind === 'dnat' && r.publicAddress === f.bobPublic)).toBe(true);
    }
    expect(canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix).toBe('198.51.100.0/24');
    expect(canonicalWorld.links.some((l) => l.name === BOB_LINK)).toBe(false);
  });

  it('breaks exactly one router per kind, with a script that names the route', () => {
    const seen = new Map<string, RoutingVars>();
    for (const s of SEEDS) seen.set(varsFor(lab, s).kind, varsFor(lab, s));
    for (const kind of KINDS) {
      const v = seen.get(kind) as RoutingVars;
      const faults = lab.faults(v, worldFor(v));
      expect(faults).toHaveLength(1);
      expect(faults[0]?.node).toBe(v.router);
      const script = faults[0]?.script ?? '';
      if (kind.endsWith('-wrong')) expect(script).toContain(`via ${v.wrongHop}`);
      if (kind.startsWith('isp-')) expect(script).toContain(v.bobBlock);
      else expect(script).toMatch(/default/);
    }
  });

  it('knows every address of a router, for the stopped_at answer', () => {
    const world = worldFor(varsFor(lab, 'seed-0'));
    expect(routerAddresses(world, 'home')).toEqual([f.homeLan, f.homePublic]);
    expect(routerAddresses(world, 'isp')).toEqual([f.ispAccess, f.ispBackbone]);
  });

  it('never reveals the fault on the task card, and asks the two questions', () => {
    const cards = SEEDS.slice(0, 30).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))));
    expect(new Set(cards).size).toBe(1);
    expect(lab.questions.map((q) => q.key)).toEqual(['stopped_at', 'router']);
    expect(lab.submissionNodes).toEqual(['alice', ...ROUTERS]);
  });
});

describe('lab 05: parsers', () => {
  it('reads traceroute -n output: addresses, stars and !N annotations', () => {
    const hops = parseTraceroute(
      [
        'traceroute to 198.51.100.80 (198.51.100.80), 3 hops max, 60 byte packets',
        ' 1  192.168.1.1  0.102 ms  0.030 ms',
        ' 2  203.0.113.1  0.1 ms !N  0.05 ms !N',
        ' 3  * *',
      ].join('\n'),
    );
    expect(hops).toEqual([
      { n: 1, addresses: ['192.168.1.1'], flags: [] },
      { n: 2, addresses: ['203.0.113.1'], flags: ['!N'] },
      { n: 3, addresses: [], flags: [] },
    ]);
    expect(parseTraceroute(' 3  198.51.100.80  0.2 ms 198.51.100.53  0.3 ms')[0]?.addresses).toEqual([
      '198.51.100.80',
      '198.51.100.53',
    ]);
  });

  it('reads what ip route get answers for a forwarded packet: next hop, interface, table, or none', () => {
    expect(
      routeGet('198.51.100.80 from 203.0.113.5 via 198.51.100.53 dev backbone \n    cache iif access \n', 0),
    ).toEqual({ ok: true, via: '198.51.100.53', dev: 'backbone', table: 'main' });
    expect(
      routeGet(
        '198.51.100.80 from 203.0.113.5 via 198.51.100.2 dev backbone table 100 mark 7 \n    cache mtu lock 1300 iif access',
        0,
      ),
    ).toMatchObject({ via: '198.51.100.2', table: '100' });
    expect(routeGet('RTNETLINK answers: Network is unreachable', 2)).toEqual({ ok: false, table: 'main' });
  });

  it("compares iptables -S output with the world's own rules, whatever the option order", () => {
    const edge = findNode(canonicalWorld, 'edge');
    const home = findNode(canonicalWorld, 'home');
    if (!edge || !home) throw new Error('no edge or home');
    const want = expectedRules(edge);
    const listed = {
      nat: [
        '-A PREROUTING -d 198.51.100.80/32 -p tcp -m multiport --dports 21,30000:30009 -j DNAT --to-destination 10.0.1.21',
        '-A PREROUTING -d 198.51.100.80/32 -j DNAT --to-destination 10.0.1.10',
        '-A POSTROUTING -s 10.0.1.10/32 -o backbone -j SNAT --to-source 198.51.100.80',
        '-A POSTROUTING -s 10.0.1.21/32 -o backbone -j SNAT --to-source 198.51.100.80',
      ],
      filter: [
        '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A FORWARD -d 10.0.1.10/32 -i backbone -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT',
        '-A FORWARD -d 10.0.1.10/32 -i backbone -p icmp -m conntrack --ctstate NEW -j ACCEPT',
        '-A FORWARD -d 10.0.1.10/32 -i backbone -p udp -m udp --dport 33434:33534 -m conntrack --ctstate NEW -j ACCEPT',
        '-A FORWARD -d 10.0.1.21/32 -i backbone -p tcp -m multiport --dports 21,30000:30009 -m conntrack --ctstate NEW -j ACCEPT',
        '-A FORWARD -i backbone -j DROP',
      ],
    };
    expect(ruleDiff(listed.nat, want.nat)).toEqual({ extra: [], missing: [] });
    expect(ruleDiff(listed.filter, want.filter)).toEqual({ extra: [], missing: [] });
    expect(expectedRules(home)).toEqual({
      nat: ['-A POSTROUTING -o access -j MASQUERADE'],
      filter: [],
      mangle: [],
      raw: ['-A PREROUTING -i lan -p tcp --dport 21 -j CT --helper ftp'],
    });
    const trick = '-A POSTROUTING -o backbone -j MASQUERADE';
    expect(ruleDiff([...listed.nat, trick], want.nat)).toEqual({ extra: [trick], missing: [] });
    expect(ruleDiff(listed.nat.slice(1), want.nat).missing).toHaveLength(1);
    expect(ruleSignature('-A POSTROUTING -o access -j MASQUERADE')).not.toBe(
      ruleSignature('-A POSTROUTING -o backbone -j MASQUERADE'),
    );
  });
});

// What `ip -4 rule show` and `ip -4 route show table all` print on the ISP router after a learner
// smuggled routes into other tables (seen on a live world).
const RULES = [
  '0:\tfrom all lookup local',
  '100:\tfrom all fwmark 0x7 lookup 100',
  '200:\tfrom all to 198.51.100.80 iif access lookup main suppress_prefixlength 0',
  '32766:\tfrom all lookup main',
  '32767:\tfrom all lookup default',
].join('\n');
const TABLES = [
  'default via 198.51.100.2 dev backbone table 100 mtu lock 1300 advmss 1200 ',
  'default via 198.51.100.2 dev backbone table default ',
  '198.51.100.0/26 dev backbone proto kernel scope link src 198.51.100.1 ',
  '198.51.100.64/26 via 198.51.100.53 dev backbone ',
  '10.9.0.0/16 via 198.51.100.2 dev backbone table 7 ',
  'default proto static ',
  '\tnexthop via 203.0.113.9 dev access weight 1 ',
  '\tnexthop via 203.0.113.8 dev access weight 1 ',
  'local 198.51.100.1 dev backbone table local proto kernel scope host src 198.51.100.1 ',
  'broadcast 198.51.100.63 dev backbone table local proto kernel scope link src 198.51.100.1 ',
  'unreachable 192.0.2.0/24 table 100 ',
].join('\n');

describe('lab 05: routing policy', () => {
  it('parses ip rule: preference, selector and the table a rule selects', () => {
    const rules = parseRules(RULES);
    expect(rules.map((r) => [r.pref, r.table])).toEqual([
      [0, 'local'],
      [100, '100'],
      [200, 'main'],
      [32766, 'main'],
      [32767, 'default'],
    ]);
    expect(rules[1]?.text).toBe('from all fwmark 0x7 lookup 100');
  });

  it('parses every table: types, prefixes, next hops (multipath too), per-route mtu and advmss', () => {
    const routes = parseRoutes(TABLES);
    expect(routes).toHaveLength(9);
    expect(routes[0]).toMatchObject({
      table: '100',
      type: 'unicast',
      prefix: '0.0.0.0/0',
      length: 0,
      vias: ['198.51.100.2'],
      mtu: 1300,
      advmss: 1200,
    });
    expect(routes[1]).toMatchObject({ table: 'default', prefix: '0.0.0.0/0' });
    expect(routes[2]).toMatchObject({ table: 'main', prefix: '198.51.100.0/26', vias: [], dev: 'backbone' });
    expect(routes[5]).toMatchObject({ table: 'main', prefix: '0.0.0.0/0', vias: ['203.0.113.9', '203.0.113.8'] });
    expect(routes[6]).toMatchObject({ table: 'local', type: 'local', prefix: '198.51.100.1/32' });
    expect(routes[8]).toMatchObject({ table: '100', type: 'unreachable', prefix: '192.0.2.0/24' });
    expect(routeText(routes[0] as NonNullable<(typeof routes)[0]>)).toBe(
      'default via 198.51.100.2 dev backbone mtu lock 1300 advmss 1200 (table 100)',
    );
  });

  it('keeps the routes of tables some rule selects, and names the rules a learner added', () => {
    const ev = { where: 'probe@isp', command: ROUTING_COMMAND, exitCode: 0, output: '' };
    const routing = parseRouting(`--- ip -4 rule show\n${RULES}\n--- ip -4 route show table all\n${TABLES}\n`, ev);
    expect(routing.used.some((r) => r.table === '7')).toBe(false);
    expect(
      routing.used
        .filter((r) => r.length === 0)
        .map((r) => r.table)
        .sort(),
    ).toEqual(['100', 'default', 'main']);
    expect(routing.unusual.map((r) => r.pref)).toEqual([100, 200]);
    expect(routing.missing).toEqual([]);
    const found = policyFindings('isp', routing);
    expect(found[0]).toBe(
      'isp has the policy rule "100: from all fwmark 0x7 lookup 100" (table 100: default via 198.51.100.2 dev backbone mtu lock 1300 advmss 1200; unreachable 192.0.2.0/24)',
    );
    expect(found[1]).toMatch(
      /^isp has the policy rule "200: from all to 198\.51\.100\.80 iif access lookup main suppress_prefixlength 0" \(table main: /,
    );
    const bare = parseRouting(
      '--- ip -4 rule show\n0:\tfrom all lookup local\n32767:\tfrom all lookup default\n--- ip -4 route show table all\n',
      ev,
    );
    expect(policyFindings('home', bare)).toEqual(['home lost the standard rule "32766: from all lookup main"']);
    expect(bare.used).toEqual([]);
  });

  it('reads both halves of iptables, and counts legacy rules and extra tables as extra', () => {
    const isp = findNode(canonicalWorld, 'isp');
    const home = findNode(canonicalWorld, 'home');
    if (!isp || !home) throw new Error('no isp or home');
    const out = [
      '--- iptables-save',
      '*mangle',
      '-A PREROUTING -d 198.51.100.80/32 -j MARK --set-xmark 0x7/0xffffffff',
      '*nat',
      '-A POSTROUTING -o access -j MASQUERADE',
      '*raw',
      '-A PREROUTING -i lan -p tcp -m tcp --dport 21 -j CT --helper ftp',
      '--- iptables-legacy-save',
      '*nat',
      '-A POSTROUTING -o backbone -j MASQUERADE',
    ].join('\n');
    const rules = parseFirewall(out);
    expect(rules.map((r) => [r.table, r.legacy])).toEqual([
      ['mangle', false],
      ['nat', false],
      ['raw', false],
      ['nat', true],
    ]);
    const d = firewallDiff(home, rules);
    expect(d.extra.map((r) => `${r.table}${r.legacy ? '/legacy' : ''} ${r.rule}`)).toEqual([
      'nat/legacy -A POSTROUTING -o backbone -j MASQUERADE',
      'mangle -A PREROUTING -d 198.51.100.80/32 -j MARK --set-xmark 0x7/0xffffffff',
    ]);
    expect(d.missing).toEqual([]);
    expect(firewallDiff(home, []).missing.map((r) => r.table)).toEqual(['nat', 'raw']);
    expect(firewallDiff(isp, []).extra).toEqual([]);
  });
});
