// Lab 05: routing. Routers forward an IP datagram by its destination address alone: the longest
// prefix in their table that contains it wins, and "default" is the prefix that contains
// everything. In this lab's world Bob's public address lives in a block of its own behind his
// edge router, so the ISP router carries one static route for it; the home router and the edge
// each point a default route at the ISP. One of those routes is missing or wrong (per seed), and
// Alice sees with traceroute and ping where her packets stop. She fixes that router's table.
//
// Graded from places alice cannot fake: a traceroute, a ping and an HTTP request from a clean
// sidecar in alice's network namespace (hops must be exactly home, isp, Bob's public address),
// Bob's access log (the request must arrive from Alice's public address, untranslated on the way),
// the three routers' tables read by clean sidecars in their namespaces, and the routers' nat and
// filter tables compared with the world's own rules (a route, not an address-translation trick).
import { randomBytes } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { contains, formatIp, networkOf, parseCidr, parseIp } from '../../orchestrator/addresses.js';
import { setupCommands } from '../../orchestrator/config.js';
import { canonicalWorld, findNode, type Node, type World } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { http, ping, readFile } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;

function addressOn(world: World, node: string, link: string): string {
  const a = findNode(world, node)?.interfaces.find((i) => i.link === link)?.addresses[0];
  if (!a) throw new Error(`lab 05: the world has no address for ${node} on ${link}`);
  return bare(a);
}

/** The home router, seen from Alice's network (hop 1). */
export const HOME_LAN = addressOn(canonicalWorld, 'home', 'home');
/** The home router's public address: the source Bob sees after its NAT. */
export const HOME_PUBLIC = addressOn(canonicalWorld, 'home', 'access');
/** The ISP router on the access network (hop 2, and the home router's next hop). */
export const ISP_ACCESS = addressOn(canonicalWorld, 'isp', 'access');
/** The ISP router on the backbone (the edge's next hop). */
export const ISP_BACKBONE = addressOn(canonicalWorld, 'isp', 'backbone');
/** Bob's edge router on the backbone (the ISP's next hop towards Bob's block). */
export const EDGE_BACKBONE = addressOn(canonicalWorld, 'edge', 'backbone');
const bobRecord = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!bobRecord) throw new Error('lab 05: the world has no web.bob.example');
/** Bob's public address (web.bob.example): hop 3 and the destination. */
export const BOB_PUBLIC = bobRecord.value;
const ACCESS_PREFIX = canonicalWorld.links.find((l) => l.name === 'access')?.prefix ?? '';
const BACKBONE = canonicalWorld.links.find((l) => l.name === 'backbone');
if (!BACKBONE || !ACCESS_PREFIX) throw new Error('lab 05: the world lacks the access or backbone link');

/** In this lab the backbone shrinks to a /26 and Bob's public address moves into a block of its own. */
export const BACKBONE_PREFIX = networkOf(`${bare(BACKBONE.prefix)}/26`);
/** The link that carries Bob's block on the edge (a link name is at most 12 characters). */
export const BOB_LINK = 'bobpublic';
/** Prefix lengths of Bob's block: each block contains Bob's address and stays off the backbone. */
export const BLOCK_LENGTHS = [26, 27, 28, 29] as const;
for (const n of canonicalWorld.nodes) {
  for (const i of n.interfaces.filter((x) => x.link === 'backbone')) {
    for (const a of i.addresses.map(bare)) {
      if (a !== BOB_PUBLIC && !contains(BACKBONE_PREFIX, a)) throw new Error(`lab 05: ${n.name} ${a} does not fit the narrower backbone ${BACKBONE_PREFIX}`);
    }
  }
}
if (contains(BACKBONE_PREFIX, BOB_PUBLIC)) throw new Error(`lab 05: Bob's ${BOB_PUBLIC} must lie outside the backbone ${BACKBONE_PREFIX}`);

const ACCESS_LOG = '/var/log/web/access.log';

// ---- variation --------------------------------------------------------------------------------

export const KINDS = ['home-missing', 'home-wrong', 'isp-missing', 'isp-wrong', 'edge-missing', 'edge-wrong'] as const;
export type Kind = (typeof KINDS)[number];
export const ROUTERS = ['home', 'isp', 'edge'] as const;

/** The router whose table a kind breaks. */
export function routerOf(kind: Kind): (typeof ROUTERS)[number] {
  return kind.split('-')[0] as (typeof ROUTERS)[number];
}

/** Every address of a router in the world: any of them may answer a traceroute probe. */
export function routerAddresses(world: World, router: string): string[] {
  return (findNode(world, router)?.interfaces ?? []).flatMap((i) => i.addresses.map(bare));
}

/** Addresses of a link that nobody uses (not its network or broadcast address either). */
export function freeAddresses(world: World, prefix: string): string[] {
  const used = new Set(world.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare))));
  const { address, length } = parseCidr(prefix);
  const first = parseIp(address);
  const size = 2 ** (32 - length);
  const free: string[] = [];
  for (let x = first + 1; x < first + size - 1; x++) if (!used.has(formatIp(x))) free.push(formatIp(x));
  return free;
}

function vary(rng: Rng): Vars {
  // Draw every value for every kind, so each seed's sequence never depends on the kind.
  const kind = rng.pick(KINDS);
  const blockLength = rng.pick(BLOCK_LENGTHS);
  const world = worldFor(blockLength);
  const homeWrong = rng.pick(freeAddresses(world, ACCESS_PREFIX));
  const edgeWrong = rng.pick(freeAddresses(world, BACKBONE_PREFIX));
  // The ISP's wrong next hop is a real machine on the backbone that is not a router: the DNS server.
  const ispWrong = addressOn(canonicalWorld, 'dns', 'backbone');
  const wrongHop = { 'home-wrong': homeWrong, 'edge-wrong': edgeWrong, 'isp-wrong': ispWrong }[kind as string] ?? '';
  const router = routerOf(kind);
  return {
    kind,
    router,
    bobBlock: networkOf(`${BOB_PUBLIC}/${blockLength}`),
    wrongHop,
    // Where a trace from Alice stops: her own router when it cannot forward, else the ISP router
    // (which either answers "no route" itself, or hands the probe on and nothing comes back).
    stoppedRouter: router === 'home' ? 'home' : 'isp',
  };
}

// ---- the lab's world --------------------------------------------------------------------------

/** Bob's public address in a block of its own, routed by the ISP to the edge. */
function overlayWorld(world: World, bobBlock: string): World {
  const len = parseCidr(bobBlock).length;
  const backbone = world.links.find((l) => l.name === 'backbone');
  const edge = findNode(world, 'edge');
  const isp = findNode(world, 'isp');
  if (!backbone || !edge || !isp) throw new Error('lab 05 needs the backbone link and the edge and isp nodes');
  backbone.prefix = BACKBONE_PREFIX;
  const bbLen = parseCidr(BACKBONE_PREFIX).length;
  world.links.splice(world.links.indexOf(backbone) + 1, 0, { name: BOB_LINK, title: "Bob's public block (routed to his edge)", prefix: bobBlock });
  for (const n of world.nodes) {
    for (const i of n.interfaces.filter((x) => x.link === 'backbone')) {
      i.addresses = i.addresses.filter((a) => bare(a) !== BOB_PUBLIC).map((a) => `${bare(a)}/${bbLen}`);
    }
  }
  edge.interfaces.push({ link: BOB_LINK, addresses: [`${BOB_PUBLIC}/${len}`] });
  isp.routes.push({ to: bobBlock, via: EDGE_BACKBONE });
  return world;
}

function worldFor(blockLength: number): World {
  return overlayWorld(structuredClone(canonicalWorld), networkOf(`${BOB_PUBLIC}/${blockLength}`));
}

function overlay(world: World, v: Vars): World {
  return overlayWorld(world, String(v.bobBlock));
}

function faults(v: Vars): Fault[] {
  const hop = String(v.wrongHop);
  const script: Record<Kind, { node: string; script: string }> = {
    'home-missing': { node: 'home', script: 'ip route del default' },
    'home-wrong': { node: 'home', script: `ip route replace default via ${hop} dev access` },
    'isp-missing': { node: 'isp', script: `ip route del ${String(v.bobBlock)}` },
    'isp-wrong': { node: 'isp', script: `ip route replace ${String(v.bobBlock)} via ${hop} dev backbone` },
    'edge-missing': { node: 'edge', script: 'ip route del default' },
    'edge-wrong': { node: 'edge', script: `ip route replace default via ${hop} dev backbone` },
  };
  const f = script[v.kind as Kind];
  // Drop cached routes, so the fault shows at once.
  return [{ node: f.node, description: 'a route goes missing or wrong', script: `${f.script}\nip route flush cache || true` }];
}

// ---- observations -----------------------------------------------------------------------------

export interface Hop {
  n: number;
  addresses: string[];
  /** traceroute's annotations, e.g. !N (network unreachable) or !H (host unreachable). */
  flags: string[];
}

/** Parses `traceroute -n` output into hops (addresses that answered and their !X annotations). */
export function parseTraceroute(output: string): Hop[] {
  const hops: Hop[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2] as string;
    const addresses = [...new Set([...rest.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\b/g)].map((x) => x[1] as string))];
    const flags = [...new Set([...rest.matchAll(/(![A-Z]?<?\d*>?)/g)].map((x) => x[1] as string))];
    hops.push({ n: Number(m[1]), addresses, flags });
  }
  return hops;
}

const describeHop = (h: Hop) => (h.addresses.length ? h.addresses.join(' and ') + (h.flags.length ? ` ${h.flags.join(' ')}` : '') : '* (no answer)');

async function trace(ctx: CheckContext): Promise<{ hops: Hop[]; evidence: Evidence }> {
  const probe = await ctx.probe('alice');
  const e = await probe.run(`traceroute -n -q 2 -w 1 -m 3 ${BOB_PUBLIC}`, 15000);
  return { hops: parseTraceroute(e.output), evidence: e };
}

/** The longest route in a table that contains an address (lines of `ip route show match`). */
export function longestMatch(lines: string): { prefix: string; length: number; via?: string; line: string } | undefined {
  let best: { prefix: string; length: number; via?: string; line: string } | undefined;
  for (const line of lines.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const first = line.split(/\s+/)[0] as string;
    if (!/^(default|\d{1,3}(\.\d{1,3}){3}(\/\d+)?)$/.test(first)) continue;
    const length = first === 'default' ? 0 : first.includes('/') ? Number(first.split('/')[1]) : 32;
    const prefix = first === 'default' ? '0.0.0.0/0' : first.includes('/') ? first : `${first}/32`;
    if (!best || length > best.length) best = { prefix, length, via: /\bvia (\S+)/.exec(line)?.[1], line };
  }
  return best;
}

/** What `ip route get` says: the next hop (if any) and the interface, or an error. */
function routeGet(e: Evidence): { via?: string; dev?: string; ok: boolean } {
  if (e.exitCode !== 0) return { ok: false };
  return { ok: true, via: /\bvia (\S+)/.exec(e.output)?.[1], dev: /\bdev (\S+)/.exec(e.output)?.[1] };
}

const viaOf = (line: string) => /\bvia (\S+)/.exec(line)?.[1];

interface Table {
  router: string;
  table: Evidence;
  defaults: string[];
  get: Evidence;
  /** `ip route show match` for the destination (only read on the ISP router). */
  match?: Evidence;
}

/** What each router does with the one destination that matters to it on Alice's path. */
const LEGS = [
  { router: 'home', destination: BOB_PUBLIC, via: ISP_ACCESS },
  { router: 'isp', destination: BOB_PUBLIC, via: EDGE_BACKBONE },
  { router: 'edge', destination: HOME_PUBLIC, via: ISP_BACKBONE },
] as const;

async function readTable(ctx: CheckContext, router: string, destination: string): Promise<Table> {
  const probe = await ctx.probe(router);
  const [table, get, match] = await Promise.all([
    probe.run('ip -4 route show', 5000),
    probe.run(`ip -4 route get ${destination}`, 5000),
    router === 'isp' ? probe.run(`ip -4 route show match ${destination}`, 5000) : Promise.resolve(undefined),
  ]);
  const defaults = table.output.split('\n').filter((l) => /^default\b/.test(l.trim())).map((l) => l.trim());
  return { router, table, defaults, get, match };
}

/**
 * The three routers' tables, judged without telling which one was broken while the path is still
 * broken (finding it is the learner's job): first the chain of next hops, then the quality of the
 * fix (one default at home and on the edge pointing upstream, no default on the ISP, and an ISP
 * route no wider than Bob's block).
 */
async function judgeRoutes(ctx: CheckContext, bobBlock: string): Promise<{ ok: boolean; reason: string; evidence: Evidence[] }> {
  const tables = await Promise.all(LEGS.map((l) => readTable(ctx, l.router, l.destination)));
  const evidence = tables.flatMap((t) => [t.table, t.get]);
  const broken = LEGS.filter((l, i) => routeGet((tables[i] as Table).get).via !== l.via);
  if (broken.length) {
    return {
      ok: false,
      reason: `the routes do not yet carry Alice's packets to Bob and back: ${broken.length === 1 ? 'one link' : `${broken.length} links`} of the chain (home -> isp -> edge, and edge -> isp for the replies) is missing or goes elsewhere; follow the destination through each table`,
      evidence,
    };
  }
  const [home, isp, edge] = tables as [Table, Table, Table];
  if (home.defaults.length !== 1 || viaOf(home.defaults[0] as string) !== ISP_ACCESS) {
    return { ok: false, reason: `the home router should have exactly one default route, via the ISP router ${ISP_ACCESS}; it has ${home.defaults.length ? home.defaults.join('; ') : 'none'}`, evidence };
  }
  if (isp.defaults.length) return { ok: false, reason: `the ISP router has a default route (${isp.defaults[0]}); it sits at the top of this small internet and routes Bob's block specifically`, evidence };
  const best = longestMatch(isp.match?.output ?? '');
  if (best && best.length < parseCidr(bobBlock).length) {
    return { ok: false, reason: `the ISP's route ${best.prefix} is wider than Bob's block: it would also send addresses that are not Bob's to his edge`, evidence };
  }
  const stray = edge.defaults.filter((l) => viaOf(l) !== ISP_BACKBONE);
  if (stray.length || edge.defaults.length > 1) return { ok: false, reason: `the edge should have at most one default route, via the ISP router ${ISP_BACKBONE}; it has ${edge.defaults.join('; ')}`, evidence };
  return { ok: true, reason: `home -> ${ISP_ACCESS}, isp -> ${best?.prefix ?? BOB_PUBLIC} via ${EDGE_BACKBONE}, edge -> ${ISP_BACKBONE} for ${HOME_PUBLIC}`, evidence };
}

/** A rule's identity, independent of the order iptables prints its options in. */
export function ruleSignature(rule: string): string {
  const t = rule.trim().split(/\s+/);
  const val = (flag: string) => {
    const i = t.indexOf(flag);
    return i >= 0 ? (t[i + 1] ?? '') : '';
  };
  const addrs = [...rule.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g)].map((m) => m[0].replace(/\/32$/, '')).sort();
  const ports = ['--dport', '--dports', '--sport', '--sports', '--to-ports'].map(val).filter(Boolean);
  const states = val('--ctstate').split(',').filter(Boolean).sort();
  return [val('-A'), val('-j'), val('-p'), val('-i'), val('-o'), addrs.join(','), ports.join(','), states.join(','), val('--helper')].join('|');
}

/** The world's own nat and filter rules for a node, as iptables -S would list them. */
export function expectedRules(node: Node): { nat: string[]; filter: string[] } {
  const nat: string[] = [];
  const filter: string[] = [];
  for (const cmd of setupCommands(node)) {
    const m = /^iptables(?:\s+-t\s+(\S+))?\s+(-A\s.*)$/.exec(cmd);
    if (!m) continue;
    const table = m[1] ?? 'filter';
    if (table === 'nat') nat.push(m[2] as string);
    else if (table === 'filter') filter.push(m[2] as string);
  }
  return { nat, filter };
}

/** Rules present but not expected, and expected but missing (compared by signature). */
export function ruleDiff(actual: string[], expected: string[]): { extra: string[]; missing: string[] } {
  const left = expected.map(ruleSignature);
  const extra: string[] = [];
  for (const r of actual) {
    const i = left.indexOf(ruleSignature(r));
    if (i >= 0) left.splice(i, 1);
    else extra.push(r);
  }
  const missing = expected.filter((r) => left.includes(ruleSignature(r)));
  return { extra, missing };
}

// ---- checks -----------------------------------------------------------------------------------

function checks(v: Vars, world: World): Check[] {
  const router = String(v.router);
  const stoppedAt = String(v.stoppedRouter);
  const expectedHops = [HOME_LAN, ISP_ACCESS, BOB_PUBLIC];
  return [
    {
      id: 'path',
      title: `traceroute -n from Alice to Bob shows exactly ${expectedHops.join(', ')}`,
      points: 3,
      deadlineMs: 8000,
      hint: `Run "traceroute -n ${BOB_PUBLIC}" on alice. The last hop that answers is the last router that still knew the way; "!N" means that router has no route for the destination, and silence after a hop often means the replies have no way back.`,
      async run(ctx) {
        const { hops, evidence } = await trace(ctx);
        if (!hops.length) return fail('traceroute printed no hops', evidence);
        for (let i = 0; i < expectedHops.length; i++) {
          const want = expectedHops[i] as string;
          const hop = hops.find((h) => h.n === i + 1);
          if (!hop || !hop.addresses.length) {
            const prev = hops.filter((h) => h.n <= i && h.addresses.length).at(-1);
            return fail(`the trace stops after hop ${i}${prev ? ` (${describeHop(prev)})` : ''}: nothing answered at hop ${i + 1}`, evidence);
          }
          if (hop.addresses.some((a) => a !== want)) return fail(`hop ${i + 1} is ${describeHop(hop)}, expected ${want}`, evidence);
          if (i < expectedHops.length - 1 && hop.flags.length) return fail(`hop ${i + 1} (${want}) answered ${hop.flags.join(' ')}: it could not forward the probe`, evidence);
        }
        return pass(`hops: ${expectedHops.join(' -> ')}`, evidence);
      },
    },
    {
      id: 'ping',
      title: `Alice's ping to Bob's public address ${BOB_PUBLIC} gets replies`,
      points: 1,
      deadlineMs: 5000,
      hint: `ping -c 3 ${BOB_PUBLIC} on alice. A reply needs a route there and a route back.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const r = await ping(probe, BOB_PUBLIC, 3);
        return r.ok ? pass(`${r.received}/${r.sent} replies`, r.evidence) : fail(`no reply from ${BOB_PUBLIC} (${r.sent} sent)`, r.evidence);
      },
    },
    {
      id: 'web',
      title: `Bob's server receives Alice's HTTP request from her public address ${HOME_PUBLIC}`,
      points: 2,
      deadlineMs: 6000,
      hint: `curl http://${BOB_PUBLIC}/whoami on alice shows the source address Bob sees. It must be ${HOME_PUBLIC} (the home router's own translation): routers on the way forward packets, they do not rewrite them.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const token = randomBytes(4).toString('hex');
        const path = `/whoami?check=${token}`;
        const r = await http(probe, { url: `http://${BOB_PUBLIC}${path}`, timeoutSeconds: 3 });
        const log = await readFile(ctx.node('web'), ACCESS_LOG);
        const line = log.text.split('\n').find((l) => l.includes(token));
        const shortLog: Evidence = { ...log.evidence, command: `grep ${token} ${ACCESS_LOG}`, output: line ?? '(no line for this request)' };
        if (!line) return fail(`the request ${path} never reached Bob's server, or its reply never came back (curl: ${r.status || 'no answer'})`, r.evidence, shortLog);
        let client = '';
        try {
          client = String((JSON.parse(line) as { client?: string }).client ?? '');
        } catch {
          client = '';
        }
        if (client !== HOME_PUBLIC) return fail(`Bob's server saw the request arrive from ${client || 'an unknown address'}, not from Alice's public address ${HOME_PUBLIC}: something on the way rewrote it`, r.evidence, shortLog);
        if (r.status !== 200) return fail(`Bob's server got the request from ${client}, but Alice got ${r.status || 'no answer'} back`, r.evidence, shortLog);
        return pass(`Bob's server saw ${path} arrive from ${client} and answered 200`, r.evidence, shortLog);
      },
    },
    {
      id: 'route',
      title: "Every router's table carries Alice's packets to Bob and the replies back, with sensible prefixes",
      points: 3,
      deadlineMs: 3000,
      hint: `Follow the datagram: on each router, "ip route get <destination>" names the next hop. For ${BOB_PUBLIC} that is home -> isp -> edge; for the replies to ${HOME_PUBLIC} it is edge -> isp. Where the chain breaks, add the missing route: a default via the upstream router for a router with one way out, or a route for exactly the destination's block. Open a router with: npx hurrynet shell home|isp|edge.`,
      async run(ctx) {
        const r = await judgeRoutes(ctx, String(v.bobBlock));
        return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
      },
    },
    {
      id: 'tables',
      title: 'The routers translate and filter exactly as before (the fix is a route, not NAT or a firewall rule)',
      points: 1,
      deadlineMs: 3000,
      hint: 'Remove the iptables rules you added on home, isp or edge ("iptables -S" and "iptables -t nat -S" list them; "iptables -t nat -D <rule>" deletes one). Routing is fixed in the routing table.',
      async run(ctx) {
        const evidence: Evidence[] = [];
        const problems: string[] = [];
        await Promise.all(
          ROUTERS.map(async (name) => {
            const node = findNode(world, name);
            if (!node) return;
            const probe = await ctx.probe(name);
            const e = await probe.run("iptables -S | sed 's/^/filter /'; iptables -t nat -S | sed 's/^/nat /'", 5000);
            evidence.push(e);
            if (e.exitCode !== 0) {
              problems.push(`${name}: the tables could not be read`);
              return;
            }
            const lines = e.output.split('\n');
            const actual = (table: string) => lines.filter((l) => l.startsWith(`${table} -A `)).map((l) => l.slice(table.length + 1));
            const want = expectedRules(node);
            for (const table of ['nat', 'filter'] as const) {
              const d = ruleDiff(actual(table), want[table]);
              for (const r of d.extra) problems.push(`${name} ${table} has an extra rule: ${r}`);
              for (const r of d.missing) problems.push(`${name} ${table} lost a rule: ${r}`);
            }
          }),
        );
        evidence.sort((a, b) => a.where.localeCompare(b.where));
        return problems.length ? fail(problems.join('; '), ...evidence) : pass('the nat and filter tables of home, isp and edge are the world\'s own', ...evidence);
      },
    },
    answerCheck({
      id: 'answer-stopped',
      title: 'answers.yaml: the last hop that answered before your fix',
      points: 1,
      key: 'stopped_at',
      hint: `The address on the last line of "traceroute -n ${BOB_PUBLIC}" that shows an address (not only stars), before you changed anything.`,
      async expected() {
        return { value: routerAddresses(world, stoppedAt).join(' or '), evidence: [] };
      },
      matches: (given, want) => want.split(' or ').includes(bare(given.trim())),
    }),
    answerCheck({
      id: 'answer-router',
      title: 'answers.yaml: the router whose routing table was wrong',
      points: 1,
      key: 'router',
      hint: 'One of home, isp or edge: the one whose "ip route" lacked a route (or had a wrong one) that you had to fix.',
      async expected() {
        return { value: router, evidence: [] };
      },
      matches: (given, want) => normalizeAnswer(given).replace(/ router$/, '') === want,
    }),
  ];
}

export default defineLab({
  number: 5,
  slug: 'routing',
  title: 'Routing: following datagrams hop by hop',
  topics: ['IP datagrams', 'routing tables', 'longest prefix match', 'default route', 'traceroute', 'return path'],
  minutes: 30,
  goal: "Find where Alice's packets to Bob stop with traceroute and ping, find the router whose routing table is missing or has a wrong route, and fix it with the right prefix and next hop.",
  submissionNodes: ['alice', 'home', 'isp', 'edge'],
  questions: [
    { key: 'stopped_at', prompt: 'The address of the last hop that answered traceroute before your fix' },
    { key: 'router', prompt: 'The router whose routing table you fixed (home, isp or edge)' },
  ],
  vary,
  task() {
    return {
      destination: `Bob's web server, ${BOB_PUBLIC} (web.bob.example)`,
      symptom: "Alice's packets to Bob do not get through",
      trace: `traceroute -n ${BOB_PUBLIC}`,
      routers: 'home, isp, edge (npx hurrynet shell <router>)',
      answers: '/root/answers.yaml with stopped_at, router',
    };
  },
  overlay,
  faults,
  checks: (v) => checks(v, overlay(structuredClone(canonicalWorld), v)),
});
