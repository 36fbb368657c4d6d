// Lab 06's variation and overlay are pure: deterministic per seed, different across seeds, and the
// CGNAT world it builds is valid (shared address space on the ISP's customer side, one public
// address on the backbone, a second customer).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import lab, {
  CAROL,
  CAROL_AGENT,
  MOBILE_LINK,
  NEWS_APP,
  SHARED_SPACE,
  freeBackboneAddresses,
  flowOf,
  outcomeOf,
  parseConntrack,
  type NatVars,
} from '../../labs/06-nat/lab.js';
import { addressOf, bare } from '../../labs/kit/index.js';
import { webPublic } from '../../labs/kit/web.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { natCommands } from '../../orchestrator/world/config.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { LAB_FILES, labWorld } from '../../orchestrator/labs/labrun.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world/world.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const worldFor = (v: NatVars): World =>
  (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const BOB_PUBLIC = webPublic(canonicalWorld);
const ISP_BACKBONE = addressOf(canonicalWorld, 'isp', 'backbone');
const canonicalAddresses = canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare)));

describe('lab 06: variation', () => {
  it('is deterministic per seed, each variable drawn from its own stream', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
    expect(drawsIndependently(lab.vary)).toBe(true);
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
      for (const key of ['accessPrefix', 'mobilePrefix'] as const) {
        const prefix = v[key];
        expect(prefix.endsWith('.0/24'), prefix).toBe(true);
        expect(contains(SHARED_SPACE, bare(prefix)), prefix).toBe(true);
      }
      expect(v.accessPrefix).not.toBe(v.mobilePrefix);
      expect(contains(v.accessPrefix, v.homeAddress)).toBe(true);
      expect(contains(v.accessPrefix, v.ispAccess)).toBe(true);
      expect(contains(v.mobilePrefix, v.carolAddress)).toBe(true);
      expect(contains(v.mobilePrefix, v.ispMobile)).toBe(true);
      expect(v.homeAddress).not.toBe(v.ispAccess);
      expect(v.carolAddress).not.toBe(v.ispMobile);
      for (const a of [v.homeAddress, v.carolAddress]) expect([0, 255]).not.toContain(Number(a.split('.')[3]));
      const pub = v.publicAddress;
      expect(contains(backbone, pub)).toBe(true);
      expect(canonicalAddresses).not.toContain(pub);
      expect([0, 255]).not.toContain(Number(pub.split('.')[3]));
    }
    expect(freeBackboneAddresses(canonicalWorld)).not.toContain(BOB_PUBLIC);
    expect(freeBackboneAddresses(canonicalWorld)).not.toContain(ISP_BACKBONE);
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
    expect(home?.interfaces.find((i) => i.link === 'access')?.addresses).toEqual([`${v.homeAddress}/24`]);
    expect(home?.routes).toEqual([{ to: 'default', via: v.ispAccess }]);
    expect(home?.nat?.[0]).toEqual({ kind: 'masquerade', outLink: 'access' });
    const isp = findNode(world, 'isp');
    expect(isp?.interfaces.find((i) => i.link === 'backbone')?.addresses).toEqual([
      `${ISP_BACKBONE}/24`,
      `${v.publicAddress}/24`,
    ]);
    expect(isp?.interfaces.find((i) => i.link === MOBILE_LINK)?.addresses).toEqual([`${v.ispMobile}/24`]);
    expect(isp?.routes).toEqual([]);
    expect(natCommands(isp?.nat ?? [])).toEqual([
      `iptables -t nat -A POSTROUTING -s ${SHARED_SPACE} -o backbone -j SNAT --to-source ${v.publicAddress}`,
    ]);
    const carol = findNode(world, CAROL);
    expect(carol?.role).toBe('alice');
    expect(carol?.interfaces).toEqual([{ link: MOBILE_LINK, addresses: [`${v.carolAddress}/24`] }]);
    expect(carol?.routes).toEqual([{ to: 'default', via: v.ispMobile }]);
    // gw.isp.example follows the ISP router to its new access address; Bob's names stay.
    const isp_example = world.settings.zones.find((z) => z.name === 'isp.example');
    expect(isp_example?.records.find((r) => r.name === 'gw')?.value).toBe(v.ispAccess);
    expect(
      world.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web')?.value,
    ).toBe(BOB_PUBLIC);
    // The canonical world is untouched.
    expect(findNode(canonicalWorld, CAROL)).toBeUndefined();
    expect(canonicalWorld.links.find((l) => l.name === 'access')?.prefix).toBe('203.0.113.0/24');
    expect(findNode(canonicalWorld, 'isp')?.nat).toBeUndefined();
  });

  it("removes the home router's translation as the fault, and starts carol's news app from the lab's files", async () => {
    const registered = await findLab('6');
    const v = varsFor(lab, 'seed-0');
    const faults = lab.faults(v, labWorld(registered, v));
    expect(faults.map((f) => f.node)).toEqual(['home', CAROL]);
    expect(faults[0]?.script).toContain('iptables -t nat -D POSTROUTING -o access -j MASQUERADE');
    expect(faults[1]?.script).toContain(`${NEWS_APP} '${CAROL_AGENT}' `);
    const app = readFileSync(join(registered.dir, LAB_FILES, CAROL, NEWS_APP), 'utf8');
    expect(app).toMatch(/^#!\/bin\/bash\n/);
    expect(app).toContain('-A "$agent"');
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
      {
        origSrc: '192.168.1.101',
        origDst: '198.51.100.80',
        origSport: 35788,
        origDport: 80,
        replySrc: '198.51.100.80',
        replyDst: '192.168.1.101',
        replySport: 80,
        replyDport: 35788,
      },
      {
        origSrc: '192.168.1.101',
        origDst: '198.51.100.80',
        origSport: 41000,
        origDport: 80,
        replySrc: '198.51.100.80',
        replyDst: '100.95.180.195',
        replySport: 80,
        replyDport: 41000,
      },
    ]);
  });

  it("finds the grader's own connection by source address and port, never a relay's that shares the port", () => {
    const flows = parseConntrack(
      [
        // The home router's relay talking to Bob from the router's own address, with the same source port.
        'tcp 6 119 TIME_WAIT src=203.0.113.5 dst=198.51.100.80 sport=41000 dport=80 src=198.51.100.80 dst=203.0.113.5 sport=80 dport=41000 [ASSURED]',
        // The grader's own connection from alice, redirected to that relay.
        'tcp 6 119 TIME_WAIT src=192.168.1.101 dst=198.51.100.80 sport=41000 dport=80 src=192.168.1.1 dst=192.168.1.101 sport=8080 dport=41000 [ASSURED]',
      ].join('\n'),
    );
    const grader = flowOf(flows, { port: 41000, local: '192.168.1.101' }, BOB_PUBLIC);
    expect(outcomeOf(grader, BOB_PUBLIC)).toEqual({ kind: 'redirected', to: '192.168.1.1:8080' });
    // Had the grader's connection left no entry, the relay's must not stand in for it.
    expect(flowOf(flows.slice(0, 1), { port: 41000, local: '192.168.1.101' }, BOB_PUBLIC)).toBeUndefined();
  });

  it('tells translation from a relay: a redirect on the router, a redirect on the sender, or no NAT at all', () => {
    const one = (line: string) => parseConntrack(line)[0];
    // Translated to the router's ISP-side address (and a new port).
    expect(
      outcomeOf(
        one(
          'tcp 6 119 TIME_WAIT src=192.168.1.254 dst=198.51.100.80 sport=41000 dport=80 src=198.51.100.80 dst=100.95.180.195 sport=80 dport=1024 [ASSURED]',
        ),
        BOB_PUBLIC,
      ),
    ).toEqual({ kind: 'translated', from: '192.168.1.254:41000', to: '100.95.180.195:1024' });
    // Forwarded with the private source: the replies would go to 192.168.1.101.
    expect(
      outcomeOf(
        one(
          'tcp 6 114 SYN_SENT src=192.168.1.101 dst=198.51.100.80 sport=35788 dport=80 [UNREPLIED] src=198.51.100.80 dst=192.168.1.101 sport=80 dport=35788',
        ),
        BOB_PUBLIC,
      ),
    ).toEqual({ kind: 'untranslated', from: '192.168.1.101:35788' });
    // REDIRECT on the router: the reply comes from its own LAN address and the relay's port, which
    // also leaves the private address as the reply's destination: that is not "untranslated".
    expect(
      outcomeOf(
        one(
          'tcp 6 119 TIME_WAIT src=192.168.1.254 dst=198.51.100.80 sport=42000 dport=80 src=192.168.1.1 dst=192.168.1.254 sport=8080 dport=42000 [ASSURED]',
        ),
        BOB_PUBLIC,
      ),
    ).toEqual({ kind: 'redirected', to: '192.168.1.1:8080' });
    // The sender DNATed its own connection to a relay on the router: the router sees another destination.
    expect(
      outcomeOf(
        one(
          'tcp 6 119 TIME_WAIT src=192.168.1.101 dst=192.168.1.1 sport=43000 dport=8080 src=192.168.1.1 dst=192.168.1.101 sport=8080 dport=43000 [ASSURED]',
        ),
        BOB_PUBLIC,
      ),
    ).toEqual({ kind: 'elsewhere', to: '192.168.1.1:8080' });
    // A REDIRECT in the sender's own OUTPUT chain, as its own table shows it.
    expect(
      outcomeOf(
        one(
          'tcp 6 119 TIME_WAIT src=192.168.1.101 dst=198.51.100.80 sport=44000 dport=80 src=127.0.0.1 dst=192.168.1.101 sport=8081 dport=44000 [ASSURED]',
        ),
        BOB_PUBLIC,
      ),
    ).toEqual({ kind: 'redirected', to: '127.0.0.1:8081' });
    expect(outcomeOf(undefined, BOB_PUBLIC)).toEqual({ kind: 'missing' });
    expect(BOB_PUBLIC).toBe('198.51.100.80');
  });
});
