// Lab 07: security groups, stateless vs stateful filtering. Bob's edge starts with a STATELESS
// packet filter (every packet judged alone, FORWARD policy DROP): the SYN of a visitor is let in
// but the server's SYN-ACK is dropped on the way out, the server's own DNS lookups never leave,
// and the "reply" rules it has (every high port, anything from UDP source port 53) are holes. The
// learner replaces it with a stateful set built on conntrack: HTTP and HTTPS from anywhere, an
// SSH-like admin port from exactly one address, outbound connections from the server, nothing else.
//
// The overlay adds Bob's laptop (node "bob") on the backbone, with a name in DNS; per seed the admin
// address is the laptop's or Alice's public address, and the admin and internal ports vary. Faults
// start an admin stand-in, an internal service (TCP and UDP), a monitoring agent on a high port
// inside the kernel's client-port range (TCP and UDP) and an HTTPS stand-in on web (the lab's
// files/web/), each answering with a per-start token that only the real web node knows.
//
// Graded only by which real connections succeed, from clean sidecar probes in five places (alice
// behind her NAT, Bob's laptop, the dns node, the ISP router speaking from Alice's access network,
// web itself going out) and from the grader's own fresh machines (a laptop on Alice's home network,
// a stranger on the backbone at addresses drawn at check time), with far-end evidence (the token in
// each banner, the address web says the request came from, the dns node's query log, and tcpdump on
// web and ftp for hand-made "reply-shaped" packets: a SYN or bare ACK from source port 53, 80, 123
// or 443, UDP from 53 or 123). The edge's rules are shown as evidence, never judged.
import { randomInt } from 'node:crypto';
import {
  addressOf,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  heredoc,
  jsonLines,
  nonce,
  type Fault,
  type World,
} from '../kit/index.js';
import { FORGET_FLOWS, interfaceAddress } from '../kit/firewall.js';
import { startScript } from '../kit/programs.js';
import { alicePublic, webPublic } from '../kit/web.js';
import {
  fail,
  inconclusive,
  pass,
  type Check,
  type CheckContext,
  type Evidence,
  type Hints,
  type Host,
  type Verdict,
} from '../../checks/types.js';
import { answerCheck, keywordCheck, rubricCheck, type Concept } from '../../checks/answers.js';
import {
  q,
  rawPackets,
  startCapture,
  type CapturedPacket,
  type RawPacket,
  type RawResult,
} from '../../checks/probes.js';

export const LAPTOP_NODE = 'bob';
export const LAPTOP_NAME = 'laptop.bob.example';
export const ALICE_NAME = 'alice.isp.example';
export const ADMIN_PORTS = [22, 2222, 2022, 8022] as const;
/** Bob's internal service on web (a database-like port): only the VPC may reach it. */
export const PRIVATE_PORTS = [5432, 6379, 9200, 27017] as const;
export const ADMIN_KINDS = ['laptop', 'alice'] as const;
/**
 * Bob's monitoring agent on web listens on a high port, inside the range the kernel picks client
 * ports from (32768-60999): a stateless "let replies in to the ephemeral ports" rule exposes it.
 */
export const AGENT_PORT_RANGE = [33000, 60000] as const;
/** The edge's link where outside traffic arrives. */
const OUTSIDE = 'backbone';

const STATE_DIR = '/run/hurrynet-lab07';
const TOKEN_FILE = `${STATE_DIR}/token`;
/** The stand-in services (files/web/...), and the log where they note every client. */
export const SERVICES_JS = '/usr/local/lib/hurrynet-lab07/services.js';
const SERVICE_LOG = `${FILES.webLogDir}/lab07.log`;

// ---- variation --------------------------------------------------------------------------------

export type SgVars = {
  adminKind: (typeof ADMIN_KINDS)[number];
  adminPort: number;
  privatePort: number;
  agentPort: number;
  laptopAddress: string;
  adminName: string;
  adminAddress: string;
};

/**
 * Backbone addresses from .10 to .249 that no node of a world uses: the laptop gets one, the
 * grader's strangers others (the grader's fresh machine takes the highest spare one, .254).
 */
export function freeBackbone(world: World): string[] {
  const backbone = world.links.find((l) => l.name === OUTSIDE);
  if (!backbone) throw new Error('lab 07: the world lacks the backbone');
  const used = new Set(
    world.nodes.flatMap((n) => n.interfaces.filter((i) => i.link === OUTSIDE).flatMap((i) => i.addresses.map(bare))),
  );
  const net = bare(backbone.prefix).split('.').slice(0, 3).join('.');
  return Array.from({ length: 240 }, (_, i) => `${net}.${i + 10}`).filter((a) => !used.has(a));
}

// The admin's name and address follow from who the admin is; the laptop exists in every world.
const vary = draws<SgVars>({
  adminKind: (r) => r.pick(ADMIN_KINDS),
  adminPort: (r) => r.pick(ADMIN_PORTS),
  privatePort: (r) => r.pick(PRIVATE_PORTS),
  agentPort: (r) => r.int(AGENT_PORT_RANGE[0], AGENT_PORT_RANGE[1]),
  laptopAddress: (r) => r.pick(freeBackbone(canonicalWorld)),
  adminName: (_r, d) => (d.adminKind === 'laptop' ? LAPTOP_NAME : ALICE_NAME),
  // Alice's public address: her home router on the access network (what Bob's side sees).
  adminAddress: (_r, d) => (d.adminKind === 'laptop' ? (d.laptopAddress ?? '') : alicePublic(canonicalWorld)),
});

/** Bob's laptop on the backbone, and DNS names for it and for Alice's public address. */
function overlay(world: World, v: SgVars): World {
  const len = world.links.find((l) => l.name === OUTSIDE)?.prefix.split('/')[1] ?? '24';
  world.nodes.push({
    name: LAPTOP_NODE,
    title: "Bob's laptop (out on the internet)",
    role: 'alice',
    interfaces: [{ link: OUTSIDE, addresses: [`${v.laptopAddress}/${len}`] }],
    routes: [{ to: 'default', via: addressOf(world, 'isp', OUTSIDE) }],
    nameserver: addressOf(world, 'dns', OUTSIDE),
    router: false,
    services: [],
    memoryMb: 128,
  });
  for (const zone of world.settings.zones) {
    if (zone.name === 'bob.example') zone.records.push({ name: 'laptop', type: 'A', value: v.laptopAddress });
    if (zone.name === 'isp.example') zone.records.push({ name: 'alice', type: 'A', value: alicePublic(world) });
  }
  return world;
}

/** What the checks and faults know of the lab's world (overlay and variation applied). */
function facts(world: World) {
  return {
    /** Bob's public address (web.bob.example), DNATed by the edge to the web node. */
    bob: webPublic(world),
    /** The web node's private address in the VPC, and the ftp node's. */
    web: addressOf(world, 'web', 'vpc'),
    ftp: addressOf(world, 'ftp', 'vpc'),
    /** Alice's public address: her home router on the access network. */
    alicePublic: alicePublic(world),
    /** The ISP router on Alice's access network: a neighbour of Alice's, never the admin. */
    ispAccess: addressOf(world, 'isp', 'access'),
    /** The authoritative DNS server: web's resolver, and a stranger on the backbone. */
    dns: addressOf(world, 'dns', OUTSIDE),
    laptop: addressOf(world, LAPTOP_NODE, OUTSIDE),
    backboneLength: world.links.find((l) => l.name === OUTSIDE)?.prefix.split('/')[1] ?? '24',
    free: freeBackbone(world),
  };
}
type Facts = ReturnType<typeof facts>;

function taskCard(v: SgVars, f: Facts): Record<string, string> {
  const who =
    v.adminKind === 'laptop' ? `Bob's laptop (node "${LAPTOP_NODE}")` : "Alice's home network, as the internet sees it";
  return {
    firewall: `Bob's edge (node "edge"), for his web server ${f.web} (public ${f.bob})`,
    allow_web: 'TCP 80 and 443 from anywhere',
    admin_port: `${v.adminPort}`,
    admin_from: v.adminName,
    admin_is: who,
    deny: 'every other connection started from outside',
    outbound: 'the web server may start its own connections (DNS lookups, updates)',
    answers: '/root/answers.yaml with admin_source, dropped_packet, why_stateless',
  };
}

const cardText = (card: Record<string, string>) =>
  Object.entries(card)
    .map(([k, val]) => `${k}: ${val}`)
    .join('\n');

function faults(v: SgVars, world: World): Fault[] {
  const f = facts(world);
  const c = (text: string) => `-m comment --comment ${q(text)}`;
  const edge = [
    // The stateless set "Bob's intern" wrote: each packet is judged on its own, nothing is remembered.
    'iptables -F FORWARD',
    'iptables -P FORWARD DROP',
    `iptables -A FORWARD -i ${OUTSIDE} -d ${f.web} -p tcp --dport 80 ${c('web')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${f.web} -p tcp --dport 443 ${c('web (https)')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${f.web} -p tcp --dport ${v.adminPort} ${c('admin')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${f.web} -p tcp --dport 1024:65535 ${c('answers to the server come back to a high port')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${f.web} -p udp --sport 53 ${c('DNS answers for the server')} -j ACCEPT`,
    FORGET_FLOWS,
    // The edge's own copy of the task card: the reference solution reads the policy there.
    heredoc(FILES.taskCard, cardText(taskCard(v, f))),
  ].join('\n');
  const ports = [v.adminPort, v.privatePort, v.agentPort];
  const web = [
    `mkdir -p ${STATE_DIR} ${FILES.webLogDir}`,
    `od -An -N6 -tx1 /dev/urandom | tr -d ' \\n' > ${TOKEN_FILE}`,
    // HTTPS on 443 only when nothing serves it yet (a later web image may bring its own).
    'https=0',
    'if ! listening tcp 443; then',
    '  https=1',
    `  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=web.bob.example \\`,
    `    -addext subjectAltName=DNS:web.bob.example,DNS:www.bob.example -keyout ${STATE_DIR}/key.pem -out ${STATE_DIR}/cert.pem 2>/dev/null`,
    'fi',
    // The start command runs in a shell of its own: it reads the choice from the environment.
    'export https',
    startScript({
      start: `node ${SERVICES_JS} ${STATE_DIR} ${SERVICE_LOG} ${ports.join(' ')} "$https"`,
      listens: [
        { proto: 'tcp', port: v.adminPort },
        ...[v.privatePort, v.agentPort].flatMap((port) => [
          { proto: 'tcp' as const, port },
          { proto: 'udp' as const, port },
        ]),
        { proto: 'tcp', port: 443 },
      ],
      log: `${FILES.webLogDir}/lab07-services.log`,
      waitSeconds: 10,
    }),
  ].join('\n');
  const laptop = [
    "sed -i 's/^# hurrynet: .*/# hurrynet: Bob\\x27s laptop/' /root/.bashrc",
    `cat >> /root/.bashrc <<'HURRYNET_RC'\nPS1='\\[\\e[1;35m\\]bob\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]# '\nHURRYNET_RC`,
  ].join('\n');
  return [
    { node: 'edge', description: 'a stateless packet filter on the edge, and the task card', script: edge },
    { node: 'web', description: 'the admin, internal and HTTPS services on web', script: web },
    { node: LAPTOP_NODE, description: "the prompt of Bob's laptop", script: laptop },
  ];
}

// ---- probes -------------------------------------------------------------------------------------

interface Attempt {
  label: string;
  /** A shell command; its output and exit code are recorded. */
  command: string;
}

interface Outcome {
  label: string;
  exitCode: number;
  output: string;
}

/** Runs several connection attempts at once on a host (all time out together, not one after another). */
async function attempts(
  host: Host,
  list: Attempt[],
  timeoutMs = 12000,
): Promise<{ outcomes: Map<string, Outcome>; evidence: Evidence }> {
  const script = [
    'd=$(mktemp -d)',
    ...list.map(
      (a, i) =>
        `( out=$( ${a.command} 2>&1 ); rc=$?; printf '%s\\n' "$out" > "$d/${i}.out"; echo "$rc" > "$d/${i}.rc" ) &`,
    ),
    'wait',
    ...list.map((a, i) => `printf '### %s rc=%s\\n' ${q(a.label)} "$(cat "$d/${i}.rc")"; cat "$d/${i}.out"`),
    'rm -rf "$d"',
  ].join('\n');
  const e = await host.run(script, timeoutMs);
  const outcomes = new Map<string, Outcome>();
  for (const block of e.output.split(/^### /m).slice(1)) {
    const m = /^(.*) rc=(-?\d*)\n([\s\S]*)$/.exec(block);
    if (m)
      outcomes.set(m[1] as string, {
        label: m[1] as string,
        exitCode: m[2] === '' ? -1 : Number(m[2]),
        output: (m[3] as string).trim(),
      });
  }
  const shown = list.map((a) => `${a.command}    # ${a.label}`).join('\n');
  const output = list
    .map((a) => {
      const o = outcomes.get(a.label);
      return `${a.label}: ${o ? `${o.output || '(no output)'} [exit ${o.exitCode}]` : '(did not run)'}`;
    })
    .join('\n');
  return {
    outcomes,
    evidence: { ...e, command: shown, output: e.exitCode === 0 ? output : `${output}\n${e.output}`.trim() },
  };
}

const tcpTry = (target: string, port: number, opts: { sport?: number; source?: string } = {}) =>
  `timeout 6 nc -n -w 2${opts.source ? ` -s ${opts.source}` : ''}${opts.sport ? ` -p ${opts.sport}` : ''} ${target} ${port} </dev/null`;
const udpTry = (target: string, port: number, opts: { sport?: number } = {}) =>
  `echo hello | timeout 6 nc -n -u -w 2${opts.sport ? ` -p ${opts.sport}` : ''} ${target} ${port}`;
const httpTry = (bob: string, scheme: 'http' | 'https', opts: { source?: string; tag?: string } = {}) => {
  const port = scheme === 'https' ? 443 : 80;
  const path = opts.tag ? `/?lab07=${opts.tag}` : '/';
  return `curl -sS -m 3${scheme === 'https' ? ' -k' : ''}${opts.source ? ` --interface ${opts.source}` : ''} --resolve web.bob.example:${port}:${bob} ${q(`${scheme}://web.bob.example${path}`)}`;
};

/** The per-start token of the stand-in services, read on web itself. */
async function token(ctx: CheckContext): Promise<{ value?: string; evidence: Evidence }> {
  const e = await ctx.node('web').run(`cat ${TOKEN_FILE}`, 5000);
  const value = e.exitCode === 0 ? e.output.trim() : undefined;
  return {
    value: value || undefined,
    evidence: { ...e, output: value ? '(the per-start token of the lab services)' : e.output },
  };
}

/** Runs a check's body only while the stand-in services run (their token is what proves an answer real). */
async function withToken(
  ctx: CheckContext,
  services: string,
  body: (secret: string) => Promise<Verdict>,
): Promise<Verdict> {
  const secret = await token(ctx);
  if (!secret.value)
    return fail(
      `${services} on web ${services.endsWith('service') ? 'is' : 'are'} not running (no token): restart the lab with --reset`,
      secret.evidence,
    );
  return body(secret.value);
}

/** One outside place to probe from: a node, and the address Bob's side sees for it. */
interface Vantage {
  node: string;
  /** What web sees as the source (after Alice's NAT). */
  seenAs: string;
  /** A local source address to speak from, when not the node's default one. */
  source?: string;
  /** Probe from the grader's own fresh machine on this link instead of the node's namespace. */
  fresh?: string;
  what: string;
}

/** Where a vantage's probes run: the grader's fresh machine, or a clean sidecar in the node's namespace. */
const hostOf = (ctx: CheckContext, w: Vantage): Promise<Host> => (w.fresh ? ctx.fresh(w.fresh) : ctx.probe(w.node));

function vantages(v: SgVars, f: Facts): { admin: Vantage; others: Vantage[]; web: Vantage[] } {
  const alice: Vantage = { node: 'alice', seenAs: f.alicePublic, what: `Alice's laptop (seen as ${f.alicePublic})` };
  const laptop: Vantage = { node: LAPTOP_NODE, seenAs: f.laptop, what: `Bob's laptop (${f.laptop})` };
  const stranger: Vantage = { node: 'dns', seenAs: f.dns, what: `a stranger on the backbone (${f.dns})` };
  const neighbour: Vantage = {
    node: 'isp',
    seenAs: f.ispAccess,
    source: f.ispAccess,
    what: `Alice's neighbour on the access network (${f.ispAccess})`,
  };
  // Alice's home as a place that must be refused: a fresh laptop on her network, not alice herself,
  // whose own rules (an OUTPUT drop of the admin port) the learner controls.
  const aliceHome: Vantage = {
    node: 'alice',
    fresh: 'lan',
    seenAs: f.alicePublic,
    what: `a fresh laptop on Alice's home network (seen as ${f.alicePublic})`,
  };
  const admin = v.adminKind === 'laptop' ? laptop : alice;
  const notAdmin = v.adminKind === 'laptop' ? aliceHome : laptop;
  return { admin, others: [notAdmin, stranger, neighbour], web: [alice, laptop, stranger] };
}

const arrivedFrom = (body: string, who: string) =>
  new RegExp(`arrived from ${who.replace(/\./g, '\\.')}\\.?\\s*$`, 'm').test(body);

/** HTTP or HTTPS from several places: each must get Bob's page, which names the source it saw. */
async function webFromEverywhere(ctx: CheckContext, f: Facts, list: Vantage[], scheme: 'http' | 'https') {
  // Each request carries a tag of its own, so Bob's logs show exactly which ones arrived, and from where.
  const id = nonce();
  const tag = (w: Vantage) => `${id}-${w.node}`;
  const results = await Promise.all(
    list.map(async (w) => {
      const host = await ctx.probe(w.node);
      const r = await attempts(host, [
        { label: `${scheme} from ${w.node}`, command: httpTry(f.bob, scheme, { source: w.source, tag: tag(w) }) },
      ]);
      const o = r.outcomes.get(`${scheme} from ${w.node}`);
      return { w, answered: !!o && o.exitCode === 0 && arrivedFrom(o.output, w.seenAs), evidence: r.evidence };
    }),
  );
  // HTTP is logged by Bob's web server, HTTPS (the stand-in) by the lab's services.
  const log = await ctx
    .node('web')
    .run(`grep -h -- ${q(`lab07=${id}`)} ${FILES.webAccessLog} ${SERVICE_LOG} 2>/dev/null | tail -n 6`, 5000);
  const entries = jsonLines<{ client?: string; path?: string }>(log.output);
  return {
    results: results.map((r) => ({
      ...r,
      logged: entries.some((e) => e.client === r.w.seenAs && (e.path ?? '').includes(tag(r.w))),
    })),
    log: { ...log, command: `grep lab07=${id} ${FILES.webAccessLog} ${SERVICE_LOG}` },
  };
}

/** The verdict of a web check: every place got Bob's page, and Bob's log shows each request from the right source. */
function webVerdict(scheme: string, r: Awaited<ReturnType<typeof webFromEverywhere>>) {
  // The terminal report shows the last pieces of evidence: the failing places go last.
  const ordered = [
    ...r.results.filter((x) => x.answered && x.logged),
    ...r.results.filter((x) => !(x.answered && x.logged)),
  ];
  const evidence = [...ordered.map((x) => x.evidence), r.log];
  const unanswered = r.results.filter((x) => !x.answered);
  if (unanswered.length) {
    evidence.unshift(evidence.pop() as Evidence);
    const hung = unanswered.some((x) => /timed out|exit 28\]/i.test(x.evidence.output));
    const why = hung ? ' (the connection timed out: something drops the handshake or the replies)' : '';
    return fail(
      `no ${scheme} answer from Bob's server for ${unanswered.map((x) => x.w.what).join(', ')}${why}`,
      ...evidence,
    );
  }
  const unlogged = r.results.filter((x) => !x.logged);
  if (unlogged.length)
    return fail(
      `something answered ${unlogged.map((x) => x.w.what).join(', ')}, but Bob's server never logged those requests`,
      ...evidence,
    );
  return pass(
    `${scheme} answered ${r.results.map((x) => x.w.what).join(', ')}, and Bob's server logged each request from that source`,
    ...evidence,
  );
}

/** Web's own answer: the per-start token is in it. */
const banner = (o: Outcome | undefined, secret: string) => !!o && o.output.includes(secret);
/** A TCP connection was made (nc exits 0 once connected), whoever answered it. */
const connected = (o: Outcome | undefined) => !!o && o.exitCode === 0;

// ---- reply-shaped traffic ---------------------------------------------------------------------

/** Source ports a stateless "let the answers in" rule typically trusts: DNS, HTTP, NTP, HTTPS. */
export const REPLY_PORTS = [53, 80, 123, 443] as const;

interface Closed {
  what: string;
  port: number;
  proto: 'tcp' | 'udp';
  /** The node the edge forwards it to (whose capture sees it arrive). */
  node: 'web' | 'ftp';
}

/** Every service that must stay closed to a stranger, TCP and UDP, the high agent port among them. */
export function closedServices(v: SgVars): Closed[] {
  return [
    { what: `the internal service ${v.privatePort}/tcp`, port: v.privatePort, proto: 'tcp', node: 'web' },
    { what: `the monitoring agent ${v.agentPort}/tcp`, port: v.agentPort, proto: 'tcp', node: 'web' },
    { what: `the admin port ${v.adminPort}/tcp`, port: v.adminPort, proto: 'tcp', node: 'web' },
    { what: 'FTP 21/tcp', port: 21, proto: 'tcp', node: 'ftp' },
    { what: `the internal service ${v.privatePort}/udp`, port: v.privatePort, proto: 'udp', node: 'web' },
    { what: `the monitoring agent ${v.agentPort}/udp`, port: v.agentPort, proto: 'udp', node: 'web' },
  ];
}

/** Two backbone addresses for the grader's stranger, new at every check: no rule can name them in advance. */
function strangerAddresses(v: SgVars, f: Facts): [string, string] {
  const free = f.free.filter((a) => a !== v.adminAddress);
  const first = randomInt(free.length);
  const second = (first + 1 + randomInt(free.length - 1)) % free.length;
  return [free[first] as string, free[second] as string];
}

/** The far end's own record: the packet arrived on the node (a SYN by its sequence number, an ACK by its acknowledgement number). */
const arrived = (seen: CapturedPacket[], p: RawResult['packet']) =>
  seen.some(
    (c) =>
      c.dport === p.dport &&
      (p.kind === 'syn' ? c.flags === 'S' && c.seq === p.seq : c.flags === '.' && c.ack === p.ack),
  );

/** "53, 80 and 443" */
const listing = (items: (string | number)[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${String(items.at(-1))}` : String(items[0] ?? '');

/** The grader's hand-made packets: an HTTP SYN as the control, then every reply shape to every closed service. */
function replyShapedPackets(
  services: Closed[],
  synFrom: string,
  ackFrom: string,
): { packets: RawPacket[]; high: number } {
  // A source port below the kernel's client range, picked now (a rule "from any server port" lets it in).
  const high = 1024 + randomInt(32768 - 1024);
  // A TTL and window drawn now too: the stranger may be any number of hops away, any system.
  const look = { ttl: 40 + randomInt(25), window: [29200, 64240, 65535][randomInt(3)] as number };
  const packets: RawPacket[] = [
    { kind: 'syn', source: synFrom, sport: 33000 + randomInt(20000), dport: 80, label: 'control: HTTP', ...look },
  ];
  for (const svc of services) {
    if (svc.proto === 'tcp') {
      for (const sport of [...REPLY_PORTS, high])
        packets.push({ kind: 'syn', source: synFrom, sport, dport: svc.port, label: svc.what, ...look });
      for (const sport of [...REPLY_PORTS, high])
        packets.push({ kind: 'ack', source: ackFrom, sport, dport: svc.port, label: svc.what, ...look });
    } else {
      for (const sport of [53, 123, high])
        packets.push({
          kind: 'udp',
          source: synFrom,
          sport,
          dport: svc.port,
          data: 'hurrynet-probe',
          label: svc.what,
          ...look,
        });
    }
  }
  return { packets, high };
}

/** What got in, per service: a SYN-ACK or a UDP answer came back, or the far end saw the packet arrive. */
function replyLeaks(
  services: Closed[],
  probes: RawResult[],
  seenOn: Record<Closed['node'], CapturedPacket[]>,
  secret: string,
): string[] {
  return services.flatMap((svc) => {
    const mine = probes.filter(({ packet: p }) => p.label === svc.what);
    const seen = seenOn[svc.node];
    const sports = (f: (r: RawResult) => boolean) => mine.filter(f).map((r) => r.packet.sport);
    const parts: string[] = [];
    const synIn = sports(
      (r) => r.packet.kind === 'syn' && (r.answers.some((a) => a.flags === 'sa') || arrived(seen, r.packet)),
    );
    if (synIn.length) parts.push(`a SYN from source port ${listing(synIn)} got through`);
    const ackIn = sports((r) => r.packet.kind === 'ack' && arrived(seen, r.packet));
    if (ackIn.length) parts.push(`a TCP ACK without SYN from source port ${listing(ackIn)} reached ${svc.node}`);
    const udpIn = mine.filter((r) => r.packet.kind === 'udp' && r.answers.some((a) => a.proto === 'udp'));
    if (udpIn.length) {
      const own = udpIn.some((r) => r.answers.some((a) => (a.data ?? '').includes(secret)));
      parts.push(
        `UDP from source port ${listing(udpIn.map((r) => r.packet.sport))} was answered${own ? ' by web' : ''}`,
      );
    }
    return parts.length ? [`${svc.what} (${parts.join(', and ')})`] : [];
  });
}

const repliesCheck = (v: SgVars, f: Facts): Check => ({
  id: 'replies-denied',
  title: 'Reply-shaped packets do not get in either: TCP without SYN, or from source port 53, 80, 123 or 443',
  points: 2,
  deadlineMs: 4000,
  hint: [
    'Packets that only look like replies: a TCP segment without SYN, or one from source port 53, 80, 123 or 443. Anyone can send those. Which of your rules judge a packet by its ports or flags instead of by the connection it belongs to?',
    `From Bob's laptop: hping3 -A -c 1 -s 53 -k -p ${v.agentPort} ${f.bob} (a reset coming back means the bare ACK got through to web) and hping3 -S -c 1 -s 80 -k -p ${v.agentPort} ${f.bob}; on the edge, iptables -S FORWARD shows every --sport, port range, ! --syn or --tcp-flags match.`,
    'On the edge: iptables -I FORWARD 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT, -m conntrack --ctstate NEW on every allow rule, and delete every rule that matches --sport, a high port range or ! --syn; then conntrack -F.',
  ],
  run: (ctx) =>
    withToken(ctx, 'the services', async (secret) => {
      const services = closedServices(v);
      const outside = await ctx.fresh(OUTSIDE);
      const [synFrom, ackFrom] = strangerAddresses(v, f);
      const len = f.backboneLength;
      // Two addresses, so that a SYN and an ACK with the same ports are two flows, not one.
      const add = await outside.run(
        `ip addr add ${synFrom}/${len} dev eth0 && ip addr add ${ackFrom}/${len} dev eth0`,
        5000,
      );
      if (add.exitCode !== 0)
        return inconclusive("the grader's machine on the backbone could not take its addresses", add);
      try {
        const witness = (node: 'web' | 'ftp', self: string) =>
          startCapture(ctx.node(node), `inbound and tcp and not src host ${self} and not src net 127.0.0.0/8`, {
            maxSeconds: Math.ceil(40 * ctx.timeScale),
          });
        const [webCap, ftpCap] = await Promise.all([witness('web', f.web), witness('ftp', f.ftp)]);
        if (!webCap.ok || !ftpCap.ok) {
          await Promise.all([webCap.stop(), ftpCap.stop()]);
          return inconclusive(
            'the grader could not watch the packets arrive on web and ftp',
            webCap.evidence,
            ftpCap.evidence,
          );
        }
        const { packets, high } = replyShapedPackets(services, synFrom, ackFrom);
        const sent = await rawPackets(outside, f.bob, packets, { listenMs: Math.round(1500 * ctx.timeScale) });
        const keep = (node: 'web' | 'ftp') =>
          sent.results.flatMap(({ packet: p }) => {
            const svc = services.find((x) => x.port === p.dport && x.proto === 'tcp');
            const to = p.dport === 80 && p.label?.startsWith('control') ? 'web' : svc?.node;
            return to !== node || p.kind === 'udp' ? [] : [p.kind === 'syn' ? `seq ${p.seq},` : `ack ${p.ack},`];
          });
        const [onWeb, onFtp] = await Promise.all([webCap.stop(keep('web')), ftpCap.stop(keep('ftp'))]);
        const evidence = [sent.evidence, onWeb.evidence, onFtp.evidence];
        const [control, ...probes] = sent.results;
        const leaks = replyLeaks(services, probes, { web: onWeb.packets, ftp: onFtp.packets }, secret);
        if (leaks.length) {
          return fail(
            `reply-shaped packets from a stranger on the backbone got in: ${leaks.join('; ')}. A stateless rule that takes packets for replies because of their source port, or because they carry no SYN, lets in anyone who sends such packets; only conntrack knows a real reply (ESTABLISHED,RELATED)`,
            ...evidence,
          );
        }
        if (!control?.answers.some((a) => a.flags === 'sa'))
          return fail(
            `HTTP gets no answer for a stranger on the backbone (${synFrom}) either, so the silence of the other ports proves nothing`,
            ...evidence,
          );
        if (!arrived(onWeb.packets, control.packet)) {
          return fail(
            `port 80 answered a stranger on the backbone (${synFrom}), but web never saw that SYN arrive: something other than Bob's server answers, so the silence of the other ports proves nothing`,
            ...evidence,
          );
        }
        return pass(
          `none of ${probes.length} reply-shaped packets (SYN and bare ACK from source ports ${listing([...REPLY_PORTS, high])}, UDP from 53, 123 and ${high}) got in to ${services.length} closed services, while HTTP answered the same stranger`,
          ...evidence,
        );
      } finally {
        await outside.run(`ip addr del ${synFrom}/${len} dev eth0; ip addr del ${ackFrom}/${len} dev eth0; true`, 5000);
      }
    }),
});

// ---- checks -----------------------------------------------------------------------------------

const webCheck = (
  f: Facts,
  from: Vantage[],
  scheme: 'http' | 'https',
  spec: { id: string; title: string; points: number; hint: Hints },
): Check => ({
  ...spec,
  deadlineMs: 6000,
  async run(ctx) {
    return webVerdict(scheme.toUpperCase(), await webFromEverywhere(ctx, f, from, scheme));
  },
});

const adminAllowedCheck = (v: SgVars, f: Facts, admin: Vantage): Check => ({
  id: 'admin-allowed',
  title: `The admin port ${v.adminPort} answers ${v.adminKind === 'laptop' ? "Bob's laptop" : "Alice's home"} (${v.adminName})`,
  points: 2,
  deadlineMs: 5000,
  hint: [
    `The admin port ${v.adminPort} from ${v.adminName}, the one source your task card names: which address does the edge see for it, and does a rule let new connections from that address in?`,
    `dig +short ${v.adminName} gives the address; iptables -S FORWARD on the edge; test from there: nc -v -w 3 ${f.bob} ${v.adminPort} (Bob's laptop: npx hurrynet shell bob).`,
    `On the edge: iptables -A FORWARD -i backbone -s <that address> -d ${f.web} -p tcp --dport ${v.adminPort} -m conntrack --ctstate NEW -j ACCEPT, after the ESTABLISHED,RELATED rule.`,
  ],
  run: (ctx) =>
    withToken(ctx, 'the admin service', async (secret) => {
      const host = await ctx.probe(admin.node);
      const label = `admin port from ${admin.node}`;
      const r = await attempts(host, [{ label, command: tcpTry(f.bob, v.adminPort, { source: admin.source }) }]);
      const o = r.outcomes.get(label);
      if (banner(o, secret)) {
        // Web's own record of that session must show the admin address as its source.
        const session = /session ([0-9a-f]+)/.exec(o?.output ?? '')?.[1] ?? 'none';
        const log = await ctx.node('web').run(`grep -h -- ${q(`"session":"${session}"`)} ${SERVICE_LOG}`, 5000);
        const entry = jsonLines<{ client?: string; service?: string }>(log.output)[0];
        if (entry?.client !== admin.seenAs || entry.service !== 'admin') {
          return fail(
            `the admin banner came back, but web's admin service has no record of session ${session} from ${admin.seenAs}`,
            r.evidence,
            log,
          );
        }
        return pass(
          `${admin.what} got the admin banner, and web logged session ${session} from ${admin.seenAs}`,
          r.evidence,
          log,
        );
      }
      if (connected(o))
        return fail(
          `something answered ${admin.what} on port ${v.adminPort}, but not Bob's admin service on web`,
          r.evidence,
        );
      return fail(`${admin.what} gets no answer on port ${v.adminPort}`, r.evidence);
    }),
});

const adminDeniedCheck = (v: SgVars, f: Facts, others: Vantage[]): Check => ({
  id: 'admin-denied',
  title: `The admin port ${v.adminPort} refuses everyone else (while their HTTP still works)`,
  points: 2,
  deadlineMs: 4000,
  hint: [
    `Everyone else who can reach the admin port ${v.adminPort}: Bob's laptop, Alice's home, other machines on the backbone. Only ${v.adminName} may; does the rule that opens it name one source address, or none?`,
    `iptables -S FORWARD on the edge: the admin rule needs -s with one address. Test from Bob's laptop (npx hurrynet shell bob) and from alice: nc -v -w 3 ${f.bob} ${v.adminPort}.`,
    `On the edge, delete every rule that opens port ${v.adminPort} without -s (iptables -D FORWARD N, N from iptables -L FORWARD --line-numbers), keep one with -s <the admin address> -p tcp --dport ${v.adminPort} -m conntrack --ctstate NEW -j ACCEPT, and let the DROP policy refuse the rest.`,
  ],
  run: (ctx) =>
    withToken(ctx, 'the admin service', async (secret) => {
      const results = await Promise.all(
        others.map(async (w) => {
          const host = await hostOf(ctx, w);
          const place = w.fresh ? host.where : w.node;
          const r = await attempts(host, [
            { label: `admin port from ${place}`, command: tcpTry(f.bob, v.adminPort, { source: w.source }) },
            { label: `http from ${place} (control)`, command: httpTry(f.bob, 'http', { source: w.source }) },
          ]);
          const o = r.outcomes.get(`admin port from ${place}`);
          const got = banner(o, secret) || connected(o);
          const control = r.outcomes.get(`http from ${place} (control)`);
          return {
            w,
            got,
            controlOk: !!control && control.exitCode === 0 && arrivedFrom(control.output, w.seenAs),
            evidence: r.evidence,
          };
        }),
      );
      const evidence = [
        ...results.filter((r) => !r.got && r.controlOk),
        ...results.filter((r) => r.got || !r.controlOk),
      ].map((r) => r.evidence);
      const open = results.filter((r) => r.got);
      if (open.length)
        return fail(
          `the admin port answered ${open.map((r) => r.w.what).join(', ')}: only ${v.adminName} may reach it`,
          ...evidence,
        );
      const blind = results.filter((r) => !r.controlOk);
      if (blind.length) {
        return fail(
          `nothing can be judged from ${blind.map((r) => r.w.what).join(', ')}: HTTP does not work from there either, so a silent admin port proves nothing`,
          ...evidence,
        );
      }
      return pass(`refused for ${results.map((r) => r.w.what).join(', ')}, whose HTTP works`, ...evidence);
    }),
});

const restDeniedCheck = (v: SgVars, f: Facts): Check => ({
  id: 'rest-denied',
  title: 'Nothing else gets in: not the internal services, not FTP, not with a "reply" source port',
  points: 2,
  deadlineMs: 4000,
  hint: [
    'The rules a stateless filter needs for "replies" (every high port, anything from source port 53): who else can send packets that match them? The services on web that only the VPC may use sit right behind them.',
    `ss -ltnu on web lists what it listens on; from Bob's laptop: nc -v -w 3 ${f.bob} <port>, the same with -p 53 (a source port) and with -u (UDP); iptables -L FORWARD -n -v on the edge shows which rule's counter rose.`,
    'On the edge, delete the "high port" and "source port 53" rules (iptables -D FORWARD N), let replies in by their connection with iptables -I FORWARD 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT, allow only the new connections the policy names, then conntrack -F.',
  ],
  run: (ctx) =>
    withToken(ctx, 'the internal services', async (secret) => {
      const { privatePort, agentPort } = v;
      const [laptop, stranger, inside] = await Promise.all([
        ctx.probe(LAPTOP_NODE),
        ctx.probe('dns'),
        ctx.probe('web'),
      ]);
      const fromLaptop: Attempt[] = [
        { label: `tcp ${privatePort}`, command: tcpTry(f.bob, privatePort) },
        ...[53, 80, 443].map((sport) => ({
          label: `tcp ${privatePort} from source port ${sport}`,
          command: tcpTry(f.bob, privatePort, { sport }),
        })),
        { label: `udp ${privatePort}`, command: udpTry(f.bob, privatePort) },
        { label: `udp ${privatePort} from source port 53`, command: udpTry(f.bob, privatePort, { sport: 53 }) },
        { label: `tcp ${agentPort}`, command: tcpTry(f.bob, agentPort) },
        { label: `udp ${agentPort}`, command: udpTry(f.bob, agentPort) },
        { label: 'ftp (tcp 21)', command: tcpTry(f.bob, 21) },
        { label: 'http (control)', command: httpTry(f.bob, 'http') },
      ];
      const fromStranger: Attempt[] = [
        { label: `tcp ${privatePort}`, command: tcpTry(f.bob, privatePort) },
        { label: `tcp ${privatePort} from source port 80`, command: tcpTry(f.bob, privatePort, { sport: 80 }) },
        { label: `udp ${agentPort}`, command: udpTry(f.bob, agentPort) },
      ];
      const fromInside: Attempt[] = [
        { label: `tcp ${privatePort} inside the VPC (control)`, command: tcpTry(f.web, privatePort) },
        { label: `udp ${agentPort} inside the VPC (control)`, command: udpTry(f.web, agentPort) },
      ];
      const [a, b, c] = await Promise.all([
        attempts(laptop, fromLaptop),
        attempts(stranger, fromStranger),
        attempts(inside, fromInside),
      ]);
      const evidence = [c.evidence, b.evidence, a.evidence];
      // A TCP connection that completes, or a UDP answer from web, is a way in.
      const got = (o: Outcome) =>
        banner(o, secret) || (o.label.startsWith('tcp') || o.label.startsWith('ftp') ? connected(o) : false);
      const leaks = [
        ...[...a.outcomes.values()]
          .filter((o) => !o.label.endsWith('(control)') && got(o))
          .map((o) => `${o.label} from Bob's laptop`),
        ...[...b.outcomes.values()].filter(got).map((o) => `${o.label} from ${f.dns}`),
      ];
      if (leaks.length) {
        const table =
          ' (if you only just tightened the rules: flows the old rules let in stay in the edge\'s connection table for a while; see "conntrack -L", clear it with "conntrack -F")';
        return fail(`these got in from outside: ${leaks.join('; ')}${table}`, ...evidence);
      }
      const local = [...a.outcomes.values(), ...b.outcomes.values()].filter((o) =>
        /already in use|cannot assign/i.test(o.output),
      );
      if (local.length)
        return fail(
          `a probe could not use its source port (${local.map((o) => o.label).join(', ')}); run the check again in a minute`,
          ...evidence,
        );
      const alive = [...c.outcomes.values()].every((o) => banner(o, secret));
      if (!alive)
        return fail(
          'the internal services on web do not answer inside the VPC either, so a silence from outside proves nothing',
          ...evidence,
        );
      const control = a.outcomes.get('http (control)');
      if (!control || control.exitCode !== 0)
        return fail("HTTP from Bob's laptop does not work either, so the silence proves nothing", ...evidence);
      return pass(
        'every other connection from outside was refused, while HTTP works and the internal services answer inside the VPC',
        ...evidence,
      );
    }),
});

/** Starts a TCP and a UDP listener on Bob's laptop that answer once with `id`; they outlive the attempts from web. */
async function laptopListeners(ctx: CheckContext, id: string, tport: number, uport: number): Promise<Evidence> {
  const onLaptop = await ctx.probe(LAPTOP_NODE);
  // The listeners must outlive the attempts from web, which a loaded machine delays.
  const life = Math.ceil(30 * ctx.timeScale);
  return onLaptop.run(
    [
      `(echo ${id}-tcp | timeout ${life} nc -l -n -N -w 3 -p ${tport} >/dev/null 2>&1 &)`,
      `(echo ${id}-udp | timeout ${life} nc -u -l -n -w 3 -p ${uport} >/dev/null 2>&1 &)`,
      `for i in $(seq 1 50); do ss -Hltn "sport = :${tport}" | grep -q . && ss -Hlun "sport = :${uport}" | grep -q . && exit 0; sleep 0.1; done; exit 1`,
    ].join('\n'),
    8000,
  );
}

const outboundCheck = (f: Facts): Check => ({
  id: 'outbound',
  title: "Bob's server can start its own connections (DNS, and to Bob's laptop over TCP and UDP) and gets the answers",
  points: 2,
  deadlineMs: 6000,
  hint: [
    "Bob's server starting connections of its own (DNS lookups, to Bob's laptop): they leave through the edge, and their answers come back on the backbone side from ports that no rule can know in advance.",
    `On web: dig @${f.dns} web.bob.example and dig +tcp @${f.dns} web.bob.example; on the edge, conntrack -L while they run, and iptables -L FORWARD -n -v to see which rule drops the answers.`,
    'On the edge: iptables -A FORWARD -i vpc -o backbone -m conntrack --ctstate NEW -j ACCEPT, with iptables -I FORWARD 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT before it for the answers.',
  ],
  async run(ctx) {
    const fromWeb = await ctx.probe('web');
    const id = nonce();
    // Ports and a nonce chosen now, on Bob's laptop: no rule written in advance can name them.
    const tport = 10000 + randomInt(20000);
    const uport = tport === 29999 ? 10000 : tport + 1;
    const listen = await laptopListeners(ctx, id, tport, uport);
    if (listen.exitCode !== 0) return fail("the grader could not start its listeners on Bob's laptop", listen);
    const r = await attempts(fromWeb, [
      { label: 'dns over udp', command: `dig +time=2 +tries=1 +nocookie @${f.dns} lab07-udp-${id}.bob.example A` },
      { label: 'dns over tcp', command: `dig +tcp +time=2 +tries=1 +nocookie @${f.dns} lab07-tcp-${id}.bob.example A` },
      {
        label: `tcp to Bob's laptop port ${tport}`,
        command: `echo hello | timeout 6 nc -n -N -w 3 ${f.laptop} ${tport}`,
      },
      {
        label: `udp to Bob's laptop port ${uport}`,
        command: `echo hello | timeout 6 nc -n -u -w 2 ${f.laptop} ${uport}`,
      },
    ]);
    const answered = (o?: Outcome) => !!o && /status: (NOERROR|NXDOMAIN)/.test(o.output);
    const results = [
      { what: 'DNS over UDP', ok: answered(r.outcomes.get('dns over udp')) },
      { what: 'DNS over TCP', ok: answered(r.outcomes.get('dns over tcp')) },
      {
        what: `TCP to Bob's laptop (port ${tport})`,
        ok: !!r.outcomes.get(`tcp to Bob's laptop port ${tport}`)?.output.includes(`${id}-tcp`),
      },
      {
        what: `UDP to Bob's laptop (port ${uport})`,
        ok: !!r.outcomes.get(`udp to Bob's laptop port ${uport}`)?.output.includes(`${id}-udp`),
      },
    ];
    const shortDig = (o?: Outcome) =>
      o ? (/status: \w+/.exec(o.output)?.[0] ?? o.output.split('\n').filter(Boolean).slice(-1)[0] ?? '') : 'nothing';
    const summary = [...r.outcomes.values()].map(
      (o) => `${o.label}: ${o.label.startsWith('dns') ? shortDig(o) : o.output || '(no answer)'} [exit ${o.exitCode}]`,
    );
    const evidence: Evidence = { ...r.evidence, output: summary.join('\n') };
    const bad = results.filter((x) => !x.ok);
    if (bad.length)
      return fail(`web started these but never got the answers: ${bad.map((x) => x.what).join(', ')}`, evidence);
    const log = await ctx
      .node('dns')
      .run(`grep -E ${q(`lab07-(udp|tcp)-${id}`)} ${FILES.bindQueryLog} | tail -n 4`, 5000);
    const seen = log.output.split('\n').filter((l) => l.includes(`${f.bob}#`));
    if (seen.length < 2)
      return fail(`the dns server's query log does not show both queries arriving from ${f.bob}`, evidence, log);
    return pass(
      `all four got their answers; the dns server logged both queries from ${f.bob} (the edge's NAT)`,
      evidence,
      log,
    );
  },
});

const adminAnswer = (v: SgVars): Check =>
  answerCheck({
    id: 'answer-admin',
    title: 'answers.yaml: the address admin access is allowed from',
    points: 1,
    key: 'admin_source',
    about: `the address the edge sees for ${v.adminName}`,
    hint: [
      `The admin on your task card, ${v.adminName}, as Bob's edge sees it. For Alice's home that is what the internet sees, not her laptop's own address.`,
      `dig +short ${v.adminName} (on alice or on the edge).`,
      'In /root/answers.yaml, admin_source is that address alone, without a prefix length.',
    ],
    async expected(ctx) {
      const [node, link] = v.adminKind === 'laptop' ? [LAPTOP_NODE, OUTSIDE] : ['home', 'access'];
      const r = await interfaceAddress(ctx.node(node), link);
      return { value: r.address, evidence: [r.evidence] };
    },
    matches: (given, want) => bare(given.trim()) === want,
  });

const droppedAnswer = keywordCheck({
  id: 'answer-dropped',
  title: 'answers.yaml: the packet of the TCP handshake the stateless rules dropped',
  points: 1,
  key: 'dropped_packet',
  hint: [
    'The three packets of a TCP handshake under the old stateless rules: which one came back from the server on the vpc side of the edge, and never left on the backbone side?',
    'Under the old rules (npx hurrynet lab 7 --reset brings them back), tcpdump -ni any tcp port 80 on the edge while alice runs curl; tcpdump writes a SYN as [S], a SYN-ACK as [S.], an ACK as [.].',
    'In /root/answers.yaml, dropped_packet is the name TCP gives that packet: SYN, SYN-ACK or ACK.',
  ],
  test: (a) => /syn\W{0,3}ack|synack|\[s\.\]/i.test(a) && !/^\s*syn\s*$/i.test(a),
  wrong: 'that is not the packet the old rules dropped',
});

/** The ideas a good "why did the replies die" answer links: what happened to them, and what a stateless filter lacks. */
export const WHY_CONCEPTS: Concept[] = [
  {
    idea: 'what happened to the replies (the SYN-ACK, the return traffic)',
    patterns: [
      /\b(repl(y|ies|ied)|return(ing|ed)?|respon[sd]\w*|answers?|way back|coming back|came back|goes back|going back|back out|other direction|both directions?)\b/i,
      /syn\W{0,3}ack|synack|\[s\.\]/i,
    ],
  },
  {
    idea: 'that a stateless filter judges each packet alone and remembers no connection',
    patterns: [
      /\b(state(less|ful)?|conntrack|connection track\w*|track(s|ing|ed)?|remember\w*|memory|establish\w*|related)\b/i,
      /\b(each|every|single|one) packet\b|\b(alone|on its own|by itself|in isolation|independent\w*|own merits?)\b/i,
      /\b(does not|doesn'?t|didn'?t|did not|cannot|can'?t|never) (know|see|link|tell|connect|associate|relate|recogni[sz]e)\b/i,
    ],
  },
];

const whyAnswer = rubricCheck({
  id: 'answer-why',
  title: 'answers.yaml: in one sentence, why the stateless rules broke the replies',
  points: 1,
  required: false,
  key: 'why_stateless',
  hint: [
    "The moment the server's reply reaches the edge on the vpc side: what does a stateless filter know about it then, and what would conntrack remember about the connection it belongs to?",
    'iptables -S FORWARD under the old rules: which rule matches a packet that leaves web from port 80 towards Alice? tcpdump -ni any tcp port 80 on the edge shows where that packet stops.',
    'In /root/answers.yaml, why_stateless: one sentence in your own words that links the two: what happened to the replies, and why a filter that judges each packet alone, with no memory of the connection, did that.',
  ],
  concepts: WHY_CONCEPTS,
});

function checks(v: SgVars, world: World): Check[] {
  const f = facts(world);
  const { admin, others, web } = vantages(v, f);
  return [
    webCheck(f, web, 'http', {
      id: 'http',
      title: `HTTP (port 80) reaches Bob's server from anywhere`,
      points: 2,
      hint: [
        "Bob's edge, between the backbone and his VPC: a connection that hangs means a packet of the handshake is dropped in silence, on the way in or on the way back. Compare what arrives on one side of the edge with what leaves on the other.",
        'From alice: curl -v -m 5 http://web.bob.example/ (a timeout, not a refusal); on the edge, tcpdump -ni any tcp port 80 shows the handshake on backbone and on vpc: look for the packet that comes back from the server on vpc but never leaves on backbone. iptables -L FORWARD -n -v --line-numbers shows which rules count packets.',
        `On the edge, let the answers of every connection back with iptables -I FORWARD 1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT, and let new web connections in with iptables -A FORWARD -i backbone -d ${f.web} -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT.`,
      ],
    }),
    webCheck(f, web, 'https', {
      id: 'https',
      title: `HTTPS (port 443) reaches Bob's server from anywhere`,
      points: 1,
      hint: [
        'HTTPS is port 443 on the same server: the edge must let its first packet in from anywhere, and its replies back out, just as for port 80.',
        'From alice: curl -vk -m 5 https://web.bob.example/ (-k: the stand-in certificate is self-signed); on the edge, iptables -S FORWARD: is there a rule for 443 at all?',
        `On the edge: iptables -A FORWARD -i backbone -d ${f.web} -p tcp --dport 443 -m conntrack --ctstate NEW -j ACCEPT (or one multiport rule for 80,443), with the ESTABLISHED,RELATED rule first.`,
      ],
    }),
    adminAllowedCheck(v, f, admin),
    adminDeniedCheck(v, f, others),
    restDeniedCheck(v, f),
    repliesCheck(v, f),
    outboundCheck(f),
    adminAnswer(v),
    droppedAnswer,
    whyAnswer,
  ];
}

export default defineLab<SgVars>({
  number: 7,
  slug: 'security-groups',
  title: 'Security groups: stateless vs stateful filtering',
  topics: ['firewall', 'security group', 'stateless vs stateful', 'conntrack', 'iptables', 'TCP handshake', 'NAT'],
  minutes: 40,
  goal: "Replace the stateless packet filter on Bob's edge with a stateful security group: HTTP and HTTPS from anywhere, the admin port from one address only, the server's own connections out, and nothing else in.",
  submissionNodes: ['edge', 'alice'],
  questions: [
    { key: 'admin_source', prompt: 'The address admin access is allowed from (as the edge sees it)' },
    { key: 'dropped_packet', prompt: 'The packet of the TCP handshake that the stateless rules dropped' },
    { key: 'why_stateless', prompt: 'In one sentence: why the stateless rules broke the replies' },
  ],
  vary,
  // The card of this learner's world (the overlay only adds the laptop; the addresses are read from it).
  task: (v) => taskCard(v, facts(overlay(structuredClone(canonicalWorld), v))),
  overlay,
  faults,
  checks,
});
