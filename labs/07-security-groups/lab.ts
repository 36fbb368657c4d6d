// Lab 07: security groups, stateless vs stateful filtering. Bob's edge starts with a STATELESS
// packet filter (every packet judged alone, FORWARD policy DROP): the SYN of a visitor is let in
// but the server's SYN-ACK is dropped on the way out, the server's own DNS lookups never leave,
// and the "reply" rules it has (every high port, anything from UDP source port 53) are holes. The
// learner replaces it with a stateful set built on conntrack: HTTP and HTTPS from anywhere, an
// SSH-like admin port from exactly one address, outbound connections from the server, nothing else.
//
// The overlay adds Bob's laptop (node "bob") on the backbone, with a name in DNS; per seed the admin
// address is the laptop's or Alice's public address, and the admin and internal ports vary. Faults
// start an admin stand-in, an internal service (TCP and UDP) and an HTTPS stand-in on web, each
// answering with a per-start token that only the real web node knows.
//
// Graded only by which real connections succeed, from clean sidecar probes in five places (alice
// behind her NAT, Bob's laptop, the dns node, the ISP router speaking from Alice's access network,
// web itself going out), with far-end evidence (the token in each banner, the address web says the
// request came from, the dns node's query log). The edge's rules are shown as evidence, never judged.
import { randomBytes, randomInt } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode, type Node, type World } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { answerCheck, keywordCheck } from '../../checks/answers.js';
import { q } from '../../checks/probes.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;
const addressOn = (node: Node | undefined, link: string) => bare(node?.interfaces.find((i) => i.link === link)?.addresses[0] ?? '');

const edgeNode = findNode(canonicalWorld, 'edge');
const webNode = findNode(canonicalWorld, 'web');
const homeNode = findNode(canonicalWorld, 'home');
const ispNode = findNode(canonicalWorld, 'isp');
const dnsNode = findNode(canonicalWorld, 'dns');
const backbone = canonicalWorld.links.find((l) => l.name === 'backbone');
const webRecord = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!edgeNode?.firewall || !webNode || !homeNode || !ispNode || !dnsNode || !backbone || !webRecord) {
  throw new Error('lab 07: the world lacks the edge firewall, the web/home/isp/dns nodes, the backbone or web.bob.example');
}

/** Bob's public address (web.bob.example), DNATed by the edge to the web node. */
export const BOB_PUBLIC = webRecord.value;
/** The web node's private address in the VPC. */
export const WEB = addressOn(webNode, 'vpc');
/** Alice's public address: her home router on the access network (what Bob's side sees). */
export const ALICE_PUBLIC = addressOn(homeNode, 'access');
/** The ISP router on Alice's access network: a neighbour of Alice's, never the admin. */
export const ISP_ACCESS = addressOn(ispNode, 'access');
/** The ISP router on the backbone: the default gateway of everything on it. */
export const ISP_BACKBONE = addressOn(ispNode, 'backbone');
/** The authoritative DNS server: web's resolver, and a stranger on the backbone. */
export const DNS = addressOn(dnsNode, 'backbone');
export const BACKBONE_PREFIX = backbone.prefix;
/** The edge's link where outside traffic arrives. */
const OUTSIDE = 'backbone';

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

const octets = (a: string) => a.split('.').map(Number);
const usedOnBackbone = new Set(
  canonicalWorld.nodes.flatMap((n) => n.interfaces.filter((i) => i.link === 'backbone').flatMap((i) => i.addresses.map(bare))),
);
/** Host numbers on the backbone that no node uses (the laptop gets one of them). */
export const FREE_HOSTS = Array.from({ length: 240 }, (_, i) => i + 10).filter((h) => {
  const b = octets(bare(BACKBONE_PREFIX));
  return !usedOnBackbone.has(`${b[0]}.${b[1]}.${b[2]}.${h}`);
});

const STATE_DIR = '/run/hurrynet-lab07';
const TOKEN_FILE = `${STATE_DIR}/token`;
const SERVICE_LOG = '/var/log/web/lab07.log';
const ACCESS_LOG = '/var/log/web/access.log';
const QUERY_LOG = '/var/log/named/queries.log';

// ---- variation --------------------------------------------------------------------------------

function vary(rng: Rng): Vars {
  // Every value is drawn for every seed, so the sequence of draws never depends on earlier picks.
  const adminKind = rng.pick(ADMIN_KINDS);
  const adminPort = rng.pick(ADMIN_PORTS);
  const privatePort = rng.pick(PRIVATE_PORTS);
  const host = rng.pick(FREE_HOSTS);
  const agentPort = rng.int(AGENT_PORT_RANGE[0], AGENT_PORT_RANGE[1]);
  const b = octets(bare(BACKBONE_PREFIX));
  const laptopAddress = `${b[0]}.${b[1]}.${b[2]}.${host}`;
  const admin = adminKind === 'laptop';
  return {
    adminKind,
    adminPort,
    privatePort,
    agentPort,
    laptopAddress,
    adminName: admin ? LAPTOP_NAME : ALICE_NAME,
    adminAddress: admin ? laptopAddress : ALICE_PUBLIC,
  };
}

/** Bob's laptop on the backbone, and DNS names for it and for Alice's public address. */
function overlay(world: World, v: Vars): World {
  const len = BACKBONE_PREFIX.split('/')[1] ?? '24';
  world.nodes.push({
    name: LAPTOP_NODE,
    title: "Bob's laptop (out on the internet)",
    role: 'alice',
    interfaces: [{ link: 'backbone', addresses: [`${String(v.laptopAddress)}/${len}`] }],
    routes: [{ to: 'default', via: ISP_BACKBONE }],
    nameserver: DNS,
    router: false,
    services: [],
    memoryMb: 128,
  });
  for (const zone of world.settings.zones) {
    if (zone.name === 'bob.example') zone.records.push({ name: 'laptop', type: 'A', value: String(v.laptopAddress) });
    if (zone.name === 'isp.example') zone.records.push({ name: 'alice', type: 'A', value: ALICE_PUBLIC });
  }
  return world;
}

function taskCard(v: Vars): Record<string, string> {
  const who = v.adminKind === 'laptop' ? `Bob's laptop (node "${LAPTOP_NODE}")` : "Alice's home network, as the internet sees it";
  return {
    firewall: `Bob's edge (node "edge"), for his web server ${WEB} (public ${BOB_PUBLIC})`,
    allow_web: 'TCP 80 and 443 from anywhere',
    admin_port: String(v.adminPort),
    admin_from: String(v.adminName),
    admin_is: who,
    deny: 'every other connection started from outside',
    outbound: 'the web server may start its own connections (DNS lookups, updates)',
    answers: '/root/answers.yaml with admin_source, dropped_packet, why_stateless',
  };
}

// The stand-in services on web, written by the fault. One node process: the admin port (an
// SSH-like banner), the internal service and the monitoring agent (each a TCP banner and a UDP
// echo), and HTTPS on 443 when nothing serves it yet. Every answer carries the per-start token,
// and every TCP session an id that web logs with the source address, so a fake answer shows.
const SERVICES_JS = String.raw`'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const dgram = require('dgram');
const https = require('https');
const [adminPort, privatePort, agentPort, withHttps] = process.argv.slice(2).map(Number);
const dir = '${STATE_DIR}';
const token = fs.readFileSync(dir + '/token', 'utf8').trim();
const log = fs.createWriteStream('${SERVICE_LOG}', { flags: 'a' });
const peer = (a) => String(a || '').replace(/^::ffff:/, '');
const note = (service, port, client, path) => log.write(JSON.stringify({ time: new Date().toISOString(), service, port, client, path }) + '\n');
function tcp(port, service, banner) {
  net.createServer((s) => {
    s.on('error', () => {});
    // A session id of its own for every connection, logged with the source address that arrived.
    const session = crypto.randomBytes(4).toString('hex');
    log.write(JSON.stringify({ time: new Date().toISOString(), service, port, client: peer(s.remoteAddress), session }) + '\n');
    s.end(banner + ' session ' + session + '\r\n');
  }).listen(port, '0.0.0.0');
}
function udp(port, service, banner) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, from) => {
    note(service, port, from.address);
    sock.send(banner + '\n', from.port, from.address);
  });
  sock.bind(port, '0.0.0.0');
}
tcp(adminPort, 'admin', 'SSH-2.0-BobAdmin_1.0 ' + token);
tcp(privatePort, 'internal', 'BOB-INTERNAL ' + token + ' (for the VPC only)');
udp(privatePort, 'internal', 'BOB-INTERNAL ' + token + ' (for the VPC only)');
tcp(agentPort, 'agent', 'BOB-AGENT ' + token + ' (for the VPC only)');
udp(agentPort, 'agent', 'BOB-AGENT ' + token + ' (for the VPC only)');
if (withHttps) {
  https.createServer({ key: fs.readFileSync(dir + '/key.pem'), cert: fs.readFileSync(dir + '/cert.pem') }, (req, res) => {
    const client = peer(req.socket.remoteAddress);
    note('https', 443, client, req.url);
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('Server', 'bob-web');
    res.end("Hello from Bob's web server over HTTPS (web.bob.example).\nYour request arrived from " + client + '.\n');
  }).listen(443, '0.0.0.0');
}
`;

function faults(v: Vars): Fault[] {
  const adminPort = Number(v.adminPort);
  const privatePort = Number(v.privatePort);
  const agentPort = Number(v.agentPort);
  const card = Object.entries(taskCard(v))
    .map(([k, val]) => `${k}: ${val}`)
    .join('\n');
  const c = (text: string) => `-m comment --comment ${q(text)}`;
  const edge = [
    // The stateless set "Bob's intern" wrote: each packet is judged on its own, nothing is remembered.
    'iptables -F FORWARD',
    'iptables -P FORWARD DROP',
    `iptables -A FORWARD -i ${OUTSIDE} -d ${WEB} -p tcp --dport 80 ${c('web')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${WEB} -p tcp --dport 443 ${c('web (https)')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${WEB} -p tcp --dport ${adminPort} ${c('admin')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${WEB} -p tcp --dport 1024:65535 ${c('answers to the server come back to a high port')} -j ACCEPT`,
    `iptables -A FORWARD -i ${OUTSIDE} -d ${WEB} -p udp --sport 53 ${c('DNS answers for the server')} -j ACCEPT`,
    'conntrack -F >/dev/null 2>&1 || true',
    `cat > /root/TASK.txt <<'HURRYNET_TASK'\n${card}\nHURRYNET_TASK`,
  ].join('\n');
  const web = [
    `mkdir -p ${STATE_DIR} /var/log/web`,
    `od -An -N6 -tx1 /dev/urandom | tr -d ' \\n' > ${TOKEN_FILE}`,
    `cat > ${STATE_DIR}/services.js <<'HURRYNET_JS'\n${SERVICES_JS}HURRYNET_JS`,
    // HTTPS on 443 only when nothing serves it yet (a later web image may bring its own).
    'https=0',
    'if ! listening tcp 443; then',
    '  https=1',
    `  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=web.bob.example \\`,
    `    -addext subjectAltName=DNS:web.bob.example,DNS:www.bob.example -keyout ${STATE_DIR}/key.pem -out ${STATE_DIR}/cert.pem 2>/dev/null`,
    'fi',
    `setsid nohup node ${STATE_DIR}/services.js ${adminPort} ${privatePort} ${agentPort} "$https" >>/var/log/web/lab07-services.log 2>&1 </dev/null &`,
    'for i in $(seq 1 100); do',
    `  listening tcp ${adminPort} && listening tcp ${privatePort} && listening udp ${privatePort} && listening tcp ${agentPort} && listening udp ${agentPort} && listening tcp 443 && exit 0`,
    '  sleep 0.1',
    'done',
    'echo "the lab services on web did not start:"; cat /var/log/web/lab07-services.log; exit 1',
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
async function attempts(host: Host, list: Attempt[], timeoutMs = 12000): Promise<{ outcomes: Map<string, Outcome>; evidence: Evidence }> {
  const script = [
    'd=$(mktemp -d)',
    ...list.map((a, i) => `( out=$( ${a.command} 2>&1 ); rc=$?; printf '%s\\n' "$out" > "$d/${i}.out"; echo "$rc" > "$d/${i}.rc" ) &`),
    'wait',
    ...list.map((a, i) => `printf '### %s rc=%s\\n' ${q(a.label)} "$(cat "$d/${i}.rc")"; cat "$d/${i}.out"`),
    'rm -rf "$d"',
  ].join('\n');
  const e = await host.run(script, timeoutMs);
  const outcomes = new Map<string, Outcome>();
  for (const block of e.output.split(/^### /m).slice(1)) {
    const m = /^(.*) rc=(-?\d*)\n([\s\S]*)$/.exec(block);
    if (m) outcomes.set(m[1] as string, { label: m[1] as string, exitCode: m[2] === '' ? -1 : Number(m[2]), output: (m[3] as string).trim() });
  }
  const shown = list.map((a) => `${a.command}    # ${a.label}`).join('\n');
  const output = list
    .map((a) => {
      const o = outcomes.get(a.label);
      return `${a.label}: ${o ? `${o.output || '(no output)'} [exit ${o.exitCode}]` : '(did not run)'}`;
    })
    .join('\n');
  return { outcomes, evidence: { ...e, command: shown, output: e.exitCode === 0 ? output : `${output}\n${e.output}`.trim() } };
}

const tcpTry = (port: number, opts: { sport?: number; source?: string; target?: string } = {}) =>
  `timeout 6 nc -n -w 2${opts.source ? ` -s ${opts.source}` : ''}${opts.sport ? ` -p ${opts.sport}` : ''} ${opts.target ?? BOB_PUBLIC} ${port} </dev/null`;
const udpTry = (port: number, opts: { sport?: number; target?: string } = {}) =>
  `echo hello | timeout 6 nc -n -u -w 2${opts.sport ? ` -p ${opts.sport}` : ''} ${opts.target ?? BOB_PUBLIC} ${port}`;
const httpTry = (scheme: 'http' | 'https', opts: { source?: string; tag?: string } = {}) => {
  const port = scheme === 'https' ? 443 : 80;
  const path = opts.tag ? `/?lab07=${opts.tag}` : '/';
  return `curl -sS -m 3${scheme === 'https' ? ' -k' : ''}${opts.source ? ` --interface ${opts.source}` : ''} --resolve web.bob.example:${port}:${BOB_PUBLIC} ${q(`${scheme}://web.bob.example${path}`)}`;
};

/** The per-start token of the stand-in services, read on web itself. */
async function token(ctx: CheckContext): Promise<{ value?: string; evidence: Evidence }> {
  const e = await ctx.node('web').run(`cat ${TOKEN_FILE}`, 5000);
  const value = e.exitCode === 0 ? e.output.trim() : undefined;
  return { value: value || undefined, evidence: { ...e, output: value ? '(the per-start token of the lab services)' : e.output } };
}

/** One outside place to probe from: a node, and the address Bob's side sees for it. */
interface Vantage {
  node: string;
  /** What web sees as the source (after Alice's NAT). */
  seenAs: string;
  /** A local source address to speak from, when not the node's default one. */
  source?: string;
  what: string;
}

function vantages(v: Vars): { admin: Vantage; others: Vantage[]; web: Vantage[] } {
  const alice: Vantage = { node: 'alice', seenAs: ALICE_PUBLIC, what: `Alice's laptop (seen as ${ALICE_PUBLIC})` };
  const laptop: Vantage = { node: LAPTOP_NODE, seenAs: String(v.laptopAddress), what: `Bob's laptop (${String(v.laptopAddress)})` };
  const stranger: Vantage = { node: 'dns', seenAs: DNS, what: `a stranger on the backbone (${DNS})` };
  const neighbour: Vantage = { node: 'isp', seenAs: ISP_ACCESS, source: ISP_ACCESS, what: `Alice's neighbour on the access network (${ISP_ACCESS})` };
  const admin = v.adminKind === 'laptop' ? laptop : alice;
  const notAdmin = v.adminKind === 'laptop' ? alice : laptop;
  return { admin, others: [notAdmin, stranger, neighbour], web: [alice, laptop, stranger] };
}

const arrivedFrom = (body: string, who: string) => new RegExp(`arrived from ${who.replace(/\./g, '\\.')}\\.?\\s*$`, 'm').test(body);

/** HTTP or HTTPS from several places: each must get Bob's page, which names the source it saw. */
async function webFromEverywhere(ctx: CheckContext, list: Vantage[], scheme: 'http' | 'https') {
  // Each request carries a tag of its own, so Bob's logs show exactly which ones arrived, and from where.
  const id = randomBytes(4).toString('hex');
  const tag = (w: Vantage) => `${id}-${w.node}`;
  const results = await Promise.all(
    list.map(async (w) => {
      const host = await ctx.probe(w.node);
      const r = await attempts(host, [{ label: `${scheme} from ${w.node}`, command: httpTry(scheme, { source: w.source, tag: tag(w) }) }]);
      const o = r.outcomes.get(`${scheme} from ${w.node}`);
      return { w, answered: !!o && o.exitCode === 0 && arrivedFrom(o.output, w.seenAs), evidence: r.evidence };
    }),
  );
  const log = await ctx.node('web').run(`grep -h -- ${q(`lab07=${id}`)} ${ACCESS_LOG} ${SERVICE_LOG} 2>/dev/null | tail -n 6`, 5000);
  const entries = log.output.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { client?: string; path?: string }];
    } catch {
      return [];
    }
  });
  return {
    results: results.map((r) => ({ ...r, logged: entries.some((e) => e.client === r.w.seenAs && (e.path ?? '').includes(tag(r.w))) })),
    log: { ...log, command: `grep lab07=${id} ${ACCESS_LOG} ${SERVICE_LOG}` },
  };
}

/** The verdict of a web check: every place got Bob's page, and Bob's log shows each request from the right source. */
function webVerdict(scheme: string, r: Awaited<ReturnType<typeof webFromEverywhere>>) {
  // The terminal report shows the last pieces of evidence: the failing places go last.
  const ordered = [...r.results.filter((x) => x.answered && x.logged), ...r.results.filter((x) => !(x.answered && x.logged))];
  const evidence = [...ordered.map((x) => x.evidence), r.log];
  const unanswered = r.results.filter((x) => !x.answered);
  if (unanswered.length) {
    evidence.unshift(evidence.pop() as Evidence);
    const hung = unanswered.some((x) => /timed out|exit 28\]/i.test(x.evidence.output));
    const why = hung ? ' (the connection timed out: something drops the handshake or the replies)' : '';
    return fail(`no ${scheme} answer from Bob's server for ${unanswered.map((x) => x.w.what).join(', ')}${why}`, ...evidence);
  }
  const unlogged = r.results.filter((x) => !x.logged);
  if (unlogged.length) return fail(`something answered ${unlogged.map((x) => x.w.what).join(', ')}, but Bob's server never logged those requests`, ...evidence);
  return pass(`${scheme} answered ${r.results.map((x) => x.w.what).join(', ')}, and Bob's server logged each request from that source`, ...evidence);
}

/** Web's own answer: the per-start token is in it. */
const banner = (o: Outcome | undefined, secret: string) => !!o && o.output.includes(secret);
/** A TCP connection was made (nc exits 0 once connected), whoever answered it. */
const connected = (o: Outcome | undefined) => !!o && o.exitCode === 0;

// ---- checks -----------------------------------------------------------------------------------

function checks(v: Vars): Check[] {
  const adminPort = Number(v.adminPort);
  const privatePort = Number(v.privatePort);
  const agentPort = Number(v.agentPort);
  const { admin, others, web } = vantages(v);
  return [
    {
      id: 'http',
      title: `HTTP (port 80) reaches Bob's server from anywhere`,
      points: 2,
      deadlineMs: 6000,
      hint: `From alice: curl -v -m 5 http://web.bob.example/ . A connection that hangs means a packet is dropped on the way there or back: on the edge, watch both sides with "tcpdump -ni any tcp port 80" and look for the server's SYN-ACK.`,
      async run(ctx) {
        return webVerdict('HTTP', await webFromEverywhere(ctx, web, 'http'));
      },
    },
    {
      id: 'https',
      title: `HTTPS (port 443) reaches Bob's server from anywhere`,
      points: 1,
      deadlineMs: 6000,
      hint: 'From alice: curl -vk -m 5 https://web.bob.example/ (-k: the stand-in certificate is self-signed). The same rule that lets port 80 in must let 443 in, and the replies must get out.',
      async run(ctx) {
        return webVerdict('HTTPS', await webFromEverywhere(ctx, web, 'https'));
      },
    },
    {
      id: 'admin-allowed',
      title: `The admin port ${adminPort} answers ${v.adminKind === 'laptop' ? "Bob's laptop" : "Alice's home"} (${String(v.adminName)})`,
      points: 2,
      deadlineMs: 5000,
      hint: `The admin source is ${String(v.adminName)}: look its address up (dig +short ${String(v.adminName)}) and allow TCP ${adminPort} to ${WEB} from that address only. Test from there: nc -v -w 3 ${BOB_PUBLIC} ${adminPort}`,
      async run(ctx) {
        const [host, secret] = await Promise.all([ctx.probe(admin.node), token(ctx)]);
        if (!secret.value) return fail('the admin service on web is not running (no token): restart the lab with --reset', secret.evidence);
        const label = `admin port from ${admin.node}`;
        const r = await attempts(host, [{ label, command: tcpTry(adminPort, { source: admin.source }) }]);
        const o = r.outcomes.get(label);
        if (banner(o, secret.value)) {
          // Web's own record of that session must show the admin address as its source.
          const session = /session ([0-9a-f]+)/.exec(o?.output ?? '')?.[1] ?? 'none';
          const log = await ctx.node('web').run(`grep -h -- ${q(`"session":"${session}"`)} ${SERVICE_LOG}`, 5000);
          const entry = log.output.split('\n').flatMap((l) => {
            try {
              return [JSON.parse(l) as { client?: string; service?: string }];
            } catch {
              return [];
            }
          })[0];
          if (entry?.client !== admin.seenAs || entry.service !== 'admin') {
            return fail(`the admin banner came back, but web's admin service has no record of session ${session} from ${admin.seenAs}`, r.evidence, log);
          }
          return pass(`${admin.what} got the admin banner, and web logged session ${session} from ${admin.seenAs}`, r.evidence, log);
        }
        if (connected(o)) return fail(`something answered ${admin.what} on port ${adminPort}, but not Bob's admin service on web`, r.evidence);
        return fail(`${admin.what} gets no answer on port ${adminPort}`, r.evidence);
      },
    },
    {
      id: 'admin-denied',
      title: `The admin port ${adminPort} refuses everyone else (while their HTTP still works)`,
      points: 2,
      deadlineMs: 4000,
      hint: `Allow port ${adminPort} only with "-s <the admin address>" (a single address, not a whole network), and drop every other new connection. Check from Bob's laptop and from alice with nc -v -w 3 ${BOB_PUBLIC} ${adminPort}.`,
      async run(ctx) {
        const secret = await token(ctx);
        if (!secret.value) return fail('the admin service on web is not running (no token): restart the lab with --reset', secret.evidence);
        const results = await Promise.all(
          others.map(async (w) => {
            const host = await ctx.probe(w.node);
            const r = await attempts(host, [
              { label: `admin port from ${w.node}`, command: tcpTry(adminPort, { source: w.source }) },
              { label: `http from ${w.node} (control)`, command: httpTry('http', { source: w.source }) },
            ]);
            const o = r.outcomes.get(`admin port from ${w.node}`);
            const got = banner(o, secret.value as string) || connected(o);
            const control = r.outcomes.get(`http from ${w.node} (control)`);
            return { w, got, controlOk: !!control && control.exitCode === 0 && arrivedFrom(control.output, w.seenAs), evidence: r.evidence };
          }),
        );
        const evidence = [...results.filter((r) => !r.got && r.controlOk), ...results.filter((r) => r.got || !r.controlOk)].map((r) => r.evidence);
        const open = results.filter((r) => r.got);
        if (open.length) return fail(`the admin port answered ${open.map((r) => r.w.what).join(', ')}: only ${String(v.adminName)} may reach it`, ...evidence);
        const blind = results.filter((r) => !r.controlOk);
        if (blind.length) {
          return fail(`nothing can be judged from ${blind.map((r) => r.w.what).join(', ')}: HTTP does not work from there either, so a silent admin port proves nothing`, ...evidence);
        }
        return pass(`refused for ${results.map((r) => r.w.what).join(', ')}, whose HTTP works`, ...evidence);
      },
    },
    {
      id: 'rest-denied',
      title: 'Nothing else gets in: not the internal services, not FTP, not with a "reply" source port',
      points: 2,
      deadlineMs: 4000,
      hint: `A stateless filter needs "reply" rules (high ports, source port 53 or 80) that anyone can use: from Bob's laptop try nc -v -w 3 -p 53 ${BOB_PUBLIC} <a port web listens on> (see "ss -ltnu" on web). With conntrack, replies are recognised by their connection, so no such rule is needed: drop every new connection you did not allow.`,
      async run(ctx) {
        const secret = await token(ctx);
        if (!secret.value) return fail('the internal services on web are not running (no token): restart the lab with --reset', secret.evidence);
        const [laptop, stranger, inside] = await Promise.all([ctx.probe(LAPTOP_NODE), ctx.probe('dns'), ctx.probe('web')]);
        const fromLaptop: Attempt[] = [
          { label: `tcp ${privatePort}`, command: tcpTry(privatePort) },
          { label: `tcp ${privatePort} from source port 53`, command: tcpTry(privatePort, { sport: 53 }) },
          { label: `tcp ${privatePort} from source port 80`, command: tcpTry(privatePort, { sport: 80 }) },
          { label: `tcp ${privatePort} from source port 443`, command: tcpTry(privatePort, { sport: 443 }) },
          { label: `udp ${privatePort}`, command: udpTry(privatePort) },
          { label: `udp ${privatePort} from source port 53`, command: udpTry(privatePort, { sport: 53 }) },
          { label: `tcp ${agentPort}`, command: tcpTry(agentPort) },
          { label: `udp ${agentPort}`, command: udpTry(agentPort) },
          { label: 'ftp (tcp 21)', command: tcpTry(21) },
          { label: 'http (control)', command: httpTry('http') },
        ];
        const fromStranger: Attempt[] = [
          { label: `tcp ${privatePort}`, command: tcpTry(privatePort) },
          { label: `tcp ${privatePort} from source port 80`, command: tcpTry(privatePort, { sport: 80 }) },
          { label: `udp ${agentPort}`, command: udpTry(agentPort) },
        ];
        const fromInside: Attempt[] = [
          { label: `tcp ${privatePort} inside the VPC (control)`, command: tcpTry(privatePort, { target: WEB }) },
          { label: `udp ${agentPort} inside the VPC (control)`, command: udpTry(agentPort, { target: WEB }) },
        ];
        const [a, b, c] = await Promise.all([attempts(laptop, fromLaptop), attempts(stranger, fromStranger), attempts(inside, fromInside)]);
        const evidence = [c.evidence, b.evidence, a.evidence];
        // A TCP connection that completes, or a UDP answer from web, is a way in.
        const got = (o: Outcome) => banner(o, secret.value as string) || (o.label.startsWith('tcp') || o.label.startsWith('ftp') ? connected(o) : false);
        const leaks = [
          ...[...a.outcomes.values()].filter((o) => !o.label.endsWith('(control)') && got(o)).map((o) => `${o.label} from Bob's laptop`),
          ...[...b.outcomes.values()].filter(got).map((o) => `${o.label} from ${DNS}`),
        ];
        if (leaks.length) {
          const table = ' (if you only just tightened the rules: flows the old rules let in stay in the edge\'s connection table for a while; see "conntrack -L", clear it with "conntrack -F")';
          return fail(`these got in from outside: ${leaks.join('; ')}${table}`, ...evidence);
        }
        const local = [...a.outcomes.values(), ...b.outcomes.values()].filter((o) => /already in use|cannot assign/i.test(o.output));
        if (local.length) return fail(`a probe could not use its source port (${local.map((o) => o.label).join(', ')}); run the check again in a minute`, ...evidence);
        const alive = [...c.outcomes.values()].every((o) => banner(o, secret.value as string));
        if (!alive) return fail('the internal services on web do not answer inside the VPC either, so a silence from outside proves nothing', ...evidence);
        const control = a.outcomes.get('http (control)');
        if (!control || control.exitCode !== 0) return fail("HTTP from Bob's laptop does not work either, so the silence proves nothing", ...evidence);
        return pass('every other connection from outside was refused, while HTTP works and the internal services answer inside the VPC', ...evidence);
      },
    },
    {
      id: 'outbound',
      title: "Bob's server can start its own connections (DNS, and to Bob's laptop over TCP and UDP) and gets the answers",
      points: 2,
      deadlineMs: 6000,
      hint: `New connections from the VPC side must be allowed out, and their answers let back in whatever port they come from: that is what "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT" does. Try on web: dig @${DNS} web.bob.example and dig +tcp @${DNS} web.bob.example.`,
      async run(ctx) {
        const [fromWeb, onLaptop] = await Promise.all([ctx.probe('web'), ctx.probe(LAPTOP_NODE)]);
        const id = randomBytes(4).toString('hex');
        // Ports and a nonce chosen now, on Bob's laptop: no rule written in advance can name them.
        const tport = 10000 + randomInt(20000);
        const uport = tport === 29999 ? 10000 : tport + 1;
        const listen = await onLaptop.run(
          [
            `(echo ${id}-tcp | timeout 15 nc -l -n -N -w 3 -p ${tport} >/dev/null 2>&1 &)`,
            `(echo ${id}-udp | timeout 15 nc -u -l -n -w 3 -p ${uport} >/dev/null 2>&1 &)`,
            `for i in $(seq 1 50); do ss -Hltn "sport = :${tport}" | grep -q . && ss -Hlun "sport = :${uport}" | grep -q . && exit 0; sleep 0.1; done; exit 1`,
          ].join('\n'),
          8000,
        );
        if (listen.exitCode !== 0) return fail("the grader could not start its listeners on Bob's laptop", listen);
        const laptopAddress = String(ctx.vars.laptopAddress);
        const r = await attempts(fromWeb, [
          { label: 'dns over udp', command: `dig +time=2 +tries=1 +nocookie @${DNS} lab07-udp-${id}.bob.example A` },
          { label: 'dns over tcp', command: `dig +tcp +time=2 +tries=1 +nocookie @${DNS} lab07-tcp-${id}.bob.example A` },
          { label: `tcp to Bob's laptop port ${tport}`, command: `echo hello | timeout 6 nc -n -N -w 3 ${laptopAddress} ${tport}` },
          { label: `udp to Bob's laptop port ${uport}`, command: `echo hello | timeout 6 nc -n -u -w 2 ${laptopAddress} ${uport}` },
        ]);
        const answered = (o?: Outcome) => !!o && /status: (NOERROR|NXDOMAIN)/.test(o.output);
        const results = [
          { what: 'DNS over UDP', ok: answered(r.outcomes.get('dns over udp')) },
          { what: 'DNS over TCP', ok: answered(r.outcomes.get('dns over tcp')) },
          { what: `TCP to Bob's laptop (port ${tport})`, ok: !!r.outcomes.get(`tcp to Bob's laptop port ${tport}`)?.output.includes(`${id}-tcp`) },
          { what: `UDP to Bob's laptop (port ${uport})`, ok: !!r.outcomes.get(`udp to Bob's laptop port ${uport}`)?.output.includes(`${id}-udp`) },
        ];
        const shortDig = (o?: Outcome) => (o ? (/status: \w+/.exec(o.output)?.[0] ?? o.output.split('\n').filter(Boolean).slice(-1)[0] ?? '') : 'nothing');
        const summary = [...r.outcomes.values()].map((o) => `${o.label}: ${o.label.startsWith('dns') ? shortDig(o) : o.output || '(no answer)'} [exit ${o.exitCode}]`);
        const evidence: Evidence = { ...r.evidence, output: summary.join('\n') };
        const bad = results.filter((x) => !x.ok);
        if (bad.length) return fail(`web started these but never got the answers: ${bad.map((x) => x.what).join(', ')}`, evidence);
        const log = await ctx.node('dns').run(`grep -E ${q(`lab07-(udp|tcp)-${id}`)} ${QUERY_LOG} | tail -n 4`, 5000);
        const seen = log.output.split('\n').filter((l) => l.includes(`${BOB_PUBLIC}#`));
        if (seen.length < 2) return fail(`the dns server's query log does not show both queries arriving from ${BOB_PUBLIC}`, evidence, log);
        return pass(`all four got their answers; the dns server logged both queries from ${BOB_PUBLIC} (the edge's NAT)`, evidence, log);
      },
    },
    answerCheck({
      id: 'answer-admin',
      title: 'answers.yaml: the address admin access is allowed from',
      points: 1,
      key: 'admin_source',
      hint: `The address the edge sees for ${String(v.adminName)}: dig +short ${String(v.adminName)}. For Alice's home that is her router's public address, not her laptop's 192.168.1.x.`,
      async expected(ctx) {
        const [node, link] = v.adminKind === 'laptop' ? [LAPTOP_NODE, 'backbone'] : ['home', 'access'];
        const e = await ctx.node(node).run(`ip -4 -br addr show dev ${link}`, 5000);
        const m = /\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(e.output);
        return { value: e.exitCode === 0 ? m?.[1] : undefined, evidence: [e] };
      },
      matches: (given, want) => bare(given.trim()) === want,
    }),
    keywordCheck({
      id: 'answer-dropped',
      title: 'answers.yaml: the packet of the TCP handshake the stateless rules dropped',
      points: 1,
      key: 'dropped_packet',
      hint: 'Under the old rules, run "tcpdump -ni any tcp port 80" on the edge while alice tries curl: which of SYN, SYN-ACK, ACK comes in on the vpc side but never leaves on the backbone side? (tcpdump writes SYN-ACK as [S.]).',
      test: (a) => /syn\W{0,3}ack|synack|\[s\.\]/i.test(a) && !/^\s*syn\s*$/i.test(a),
      wrong: 'that is not the packet the old rules dropped',
    }),
    keywordCheck({
      id: 'answer-why',
      title: 'answers.yaml: in one sentence, why the stateless rules broke the replies',
      points: 1,
      required: false,
      key: 'why_stateless',
      hint: 'Think about what a stateless filter knows when the server\'s reply arrives on the vpc side, and what conntrack remembers about the connection.',
      test: (a) =>
        a.trim().length >= 20 &&
        /(repl|return|respon|answer|syn\W{0,3}ack|way back|coming back|outgoing|other direction|both direction)/i.test(a) &&
        /(state|conntrack|track|remember|memory|establish|each packet|every packet|single packet|alone|on its own|own merit|independent|isolation|direction)/i.test(a),
      wrong: 'say what happened to the replies and what a stateless filter does not know about them',
    }),
  ];
}

export default defineLab({
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
  task: taskCard,
  overlay,
  faults,
  checks,
});

