// Lab 13: troubleshooting, the capstone. Three faults from earlier labs are injected at once,
// chosen per seed: one in Alice's own network settings (no or a wrong address, or a wrong default
// gateway), one in name resolution (a resolver that does not exist, or a record missing from Bob's
// zone), and one on the network between Alice and Bob's services (no NAT on the home router, a
// missing route on Bob's edge, or the edge's security group dropping HTTP or FTP). The learner
// diagnoses with ip/ifconfig, ping, dig/nslookup, traceroute and curl, fixes everything, and writes
// in answers.yaml which fault each group had and the tool that showed it.
//
// Graded with clean binaries. Faults on the laptop are judged from a sidecar in Alice's namespace,
// by behaviour: where a packet for the internet really goes (whatever table or rule sends it), and
// whether her DNS queries reach the router's resolver (its log). Faults in the network are judged
// from a fresh machine the grader attaches to Alice's LAN, which nothing set on her laptop can
// steer: Bob's names through the home router, ping, HTTP and an FTP listing. Ping, HTTP and FTP
// are also tried from alice herself, and HTTP and FTP are confirmed from the far end (Bob's access
// log, the FTP server's log, each with a nonce the probe sent and the source address that arrived
// after NAT).
import { randomInt } from 'node:crypto';
import { fail, pass, type Check, type CheckContext, type Evidence, type Hints, type Host } from '../../checks/types.js';
import { dig, ping, q, resolveWith, type DigResult, type PingResult } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { firewallCommands, natCommands } from '../../orchestrator/world/config.js';
import { freshSeat } from '../../orchestrator/world/world.js';
import {
  accessEntriesWith,
  addressOf,
  addressesOf,
  bare,
  canonicalWorld,
  cidrOf,
  defineLab,
  draws,
  FILES,
  nodeOf,
  nonce,
  writeFile,
  type Fault,
  type World,
} from '../kit/index.js';
import { digBrief, zoneAddress } from '../kit/dns.js';
import { forwarding, readRoutesTo, readStandIns, tableNote, type ChosenRoute } from '../kit/routing.js';

// ---- facts from the world -------------------------------------------------------------------------

export const ZONE = 'bob.example';
const ZONE_FILE = `/etc/bind/zones/db.${ZONE}`;
const HOME_IFACE = 'lan';
/** The names whose records may go missing. */
export const NAMES = ['web', 'ftp'] as const;
export type Name = (typeof NAMES)[number];

/** The edge's security-group rule that lets new flows in to `to` on a tcp port, as the world renders it. */
function allowRule(world: World, to: string, port: string): string {
  const rule = nodeOf(world, 'edge').firewall?.allow.find(
    (r) => r.to === to && r.proto === 'tcp' && (r.ports ?? '').split(',').includes(port),
  );
  if (!rule) throw new Error(`lab 13: the edge has no rule for tcp ${port} to ${to}`);
  const cmd = firewallCommands({ guardedLinks: [], allow: [rule] }).find((c) => c.includes('NEW'));
  return (cmd as string).replace(/^iptables -A FORWARD /, '');
}

/** What this lab knows about a world (the lab's own in faults and checks). */
export function troubleFacts(world: World) {
  const records: Record<Name, string> = {
    web: zoneAddress(world, `web.${ZONE}`),
    ftp: zoneAddress(world, `ftp.${ZONE}`),
  };
  const homePrefix = world.links.find((l) => l.name === 'lan')?.prefix ?? '';
  const masquerade = (
    natCommands(nodeOf(world, 'home').nat?.filter((r) => r.kind === 'masquerade') ?? [])[0] ?? ''
  ).replace(/^iptables -t nat -A POSTROUTING /, '');
  if (!homePrefix || !masquerade)
    throw new Error("lab 13: the world lacks the home link or the home router's masquerade rule");
  const backbone = world.links.find((l) => l.name === 'backbone')?.prefix ?? '';
  const onBackbone = world.nodes.flatMap((n) => addressesOf(world, n.name, 'backbone'));
  return {
    /** Alice's laptop as the world defines it. */
    aliceCidr: cidrOf(world, 'alice', 'lan'),
    homePrefix,
    router: addressOf(world, 'home', 'lan'),
    alicePublic: addressOf(world, 'home', 'access'),
    /** The ISP router on the backbone: the edge's way back to the internet. */
    ispBackbone: addressOf(world, 'isp', 'backbone'),
    dnsServer: world.settings.resolver.upstream,
    records,
    bobPublic: records.web,
    /** Where the grader's own fresh machine sits on Alice's LAN (ctx.fresh('lan')). */
    freshLan: bare(freshSeat(world, 'lan').cidr),
    httpRule: allowRule(world, addressOf(world, 'web', 'vpc'), '80'),
    ftpRule: allowRule(world, addressOf(world, 'ftp', 'vpc'), '21'),
    masquerade,
    /** An address beyond the home router that no node uses: where a packet "for the internet" goes. */
    beyond(): string {
      for (;;) {
        const a = `${backbone.split('.').slice(0, 3).join('.')}.${randomInt(100, 200)}`;
        if (!onBackbone.includes(a)) return a;
      }
    },
  };
}
export type TroubleFacts = ReturnType<typeof troubleFacts>;

// ---- the pool of faults --------------------------------------------------------------------------------

export const GROUPS = {
  laptop: ['alice-address', 'alice-gateway'],
  names: ['alice-resolver', 'dns-record'],
  network: ['home-nat', 'edge-route', 'edge-http', 'edge-ftp'],
} as const;
export type Group = keyof typeof GROUPS;
export type FaultId = (typeof GROUPS)[Group][number];
export const GROUP_NAMES = Object.keys(GROUPS) as Group[];

/** The tools that show each fault (the first word of an answer is compared with these). */
export const TOOLS: Record<FaultId, string[]> = {
  'alice-address': ['ip', 'ifconfig'],
  'alice-gateway': ['ip', 'route', 'netstat', 'ping'],
  'alice-resolver': ['dig', 'nslookup', 'host'],
  'dns-record': ['dig', 'nslookup', 'host'],
  // hurrynet's own journey (the handout suggests it) shows where a path stops, too.
  'home-nat': ['traceroute', 'tracepath', 'mtr', 'journey'],
  'edge-route': ['traceroute', 'tracepath', 'mtr', 'journey'],
  'edge-http': ['curl', 'wget', 'nc', 'telnet', 'journey'],
  'edge-ftp': ['curl', 'ftp', 'lftp', 'nc', 'telnet', 'journey'],
};

// The lists vary draws from. vary has no world of its own, and this lab has no overlay: its world
// is the canonical one, and the lists are read from it.
const canonical = troubleFacts(canonicalWorld);
/** Networks Alice's laptop might remember from elsewhere (never the home one). */
export const OTHER_NETS = [0, 2, 10, 20, 42, 88]
  .map((n) => `192.168.${n}`)
  .filter((p) => !contains(canonical.homePrefix, `${p}.1`));
/** Gateways that do not exist on the home network (never the seat of the grader's fresh machine, alive while it grades). */
export const BAD_GATEWAYS = ['192.168.1.254', '192.168.1.253', '192.168.1.10', '192.168.1.2', '192.168.1.200'].filter(
  (a) => a !== canonical.freshLan,
);
/** Addresses where no DNS server answers (nor the fresh machine). */
export const BAD_RESOLVERS = [
  '192.168.1.53',
  '192.168.1.10',
  '192.168.1.254',
  '198.51.100.35',
  '198.51.100.54',
  '203.0.113.53',
].filter((a) => a !== canonical.freshLan);

export type TroubleVars = {
  laptop: (typeof GROUPS.laptop)[number];
  names: (typeof GROUPS.names)[number];
  network: (typeof GROUPS.network)[number];
  /** alice-address: "none" (no address at all) or a wrong network's address with its gateway. */
  wrongAddress: string;
  wrongGateway: string;
  badGateway: string;
  badResolver: string;
  /** dns-record: the name whose A record is missing (web or ftp). */
  missingRecord: Name;
};

// Every value is drawn for every seed, each from its own stream.
const vary = draws<TroubleVars>({
  laptop: (r) => r.pick(GROUPS.laptop),
  names: (r) => r.pick(GROUPS.names),
  network: (r) => r.pick(GROUPS.network),
  wrongAddress: (r) => (r.next() < 0.5 ? 'none' : `${r.pick(OTHER_NETS)}.${r.int(100, 199)}/24`),
  wrongGateway: (_r, d) =>
    d.wrongAddress && d.wrongAddress !== 'none' ? `${d.wrongAddress.split('.').slice(0, 3).join('.')}.1` : '',
  badGateway: (r) => r.pick(BAD_GATEWAYS),
  badResolver: (r) => r.pick(BAD_RESOLVERS),
  missingRecord: (r) => r.pick(NAMES),
});

export function faultsOf(v: TroubleVars): FaultId[] {
  return [v.laptop, v.names, v.network];
}

/** One fault, as a script on one node. */
export function faultScript(id: FaultId, v: TroubleVars, f: TroubleFacts): Fault {
  switch (id) {
    case 'alice-address':
      return {
        node: 'alice',
        description: "Alice's laptop has no address, or one from another network",
        script: [
          `ip -4 addr flush dev ${HOME_IFACE}`,
          ...(v.wrongAddress === 'none'
            ? []
            : [
                `ip addr add ${v.wrongAddress} brd + dev ${HOME_IFACE}`,
                `ip route add default via ${v.wrongGateway} dev ${HOME_IFACE}`,
              ]),
        ].join('\n'),
      };
    case 'alice-gateway':
      return {
        node: 'alice',
        description: "Alice's default route points at a router that does not exist",
        script: `ip route replace default via ${v.badGateway} dev ${HOME_IFACE}`,
      };
    case 'alice-resolver':
      // Same header as the file hurrynet-init writes; Docker mounts the file, and cat writes into it.
      return writeFile(
        'alice',
        '/etc/resolv.conf',
        `# written by hurrynet for the lab world\nnameserver ${v.badResolver}\n`,
        "Alice's resolver setting names an address where no DNS server answers",
      );
    case 'dns-record':
      return {
        node: 'dns',
        description: `the A record of ${v.missingRecord}.${ZONE} is missing from Bob's zone`,
        script: [
          `sed -i '/^${v.missingRecord} IN A /d' ${ZONE_FILE}`,
          'pkill -HUP -x named',
          'for i in $(seq 100); do',
          `  dig +time=1 +tries=1 @127.0.0.1 ${v.missingRecord}.${ZONE} A | grep -q 'status: NXDOMAIN' && exit 0`,
          '  sleep 0.1',
          'done',
          'echo "named did not drop the record" >&2; exit 1',
        ].join('\n'),
      };
    case 'home-nat':
      return {
        node: 'home',
        description: 'the home router no longer translates addresses (no masquerade)',
        script: `iptables -t nat -D POSTROUTING ${f.masquerade}\nconntrack -F >/dev/null 2>&1 || true`,
      };
    case 'edge-route':
      return {
        node: 'edge',
        description: "Bob's edge lost its default route",
        script: 'ip route del default\nip route flush cache || true',
      };
    case 'edge-http':
      return {
        node: 'edge',
        description: "the edge's security group no longer lets HTTP in",
        script: `iptables -D FORWARD ${f.httpRule}\nconntrack -F >/dev/null 2>&1 || true`,
      };
    case 'edge-ftp':
      return {
        node: 'edge',
        description: "the edge's security group no longer lets FTP in",
        script: `iptables -D FORWARD ${f.ftpRule}\nconntrack -F >/dev/null 2>&1 || true`,
      };
  }
}

function faults(v: TroubleVars, world: World): Fault[] {
  const f = troubleFacts(world);
  // Faults on the same node run in one script, in a fixed order.
  const byNode = new Map<string, Fault[]>();
  for (const fault of faultsOf(v).map((id) => faultScript(id, v, f)))
    byNode.set(fault.node, [...(byNode.get(fault.node) ?? []), fault]);
  return [...byNode.entries()].map(([n, list]) => ({
    node: n,
    description: list.map((x) => x.description).join('; '),
    script: list.map((x) => x.script).join('\n'),
  }));
}

// ---- observations ------------------------------------------------------------------------------------

/** A name through the home router's resolver, with the dig evidence cut short. */
async function resolveHome(
  probe: Host,
  name: string,
  f: TroubleFacts,
): Promise<{ address?: string; result: DigResult }> {
  const { address, result } = await resolveWith(probe, name, f.router);
  return { address, result: { ...result, evidence: digBrief(result.evidence) } };
}

const LAN = "a fresh machine on Alice's LAN";

/** Who answered a ping sent with TTL 1: the first router on the way says "Time to live exceeded". */
export function firstHop(pingOutput: string): string | undefined {
  return /From (\d{1,3}(?:\.\d{1,3}){3})(?: \S+)? icmp_seq=\d+ Time to live exceeded/.exec(pingOutput)?.[1];
}

/** One side's try of a service: what went wrong (undefined when it worked) and the evidence. */
interface Try {
  problem?: string;
  evidence: Evidence[];
}

/** A network claim tried from the fresh machine and from alice, judged network first. */
function bothSides(what: string, lan: Try, alice: Try): { problem?: string; evidence: Evidence[] } {
  const evidence = [...lan.evidence, ...alice.evidence];
  if (lan.problem) {
    const tail = alice.problem
      ? `; from alice: ${alice.problem}`
      : `; yet from alice it works: only her laptop gets through (a relay, a redirect, or a fix for her address alone)`;
    return { problem: `from ${LAN}: ${lan.problem}${tail}`, evidence };
  }
  if (alice.problem)
    return { problem: `from alice: ${alice.problem} (${LAN} gets ${what}, so the problem is on her laptop)`, evidence };
  return { evidence };
}

/** A service tried from the fresh machine on the LAN and from alice at once, judged by bothSides. */
async function tryBoth(
  ctx: CheckContext,
  what: string,
  tryFrom: (host: Host) => Promise<Try>,
): Promise<{ problem?: string; evidence: Evidence[] }> {
  const [lan, alice] = await Promise.all([ctx.fresh('lan').then(tryFrom), ctx.probe('alice').then(tryFrom)]);
  return bothSides(what, lan, alice);
}

// ---- checks ------------------------------------------------------------------------------------------

const laptopCheck = (f: TroubleFacts): Check => ({
  id: 'laptop',
  title: `Alice's laptop has an address on the home network ${f.homePrefix} and sends what leaves it via the home router ${f.router}`,
  points: 2,
  hint: [
    `Alice's own interface, then her way to everything beyond the home network: is there an address on ${f.homePrefix}, and does what she sends to the internet go to the home router ${f.router} first? The grader sends a packet with TTL 1 towards the internet: the home router must be the one that answers.`,
    `On alice: ip addr show dev ${HOME_IFACE}, ip route, and ip route get ${f.bobPublic} (which also follows ip rule into other tables); ping -c 1 ${f.router} tests the router itself.`,
    `On alice: ip addr flush dev ${HOME_IFACE}; ip addr add ${f.aliceCidr} dev ${HOME_IFACE}; ip route replace default via ${f.router} dev ${HOME_IFACE} (or take a lease: dhclient -v ${HOME_IFACE}).`,
  ],
  async run(ctx) {
    const probe = await ctx.probe('alice');
    const target = f.beyond();
    const [addr, routes, hop] = await Promise.all([
      probe.run(`ip -4 -br addr show dev ${HOME_IFACE}`, 5000),
      readRoutesTo(probe, [{ to: target }]),
      // Behaviour, not configuration: whatever rule or table sends it, a packet for the
      // internet with TTL 1 is answered by the first router it reaches.
      probe.run(`ping -n -c 2 -i 0.2 -t 1 -W 1 ${target}`, 8000),
    ]);
    const addrs = [...addr.output.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/g)].map((m) => m[1] as string);
    const mine = addrs.filter((a) => contains(f.homePrefix, a) && a !== f.router);
    if (!addrs.length) return fail(`alice's ${HOME_IFACE} interface has no IPv4 address: nothing can answer her`, addr);
    if (!mine.length)
      return fail(`alice's address ${addrs.join(', ')} is not on the home network ${f.homePrefix}`, addr);
    const r = routes.chosen[0] as ChosenRoute; // one per query
    const note = tableNote(r);
    const first = firstHop(hop.output);
    const evidence = [addr, routes.evidence, hop];
    if (first === f.router) {
      return pass(
        `${mine.join(', ')} on ${HOME_IFACE}; a packet for the internet leaves via the home router ${f.router}, which answered it with TTL 1${note}`,
        ...evidence,
      );
    }
    if (first)
      return fail(
        `a packet for the internet (${target}) from alice first reached ${first}, not the home router ${f.router}${note}`,
        ...evidence,
      );
    if (r.unreachable) {
      // Say so when a default exists somewhere but the rules never reach it (policy routing).
      const defaults = routes.routes.filter((x) => forwarding(x) && x.prefix === '0.0.0.0/0');
      const unused = defaults.length
        ? `; her tables do have ${defaults.map((d) => `"${d.line}"`).join(', ')}, but her ip rules never get that far`
        : '';
      return fail(
        `alice's routing gives her no route beyond her own network (ip route get ${target}: ${r.line})${unused}`,
        ...evidence,
      );
    }
    if (r.local)
      return fail(
        `alice treats ${target} as an address of her own (ip route get: ${r.line}): nothing leaves her laptop`,
        ...evidence,
      );
    if (!r.via)
      return fail(
        `alice's route to the internet has no gateway (${r.line})${note}: nobody on her LAN forwards what she sends`,
        ...evidence,
      );
    if (r.via !== f.router)
      return fail(
        `alice's route to the internet points at ${r.via}, not at the home router ${f.router}${note}`,
        ...evidence,
      );
    return fail(
      `alice's route to the internet points at the home router ${f.router}${note}, yet a packet sent that way never reached it (a firewall rule on alice?)`,
      ...evidence,
    );
  },
});

const resolverCheck = (f: TroubleFacts): Check => ({
  id: 'resolver',
  title: `Alice's laptop asks the home router (${f.router}) for names, and gets answers`,
  points: 2,
  hint: [
    `The DNS server Alice's laptop asks for names, and whether anyone answers there: it should be her home router ${f.router}, which resolves for the whole LAN.`,
    `dig ns.${ZONE} on alice: the SERVER line says which resolver answered, "no servers could be reached" that none did. The setting is in /etc/resolv.conf on alice.`,
    `On alice: echo 'nameserver ${f.router}' > /etc/resolv.conf (Docker mounts the file: write into it; sed -i cannot replace it).`,
  ],
  async run(ctx) {
    const probe = await ctx.probe('alice');
    // No @server: these digs read alice's own /etc/resolv.conf (the sidecar shares it). The
    // second asks for a name nobody asked before, to be found in the router's own log.
    const tag = `hn-${nonce()}.${ZONE}`;
    const [r, t] = await Promise.all([dig(probe, `ns.${ZONE}`), dig(probe, tag)]);
    const e = digBrief(r.evidence);
    if (r.status === 'TIMEOUT' || !r.server) return fail("the resolver in alice's /etc/resolv.conf does not answer", e);
    if (r.server !== f.router) return fail(`alice asks ${r.server} for names, not her home router ${f.router}`, e);
    if (r.status !== 'NOERROR') return fail(`the home router answered ${r.status}`, e);
    const log = await ctx.node('home').run(`grep -F -- ${q(`] ${tag} from `)} ${FILES.dnsmasqLog} | tail -n 3`, 5000);
    const peers = [...log.output.matchAll(/ from (\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1] as string);
    if (!peers.some((p) => contains(f.homePrefix, p) && p !== f.router && p !== f.freshLan)) {
      return fail(
        `an answer came back as if from ${f.router}, but the home router never received alice's query: something on alice intercepts DNS (a local server, a relay, an iptables rule?)`,
        e,
        digBrief(t.evidence),
        log,
      );
    }
    return pass(`the home router ${f.router} answered alice's lookup, and its log shows her query arriving`, e, log);
  },
});

const namesCheck = (f: TroubleFacts): Check => ({
  id: 'names',
  title: `web.${ZONE} and ftp.${ZONE} resolve to ${f.bobPublic} through the home router`,
  points: 2,
  hint: [
    `The two names web.${ZONE} and ftp.${ZONE}: does the home router's answer agree with Bob's own DNS server, and does Bob's zone still have both? The grader asks from a fresh machine on Alice's LAN: what alice's laptop answers itself does not count.`,
    `dig @${f.router} web.${ZONE} and dig @${f.dnsServer} web.${ZONE} (the same for ftp): NXDOMAIN from Bob's server means his zone lacks the name. The zone is ${ZONE_FILE} on dns.`,
    `On dns: add the missing line "NAME IN A ${f.bobPublic}" to ${ZONE_FILE}, then pkill -HUP named. If only the router still says NXDOMAIN, it remembers the old answer: pkill -HUP dnsmasq on home empties its cache.`,
  ],
  async run(ctx) {
    // A claim about the network (the router and Bob's zone): asked from the grader's own machine.
    const lan = await ctx.fresh('lan');
    const results = await Promise.all(NAMES.map((n) => resolveHome(lan, `${n}.${ZONE}`, f)));
    const evidence = results.map((r) => r.result.evidence);
    const bad = NAMES.findIndex((n, i) => results[i]?.address !== f.records[n]);
    if (bad < 0) return pass(`both resolve to ${f.bobPublic} through ${f.router}, for ${LAN}`, ...evidence);
    const first = NAMES[bad] as Name;
    const { address, result: r } = results[bad] as { address?: string; result: DigResult };
    if (r.status === 'TIMEOUT')
      return fail(`the home router ${f.router} does not answer ${LAN} for ${first}.${ZONE}`, ...evidence);
    if (r.status === 'NXDOMAIN') {
      // Is the record back in Bob's zone, and only the router's cache remembers its absence?
      // Asked on the dns node itself, so that no fault on the way hides the answer.
      const auth = await dig(await ctx.probe('dns'), `${first}.${ZONE}`, { server: '127.0.0.1' });
      if (auth.answers.some((a) => a.type === 'A' && a.value === f.records[first])) {
        return fail(
          `${LAN} gets NXDOMAIN for ${first}.${ZONE} from the home router, though Bob's DNS server has it again: the router remembers the old answer (negative caching)`,
          ...evidence,
          digBrief(auth.evidence),
        );
      }
      return fail(
        `${LAN} gets NXDOMAIN (no such name) for ${first}.${ZONE} from the home router: the record is missing from Bob's zone`,
        ...evidence,
        digBrief(auth.evidence),
      );
    }
    return fail(
      `${first}.${ZONE} resolves to ${address ?? 'nothing'} (${r.status}) for ${LAN}, not ${f.records[first]}`,
      ...evidence,
    );
  },
});

const pingCheck = (f: TroubleFacts): Check => ({
  id: 'ping',
  title: `Alice reaches Bob's server (${f.bobPublic}) and Bob's DNS server (${f.dnsServer}) with ping`,
  points: 2,
  hint: [
    `The path from Alice's network to Bob's public address ${f.bobPublic} and to his DNS server ${f.dnsServer}: which router is the last that answers? The fault sits at that router or the next one. The grader pings from a fresh machine on her LAN too: replies only her laptop gets do not count.`,
    `ping -c 3 ${f.bobPublic} on alice, then traceroute -n -w 1 -m 8 ${f.bobPublic}; at the router where the list stops: iptables -t nat -S on home (its translation), ip route on edge (its way back).`,
    `Trace stops right after ${f.router}: on home, iptables -t nat -A POSTROUTING ${f.masquerade}. Trace stops after the ISP router: on edge, ip route add default via ${f.ispBackbone}.`,
  ],
  async run(ctx) {
    const [lan, probe] = await Promise.all([ctx.fresh('lan'), ctx.probe('alice')]);
    const [fb, fd, ab, ad] = await Promise.all([
      ping(lan, f.bobPublic, 2),
      ping(lan, f.dnsServer, 2),
      ping(probe, f.bobPublic, 2),
      ping(probe, f.dnsServer, 2),
    ]);
    const evidence = [fb.evidence, fd.evidence, ab.evidence, ad.evidence];
    const silent = (b: PingResult, d: PingResult) => [b.ok ? '' : f.bobPublic, d.ok ? '' : f.dnsServer].filter(Boolean);
    const lanSilent = silent(fb, fd);
    const aliceSilent = silent(ab, ad);
    if (lanSilent.length) {
      // What only alice gets an answer from is answered by something that covers her laptop alone.
      const covered = lanSilent.filter((t) => !aliceSilent.includes(t));
      let tail = '';
      if (covered.length) {
        const standIns = await readStandIns(probe, covered);
        evidence.push(standIns.evidence);
        const local = standIns.local.map((c) => c.to);
        tail = local.length
          ? `, yet alice gets replies: ${local.join(' and ')} ${local.length > 1 ? 'are addresses' : 'is an address'} of her own laptop (ip route get: local)`
          : `, yet alice gets replies from ${covered.join(' and ')}: something covers her laptop alone (a redirect on alice, or a fix for her address only)`;
      }
      return fail(
        `${LAN} gets no reply from ${lanSilent.join(' nor from ')}: the fault is in the network${tail}`,
        ...evidence,
      );
    }
    if (!ab.ok && !ad.ok)
      return fail(
        `neither ${f.bobPublic} nor ${f.dnsServer} answers alice (${LAN} reaches both: the problem is on her laptop)`,
        ...evidence,
      );
    if (!ab.ok) return fail(`Bob's DNS server answers alice, but his server ${f.bobPublic} does not`, ...evidence);
    if (!ad.ok) return fail(`Bob's server answers alice, but his DNS server ${f.dnsServer} does not`, ...evidence);
    return pass(
      `both answer alice (${ab.received}/${ab.sent} and ${ad.received}/${ad.sent} replies) and ${LAN}`,
      ...evidence,
    );
  },
});

const httpCheck = (f: TroubleFacts): Check => ({
  id: 'http',
  title: `HTTP from Alice's laptop reaches Bob's web server (http://web.${ZONE}/)`,
  points: 2,
  deadlineMs: 4000,
  hint: [
    `Bob's web server behind his edge: when ping and traceroute reach ${f.bobPublic} but HTTP does not, something lets ping through and drops HTTP. The grader also tries from a fresh machine on Alice's LAN, and looks for both requests in Bob's access log.`,
    `curl -v -m 5 http://web.${ZONE}/ on alice (a timeout after "Trying" is a silent drop); on edge, iptables -S FORWARD is its security group; npx hurrynet journey -- curl -m 5 http://web.${ZONE}/ names where the packets stopped.`,
    `On edge, before the final DROP: iptables -I FORWARD 2 ${f.httpRule}`,
  ],
  async run(ctx) {
    const tryFrom = async (host: Host): Promise<Try> => {
      const { address, result } = await resolveHome(host, `web.${ZONE}`, f);
      if (!address)
        return {
          problem: `web.${ZONE} does not resolve through the home router, so the HTTP request cannot start`,
          evidence: [result.evidence],
        };
      const token = nonce();
      const path = `/?probe=${token}`;
      const e = await host.run(
        `curl -sS --connect-timeout 2 -m 4 -o /dev/null -w '%{http_code}\\n' --resolve web.${ZONE}:80:${address} ${q(`http://web.${ZONE}${path}`)}`,
        8000,
      );
      if (e.exitCode !== 0)
        return {
          problem: `curl got no answer from web.${ZONE} (${address}): ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'no response'}`,
          evidence: [result.evidence, e],
        };
      if (e.output.trim() !== '200')
        return { problem: `web.${ZONE} answered ${e.output.trim()}, not 200`, evidence: [result.evidence, e] };
      const log = await accessEntriesWith(ctx.node('web'), token);
      if (!log.entries.some((x) => x.path === path && x.client === f.alicePublic))
        return {
          problem: `an answer came back, but Bob's access log has no request for ${path} from ${f.alicePublic}: it did not come from Bob's server`,
          evidence: [e, log.evidence],
        };
      return { evidence: [e, log.evidence] };
    };
    const { problem, evidence } = await tryBoth(ctx, 'an answer', tryFrom);
    if (problem) return fail(problem, ...evidence);
    return pass(
      `200 OK for alice and for ${LAN}, and Bob's access log shows both requests from ${f.alicePublic}`,
      ...evidence,
    );
  },
});

const ftpCheck = (f: TroubleFacts): Check => ({
  id: 'ftp',
  title: `FTP from Alice's laptop lists Bob's file store (ftp://ftp.${ZONE}/)`,
  points: 2,
  deadlineMs: 4000,
  hint: [
    `Bob's FTP store behind his edge: when ping reaches ${f.bobPublic} but FTP does not, something lets ping through and drops FTP, which needs port 21 and its passive data ports. The grader also tries from a fresh machine on Alice's LAN, and looks for both sessions in the FTP server's log.`,
    `curl -v -m 5 ftp://ftp.${ZONE}/ on alice lists the files (a timeout at "Trying" is a silent drop); on edge, iptables -S FORWARD is its security group.`,
    `On edge, before the final DROP: iptables -I FORWARD 2 ${f.ftpRule}`,
  ],
  async run(ctx) {
    const tryFrom = async (host: Host): Promise<Try> => {
      const { address, result } = await resolveHome(host, `ftp.${ZONE}`, f);
      if (!address)
        return {
          problem: `ftp.${ZONE} does not resolve through the home router, so the FTP session cannot start`,
          evidence: [result.evidence],
        };
      const tag = nonce();
      const e = await host.run(
        `curl -sS --connect-timeout 2 -m 4 -Q ${q(`NOOP ${tag}`)} ${q(`ftp://${address}/`)} | head -n 5`,
        8000,
      );
      if (!/\S/.test(e.output) || /curl: \(/.test(e.output))
        return {
          problem: `no listing from ftp.${ZONE} (${address}): ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'empty'}`,
          evidence: [result.evidence, e],
        };
      const log = await ctx.node('ftp').run(`grep -F -- ${q(`"NOOP ${tag}"`)} ${FILES.vsftpdLog} | tail -n 1`, 5000);
      if (!log.output.includes(`Client "${f.alicePublic}"`))
        return {
          problem: `a listing came back, but Bob's FTP server never saw this session from ${f.alicePublic}`,
          evidence: [e, log],
        };
      return { evidence: [e, log] };
    };
    const { problem, evidence } = await tryBoth(ctx, 'a listing', tryFrom);
    if (problem) return fail(problem, ...evidence);
    return pass(
      `the listing came back for alice and for ${LAN}, and the FTP server's log shows both sessions from ${f.alicePublic}`,
      ...evidence,
    );
  },
});

/** The answer for one group: its fault id, and a tool that shows that fault. */
function answer(v: TroubleVars, group: Group, title: string, about: string, hint: Hints): Check {
  const fault = v[group];
  return answerCheck({
    id: `answer-${group}`,
    title,
    points: 2,
    key: `${group}_fault`,
    alsoKeys: { [`${group}_tool`]: TOOLS[fault].join('|') },
    about,
    hint,
    async expected() {
      return { value: fault, evidence: [] };
    },
    // Fault ids in any spelling ("Home NAT", "home_nat"); for tools, the command's first word.
    matches: (given, expected) => {
      const g = normalizeAnswer(given).replace(/[\s_]+/g, '-');
      return expected
        .split('|')
        .some((e) => g === e || g.split('-')[0] === e || normalizeAnswer(given).split(' ')[0] === e);
    },
  });
}

function checks(v: TroubleVars, world: World): Check[] {
  const f = troubleFacts(world);
  return [
    laptopCheck(f),
    resolverCheck(f),
    namesCheck(f),
    pingCheck(f),
    httpCheck(f),
    ftpCheck(f),
    answer(
      v,
      'laptop',
      "answers.yaml: the fault in Alice's own network settings, and the tool that showed it",
      "the fault the lab put in Alice's own network settings",
      [
        "What was wrong on Alice's laptop when the lab started: its address, or its default gateway?",
        'ip addr and ip route on alice (or ifconfig and route -n) showed it; the table in the handout says what each fault id means.',
        'In /root/answers.yaml, laptop_fault is alice-address or alice-gateway, the one you fixed; laptop_tool is the first word of the command that showed it (for example ip).',
      ],
    ),
    answer(
      v,
      'names',
      'answers.yaml: the fault in name resolution, and the tool that showed it',
      'the fault the lab put in name resolution',
      [
        "What was wrong with names: the DNS server Alice's laptop asks, or a record in Bob's zone?",
        `dig web.${ZONE} on alice, then dig @${f.router} and dig @${f.dnsServer} for the same name: which one answered at all, and with which status?`,
        'In /root/answers.yaml, names_fault is alice-resolver or dns-record, the one you fixed; names_tool is the command that showed it (dig, nslookup or host).',
      ],
    ),
    answer(
      v,
      'network',
      "answers.yaml: the fault on the network between Alice and Bob's services, and the tool that showed it",
      "the fault the lab put on the network between Alice and Bob's services",
      [
        "What was wrong between Alice's home and Bob's services: a router where the path stops (the home router's NAT, the edge's route back), or a security group that drops one service while ping works?",
        'traceroute -n shows where a path stops; curl -v shows a service that times out while ping works; npx hurrynet journey shows both, router by router.',
        'In /root/answers.yaml, network_fault is home-nat, edge-route, edge-http or edge-ftp, the one you fixed; network_tool is the command that pinpointed it (traceroute for a path that stops, curl for a service that does not answer).',
      ],
    ),
  ];
}

export default defineLab<TroubleVars>({
  number: 13,
  slug: 'troubleshooting',
  title: 'Troubleshooting: everything at once',
  topics: ['troubleshooting', 'ip', 'ping', 'dig', 'nslookup', 'traceroute', 'NAT', 'routing', 'security groups'],
  minutes: 60,
  goal: "Find and fix three faults between Alice's laptop and Bob's services with ip, ping, dig, nslookup, traceroute and curl, until ping, DNS, HTTP and FTP all work from Alice's laptop, and report which tool showed each fault.",
  submissionNodes: ['alice', 'dns', 'edge', 'home'],
  questions: GROUP_NAMES.flatMap((g) => [
    { key: `${g}_fault`, prompt: `The fault in the ${g} group: ${GROUPS[g].join(', ')}` },
    { key: `${g}_tool`, prompt: `The tool that showed the ${g} fault` },
  ]),
  vary,
  // The card is the same for every learner (it must not give the faults away); task has no world
  // of its own, and this lab's world is the canonical one.
  task: () => ({
    faults: 'three: one in the laptop group, one in the names group, one in the network group',
    must_work: `ping ${canonical.bobPublic}; dig web.${ZONE}; curl http://web.${ZONE}/; curl ftp://ftp.${ZONE}/`,
  }),
  faults,
  checks,
});
