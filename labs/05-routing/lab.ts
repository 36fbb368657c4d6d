// Lab 05: routing. Routers forward an IP datagram by its destination address alone: the longest
// prefix in their table that contains it wins, and "default" is the prefix that contains
// everything. In this lab's world Bob's public address lives in a block of its own behind his
// edge router, so the ISP router carries one static route for it; the home router and the edge
// each point a default route at the ISP. One of those routes is missing or wrong (per seed), and
// Alice sees with traceroute and ping where her packets stop. She fixes that router's table.
//
// Graded from places the learner cannot fake: a traceroute and a ping from the grader's own
// machine on Alice's network (claims about the network, so nothing set on alice counts; hops must
// be exactly home, isp, Bob's public address), Alice's own HTTP request witnessed by Bob's access
// log (it must arrive from her public address, untranslated on the way), every routing table
// and policy rule of the three routers read by clean sidecars in their namespaces (a route in
// table default or behind an `ip rule` routes as well as one in main), and the routers' iptables
// rules, nft and legacy, compared with the world's own (a route, not an address-translation trick).
import { contains, formatIp, networkOf, parseCidr, parseIp } from '../../orchestrator/world/addresses.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { http, ping } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import {
  accessEntriesWith,
  addressOf,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  nodeOf,
  nonce,
  type Fault,
  type Rng,
  type World,
} from '../kit/index.js';
import { zoneAddress } from '../kit/dns.js';
import {
  containing,
  firewallDiff,
  forwarding,
  parseRouting,
  policyFindings,
  readFirewall,
  ROUTING_COMMAND,
  routeText,
  sections,
  type Route,
  type Routing,
} from '../kit/routing.js';

// ---- facts from the lab's world ---------------------------------------------------------------

/** The addresses the lab's checks and hints name, read from a world (canonical or the lab's own). */
export function routingFacts(world: World) {
  const backbone = world.links.find((l) => l.name === 'backbone')?.prefix;
  const access = world.links.find((l) => l.name === 'access')?.prefix;
  if (!backbone || !access) throw new Error('lab 05: the world lacks the access or backbone link');
  return {
    /** The home router, seen from Alice's network (hop 1). */
    homeLan: addressOf(world, 'home', 'lan'),
    /** Alice's laptop: the source of the packets the home router forwards. */
    alice: addressOf(world, 'alice', 'lan'),
    /** Bob's web server in his private network: the source of the replies the edge forwards. */
    webPrivate: addressOf(world, 'web', 'vpc'),
    /** The home router's public address: the source Bob sees after its NAT. */
    homePublic: addressOf(world, 'home', 'access'),
    /** The ISP router on the access network (hop 2, and the home router's next hop). */
    ispAccess: addressOf(world, 'isp', 'access'),
    /** The ISP router on the backbone (the edge's next hop). */
    ispBackbone: addressOf(world, 'isp', 'backbone'),
    /** Bob's edge router on the backbone (the ISP's next hop towards Bob's block). */
    edgeBackbone: addressOf(world, 'edge', 'backbone'),
    /** Bob's public address (web.bob.example): hop 3 and the destination. */
    bobPublic: zoneAddress(world, 'web.bob.example'),
    accessPrefix: access,
    backbonePrefix: backbone,
  };
}
export type RoutingFacts = ReturnType<typeof routingFacts>;

/** The link that carries Bob's block on the edge (a link name is at most 12 characters). */
export const BOB_LINK = 'bobpublic';
/** Prefix lengths of Bob's block: each block contains Bob's address and stays off the backbone. */
export const BLOCK_LENGTHS = [26, 27, 28, 29] as const;
/** In this lab the backbone shrinks to a /26, so that Bob's public address can move into a block of its own. */
const BACKBONE_LENGTH = 26;

// ---- variation --------------------------------------------------------------------------------

export const KINDS = ['home-missing', 'home-wrong', 'isp-missing', 'isp-wrong', 'edge-missing', 'edge-wrong'] as const;
export type Kind = (typeof KINDS)[number];
export const ROUTERS = ['home', 'isp', 'edge'] as const;
export type Router = (typeof ROUTERS)[number];

export type RoutingVars = {
  kind: Kind;
  /** The router whose table the kind breaks. */
  router: Router;
  /** Bob's public block, routed by the ISP to the edge. */
  bobBlock: string;
  /** The wrong next hop ("" when the route is missing). */
  wrongHop: string;
  /** Where a trace from Alice stops before the fix. */
  stoppedRouter: Router;
};

/** The router whose table a kind breaks. */
export function routerOf(kind: Kind | undefined): Router {
  const router = ROUTERS.find((r) => kind?.startsWith(`${r}-`));
  if (!router) throw new Error(`lab 05: no router for the kind ${String(kind)}`);
  return router;
}

/** Every address of a router in the world: any of them may answer a traceroute probe. */
export function routerAddresses(world: World, router: string): string[] {
  return nodeOf(world, router).interfaces.flatMap((i) => i.addresses.map(bare));
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

/** A wrong next hop for the kind, in the lab's world with Bob's block: a free address on the right link, or for the ISP a machine that is no router. */
function wrongHopFor(r: Rng, kind: Kind | undefined, bobBlock: string | undefined): string {
  if (kind !== 'home-wrong' && kind !== 'edge-wrong' && kind !== 'isp-wrong') return '';
  const world = overlayWorld(structuredClone(canonicalWorld), bobBlock ?? '');
  const f = routingFacts(world);
  if (kind === 'home-wrong') return r.pick(freeAddresses(world, f.accessPrefix));
  if (kind === 'edge-wrong') return r.pick(freeAddresses(world, f.backbonePrefix));
  // The ISP's wrong next hop is a real machine on the backbone that is not a router: the DNS server.
  return addressOf(world, 'dns', 'backbone');
}

// The vary function has no world of its own to read: the lab's world follows from what it draws.
const vary = draws<RoutingVars>({
  kind: (r) => r.pick(KINDS),
  router: (_r, d) => routerOf(d.kind),
  bobBlock: (r) => networkOf(`${routingFacts(canonicalWorld).bobPublic}/${r.pick(BLOCK_LENGTHS)}`),
  wrongHop: (r, d) => wrongHopFor(r, d.kind, d.bobBlock),
  // Her own router when it cannot forward, else the ISP router (which either answers "no route"
  // itself, or hands the probe on and nothing comes back).
  stoppedRouter: (_r, d) => (d.router === 'home' ? 'home' : 'isp'),
});

// ---- the lab's world --------------------------------------------------------------------------

/** Bob's public address in a block of its own, routed by the ISP to the edge, on a backbone narrowed to a /26. */
function overlayWorld(world: World, bobBlock: string): World {
  const f = routingFacts(world);
  const backbone = world.links.find((l) => l.name === 'backbone');
  const edge = nodeOf(world, 'edge');
  const narrow = networkOf(`${bare(f.backbonePrefix)}/${BACKBONE_LENGTH}`);
  if (!backbone || contains(narrow, f.bobPublic))
    throw new Error(`lab 05: Bob's ${f.bobPublic} must lie outside the backbone ${narrow}`);
  backbone.prefix = narrow;
  world.links.splice(world.links.indexOf(backbone) + 1, 0, {
    name: BOB_LINK,
    title: "Bob's public block (routed to his edge)",
    prefix: bobBlock,
  });
  for (const n of world.nodes) {
    for (const i of n.interfaces.filter((x) => x.link === 'backbone')) {
      i.addresses = i.addresses.filter((a) => bare(a) !== f.bobPublic).map((a) => `${bare(a)}/${BACKBONE_LENGTH}`);
      const outside = i.addresses.map(bare).find((a) => !contains(narrow, a));
      if (outside) throw new Error(`lab 05: ${n.name} ${outside} does not fit the narrower backbone ${narrow}`);
    }
  }
  edge.interfaces.push({ link: BOB_LINK, addresses: [`${f.bobPublic}/${parseCidr(bobBlock).length}`] });
  nodeOf(world, 'isp').routes.push({ to: bobBlock, via: f.edgeBackbone });
  return world;
}

function overlay(world: World, v: RoutingVars): World {
  return overlayWorld(world, v.bobBlock);
}

function faults(v: RoutingVars): Fault[] {
  const hop = v.wrongHop;
  const script: Record<Kind, string> = {
    'home-missing': 'ip route del default',
    'home-wrong': `ip route replace default via ${hop} dev access`,
    'isp-missing': `ip route del ${v.bobBlock}`,
    'isp-wrong': `ip route replace ${v.bobBlock} via ${hop} dev backbone`,
    'edge-missing': 'ip route del default',
    'edge-wrong': `ip route replace default via ${hop} dev backbone`,
  };
  // Drop cached routes, so the fault shows at once.
  return [
    {
      node: v.router,
      description: 'a route goes missing or wrong',
      script: `${script[v.kind]}\nip route flush cache || true`,
    },
  ];
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

const describeHop = (h: Hop) =>
  h.addresses.length ? h.addresses.join(' and ') + (h.flags.length ? ` ${h.flags.join(' ')}` : '') : '* (no answer)';

/** A traceroute from the grader's own laptop on Alice's network (nothing set on alice applies). */
async function trace(ctx: CheckContext, f: RoutingFacts): Promise<{ hops: Hop[]; evidence: Evidence }> {
  const probe = await ctx.fresh('lan');
  const e = await probe.run(`traceroute -n -q 2 -w 1 -m 3 ${f.bobPublic}`, 15000);
  return { hops: parseTraceroute(e.output), evidence: e };
}

/** What `ip route get` says: the next hop (if any), the interface and the table, or an error. */
export function routeGet(output: string, exitCode: number): { via?: string; dev?: string; table: string; ok: boolean } {
  const first = output.split('\n')[0] ?? '';
  if (exitCode !== 0 || !/^\d/.test(first)) return { ok: false, table: 'main' };
  return {
    ok: true,
    via: /\bvia (\S+)/.exec(first)?.[1],
    dev: /\bdev (\S+)/.exec(first)?.[1],
    table: /\btable (\S+)/.exec(first)?.[1] ?? 'main',
  };
}

interface Leg {
  router: Router;
  destination: string;
  from: string;
  iif: string;
  via: string;
}

/**
 * What each router does with the one destination that matters to it on Alice's path, asked as
 * the kernel asks for a packet it forwards (its source and the interface it came in on), so that
 * every rule a learner may add (from, iif, to) takes part: home and the ISP forward Alice's
 * packets to Bob, the edge forwards Bob's replies (from his server, before it translates them back).
 */
const legsOf = (f: RoutingFacts): [Leg, Leg, Leg] => [
  { router: 'home', destination: f.bobPublic, from: f.alice, iif: 'lan', via: f.ispAccess },
  { router: 'isp', destination: f.bobPublic, from: f.homePublic, iif: 'access', via: f.edgeBackbone },
  { router: 'edge', destination: f.homePublic, from: f.webPrivate, iif: 'vpc', via: f.ispBackbone },
];

interface View {
  router: string;
  routing: Routing;
  get: { via?: string; dev?: string; table: string; ok: boolean };
}

async function readView(ctx: CheckContext, leg: Leg): Promise<View> {
  const probe = await ctx.probe(leg.router);
  const get = `ip -4 route get ${leg.destination} from ${leg.from} iif ${leg.iif}`;
  const e = await probe.run(`${ROUTING_COMMAND}; echo '--- ${get}'; ${get} 2>&1; echo "exit $?"`, 8000);
  const answer = sections(e.output).get(get) ?? '';
  const exit = Number(/^exit (\d+)$/m.exec(answer)?.[1] ?? 1);
  return { router: leg.router, routing: parseRouting(e.output, e), get: routeGet(answer, exit) };
}

const listRoutes = (routes: Route[]) => routes.map(routeText).join('; ');
const defaults = (v: View) => v.routing.used.filter((r) => forwarding(r) && r.length === 0);
const where = (table: string) => (table === 'main' ? '' : ` (table ${table})`);

/**
 * The three routers' policies and tables, judged without telling which one was broken while the
 * path is still broken (finding it is the learner's job): first the policy rules the learner added
 * (the fix is a route, not a rule), then the chain of next hops, then the quality of the fix in
 * every table a rule selects (one default at home and on the edge pointing upstream, no default on
 * the ISP, and no ISP route wider than Bob's block).
 */
async function judgeRoutes(
  ctx: CheckContext,
  f: RoutingFacts,
  bobBlock: string,
): Promise<{ ok: boolean; reason: string; evidence: Evidence[] }> {
  const legs = legsOf(f);
  const views = await Promise.all(legs.map((l) => readView(ctx, l)));
  const evidence = views.map((v) => v.routing.evidence);
  const [home, isp, edge] = views as [View, View, View];
  // Only the learner adds rules (no fault does), so naming them never gives the fault away. They
  // come first: a rule on a mark or an interface decides where packets go in ways "ip route get"
  // cannot replay, so with such rules in place the chain below would be a guess.
  const policy = views.flatMap((v) => policyFindings(v.router, v.routing));
  if (policy.length) {
    return {
      ok: false,
      reason: `policy rules, not the routing tables, decide where these packets go: ${policy.join('; ')}. Fix the route in the table itself and delete the rule (ip rule del pref N)`,
      evidence,
    };
  }
  const broken = legs.filter((l, i) => (views[i] as View).get.via !== l.via);
  if (broken.length) {
    return {
      ok: false,
      reason: `the routes do not yet carry Alice's packets to Bob and back: ${broken.length === 1 ? 'one link' : `${broken.length} links`} of the chain (home -> isp -> edge, and edge -> isp for the replies) is missing or goes elsewhere; follow the destination through each table`,
      evidence,
    };
  }
  const homeDefaults = defaults(home);
  if (homeDefaults.length !== 1 || homeDefaults[0]?.vias.join() !== f.ispAccess) {
    return {
      ok: false,
      reason: `the home router should have exactly one default route, via the ISP router ${f.ispAccess}, in all its tables together; it has ${homeDefaults.length ? listRoutes(homeDefaults) : 'none'}`,
      evidence,
    };
  }
  const ispDefaults = defaults(isp);
  if (ispDefaults.length) {
    return {
      ok: false,
      reason: `the ISP router has a default route (${listRoutes(ispDefaults)}); it sits at the top of this small internet and routes Bob's block specifically`,
      evidence,
    };
  }
  const towardsBob = containing(isp.routing.used, f.bobPublic);
  const wide = towardsBob.filter((r) => r.length < parseCidr(bobBlock).length);
  if (wide.length) {
    return {
      ok: false,
      reason: `the ISP's route ${listRoutes(wide)} is wider than Bob's block: it would also send addresses that are not Bob's to his edge`,
      evidence,
    };
  }
  const edgeDefaults = defaults(edge);
  const stray = edgeDefaults.filter((r) => r.vias.join() !== f.ispBackbone);
  if (stray.length || edgeDefaults.length > 1) {
    return {
      ok: false,
      reason: `the edge should have at most one default route, via the ISP router ${f.ispBackbone}; it has ${listRoutes(edgeDefaults)}`,
      evidence,
    };
  }
  const best = [...towardsBob].sort((a, b) => b.length - a.length)[0];
  return {
    ok: true,
    reason: `home -> ${f.ispAccess}${where(home.get.table)}, isp -> ${best?.prefix ?? f.bobPublic} via ${f.edgeBackbone}${where(isp.get.table)}, edge -> ${f.ispBackbone} for ${f.homePublic}${where(edge.get.table)}`,
    evidence,
  };
}

// ---- checks -----------------------------------------------------------------------------------

const pathCheck = (f: RoutingFacts): Check => {
  const expectedHops = [f.homeLan, f.ispAccess, f.bobPublic];
  return {
    id: 'path',
    title: `traceroute -n from a laptop on Alice's network to Bob shows exactly ${expectedHops.join(', ')}`,
    points: 3,
    deadlineMs: 8000,
    hint: `Run "traceroute -n ${f.bobPublic}" on alice. The last hop that answers is the last router that still knew the way; "!N" means that router has no route for the destination, and silence after a hop often means the replies have no way back. The grader traces from a machine of its own on Alice's network, so only the routers' tables count, not anything set on alice.`,
    async run(ctx) {
      const { hops, evidence } = await trace(ctx, f);
      if (!hops.length) return fail('traceroute printed no hops', evidence);
      for (let i = 0; i < expectedHops.length; i++) {
        const want = expectedHops[i] as string;
        const hop = hops.find((h) => h.n === i + 1);
        if (!hop || !hop.addresses.length) {
          const prev = hops.filter((h) => h.n <= i && h.addresses.length).at(-1);
          return fail(
            `the trace stops after hop ${i}${prev ? ` (${describeHop(prev)})` : ''}: nothing answered at hop ${i + 1}`,
            evidence,
          );
        }
        if (hop.addresses.some((a) => a !== want))
          return fail(`hop ${i + 1} is ${describeHop(hop)}, expected ${want}`, evidence);
        if (i < expectedHops.length - 1 && hop.flags.length)
          return fail(
            `hop ${i + 1} (${want}) answered ${hop.flags.join(' ')}: it could not forward the probe`,
            evidence,
          );
      }
      return pass(`hops: ${expectedHops.join(' -> ')}`, evidence);
    },
  };
};

const pingCheck = (f: RoutingFacts): Check => ({
  id: 'ping',
  title: `A ping from Alice's network to Bob's public address ${f.bobPublic} gets replies`,
  points: 1,
  deadlineMs: 5000,
  hint: `ping -c 3 ${f.bobPublic} on alice. A reply needs a route there and a route back. The grader pings from a machine of its own on Alice's network.`,
  async run(ctx) {
    // A claim about the network: alice's own rules (an address on lo, a DNAT) must not answer.
    const r = await ping(await ctx.fresh('lan'), f.bobPublic, 3);
    return r.ok
      ? pass(`${r.received}/${r.sent} replies`, r.evidence)
      : fail(`no reply from ${f.bobPublic} (${r.sent} sent)`, r.evidence);
  },
  // When it fails, one more ping under the grader's captures says where it stopped and why.
  trace: async (ctx) => ping(await ctx.fresh('lan'), f.bobPublic, 1),
});

const webCheck = (f: RoutingFacts): Check => ({
  id: 'web',
  title: `Bob's server receives Alice's HTTP request from her public address ${f.homePublic}`,
  points: 2,
  deadlineMs: 6000,
  hint: `curl http://${f.bobPublic}/whoami on alice shows the source address Bob sees. It must be ${f.homePublic} (the home router's own translation): routers on the way forward packets, they do not rewrite them.`,
  async run(ctx) {
    // Alice's own request, from her laptop: Bob's log (a one-time path, her public address) is
    // the witness, and no rule on alice can make a line appear there.
    const token = nonce();
    const path = `/whoami?check=${token}`;
    const r = await http(await ctx.probe('alice'), { url: `http://${f.bobPublic}${path}`, timeoutSeconds: 3 });
    const log = await accessEntriesWith(ctx.node('web'), token);
    const entry = log.entries[0];
    if (!entry)
      return fail(
        `the request ${path} never reached Bob's server, or its reply never came back (curl: ${r.status || 'no answer'})`,
        r.evidence,
        log.evidence,
      );
    const client = typeof entry.client === 'string' ? entry.client : '';
    if (client !== f.homePublic) {
      return fail(
        `Bob's server saw the request arrive from ${client || 'an unknown address'}, not from Alice's public address ${f.homePublic}: something on the way rewrote it (address translation) or made the request in her place (a relay)`,
        r.evidence,
        log.evidence,
      );
    }
    if (r.status !== 200)
      return fail(
        `Bob's server got the request from ${client}, but Alice got ${r.status || 'no answer'} back`,
        r.evidence,
        log.evidence,
      );
    return pass(`Bob's server saw ${path} arrive from ${client} and answered 200`, r.evidence, log.evidence);
  },
});

const routeCheck = (v: RoutingVars, f: RoutingFacts): Check => ({
  id: 'route',
  title: "Every router's table carries Alice's packets to Bob and the replies back, with sensible prefixes",
  points: 3,
  deadlineMs: 3000,
  hint: `Follow the datagram: on each router, "ip route get <destination>" names the next hop. For ${f.bobPublic} that is home -> isp -> edge; for the replies to ${f.homePublic} it is edge -> isp. Where the chain breaks, add the missing route: a default via the upstream router for a router with one way out, or a route for exactly the destination's block. The grader reads every table ("ip route show table all") and the policy rules ("ip rule"): fix the route in the table, add no rules. Open a router with: npx hurrynet shell home|isp|edge.`,
  async run(ctx) {
    const r = await judgeRoutes(ctx, f, v.bobBlock);
    return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
  },
});

const tablesCheck = (world: World): Check => ({
  id: 'tables',
  title: 'The routers translate and filter exactly as before (the fix is a route, not NAT or a firewall rule)',
  points: 1,
  deadlineMs: 3000,
  hint: 'Remove the iptables rules you added on home, isp or edge: "iptables-save" lists them all (nat, filter, mangle, raw); "iptables -t nat -D <rule>" deletes one, and rules made with iptables-legacy count too. Routing is fixed in the routing table.',
  async run(ctx) {
    const evidence: Evidence[] = [];
    const problems: string[] = [];
    await Promise.all(
      ROUTERS.map(async (name) => {
        const fw = await readFirewall(await ctx.probe(name));
        evidence.push(fw.evidence);
        if (fw.evidence.exitCode !== 0) {
          problems.push(`${name}: the tables could not be read`);
          return;
        }
        const d = firewallDiff(nodeOf(world, name), fw.rules);
        for (const r of d.extra)
          problems.push(`${name} ${r.table}${r.legacy ? ' (iptables-legacy)' : ''} has an extra rule: ${r.rule}`);
        for (const r of d.missing) problems.push(`${name} ${r.table} lost a rule: ${r.rule}`);
      }),
    );
    evidence.sort((a, b) => a.where.localeCompare(b.where));
    return problems.length
      ? fail(problems.join('; '), ...evidence)
      : pass("the nat, filter, mangle and raw tables of home, isp and edge are the world's own", ...evidence);
  },
});

const answerChecks = (v: RoutingVars, world: World, f: RoutingFacts): Check[] => [
  answerCheck({
    id: 'answer-stopped',
    title: 'answers.yaml: the last hop that answered before your fix',
    points: 1,
    key: 'stopped_at',
    hint: `The address on the last line of "traceroute -n ${f.bobPublic}" that shows an address (not only stars), before you changed anything.`,
    async expected() {
      return { value: routerAddresses(world, v.stoppedRouter).join(' or '), evidence: [] };
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
      return { value: v.router, evidence: [] };
    },
    matches: (given, want) => normalizeAnswer(given).replace(/ router$/, '') === want,
  }),
];

function checks(v: RoutingVars, world: World): Check[] {
  const f = routingFacts(world);
  return [pathCheck(f), pingCheck(f), webCheck(f), routeCheck(v, f), tablesCheck(world), ...answerChecks(v, world, f)];
}

export default defineLab<RoutingVars>({
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
  task(v) {
    // The task card gets no world: Bob's address comes from this learner's world, built as the lab builds it.
    const { bobPublic } = routingFacts(overlay(structuredClone(canonicalWorld), v));
    return {
      destination: `Bob's web server, ${bobPublic} (web.bob.example)`,
      symptom: "Alice's packets to Bob do not get through",
      trace: `traceroute -n ${bobPublic}`,
      routers: 'home, isp, edge (npx hurrynet shell <router>)',
      answers: '/root/answers.yaml with stopped_at, router',
    };
  },
  overlay,
  faults,
  checks,
});
