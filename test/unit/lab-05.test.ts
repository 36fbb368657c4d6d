// Lab 05's variation and parsers are pure: deterministic per seed, different across seeds, valid
// for the world, and its overlay is a valid world with Bob's block routed by the ISP.
import { describe, expect, it } from 'vitest';
import lab, {
  BACKBONE_PREFIX,
  BLOCK_LENGTHS,
  BOB_LINK,
  BOB_PUBLIC,
  EDGE_BACKBONE,
  HOME_LAN,
  HOME_PUBLIC,
  ISP_ACCESS,
  ISP_BACKBONE,
  KINDS,
  expectedRules,
  longestMatch,
  parseTraceroute,
  routerAddresses,
  ruleDiff,
  ruleSignature,
} from '../../labs/05-routing/lab.js';
import { contains, networkOf } from '../../orchestrator/addresses.js';
import { varsFor, type Vars } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const worldFor = (v: Vars): World => (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const bare = (cidr: string) => cidr.split('/')[0] as string;
const allAddresses = (w: World) => w.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare)));

describe('lab 05: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: every kind of broken route, every block size, many wrong next hops', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.kind))).toEqual(new Set(KINDS));
    expect(new Set(all.map((v) => v.bobBlock)).size).toBe(BLOCK_LENGTHS.length);
    expect(new Set(all.map((v) => v.router))).toEqual(new Set(['home', 'isp', 'edge']));
    expect(new Set(all.filter((v) => v.kind === 'home-wrong').map((v) => v.wrongHop)).size).toBeGreaterThan(20);
    expect(new Set(all.filter((v) => v.kind === 'edge-wrong').map((v) => v.wrongHop)).size).toBeGreaterThan(10);
  });

  it('gives values that fit the world: a block around Bob, wrong next hops on the right link that nobody owns', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      const block = String(v.bobBlock);
      expect(networkOf(block)).toBe(block);
      expect(contains(block, BOB_PUBLIC)).toBe(true);
      expect(contains(block, EDGE_BACKBONE)).toBe(false);
      const hop = String(v.wrongHop);
      switch (v.kind) {
        case 'home-wrong':
          expect(contains('203.0.113.0/24', hop), hop).toBe(true);
          expect(allAddresses(world)).not.toContain(hop);
          expect([ISP_ACCESS, HOME_PUBLIC, '203.0.113.0', '203.0.113.255']).not.toContain(hop);
          break;
        case 'edge-wrong':
          expect(contains(BACKBONE_PREFIX, hop), hop).toBe(true);
          expect(allAddresses(world)).not.toContain(hop);
          expect(hop).not.toBe(bare(BACKBONE_PREFIX));
          break;
        case 'isp-wrong':
          expect(hop).toBe('198.51.100.53');
          expect(findNode(world, 'dns')?.router).toBe(false);
          break;
        default:
          expect(hop).toBe('');
      }
      expect(v.router).toBe(String(v.kind).split('-')[0]);
      expect(v.stoppedRouter).toBe(v.router === 'home' ? 'home' : 'isp');
    }
  });

  it('pins the kinds of the seeds the integration test uses', () => {
    const kinds = Object.fromEntries(['seed-a', 'seed-b', 'seed-c', 'seed-d', 'seed-e', 'seed-f'].map((s) => [s, varsFor(lab, s).kind]));
    expect(kinds).toEqual({
      'seed-a': 'edge-missing',
      'seed-b': 'home-wrong',
      'seed-c': 'isp-wrong',
      'seed-d': 'edge-missing',
      'seed-e': 'edge-missing',
      'seed-f': 'isp-missing',
    });
  });
});

describe('lab 05: world', () => {
  it('overlays a valid world: a narrower backbone, Bob in a block of his own, the ISP routing it to the edge', () => {
    for (const s of SEEDS.slice(0, 60)) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      expect(world.links.find((l) => l.name === 'backbone')?.prefix).toBe(BACKBONE_PREFIX);
      expect(world.links.find((l) => l.name === BOB_LINK)?.prefix).toBe(v.bobBlock);
      const edge = findNode(world, 'edge');
      expect(edge?.interfaces.find((i) => i.link === BOB_LINK)?.addresses).toEqual([`${BOB_PUBLIC}/${String(v.bobBlock).split('/')[1]}`]);
      expect(edge?.interfaces.find((i) => i.link === 'backbone')?.addresses).toEqual([`${EDGE_BACKBONE}/26`]);
      expect(findNode(world, 'isp')?.routes).toEqual([{ to: v.bobBlock, via: EDGE_BACKBONE }]);
      expect(findNode(world, 'home')?.routes).toEqual([{ to: 'default', via: ISP_ACCESS }]);
      expect(findNode(world, 'edge')?.routes).toEqual([{ to: 'default', via: ISP_BACKBONE }]);
      // Bob's name still points at his public address, and the edge still translates it.
      expect(world.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web')?.value).toBe(BOB_PUBLIC);
      expect(edge?.nat?.some((r) => r.kind === 'dnat' && r.publicAddress === BOB_PUBLIC)).toBe(true);
    }
    expect(canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix).toBe('198.51.100.0/24');
    expect(canonicalWorld.links.some((l) => l.name === BOB_LINK)).toBe(false);
  });

  it('breaks exactly one router per kind, with a script that names the route', () => {
    const seen = new Map<string, Vars>();
    for (const s of SEEDS) seen.set(String(varsFor(lab, s).kind), varsFor(lab, s));
    for (const kind of KINDS) {
      const v = seen.get(kind) as Vars;
      const faults = lab.faults(v);
      expect(faults).toHaveLength(1);
      expect(faults[0]?.node).toBe(v.router);
      const script = faults[0]?.script ?? '';
      if (kind.endsWith('-wrong')) expect(script).toContain(`via ${String(v.wrongHop)}`);
      if (kind.startsWith('isp-')) expect(script).toContain(String(v.bobBlock));
      else expect(script).toMatch(/default/);
    }
  });

  it('knows every address of a router, for the stopped_at answer', () => {
    const world = worldFor(varsFor(lab, 'seed-0'));
    expect(routerAddresses(world, 'home')).toEqual([HOME_LAN, HOME_PUBLIC]);
    expect(routerAddresses(world, 'isp')).toEqual([ISP_ACCESS, ISP_BACKBONE]);
  });

  it('never reveals the fault on the task card, and asks the two questions', () => {
    const cards = SEEDS.slice(0, 30).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))));
    expect(new Set(cards).size).toBe(1);
    expect(lab.questions.map((q) => q.key)).toEqual(['stopped_at', 'router']);
    expect(lab.submissionNodes).toEqual(['alice', 'home', 'isp', 'edge']);
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
    expect(parseTraceroute(' 3  198.51.100.80  0.2 ms 198.51.100.53  0.3 ms')[0]?.addresses).toEqual(['198.51.100.80', '198.51.100.53']);
  });

  it('finds the longest route containing an address', () => {
    const lines = ['198.51.100.0/24 dev backbone proto kernel scope link src 198.51.100.1', '198.51.100.80/28 via 198.51.100.2 dev backbone', 'default via 1.2.3.4 dev x'].join('\n');
    expect(longestMatch(lines)).toMatchObject({ prefix: '198.51.100.80/28', length: 28, via: '198.51.100.2' });
    expect(longestMatch('198.51.100.80 via 198.51.100.2 dev backbone')).toMatchObject({ prefix: '198.51.100.80/32', length: 32 });
    expect(longestMatch('')).toBeUndefined();
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
    expect(expectedRules(home)).toEqual({ nat: ['-A POSTROUTING -o access -j MASQUERADE'], filter: [] });
    const trick = '-A POSTROUTING -o backbone -j MASQUERADE';
    expect(ruleDiff([...listed.nat, trick], want.nat)).toEqual({ extra: [trick], missing: [] });
    expect(ruleDiff(listed.nat.slice(1), want.nat).missing).toHaveLength(1);
    expect(ruleSignature('-A POSTROUTING -o access -j MASQUERADE')).not.toBe(ruleSignature('-A POSTROUTING -o backbone -j MASQUERADE'));
  });
});
