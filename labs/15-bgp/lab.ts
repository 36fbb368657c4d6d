// Lab 15: routing between networks with BGP. The single backbone gives way to three autonomous
// systems: Alice's ISP (isp), a transit network (transit) and Bob's cloud (edge), each router
// running BIRD. The ISP announces Alice's access prefix and its own backbone; Bob's
// cloud announces the block that holds his public address. One fault per seed breaks the
// exchange: a missing network statement, a wrong neighbour AS, a filter, or a hijack (a more
// specific prefix announced by the wrong network, which wins by longest prefix match).
//
// Graded from places the learner cannot fake from alice: a ping from the grader's own machine on
// Alice's network, the routers' BGP tables read with birdc (learned from the right neighbour, with
// the right AS path), their kernel tables read by clean sidecars (the route must be proto bird, no
// static stand-in, no policy rule), and their iptables rules against the world's own.
import { contains, networkOf } from '../../orchestrator/world/addresses.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { ping } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import { addressOf, canonicalWorld, defineLab, draws, nodeOf, type Fault, type World } from '../kit/index.js';
import { birdConf } from '../../orchestrator/world/config.js';
import { FILES } from '../../orchestrator/world/files.js';
import { zoneAddress } from '../kit/dns.js';
import { parseRouting, policyFindings, ROUTING_COMMAND, type Route, tablesCheck } from '../kit/routing.js';
import type { BgpSpeaker, Node } from '../../orchestrator/world/world.js';

// ---- the lab's world --------------------------------------------------------------------------

export const ROUTERS = ['isp', 'transit', 'edge'] as const;
export type Router = (typeof ROUTERS)[number];
/**
 * Where each router's AS number is drawn from: private 16-bit ASNs (RFC 6996), in three disjoint
 * ranges so that the three always differ and a copied AS path names another learner's world.
 */
export const AS_RANGES: Record<Router, readonly [number, number]> = {
  isp: [64512, 64999],
  transit: [65000, 65299],
  edge: [65300, 65534],
};
/** The eBGP links: ISP to transit, transit to Bob's cloud (RFC 1918, nobody else on them). */
export const LINKS = {
  west: { name: 'peerwest', prefix: '172.16.12.0/29', isp: '172.16.12.1', transit: '172.16.12.2' },
  east: { name: 'peereast', prefix: '172.16.23.0/29', transit: '172.16.23.1', edge: '172.16.23.2' },
} as const;
/** The link that carries Bob's public block on the edge (a link name is at most 12 characters). */
export const BOB_LINK = 'bobpublic';
/** Lengths of Bob's block: each holds his address and stays off the ISP's /26. */
export const BLOCK_LENGTHS = [26, 27, 28] as const;
/** The backbone shrinks to a /26: ISP and DNS stay there, Bob's address moves to a block of its own. */
const BACKBONE = '198.51.100.0/26';

export const KINDS = ['no-network', 'wrong-as', 'filter', 'hijack'] as const;
export type Kind = (typeof KINDS)[number];

export type BgpVars = {
  /** The AS numbers of Alice's ISP, the transit network and Bob's cloud. */
  ispAs: number;
  transitAs: number;
  edgeAs: number;
  kind: Kind;
  /** The router whose configuration carries the fault. */
  router: Router;
  /** Bob's public block, announced by his cloud. */
  bobBlock: string;
  /** The more specific prefix the transit network announces in the hijack ("" otherwise). */
  hijack: string;
};

const bobPublicOf = (world: World) => zoneAddress(world, 'web.bob.example');

const vary = draws<BgpVars>({
  ispAs: (r) => r.int(...AS_RANGES.isp),
  transitAs: (r) => r.int(...AS_RANGES.transit),
  edgeAs: (r) => r.int(...AS_RANGES.edge),
  kind: (r) => r.pick(KINDS),
  router: (r, d) =>
    d.kind === 'no-network' ? 'edge' : d.kind === 'hijack' ? 'transit' : r.pick(['isp', 'transit'] as const),
  bobBlock: (r) => networkOf(`${bobPublicOf(canonicalWorld)}/${r.pick(BLOCK_LENGTHS)}`),
  // Longer than Bob's own block, so that it wins by longest prefix match wherever it is heard.
  hijack: (r, d) =>
    d.kind === 'hijack'
      ? networkOf(`${bobPublicOf(canonicalWorld)}/${r.int(Number(len(d.bobBlock ?? '/28')) + 1, 30)}`)
      : '',
});

const len = (p: string) => p.split('/')[1] as string;

/** A router's AS number in this learner's world. */
export const asOf = (v: BgpVars, router: Router): number =>
  router === 'isp' ? v.ispAs : router === 'transit' ? v.transitAs : v.edgeAs;

function overlay(world: World, v: BgpVars): World {
  const backbone = world.links.find((l) => l.name === 'backbone');
  const access = world.links.find((l) => l.name === 'access');
  if (!backbone || !access) throw new Error('lab 15 needs the access and backbone links');
  const bobPublic = bobPublicOf(world);
  backbone.prefix = BACKBONE;
  backbone.title = "Alice's ISP's own network (its router and the DNS server)";
  const at = world.links.indexOf(backbone) + 1;
  world.links.splice(
    at,
    0,
    {
      name: LINKS.west.name,
      title: `eBGP: Alice's ISP (AS ${v.ispAs}) to the transit network (AS ${v.transitAs})`,
      prefix: LINKS.west.prefix,
    },
    {
      name: LINKS.east.name,
      title: `eBGP: the transit network to Bob's cloud (AS ${v.edgeAs})`,
      prefix: LINKS.east.prefix,
    },
    { name: BOB_LINK, title: "Bob's public block (announced by his cloud)", prefix: v.bobBlock },
  );
  const isp = nodeOf(world, 'isp');
  const edge = nodeOf(world, 'edge');
  for (const i of isp.interfaces) if (i.link === 'backbone') i.addresses = [`198.51.100.1/${len(BACKBONE)}`];
  for (const n of world.nodes)
    for (const i of n.interfaces)
      if (i.link === 'backbone' && n.name !== 'isp')
        i.addresses = i.addresses.map((a) => `${a.split('/')[0]}/${len(BACKBONE)}`);
  isp.role = 'bgp';
  isp.title = `Alice's ISP's router (AS ${v.ispAs})`;
  isp.interfaces.push({ link: LINKS.west.name, addresses: [`${LINKS.west.isp}/29`] });
  isp.services = [...isp.services, 'bird'];
  isp.memoryMb = 96;
  isp.bgp = {
    asn: v.ispAs,
    routerId: LINKS.west.isp,
    networks: [access.prefix, BACKBONE],
    neighbors: [{ name: 'transit', address: LINKS.west.transit, asn: v.transitAs }],
  };
  const transit: Node = {
    name: 'transit',
    title: `A transit network between the ISP and Bob's cloud (AS ${v.transitAs})`,
    role: 'bgp',
    interfaces: [
      { link: LINKS.west.name, addresses: [`${LINKS.west.transit}/29`] },
      { link: LINKS.east.name, addresses: [`${LINKS.east.transit}/29`] },
    ],
    routes: [],
    nameserver: addressOf(world, 'dns', 'backbone'),
    router: true,
    services: ['bird'],
    memoryMb: 96,
    bgp: {
      asn: v.transitAs,
      routerId: LINKS.east.transit,
      networks: [],
      neighbors: [
        { name: 'isp', address: LINKS.west.isp, asn: v.ispAs },
        { name: 'edge', address: LINKS.east.edge, asn: v.edgeAs },
      ],
    },
  };
  world.nodes.splice(world.nodes.indexOf(isp) + 1, 0, transit);
  // Bob's edge leaves the backbone: it reaches the world through the transit network only.
  edge.role = 'bgp';
  edge.title = `Bob's cloud edge router (AS ${v.edgeAs}; NAT and security group)`;
  edge.interfaces = [
    { link: LINKS.east.name, addresses: [`${LINKS.east.edge}/29`] },
    { link: BOB_LINK, addresses: [`${bobPublic}/${len(v.bobBlock)}`] },
    ...edge.interfaces.filter((i) => i.link === 'vpc'),
  ];
  edge.routes = [];
  edge.services = [...edge.services, 'bird'];
  edge.memoryMb = 96;
  edge.nat = (edge.nat ?? []).map((r) => (r.kind === 'snat' ? { ...r, outLink: LINKS.east.name } : r));
  if (edge.firewall) {
    edge.firewall = {
      guardedLinks: [LINKS.east.name],
      allow: edge.firewall.allow.map((a) => ({ ...a, inLink: LINKS.east.name })),
    };
  }
  edge.bgp = {
    asn: v.edgeAs,
    routerId: LINKS.east.edge,
    networks: [v.bobBlock],
    neighbors: [{ name: 'transit', address: LINKS.east.transit, asn: v.transitAs }],
  };
  return world;
}

// ---- faults -----------------------------------------------------------------------------------

/** The neighbour a router's fault concerns: towards Bob for the ISP, towards Bob's cloud for transit. */
const faultPeer = (router: Router) => (router === 'isp' ? 'transit' : 'edge');

/** The router's BGP speaker as the fault leaves it (the world's own, changed in one place). */
export function faultySpeaker(v: BgpVars, world: World): BgpSpeaker {
  const bgp = structuredClone(nodeOf(world, v.router).bgp) as BgpSpeaker;
  const peer = bgp.neighbors.find((n) => n.name === faultPeer(v.router));
  switch (v.kind) {
    case 'no-network':
      bgp.networks = bgp.networks.filter((p) => p !== v.bobBlock);
      break;
    case 'wrong-as':
      if (peer) peer.asn = v.router === 'isp' ? v.edgeAs : v.ispAs;
      break;
    case 'filter':
      if (peer) peer.deny = [v.bobBlock];
      break;
    case 'hijack':
      bgp.networks = [...bgp.networks, v.hijack];
      break;
  }
  return bgp;
}

function faults(v: BgpVars, world: World): Fault[] {
  const node = nodeOf(world, v.router);
  const conf = birdConf(node, faultySpeaker(v, world));
  // The hijacker's kernel drops what its announcement attracts (a blackhole for the prefix).
  const blackhole = v.kind === 'hijack' ? `ip route add blackhole ${v.hijack}\n` : '';
  return [
    {
      node: v.router,
      description: 'a BGP configuration goes wrong',
      script: `${blackhole}cat > ${FILES.birdConf} <<'HURRYNET_EOF'\n${conf}HURRYNET_EOF\nbirdc configure >/dev/null`,
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

export interface BgpPath {
  prefix: string;
  /** BIRD's choice for the prefix (marked *). */
  best: boolean;
  /** The BIRD protocol it came from (the peer's name, or "own_prefixes" for the router's own). */
  protocol: string;
  /** The route's source as BIRD's Type line says: BGP, static, device... (set by BIRD, not by a filter). */
  source: string;
  via: string;
  asPath: number[];
}

/** Parses `birdc -r show route all` (BIRD 2): every route of every prefix, best marked. */
export function parseBirdRoutes(text: string): BgpPath[] {
  const out: BgpPath[] = [];
  let prefix = '';
  let current: BgpPath | undefined;
  for (const line of text.split('\n')) {
    const head =
      /^(\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})?\s+(?:unicast|unreachable|blackhole|prohibit)\s+\[(\S+)[^\]]*\]\s*(\*)?/.exec(
        line,
      );
    if (head && (head[1] || (prefix && /^\s/.test(line)))) {
      prefix = head[1] ?? prefix;
      current = { prefix, best: head[3] === '*', protocol: head[2] as string, source: '', via: '', asPath: [] };
      out.push(current);
      continue;
    }
    if (!current) continue;
    const via = /^\s+via (\d{1,3}(?:\.\d{1,3}){3})/.exec(line);
    if (via) current.via = via[1] as string;
    const type = /^\s+Type: (\S+)/.exec(line);
    if (type) current.source = type[1] as string;
    const path = /^\s+BGP\.as_path:(.*)$/.exec(line);
    if (path) current.asPath = (path[1] as string).trim().split(/\s+/).filter(Boolean).map(Number);
  }
  return out;
}

export function bgpFacts(world: World) {
  return {
    bobPublic: bobPublicOf(world),
    homePublic: addressOf(world, 'home', 'access'),
    alicePrefix: world.links.find((l) => l.name === 'access')?.prefix ?? '',
  };
}

interface RouterView {
  /** Why BIRD's table could not be read from the router ("" when it was). */
  bird: string;
  paths: BgpPath[];
  kernel: Route[];
  policy: string[];
  evidence: Evidence[];
}

/**
 * Asks the router's BIRD for its routes with a clean birdc, after making sure that what answers on
 * BIRD's control socket is the image's own BIRD: a learner's script in place of birdc, or a
 * program of their own on the socket, would otherwise print any table they liked.
 */
export const BIRD_READ = [
  'set -u',
  "pid=$(ss -xlpH 2>/dev/null | grep -F ' /run/bird/bird.ctl ' | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p' | head -n 1)",
  '[ -n "$pid" ] || { echo "no program answers on BIRD\'s control socket /run/bird/bird.ctl: BIRD is not running"; exit 3; }',
  'exe=$(sha256sum < /proc/$pid/exe) || exit 125',
  '[ "$exe" = "$(sha256sum < /usr/sbin/bird)" ] || { echo "the program on BIRD\'s control socket (pid $pid, $(readlink /proc/$pid/exe)) is not the image\'s BIRD"; exit 4; }',
  'echo "BIRD (pid $pid) answers on /run/bird/bird.ctl"',
  'exec birdc -r -s /proc/$pid/root/run/bird/bird.ctl show route all',
].join('\n');

async function view(ctx: CheckContext, router: Router): Promise<RouterView> {
  const [bgp, routing] = await Promise.all([
    ctx.inspect(router).then((h) => h.run(BIRD_READ, 5000)),
    ctx.probe(router).then((h) => h.run(ROUTING_COMMAND, 5000)),
  ]);
  // Exit 125: the grader could not read the daemon's program (its own permissions), not the learner's doing.
  if (bgp.exitCode === 125)
    throw new Error(`the grader could not read BIRD's program on ${router}: ${bgp.output.trim()}`);
  const r = parseRouting(routing.output, routing);
  return {
    bird: bgp.exitCode === 0 ? '' : bgp.output.trim().split('\n').slice(-1)[0] || `birdc failed (${bgp.exitCode})`,
    paths: parseBirdRoutes(bgp.output),
    kernel: r.used,
    policy: policyFindings(router, r),
    evidence: [bgp, routing],
  };
}

/**
 * The problem with a router's way to an address, or "" when BGP carries it from the right peer:
 * BIRD can be read, its best route for the owner's prefix was learned over BGP from the expected
 * neighbour with the expected AS path, and the kernel forwards by that prefix to that same next
 * hop. A kernel route typed in with "proto bird" has no such route behind it in BIRD.
 */
export function judgeLeg(
  v: RouterView,
  router: string,
  address: string,
  peer: string,
  asPath: number[],
  block: string,
): string {
  if (v.policy.length) return v.policy.join('; ');
  if (v.bird) return `${router}: ${v.bird}`;
  const kernel = v.kernel
    .filter((r) => r.type !== 'local' && r.type !== 'broadcast' && contains(r.prefix, address))
    .sort((a, b) => b.length - a.length);
  const best = kernel[0];
  if (!best) return `${router} has no route to ${address} in its kernel table`;
  if (best.prefix !== block)
    return `${router} forwards ${address} by ${best.prefix} ("${best.line}"), not by the owner's prefix ${block}`;
  if (!/\bproto bird\b/.test(best.line))
    return `${router}'s kernel route for ${address} is "${best.line}", not one that BIRD installed from BGP (proto bird): a static route is not the fix`;
  const path = v.paths.find((p) => p.prefix === block && p.best);
  if (!path) return `${router}'s BIRD has no best route for ${block}, so the kernel's "${best.line}" was not learned`;
  const want = `from ${peer} over BGP with AS path "${asPath.join(' ')}"`;
  if (path.source !== 'BGP')
    return `${router}'s BIRD has ${block} from its ${path.source || 'unknown'} protocol ${path.protocol}, expected ${want}`;
  if (path.via !== peer || path.asPath.join(' ') !== asPath.join(' '))
    return `${router} learned ${block} from ${path.protocol} (${path.via || 'no next hop'}) with AS path "${path.asPath.join(' ')}", expected ${want}`;
  if (best.vias.join(' ') !== peer)
    return `${router}'s kernel sends ${block} via ${best.vias.join(', ') || best.dev || 'nowhere'}, not via ${peer} where BIRD learned it`;
  return '';
}

// ---- checks -----------------------------------------------------------------------------------

const fix = (v: BgpVars) =>
  `In /etc/bird/bird.conf of the router that had the fault, then birdc configure: Bob's block belongs in edge's own_prefixes block (route ${v.bobBlock} unreachable;); each neighbour line names the peer's real AS (isp: neighbor ${LINKS.west.transit} as ${v.transitAs}; transit: neighbor ${LINKS.west.isp} as ${v.ispAs} and neighbor ${LINKS.east.edge} as ${v.edgeAs}; edge: neighbor ${LINKS.east.transit} as ${v.transitAs}); an import line that refuses a prefix becomes import all;; a prefix a network does not own leaves its own_prefixes block (and ip route del blackhole PREFIX). Delete any static route, NAT or ip rule you added.`;

const pingCheck = (v: BgpVars, f: ReturnType<typeof bgpFacts>): Check => ({
  id: 'ping',
  title: `A ping from Alice's network to Bob's public address ${f.bobPublic} gets replies`,
  points: 2,
  deadlineMs: 6000,
  hint: [
    "Both directions: the ISP needs a route to Bob's block, Bob's edge a route back to Alice's prefix, and the transit network both. The grader pings from a machine of its own on Alice's network.",
    `traceroute -n ${f.bobPublic} on alice shows where packets stop; on each router, ip route get ${f.bobPublic} and birdc show route for ${f.bobPublic} all.`,
    fix(v),
  ],
  async run(ctx) {
    const r = await ping(await ctx.fresh('lan'), f.bobPublic, 3);
    return r.ok
      ? pass(`${r.received}/${r.sent} replies`, r.evidence)
      : fail(`no reply from ${f.bobPublic} (${r.sent} sent)`, r.evidence);
  },
});

const bgpCheck = (v: BgpVars, f: ReturnType<typeof bgpFacts>): Check => ({
  id: 'bgp',
  title: "Every router reaches Bob's block and Alice's prefix by routes BGP learned from the right neighbour",
  points: 4,
  deadlineMs: 8000,
  hint: [
    `Each router's BGP table: Bob's block should come from his cloud (AS ${v.edgeAs}) through the transit network, Alice's prefix from her ISP (AS ${v.ispAs}), and the kernel route should be the one BIRD installed.`,
    'birdc show protocols (is each session Established?), birdc show route all (which prefixes, from whom, which BGP.as_path), cat /etc/bird/bird.conf, and ip route (proto bird) on isp, transit and edge (npx hurrynet shell ROUTER).',
    fix(v),
  ],
  async run(ctx) {
    const [isp, transit, edge] = await Promise.all(ROUTERS.map((r) => view(ctx, r)));
    const evidence = [isp, transit, edge].flatMap((x) => (x as RouterView).evidence);
    const problems = [
      judgeLeg(isp as RouterView, 'isp', f.bobPublic, LINKS.west.transit, [v.transitAs, v.edgeAs], v.bobBlock),
      judgeLeg(transit as RouterView, 'transit', f.bobPublic, LINKS.east.edge, [v.edgeAs], v.bobBlock),
      judgeLeg(transit as RouterView, 'transit', f.homePublic, LINKS.west.isp, [v.ispAs], f.alicePrefix),
      judgeLeg(edge as RouterView, 'edge', f.homePublic, LINKS.east.transit, [v.transitAs, v.ispAs], f.alicePrefix),
    ].filter(Boolean);
    return problems.length
      ? fail(problems.join('; '), ...evidence)
      : pass(
          `isp reaches ${v.bobBlock} by AS path ${v.transitAs} ${v.edgeAs}; edge reaches ${f.alicePrefix} by ${v.transitAs} ${v.ispAs}`,
          ...evidence,
        );
  },
});

const tables = (world: World): Check =>
  tablesCheck(world, ROUTERS, {
    title: 'The routers translate and filter exactly as before (the fix is BGP, not NAT)',
    deadlineMs: 4000,
    hint: [
      'The nat, filter, mangle and raw tables of isp, transit and edge, against the way the lab started them.',
      'iptables-save on each router; the check names each extra or missing rule.',
      'Delete each rule you added (iptables -t TABLE -D ...), or start over with npx hurrynet lab 15 --reset.',
    ],
  });

const answerChecks = (v: BgpVars, f: ReturnType<typeof bgpFacts>): Check[] => [
  answerCheck({
    id: 'answer-as-path',
    title: "answers.yaml: the AS path from Alice's ISP to Bob's block, after your fix",
    points: 1,
    key: 'as_path',
    about: "the AS path of the ISP's best route to Bob's block",
    hint: [
      "The ISP router's best route to Bob's block: the autonomous systems it crosses, nearest first.",
      `birdc show route for ${f.bobPublic} all on isp: the BGP.as_path line of the route marked *.`,
      'In /root/answers.yaml, as_path is the AS numbers separated by spaces, nearest first.',
    ],
    async expected() {
      return { value: `${v.transitAs} ${v.edgeAs}`, evidence: [] };
    },
    matches: (given, want) => given.replace(/[^\d]+/g, ' ').trim() === want,
  }),
  answerCheck({
    id: 'answer-router',
    title: 'answers.yaml: the router whose BGP configuration had the fault',
    points: 1,
    key: 'router',
    about: 'the router whose BGP configuration was broken',
    hint: [
      'The router whose configuration you changed before the path worked.',
      'cat /etc/bird/bird.conf on each router, against what your task card says each AS announces and to whom.',
      'In /root/answers.yaml, router is isp, transit or edge.',
    ],
    async expected() {
      return { value: v.router, evidence: [] };
    },
    matches: (given, want) => normalizeAnswer(given).replace(/ router$/, '') === want,
  }),
];

function checks(v: BgpVars, world: World): Check[] {
  const f = bgpFacts(world);
  return [pingCheck(v, f), bgpCheck(v, f), tables(world), ...answerChecks(v, f)];
}

export default defineLab<BgpVars>({
  number: 15,
  slug: 'bgp',
  title: 'BGP: routing between networks',
  topics: ['autonomous systems', 'BGP', 'eBGP sessions', 'AS path', 'longest prefix match', 'route hijack'],
  minutes: 40,
  goal: "Find why Alice's packets no longer reach Bob across three autonomous systems, read each router's BGP sessions and table, and fix the one BGP configuration that is wrong so that the routes are learned, not typed in.",
  submissionNodes: ['alice', 'isp', 'transit', 'edge'],
  // The routers first: alice's answers (which router was wrong) come from what their scripts found.
  scriptOrder: ['edge', 'transit', 'isp', 'alice'],
  questions: [
    { key: 'as_path', prompt: "The AS path of the ISP's route to Bob's block, after your fix" },
    { key: 'router', prompt: 'The router whose BGP configuration had the fault (isp, transit or edge)' },
  ],
  vary,
  task(v) {
    const f = bgpFacts(overlay(structuredClone(canonicalWorld), v));
    return {
      destination: `Bob's web server, ${f.bobPublic} (web.bob.example)`,
      symptom: "Alice's packets to Bob do not get through",
      networks: `Alice's ISP AS ${v.ispAs} (isp, announces ${f.alicePrefix} and ${BACKBONE}), transit AS ${v.transitAs} (transit), Bob's cloud AS ${v.edgeAs} (edge, announces ${v.bobBlock})`,
      routers: 'isp, transit, edge (npx hurrynet shell ROUTER; birdc show protocols; birdc show route all)',
      answers: '/root/answers.yaml with as_path, router',
    };
  },
  overlay,
  faults,
  checks,
});
