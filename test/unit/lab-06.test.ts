// Lab 06's variation and overlay are pure: deterministic per seed, different across seeds, and the
// CGNAT world it builds is valid (shared address space on the ISP's customer side, one public
// address on the backbone, a second customer).
import { describe, expect, it } from 'vitest';
import lab, { BOB_PUBLIC, CAROL, CAROL_AGENT, ISP_BACKBONE, MOBILE_LINK, SHARED_SPACE, freeBackboneAddresses, parseConntrack } from '../../labs/06-nat/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { natCommands } from '../../orchestrator/config.js';
import { varsFor, type Vars } from '../../orchestrator/lab.js';
import { worldProblems } from '../../orchestrator/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const worldFor = (v: Vars): World => (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const bare = (cidr: string) => cidr.split('/')[0] as string;
const canonicalAddresses = canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare)));

describe('lab 06: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: public address, access network, home and carol addresses', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.publicAddress)).size).toBeGreaterThan(150);
    expect(new Set(all.map((v) => v.accessPrefix)).size).toBeGreaterThan(250);
    expect(new Set(all.map((v) => v.homeAddress)).size).toBeGreaterThan(250);
    expect(new Set(all.map((v) => v.carolAddress)).size).toBeGreaterThan(250);
    const [a, b] = [varsFor(lab, 'seed-a'), varsFor(lab, 'seed-b')];
    expect(a.publicAddress).not.toBe(b.publicAddress);
    expect(a.homeAddress).not.toBe(b.homeAddress);
  });

  it('puts the customers in the shared address space and the public address on the backbone, outside every address in use', () => {
    const backbone = canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix as string;
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      for (const key of ['accessPrefix', 'mobilePrefix']) {
        const prefix = String(v[key]);
        expect(prefix.endsWith('.0/24'), prefix).toBe(true);
        expect(contains(SHARED_SPACE, bare(prefix)), prefix).toBe(true);
      }
      expect(v.accessPrefix).not.toBe(v.mobilePrefix);
      expect(contains(String(v.accessPrefix), String(v.homeAddress))).toBe(true);
      expect(contains(String(v.accessPrefix), String(v.ispAccess))).toBe(true);
      expect(contains(String(v.mobilePrefix), String(v.carolAddress))).toBe(true);
      expect(contains(String(v.mobilePrefix), String(v.ispMobile))).toBe(true);
      expect(v.homeAddress).not.toBe(v.ispAccess);
      expect(v.carolAddress).not.toBe(v.ispMobile);
      for (const a of [v.homeAddress, v.carolAddress]) expect([0, 255]).not.toContain(Number(String(a).split('.')[3]));
      const pub = String(v.publicAddress);
      expect(contains(backbone, pub)).toBe(true);
      expect(canonicalAddresses).not.toContain(pub);
      expect([0, 255]).not.toContain(Number(pub.split('.')[3]));
    }
    expect(freeBackboneAddresses()).not.toContain(BOB_PUBLIC);
    expect(freeBackboneAddresses()).not.toContain(ISP_BACKBONE);
  });

  it('pins the values the integration test relies on', () => {
    expect(varsFor(lab, 'seed-a').publicAddress).not.toBe(varsFor(lab, 'seed-c').publicAddress);
    expect(varsFor(lab, 'seed-a').homeAddress).not.toBe(varsFor(lab, 'seed-c').homeAddress);
  });
});

describe('lab 06: the CGNAT world', () => {
  it('is a valid world for every seed, with names of at most 12 characters', () => {
    for (const s of SEEDS.slice(0, 100)) {
      const world = worldFor(varsFor(lab, s));
      expect(worldProblems(world), s).toEqual([]);
    }
    expect(CAROL.length).toBeLessThanOrEqual(12);
    expect(MOBILE_LINK.length).toBeLessThanOrEqual(12);
  });

  it('moves the access network into the shared space, adds carol on the mobile network, and translates both at the ISP', () => {
    const v = varsFor(lab, 'seed-0');
    const world = worldFor(v);
    expect(world.links.find((l) => l.name === 'access')?.prefix).toBe(v.accessPrefix);
    expect(world.links.find((l) => l.name === MOBILE_LINK)?.prefix).toBe(v.mobilePrefix);
    const home = findNode(world, 'home');
    expect(home?.interfaces.find((i) => i.link === 'access')?.addresses).toEqual([`${String(v.homeAddress)}/24`]);
    expect(home?.routes).toEqual([{ to: 'default', via: v.ispAccess }]);
    expect(home?.nat?.[0]).toEqual({ kind: 'masquerade', outLink: 'access' });
    const isp = findNode(world, 'isp');
    expect(isp?.interfaces.find((i) => i.link === 'backbone')?.addresses).toEqual([`${ISP_BACKBONE}/24`, `${String(v.publicAddress)}/24`]);
    expect(isp?.interfaces.find((i) => i.link === MOBILE_LINK)?.addresses).toEqual([`${String(v.ispMobile)}/24`]);
    expect(isp?.routes).toEqual([]);
    expect(natCommands(isp?.nat ?? [])).toEqual([`iptables -t nat -A POSTROUTING -s ${SHARED_SPACE} -o backbone -j SNAT --to-source ${String(v.publicAddress)}`]);
    const carol = findNode(world, CAROL);
    expect(carol?.role).toBe('alice');
    expect(carol?.interfaces).toEqual([{ link: MOBILE_LINK, addresses: [`${String(v.carolAddress)}/24`] }]);
    expect(carol?.routes).toEqual([{ to: 'default', via: v.ispMobile }]);
    // gw.isp.example follows the ISP router to its new access address; Bob's names stay.
    const isp_example = world.settings.zones.find((z) => z.name === 'isp.example');
    expect(isp_example?.records.find((r) => r.name === 'gw')?.value).toBe(v.ispAccess);
    expect(world.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web')?.value).toBe(BOB_PUBLIC);
    // The canonical world is untouched.
    expect(findNode(canonicalWorld, CAROL)).toBeUndefined();
    expect(canonicalWorld.links.find((l) => l.name === 'access')?.prefix).toBe('203.0.113.0/24');
    expect(findNode(canonicalWorld, 'isp')?.nat).toBeUndefined();
  });

  it("removes the home router's translation as the fault, and starts carol's news app", () => {
    const faults = lab.faults(varsFor(lab, 'seed-0'));
    expect(faults.map((f) => f.node)).toEqual(['home', CAROL]);
    expect(faults[0]?.script).toContain('iptables -t nat -D POSTROUTING -o access -j MASQUERADE');
    expect(faults[1]?.script).toContain(CAROL_AGENT);
  });

  it('asks the three questions, never reveals an address on the task card, and lets the learner change alice, carol and home', () => {
    const cards = SEEDS.slice(0, 30).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))));
    expect(new Set(cards).size).toBe(1);
    expect(cards[0]).not.toMatch(/100\.\d+\.\d+\.\d+/);
    expect(lab.questions.map((q) => q.key)).toEqual(['alice_public', 'carol_public', 'home_isp_side']);
    expect(lab.submissionNodes).toEqual(['alice', CAROL, 'home']);
  });
});

describe('lab 06: conntrack', () => {
  it('reads original and reply tuples, translated or not', () => {
    const flows = parseConntrack(
      [
        'tcp      6 114 SYN_SENT src=192.168.1.101 dst=198.51.100.80 sport=35788 dport=80 [UNREPLIED] src=198.51.100.80 dst=192.168.1.101 sport=80 dport=35788 mark=0 use=1',
        'tcp      6 119 TIME_WAIT src=192.168.1.101 dst=198.51.100.80 sport=41000 dport=80 src=198.51.100.80 dst=100.95.180.195 sport=80 dport=41000 [ASSURED] mark=0 use=1',
        'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
      ].join('\n'),
    );
    expect(flows).toEqual([
      { origSrc: '192.168.1.101', origDst: '198.51.100.80', origSport: 35788, replySrc: '198.51.100.80', replyDst: '192.168.1.101', replyDport: 35788 },
      { origSrc: '192.168.1.101', origDst: '198.51.100.80', origSport: 41000, replySrc: '198.51.100.80', replyDst: '100.95.180.195', replyDport: 41000 },
    ]);
  });
});
