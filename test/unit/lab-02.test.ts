// Lab 02's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import lab, { homeFacts, KINDS, routeProblem, type AddressesVars } from '../../labs/02-addresses/lab.js';
import { addressOf, bare as ip, canonicalWorld } from '../../labs/kit/index.js';
import { parseRoutesTo } from '../../labs/kit/routing.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { findNode, type World } from '../../orchestrator/world/world.js';

const registered = await findLab('2');
const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const worldFor = (v: AddressesVars): World => labWorld(registered, v);
const { prefix: HOME_PREFIX, router: ROUTER } = homeFacts(canonicalWorld);
const ACCESS_PREFIX = canonicalWorld.links.find((l) => l.name === 'access')?.prefix ?? '';
const ISP_ADDRESS = addressOf(canonicalWorld, 'isp', 'access');
/** The home router's access address in the story (lab 01 uses it): this lab never reuses it. */
const STORY_PUBLIC = addressOf(canonicalWorld, 'home', 'access');
const host = (a: string) => Number(a.split('.')[3]);

describe('lab 02: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: public addresses and starting faults', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.publicAddress)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.kind))).toEqual(new Set(KINDS));
    expect(varsFor(lab, 'seed-a').publicAddress).not.toBe(varsFor(lab, 'seed-b').publicAddress);
  });

  it('gives a public address inside the access network, never the ISP router or the story address', () => {
    for (const s of SEEDS) {
      const pub = varsFor(lab, s).publicAddress;
      expect(contains(ACCESS_PREFIX, pub), pub).toBe(true);
      expect(pub).not.toBe(ISP_ADDRESS);
      expect(pub).not.toBe(STORY_PUBLIC);
      expect(host(pub)).toBeGreaterThan(0);
      expect(host(pub)).toBeLessThan(255);
    }
  });

  it('overlays a valid world: alice without a static address, the home router on its new public address', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      const alice = findNode(world, 'alice');
      expect(alice?.interfaces.flatMap((i) => i.addresses)).toEqual([]);
      expect(alice?.routes).toEqual([]);
      const home = findNode(world, 'home');
      expect(home?.interfaces.find((i) => i.link === 'access')?.addresses).toEqual([`${v.publicAddress}/24`]);
      expect(home?.interfaces.find((i) => i.link === 'lan')?.addresses).toEqual(['192.168.1.1/24']);
    }
    // The canonical world itself is untouched.
    expect(findNode(canonicalWorld, 'alice')?.interfaces[0]?.addresses).toEqual(['192.168.1.101/24']);
    expect(findNode(canonicalWorld, 'home')?.interfaces[1]?.addresses).toEqual(['203.0.113.5/24']);
  });

  it('starts each kind of fault with a sensible static configuration that DHCP never hands out', () => {
    const { rangeStart, rangeEnd } = canonicalWorld.settings.dhcp;
    const inPool = (a: string) => host(a) >= host(rangeStart) && host(a) <= host(rangeEnd) && contains(HOME_PREFIX, a);
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const { staticAddress: address, staticGateway: gateway } = v;
      switch (v.kind) {
        case 'no-dhcp':
          expect(address).toBe('');
          expect(gateway).toBe('');
          break;
        case 'wrong-subnet':
          expect(contains(HOME_PREFIX, ip(address)), address).toBe(false);
          expect(contains('192.168.0.0/16', ip(address))).toBe(true);
          expect(contains(`${ip(address)}/24`, gateway), `${address} via ${gateway}`).toBe(true);
          break;
        case 'no-route':
          expect(contains(HOME_PREFIX, ip(address))).toBe(true);
          expect(gateway).toBe('');
          break;
        case 'wrong-gateway':
          expect(contains(HOME_PREFIX, ip(address))).toBe(true);
          expect(contains(HOME_PREFIX, gateway)).toBe(true);
          expect(gateway).not.toBe(ROUTER);
          expect(gateway).not.toBe(ip(address));
          break;
        default:
          throw new Error(`unknown kind ${JSON.stringify(v)}`);
      }
      if (address) {
        expect(address.endsWith('/24')).toBe(true);
        expect(inPool(ip(address)), address).toBe(false);
        expect(ip(address)).not.toBe(ROUTER);
        expect([0, 255]).not.toContain(host(ip(address)));
      }
    }
  });

  it('injects the fault on alice only, with a fresh MAC and the static configuration of its kind', () => {
    for (const s of ['seed-0', 'seed-1', 'seed-2', 'seed-3', 'seed-4', 'seed-5']) {
      const v = varsFor(lab, s);
      const faults = lab.faults(v, worldFor(v));
      expect(faults.map((f) => f.node)).toEqual(['alice']);
      const script = faults[0]?.script ?? '';
      expect(script).toContain('ip link set dev lan address');
      if (v.staticAddress) expect(script).toContain(`ip addr add ${v.staticAddress} brd + dev lan`);
      else expect(script).not.toContain('ip addr add');
      if (v.staticGateway) expect(script).toContain(`default via ${v.staticGateway}`);
      else expect(script).not.toContain('ip route add');
    }
  });

  it('never reveals the fault on the task card, and asks the three questions', () => {
    const cards = SEEDS.slice(0, 30).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))));
    expect(new Set(cards).size).toBe(1);
    expect(lab.questions.map((q) => q.key)).toEqual(['private_address', 'public_address', 'mac_address']);
    expect(lab.submissionNodes).toEqual(['alice']);
  });

  it('pins the kinds of the seeds the integration test uses', () => {
    const kinds = Object.fromEntries(['seed-a', 'seed-b', 'seed-g', 'seed-p'].map((s) => [s, varsFor(lab, s).kind]));
    expect(kinds).toEqual({
      'seed-a': 'wrong-gateway',
      'seed-b': 'wrong-subnet',
      'seed-g': 'no-route',
      'seed-p': 'no-dhcp',
    });
    expect(varsFor(lab, 'seed-a').publicAddress).not.toBe(varsFor(lab, 'seed-b').publicAddress);
  });
});

describe('lab 02: routing is judged in every table a rule can select', () => {
  const STOCK = '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default';
  const good =
    'default via 192.168.1.1 dev lan\n192.168.1.0/24 dev lan proto kernel scope link src 192.168.1.150\nlocal 192.168.1.150 dev lan table local proto kernel scope host src 192.168.1.150';
  const viaRouter = '198.51.100.80 via 192.168.1.1 dev lan src 192.168.1.150 uid 0 \n    cache ';
  const evidence = { where: 'probe@alice', command: 'x', exitCode: 0, output: '' };
  // The output of the kit's reader on alice: her rules, every table, what the kernel chose for Bob.
  const judge = (rules: string, routes: string, chosen = viaRouter) =>
    routeProblem(
      parseRoutesTo(
        `--- ip -4 rule show\n${rules}\n--- ip -4 route show table all\n${routes}\n--- ip -4 route get 198.51.100.80\n${chosen}\n`,
        evidence,
        [{ to: '198.51.100.80' }],
      ),
      homeFacts(canonicalWorld),
    );

  it('passes the plain DHCP route, and a sole default in a table every packet looks up', () => {
    expect(judge(STOCK, good)).toBe('');
    expect(
      judge(
        `${STOCK}\n100:\tfrom all lookup 100`,
        good.replace('default via 192.168.1.1 dev lan', 'default via 192.168.1.1 dev lan table 100'),
      ),
    ).toBe('');
  });

  it('finds a wrong default hidden behind an ip rule, and ignores tables no rule selects', () => {
    const hidden = `${good}\ndefault via 192.168.1.10 dev lan table 100 onlink`;
    expect(judge(`${STOCK}\n100:\tfrom all fwmark 0x7 lookup 100`, hidden)).toMatch(
      /^table 100 \(selected by ip rule 100 "from all fwmark 0x7 lookup 100"\) has "default via 192\.168\.1\.10/,
    );
    expect(judge(STOCK, hidden)).toBe('');
    expect(judge(STOCK, `${good}\ndefault via 192.168.1.10 dev lan table default`)).toMatch(
      /^table default \(selected by the stock rule "from all lookup default"\)/,
    );
    expect(judge(STOCK, `${good}\ndefault via 192.168.1.10 dev lan metric 5`)).toMatch(
      /^the main table has "default via 192\.168\.1\.10/,
    );
    expect(judge(STOCK, `${good}\nunreachable default table default`)).toMatch(
      /^table default .* has "unreachable default table default": traffic it serves leaves by no gateway/,
    );
  });

  it('judges every next hop of a multipath default', () => {
    const multipath =
      'default proto static\n\tnexthop via 192.168.1.1 dev lan weight 1\n\tnexthop via 192.168.1.77 dev lan weight 1\n192.168.1.0/24 dev lan scope link';
    expect(judge(STOCK, multipath)).toMatch(
      /^the main table has "default proto static nexthop via 192\.168\.1\.1 dev lan weight 1 nexthop via 192\.168\.1\.77 .*leaves by 192\.168\.1\.77 /,
    );
  });

  it('tells "no default at all" from "no default, but other routes reach Bob", and catches overrides', () => {
    expect(judge(STOCK, '192.168.1.0/24 dev lan scope link', 'RTNETLINK answers: Network is unreachable')).toMatch(
      /no default route in any routing table, so nothing beyond/,
    );
    const halves =
      '0.0.0.0/1 via 192.168.1.1 dev lan\n128.0.0.0/1 via 192.168.1.1 dev lan\n192.168.1.0/24 dev lan scope link';
    expect(judge(STOCK, halves)).toMatch(
      /no default route in any routing table; her other routes send 198\.51\.100\.80 via 192\.168\.1\.1 dev lan/,
    );
    const override = judge(
      `${STOCK}\n90:\tfrom all to 198.51.100.80 lookup 90`,
      good,
      '198.51.100.80 via 192.168.1.77 dev lan table 90 src 192.168.1.150',
    );
    expect(override).toMatch(
      /sends Bob's address 198\.51\.100\.80 another way: ".*" \(table 90, chosen by ip rule '90: from all to 198\.51\.100\.80 lookup 90'\)$/,
    );
    expect(
      judge(
        STOCK,
        `${good}\n198.51.100.80 via 192.168.1.77 dev lan`,
        '198.51.100.80 via 192.168.1.77 dev lan src 192.168.1.150',
      ),
    ).toMatch(/another way: .*\(a more specific route in the main table overrides the default\)$/);
  });
});
