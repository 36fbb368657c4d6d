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
  forwarding,
  parseRouting,
  policyFindings,
  ROUTING_COMMAND,
  routeText,
  sections,
  type Route,
  type Routing,
  tablesCheck,
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

/** The repair, for every router whose table can break the chain (level 3 of the hints). */
const routeFix = (f: RoutingFacts) =>
  `On the router where the chain breaks, fix its table. Home: ip route replace default via ${f.ispAccess} dev access. ISP: ip route replace <Bob's block, the prefix ip -br addr shows next to ${f.bobPublic} on edge> via ${f.edgeBackbone} dev backbone (no default route on the ISP). Edge: ip route replace default via ${f.ispBackbone} dev backbone. Delete any ip rule you added (ip rule del pref N).`;

const pathCheck = (f: RoutingFacts): Check => {
  const expectedHops = [f.homeLan, f.ispAccess, f.bobPublic];
  return {
    id: 'path',
    title: `traceroute -n from a laptop on Alice's network to Bob shows exactly ${expectedHops.join(', ')}`,
    points: 3,
    deadlineMs: 8000,
    hint: [
      "The routers between Alice's network and Bob, one hop at a time: which is the last one that answers, and does it add a mark or is everything after it silent? Silence can also mean that the answers have no way back to Alice. The grader traces from a machine of its own on her network: only the routers count, nothing set on alice.",
      `traceroute -n -m 5 ${f.bobPublic} on alice: "!N" after a hop means that router has no route for the destination; "* * *" after a hop means the next router dropped the probe or its answer found no way back (stars where a router answered "!N" a moment ago are its rate limit: wait five seconds and trace again). Then ip route get on that router and the next (npx hurrynet shell home|isp|edge).`,
      routeFix(f),
    ],
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
  hint: [
    "Both directions of Alice's path: a reply needs a route to Bob through every router, and a route back from Bob's edge to Alice's public address. Which direction is missing? The grader pings from a machine of its own on her network.",
    `ping -c 3 ${f.bobPublic} on alice ("Destination Net Unreachable" names the router without a route); on your own computer, npx hurrynet journey ping ${f.bobPublic} shows where the echo requests and the replies were last seen.`,
    routeFix(f),
  ],
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
  hint: [
    "The source address Bob's server sees for Alice's request: the home router's public address, as its own translation made it. The routers after it forward datagrams; they do not rewrite them or answer in her place.",
    `curl http://${f.bobPublic}/whoami on alice shows what Bob sees (clientAddress); iptables -t nat -S on isp and edge lists any translation someone added.`,
    `Make the path work with routes only (the route check names the repair), and delete any translation or relay you added on isp or edge (iptables -t nat -D ...): clientAddress must then be ${f.homePublic}.`,
  ],
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
  hint: [
    `Each router's table, for the one destination that matters to it: home and the ISP for Bob's ${f.bobPublic} (home -> isp -> edge), the edge for the replies to Alice's public address ${f.homePublic} (edge -> isp). The chain breaks where a router has no line for it, or names a next hop that does not lead on.`,
    `ip route get ${f.bobPublic} on home and on isp, ip route get ${f.homePublic} on edge (npx hurrynet shell home|isp|edge); ip route lists a table, ip -br addr on edge shows Bob's block. The grader reads every table (ip route show table all) and the policy rules (ip rule).`,
    routeFix(f),
  ],
  async run(ctx) {
    const r = await judgeRoutes(ctx, f, v.bobBlock);
    return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
  },
});

const tables = (world: World): Check =>
  tablesCheck(world, ROUTERS, {
    title: 'The routers translate and filter exactly as before (the fix is a route, not NAT or a firewall rule)',
    deadlineMs: 3000,
    hint: [
      'The nat, filter, mangle and raw tables of home, isp and edge, against the way the lab started them: this lab is fixed with a route, so every translation or filter rule you added is one too many.',
      'iptables-save on each router lists every rule of every table, iptables-legacy-save the ones made with iptables-legacy; the check names each extra or missing rule.',
      'Delete each rule you added: iptables -t TABLE -D followed by the rule as iptables -S shows it after -A (or by its chain and number from iptables -L --line-numbers). Or start over with npx hurrynet lab 5 --reset and fix only the route.',
    ],
  });

const answerChecks = (v: RoutingVars, world: World, f: RoutingFacts): Check[] => [
  answerCheck({
    id: 'answer-stopped',
    title: 'answers.yaml: the last hop that answered before your fix',
    points: 1,
    key: 'stopped_at',
    about: 'an address of the last router that answered a traceroute from Alice towards Bob before the fix',
    hint: [
      'The traceroute you ran before you changed anything: the last line that shows an address, not only stars. Any address of that same router counts.',
      `traceroute -n -m 5 ${f.bobPublic} on alice. Stars where a router answered "!N" a moment before are its rate limit, not the end: wait five seconds and run it again (see the handout's Tools). Already fixed? npx hurrynet lab 5 --reset shows the broken path again.`,
      'In /root/answers.yaml, stopped_at is that address alone, as traceroute printed it (no prefix length, no name).',
    ],
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
    about: 'the router whose routing table was broken',
    hint: [
      'The router where the chain of next hops broke: the one whose table you had to change before the path worked.',
      'ip route get on each router, for the destination of its leg (the route check names them): which one answered "Network is unreachable", or named a next hop that does not lead on?',
      'In /root/answers.yaml, router is home, isp or edge, the name of that router.',
    ],
    async expected() {
      return { value: v.router, evidence: [] };
    },
    matches: (given, want) => normalizeAnswer(given).replace(/ router$/, '') === want,
  }),
];

function checks(v: RoutingVars, world: World): Check[] {
  const f = routingFacts(world);
  return [pathCheck(f), pingCheck(f), webCheck(f), routeCheck(v, f), tables(world), ...answerChecks(v, world, f)];
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
