// Lab 07's variation is pure: deterministic per seed, different across seeds, valid for the world.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import lab, {
  ADMIN_KINDS,
  ADMIN_PORTS,
  AGENT_PORT_RANGE,
  ALICE_NAME,
  closedServices,
  freeBackbone,
  LAPTOP_NAME,
  LAPTOP_NODE,
  PRIVATE_PORTS,
  REPLY_PORTS,
  SERVICES_JS,
  type SgVars,
} from '../../labs/07-security-groups/lab.js';
import { addressOf } from '../../labs/kit/index.js';
import { webPublic } from '../../labs/kit/web.js';
import { answersFor, describeAnswer, parseHpingPacket, parseTcpdumpLine } from '../../checks/probes.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { LAB_FILES, labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const worldFor = (v: SgVars): World =>
  (lab.overlay as NonNullable<typeof lab.overlay>)(structuredClone(canonicalWorld), v);
const usedOnBackbone = canonicalWorld.nodes.flatMap((n) =>
  n.interfaces.filter((i) => i.link === 'backbone').flatMap((i) => i.addresses.map((a) => a.split('/')[0])),
);
const BACKBONE_PREFIX = canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix as string;
const BOB_PUBLIC = webPublic(canonicalWorld);
const ALICE_PUBLIC = addressOf(canonicalWorld, 'home', 'access');
const DNS = addressOf(canonicalWorld, 'dns', 'backbone');
const WEB = addressOf(canonicalWorld, 'web', 'vpc');

describe('lab 07: variation', () => {
  it('is deterministic per seed, each variable drawn from its own stream', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
    expect(drawsIndependently(lab.vary)).toBe(true);
  });

  it("draws the laptop among the backbone addresses no node uses, away from the grader's own seat", () => {
    const free = freeBackbone(canonicalWorld);
    for (const a of usedOnBackbone) expect(free).not.toContain(a);
    expect(free).not.toContain('198.51.100.254');
    for (const s of SEEDS) expect(free).toContain(varsFor(lab, s).laptopAddress);
    // In the lab's own world the laptop's address is taken: the grader's strangers get others.
    const v = varsFor(lab, 'seed-a');
    expect(freeBackbone(worldFor(v))).not.toContain(v.laptopAddress);
  });

  it("differs across seeds: who may administer, on which port, and the laptop's address", () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.adminKind))).toEqual(new Set(ADMIN_KINDS));
    expect(new Set(all.map((v) => v.adminPort))).toEqual(new Set(ADMIN_PORTS));
    expect(new Set(all.map((v) => v.privatePort))).toEqual(new Set(PRIVATE_PORTS));
    expect(new Set(all.map((v) => v.laptopAddress)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.adminAddress)).size).toBeGreaterThan(50);
  });

  it("names an admin address that is the laptop's or Alice's public one, never a private address", () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      if (v.adminKind === 'laptop') {
        expect(v.adminName).toBe(LAPTOP_NAME);
        expect(v.adminAddress).toBe(v.laptopAddress);
      } else {
        expect(v.adminName).toBe(ALICE_NAME);
        expect(v.adminAddress).toBe(ALICE_PUBLIC);
      }
      expect(contains('192.168.0.0/16', v.adminAddress)).toBe(false);
    }
  });

  it('gives the laptop a free backbone address, and ports that neither collide nor hit the FTP DNAT', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const laptop = v.laptopAddress;
      expect(contains(BACKBONE_PREFIX, laptop), laptop).toBe(true);
      expect(usedOnBackbone).not.toContain(laptop);
      const ports = [v.adminPort, v.privatePort, v.agentPort];
      expect(new Set([...ports, 80, 443]).size).toBe(5);
      for (const p of ports) {
        expect(p === 21 || (p >= 30000 && p <= 30009), `port ${p} would go to the ftp node`).toBe(false);
      }
      // The agent listens inside the kernel's client-port range (32768-60999).
      expect(v.agentPort).toBeGreaterThanOrEqual(AGENT_PORT_RANGE[0]);
      expect(v.agentPort).toBeLessThanOrEqual(AGENT_PORT_RANGE[1]);
      expect(v.agentPort).toBeGreaterThan(32768);
      expect(v.agentPort).toBeLessThan(60999);
    }
  });

  it("overlays a valid world: Bob's laptop on the backbone, with names for both admin sources", () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      const world = worldFor(v);
      expect(worldProblems(world), s).toEqual([]);
      const laptop = findNode(world, LAPTOP_NODE);
      expect(laptop?.role).toBe('alice');
      expect(laptop?.interfaces).toEqual([{ link: 'backbone', addresses: [`${v.laptopAddress}/24`] }]);
      expect(laptop?.routes).toEqual([{ to: 'default', via: '198.51.100.1' }]);
      expect(laptop?.nameserver).toBe(DNS);
      const records = world.settings.zones.flatMap((z) =>
        z.records.map((r) => ({ ...r, fqdn: r.name === '@' ? z.name : `${r.name}.${z.name}` })),
      );
      expect(records.find((r) => r.fqdn === LAPTOP_NAME)?.value).toBe(v.laptopAddress);
      expect(records.find((r) => r.fqdn === ALICE_NAME)?.value).toBe(ALICE_PUBLIC);
      // Everything else is the canonical world.
      expect(world.nodes.filter((n) => n.name !== LAPTOP_NODE)).toEqual(canonicalWorld.nodes);
    }
    expect(findNode(canonicalWorld, LAPTOP_NODE)).toBeUndefined();
  });

  it("starts from a stateless filter on the edge and the stand-in services on web, from the lab's files", async () => {
    const registered = await findLab('7');
    for (const s of ['seed-0', 'seed-1', 'seed-2', 'seed-3']) {
      const v = varsFor(lab, s);
      const faults = lab.faults(v, labWorld(registered, v));
      expect(faults.map((f) => f.node)).toEqual(['edge', 'web', LAPTOP_NODE]);
      const edge = faults[0]?.script ?? '';
      expect(edge).toContain('iptables -P FORWARD DROP');
      expect(edge).not.toContain('conntrack --ctstate');
      expect(edge).toContain(`--dport ${v.adminPort}`);
      expect(edge).toContain(`-d ${WEB}`);
      expect(edge).toContain(`admin_from: ${v.adminName}`);
      const web = faults[1]?.script ?? '';
      expect(web).toMatch(
        new RegExp(`node ${SERVICES_JS} \\S+ \\S+ ${v.adminPort} ${v.privatePort} ${v.agentPort} "\\$https"`),
      );
    }
    const services = readFileSync(join(registered.dir, LAB_FILES, 'web', SERVICES_JS), 'utf8');
    expect(services).toContain("tcp(adminPort, 'admin', 'SSH-2.0-BobAdmin_1.0 ' + token)");
  });

  it('writes the policy on the task card, never the admin address itself, and asks three questions', () => {
    for (const s of SEEDS.slice(0, 30)) {
      const v = varsFor(lab, s);
      const card = lab.task?.(v) ?? {};
      expect(card.admin_port).toBe(String(v.adminPort));
      expect(card.admin_from).toBe(v.adminName);
      expect(JSON.stringify(card)).not.toContain(v.adminAddress);
      expect(JSON.stringify(card)).toContain(BOB_PUBLIC);
    }
    expect(lab.questions.map((q) => q.key)).toEqual(['admin_source', 'dropped_packet', 'why_stateless']);
    expect(lab.submissionNodes).toEqual(['edge', 'alice']);
  });

  it('judges the free-text answers by what they must say', async () => {
    const checks = labChecks(await findLab('7'), varsFor(lab, 'seed-a'));
    const judge = async (id: string, value: string) => {
      const check = checks.find((c) => c.id === id);
      const key = id === 'answer-dropped' ? 'dropped_packet' : 'why_stateless';
      const ctx = {
        instance: 'x',
        timeScale: 1,
        fresh: async () => {
          throw new Error('no fresh machines in unit tests');
        },
        vars: {},
        answers: async () => ({ ok: true as const, values: { [key]: value }, raw: `${key}: ${value}` }),
        probe: async () => {
          throw new Error('no probes here');
        },
        inspect: async () => {
          throw new Error('no probes here');
        },
        witness: async () => undefined,
        node: () => {
          throw new Error('no nodes here');
        },
      };
      return (await check?.run(ctx))?.passed;
    };
    for (const ok of ['SYN-ACK', 'syn/ack', 'the SYN ACK from web', 'SYNACK', '[S.]'])
      expect(await judge('answer-dropped', ok), ok).toBe(true);
    for (const bad of ['SYN', 'ACK', 'FIN', 'the first one'])
      expect(await judge('answer-dropped', bad), bad).toBe(false);
    // A reason in the learner's own words links what happened to the replies with what a
    // stateless filter lacks; a keyword, a guess or half the story does not.
    for (const ok of [
      'Each packet is judged alone, so the reply from web matched no rule and was dropped',
      'it keeps no state, so the return traffic was dropped',
      'The filter does not remember the connection, so the SYN-ACK going back out from port 80 matched nothing and hit the DROP policy.',
      "Without conntrack the edge cannot tell that the server's answer belongs to Alice's connection, so it dropped it",
      'The rules only let packets in to port 80; the server response went the other direction and a stateless filter sees every packet on its own.',
    ])
      expect(await judge('answer-why', ok), ok).toBe(true);
    for (const bad of [
      'because of the firewall',
      'no idea',
      'no idea, latency',
      'stateless',
      'the SYN-ACK was dropped by the edge on the way out to alice',
      'the firewall keeps no state at all, it is stateless and old',
      'not sure, maybe the replies were lost because of state',
    ])
      expect(await judge('answer-why', bad), bad).toBe(false);
  });

  it('pins the admin kinds of the seeds the integration test uses', () => {
    expect(varsFor(lab, 'seed-a').adminKind).toBe('laptop');
    expect(varsFor(lab, 'seed-b').adminKind).toBe('alice');
  });
});

describe('lab 07: reply-shaped traffic', () => {
  it('keeps TCP and UDP services closed, one of them inside the client-port range, and grades them in its own check', async () => {
    const registered = await findLab('7');
    for (const s of ['seed-a', 'seed-b', 'seed-0', 'seed-1']) {
      const v = varsFor(lab, s);
      const closed = closedServices(v);
      expect(closed.map((c) => `${c.port}/${c.proto}`)).toEqual([
        `${v.privatePort}/tcp`,
        `${v.agentPort}/tcp`,
        `${v.adminPort}/tcp`,
        '21/tcp',
        `${v.privatePort}/udp`,
        `${v.agentPort}/udp`,
      ]);
      expect(closed.some((c) => c.port >= 32768 && c.port <= 60999 && c.proto === 'tcp')).toBe(true);
      expect(closed.some((c) => c.port >= 32768 && c.port <= 60999 && c.proto === 'udp')).toBe(true);
      const checks = labChecks(registered, v);
      expect(checks.find((c) => c.id === 'replies-denied')?.points).toBe(2);
      expect(checks.reduce((n, c) => n + c.points, 0)).toBe(16);
    }
    expect([...REPLY_PORTS]).toEqual([53, 80, 123, 443]);
  });

  it('reads hping3 answers: a reset, a SYN-ACK, a UDP answer and an ICMP error, each to its own packet', () => {
    const got = [
      'ip(ihl=0x5,ver=0x4,tos=0x00,totlen=40,id=0,fragoff=0,mf=0,df=1,rf=0,ttl=63,proto=6,cksum=0x93e6,saddr=198.51.100.80,daddr=198.51.100.133)+tcp(sport=39754,dport=53,seq=0,ack=0,x2=0x0,off=5,flags=r,win=0,cksum=0xbf24,urp=0)',
      'ip(ihl=0x5,ver=0x4,tos=0x00,totlen=44,id=0,fragoff=0,mf=0,df=1,rf=0,ttl=64,proto=6,cksum=0x8fe6,saddr=198.51.100.80,daddr=198.51.100.134)+tcp(sport=39754,dport=80,seq=41,ack=1,x2=0x0,off=6,flags=sa,win=64240,cksum=0x555b,urp=0)+tcp.mss(size=1460)',
      'ip(ihl=0x5,ver=0x4,tos=0x00,totlen=70,id=14378,fragoff=0,mf=0,df=1,rf=0,ttl=63,proto=17,cksum=0x40ae,saddr=198.51.100.80,daddr=198.51.100.133)+udp(sport=39754,dport=123,len=50,cksum=0x5580)+data(str=BOB-AGENT\\209f9cd\\20\\28for\\20the\\20VPC\\20only\\29\\0a)',
      'ip(ihl=0x5,ver=0x4,tos=0xc0,totlen=61,id=59690,fragoff=0,mf=0,df=0,rf=0,ttl=63,proto=1,cksum=0x993c,saddr=198.51.100.80,daddr=198.51.100.133)+icmp(type=3,code=3,unused=0)+ip(ihl=0x5,ver=0x4,tos=0x00,totlen=33,id=33037,fragoff=0,mf=0,df=0,rf=0,ttl=63,proto=17,cksum=0x82a5,saddr=198.51.100.133,daddr=198.51.100.80)+udp(sport=123,dport=9200,len=13,cksum=0xcafe)+data(str=hello)',
    ].map(parseHpingPacket);
    const packet = (kind: 'syn' | 'ack' | 'udp', source: string, sport: number, dport: number) => ({
      kind,
      source,
      sport,
      dport,
      seq: 1,
      ack: 2,
    });
    const ack = answersFor(packet('ack', '198.51.100.133', 53, 39754), BOB_PUBLIC, got);
    expect(ack).toEqual([{ proto: 'tcp', ttl: 63, flags: 'r' }]);
    expect(describeAnswer(ack[0] as (typeof ack)[number])).toBe('RST (ttl 63)');
    expect(answersFor(packet('syn', '198.51.100.134', 80, 39754), BOB_PUBLIC, got).map(describeAnswer)).toEqual([
      'SYN-ACK (ttl 64)',
    ]);
    // The same ports from another address, or another protocol, are other packets.
    expect(answersFor(packet('syn', '198.51.100.133', 80, 39754), BOB_PUBLIC, got)).toEqual([]);
    expect(answersFor(packet('udp', '198.51.100.133', 53, 39754), BOB_PUBLIC, got)).toEqual([]);
    expect(answersFor(packet('udp', '198.51.100.133', 123, 39754), BOB_PUBLIC, got)).toEqual([
      { proto: 'udp', ttl: 63, data: 'BOB-AGENT 9f9cd (for the VPC only)\n' },
    ]);
    expect(answersFor(packet('udp', '198.51.100.133', 123, 9200), BOB_PUBLIC, got).map(describeAnswer)).toEqual([
      'ICMP 3/3 (port unreachable) (ttl 63)',
    ]);
  });

  it("reads what tcpdump saw arrive: ports, flags and the numbers that tell the grader's packets apart", () => {
    expect(
      parseTcpdumpLine(
        '20:52:49.888498 vpc   In  IP 198.51.100.133.53 > 10.0.1.10.39754: Flags [.], ack 51599228, win 512, length 0',
      ),
    ).toMatchObject({
      src: '198.51.100.133',
      sport: 53,
      dst: '10.0.1.10',
      dport: 39754,
      flags: '.',
      ack: 51599228,
    });
    const syn = parseTcpdumpLine(
      '21:02:31.895482 vpc   In  IP 198.51.100.140.38813 > 10.0.1.10.80: Flags [S], seq 2316818553, win 512, length 0',
    );
    expect(syn).toMatchObject({ flags: 'S', seq: 2316818553, dport: 80 });
    expect(syn?.ack).toBeUndefined();
    expect(
      parseTcpdumpLine(
        '20:52:50.918037 vpc   In  IP 198.51.100.133.123 > 10.0.1.10.39754: NTPv3, unspecified, length 5',
      ),
    ).toMatchObject({ sport: 123, dport: 39754 });
    expect(parseTcpdumpLine('28 packets captured')).toBeUndefined();
  });
});
