// Lab 08: MTU and fragmentation. One link on the way to Bob carries smaller packets than the
// 1500 bytes everything else carries (per seed: Alice's access line or the backbone, and how
// small), and a router "hardened" against ICMP drops the "fragmentation needed" messages that path
// MTU discovery depends on. Small requests work; a large download hangs: a path-MTU black hole.
// The learner measures the path MTU with ping -M do, finds the filter, and fixes the network:
// let the ICMP through, or clamp the TCP MSS on a router. Restoring 1500 bytes on the small link
// is not a fix (the link is part of the world); neither is shrinking Alice's own MTU or MSS.
//
// Graded from places the learner cannot fake. Claims about the network come from the grader's
// own fresh laptop on Alice's link (its own namespace: none of alice's MTU, MSS, rules or relays
// apply, and it has learned no path MTU): a small request and the large download, after Bob's
// server has forgotten any path MTU it learned (a fresh route for the duration of the check),
// with Bob's access log as the witness (the one-time URL arrived from Alice's network, from the
// laptop's own port, so no relay fetched it in its place). Clean sidecars read the rest: the
// routers' links and every routing table and rule (a route's own mtu or advmss, in any table,
// hides the black hole instead of opening it), their iptables rules, nft and legacy (no redirect
// to a local relay), and Alice's own settings, which must stay standard. The path_mtu answer is
// compared with the MTU the small link has.
//
// The other half of the topic, a router fragmenting: the learner sends one ping of her own size
// (FRAG_SIZE, per seed) without the DF bit, which the router in front of the small link cuts in
// pieces, and reads the pieces with tcpdump -v beyond the link. The answers (how many fragments,
// the last one's offset and length) are computed from the link's MTU and that size.
import {
  accessEntriesWith,
  addressOf,
  addressesOf,
  defineLab,
  draws,
  nodeOf,
  nonce,
  type Fault,
  type World,
} from '../kit/index.js';
import { aliceLan, webPublic } from '../kit/web.js';
import {
  firewallDiff,
  firewallText,
  parseRouting,
  readFirewall,
  ROUTING_COMMAND,
  routeText,
  ruleText,
  sections,
  type Route,
  type Routing,
} from '../kit/routing.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Hints, type Host } from '../../checks/types.js';
import { http, q, resolveWith } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

/** Every other link in the world carries Ethernet's usual 1500 bytes. */
export const STANDARD_MTU = 1500;
/** The large download the grader (and the learner) makes: 1 MB. */
export const DOWNLOAD_BYTES = 1000000;

// ---- variation --------------------------------------------------------------------------------

/**
 * Where the small link is and which router drops "fragmentation needed" on its way back to Bob's
 * server (the sender of a download):
 * - access: the ISP router sends the message (it cannot forward Bob's big packets onto Alice's
 *   line); either the ISP router never sends it (OUTPUT) or Bob's edge drops it (FORWARD);
 * - backbone: the edge sends it itself (OUTPUT) when Bob's packets do not fit the backbone.
 */
export const SCENARIOS = [
  { link: 'access', filterNode: 'isp', chain: 'OUTPUT' },
  { link: 'access', filterNode: 'edge', chain: 'FORWARD' },
  { link: 'backbone', filterNode: 'edge', chain: 'OUTPUT' },
] as const;
type Scenario = (typeof SCENARIOS)[number];
/** The links that can be the small one. */
export const SMALL_LINKS = [...new Set(SCENARIOS.map((s) => s.link))];
export const MTU_MIN = 1280;
export const MTU_MAX = 1460;
/**
 * The learner's own ping size (data bytes) for the fragmentation step: odd sizes from FRAG_MIN to
 * FRAG_MAX. The packet (size + 28) is always bigger than the small link (at most MTU_MAX) and never
 * bigger than Alice's own 1500, so the router fragments it and Alice does not; the size says
 * nothing about the link's MTU, and being odd it never equals one.
 */
export const FRAG_MIN = 1433;
export const FRAG_MAX = 1471;
/** The IPv4 header without options, and the ICMP header. */
const IP_HEADER = 20;
const ICMP_HEADER = 8;

/** How a router cuts one IPv4 packet (no options) for a link: offsets in bytes, lengths as tcpdump -v prints them. */
export function fragmentsOf(mtu: number, pingSize: number): { count: number; lastOffset: number; lastLength: number } {
  const data = pingSize + ICMP_HEADER;
  // Every fragment but the last carries a multiple of 8 bytes: the offset field counts 8-byte units.
  const per = Math.floor((mtu - IP_HEADER) / 8) * 8;
  const count = Math.max(1, Math.ceil(data / per));
  const lastOffset = (count - 1) * per;
  return { count, lastOffset, lastLength: IP_HEADER + data - lastOffset };
}

export type MtuVars = {
  link: Scenario['link'];
  filterNode: Scenario['filterNode'];
  chain: Scenario['chain'];
  mtu: number;
  /** The data size of the learner's fragmentation ping (ping -s). */
  fragSize: number;
};

/** The scenario of a link and filter (the chain follows from both). */
function scenarioOf(link?: Scenario['link'], filterNode?: Scenario['filterNode']): Scenario {
  const s = SCENARIOS.find((x) => x.link === link && x.filterNode === filterNode);
  if (!s)
    throw new Error(`lab 08: no scenario has the small link ${String(link)} and the filter on ${String(filterNode)}`);
  return s;
}

// The small link first; the filter is drawn among the places that fit that link.
const vary = draws<MtuVars>({
  link: (r) => r.pick(SMALL_LINKS),
  filterNode: (r, d) => r.pick(SCENARIOS.filter((s) => s.link === d.link).map((s) => s.filterNode)),
  chain: (_r, d) => scenarioOf(d.link, d.filterNode).chain,
  mtu: (r) => r.int(MTU_MIN / 10, MTU_MAX / 10) * 10,
  fragSize: (r) => FRAG_MIN + 2 * r.int(0, (FRAG_MAX - FRAG_MIN) / 2),
});

// ---- facts from the lab's world ---------------------------------------------------------------

/** The nodes attached to a link. */
export function nodesOn(world: World, link: string): string[] {
  return world.nodes.filter((n) => n.interfaces.some((i) => i.link === link)).map((n) => n.name);
}

/** The routers: the learner's to change, and the only places a fix of the network belongs. */
export function routersOf(world: World): string[] {
  return world.nodes.filter((n) => n.router).map((n) => n.name);
}

/** What the checks need to know about Alice's side and Bob's, read once per world. */
function facts(world: World) {
  const alice = nodeOf(world, 'alice');
  const web = nodeOf(world, 'web');
  const iface = aliceLan(world);
  const webIface = web.interfaces[0]?.link;
  const gateway = alice.routes.find((r) => r.to === 'default')?.via;
  const webGateway = web.routes.find((r) => r.to === 'default')?.via;
  if (!webIface || !gateway || !webGateway)
    throw new Error('lab 08: alice and web need a link and a default route each');
  return {
    /** Alice's interface, e.g. "lan", and her default gateway (the home router). */
    iface,
    gateway,
    aliceAddresses: addressesOf(world, 'alice', iface),
    bob: webPublic(world),
    /** The home router's public address: the client address Bob sees. */
    homePublic: addressOf(world, 'home', 'access'),
    webIface,
    webGateway,
    routers: routersOf(world),
  };
}
type Facts = ReturnType<typeof facts>;

function faults(v: MtuVars, world: World): Fault[] {
  const shrink: Fault[] = nodesOn(world, v.link).map((node) => ({
    node,
    description: `the ${v.link} link carries at most ${v.mtu} bytes per packet`,
    script: `ip link set dev ${v.link} mtu ${v.mtu}`,
  }));
  return [
    ...shrink,
    {
      node: v.filterNode,
      description: `"hardening": drop ICMP fragmentation-needed (${v.chain})`,
      script: `iptables -I ${v.chain} 1 -p icmp --icmp-type fragmentation-needed -j DROP`,
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

/** Parses `ip -o link show`: every interface's MTU, by name (without the "@ifN" peer suffix). */
export function parseLinks(output: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of output.matchAll(/^\d+: ([^:@\s]+)(?:@\S+)?: .*?\bmtu (\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

/** The MTU of a node's interface, read by a clean sidecar in its namespace. */
async function linkMtu(ctx: CheckContext, node: string, dev: string): Promise<{ mtu?: number; evidence: Evidence }> {
  const probe = await ctx.probe(node);
  const e = await probe.run(`ip -o link show dev ${q(dev)}`, 5000);
  const m = /\bmtu (\d+)/.exec(e.output);
  return { mtu: e.exitCode === 0 && m ? Number(m[1]) : undefined, evidence: e };
}

/** Every end of the small link, with the MTU it has now. */
async function smallLink(
  ctx: CheckContext,
  world: World,
  link: string,
): Promise<{ ends: { node: string; mtu?: number }[]; evidence: Evidence[] }> {
  const nodes = nodesOn(world, link);
  const seen = await Promise.all(nodes.map((n) => linkMtu(ctx, n, link)));
  return { ends: nodes.map((node, i) => ({ node, mtu: seen[i]?.mtu })), evidence: seen.map((s) => s.evidence) };
}

/** A node's interfaces, rules and every routing table, in one reading. */
async function readNode(host: Host): Promise<{ links: Map<string, number>; routing: Routing }> {
  const e = await host.run(`echo '--- ip -o link show'; ip -o link show; ${ROUTING_COMMAND}`, 8000);
  return { links: parseLinks(sections(e.output).get('ip -o link show') ?? ''), routing: parseRouting(e.output, e) };
}

/** A route with its table, and the rules that select that table when it is not a standard one. */
function routeWithRules(r: Route, routing: Routing): string {
  const by = routing.rules.filter((x) => x.table === r.table && !['local', 'main', 'default'].includes(r.table));
  return `${routeText(r)}${by.length ? `, selected by the rule "${by.map(ruleText).join('", "')}"` : ''}`;
}

/** Routes in tables the kernel may use that set an MTU or an MSS of their own. */
const tunedRoutes = (routing: Routing) => routing.used.filter((r) => r.mtu !== undefined || r.advmss !== undefined);

/** The rules that hand connections to something other than their destination, or rewrite their MSS. */
const INTERCEPT = /-j (REDIRECT|DNAT|TPROXY)\b/;
const TRICK = /-j (TCPMSS|REDIRECT|DNAT|TPROXY)\b/;

/** Rules on the routers, beyond the world's own, that send connections to a local relay. */
async function interceptions(ctx: CheckContext, world: World): Promise<{ found: string[]; evidence: Evidence[] }> {
  const seen = await Promise.all(
    routersOf(world).map(async (name) => {
      const fw = await readFirewall(await ctx.probe(name));
      const extra = firewallDiff(nodeOf(world, name), fw.rules).extra.filter((r) => INTERCEPT.test(r.rule));
      return { found: extra.map((r) => `${name} ${firewallText(r)}`), evidence: fw.evidence };
    }),
  );
  return { found: seen.flatMap((x) => x.found), evidence: seen.map((x) => x.evidence) };
}

// ---- checks -----------------------------------------------------------------------------------

const reachCheck = (f: Facts): Check => ({
  id: 'reach',
  title: "Small requests work: Bob's front page answers a laptop on Alice's network",
  points: 1,
  hint: [
    "A small request from a laptop on Alice's network: a few packets, each far below any link's MTU. If even that fails, the MTU is not the problem: something else on the way to Bob broke.",
    'curl -i http://web.bob.example/ on alice should answer 200 OK; dig web.bob.example shows whether the name resolves (through the home router), ip route whether alice has her default route.',
    'This lab breaks nothing on that path: undo your own changes on the routers and on alice, or start again from a clean world with npx hurrynet lab 8 --reset.',
  ],
  async run(ctx) {
    // A claim about the network: the grader's own machine on Alice's link asks.
    const probe = await ctx.fresh(f.iface);
    const { address, result } = await resolveWith(probe, 'web.bob.example', f.gateway);
    if (!address) return fail('web.bob.example does not resolve through the home router', result.evidence);
    const r = await http(probe, { url: 'http://web.bob.example/', resolveTo: address });
    return r.status === 200
      ? pass('GET / answered 200 OK', r.evidence)
      : fail(`GET / answered ${r.status || 'nothing'}`, r.evidence);
  },
});

const linkMtuCheck = (v: MtuVars, world: World, f: Facts): Check => ({
  id: 'link-mtu',
  title:
    'The links keep their MTUs, and no route on a router sets one of its own (fix the network around the small link)',
  points: 1,
  hint: [
    "The routers' interfaces and routes. The small link keeps its small MTU (real tunnels and PPPoE lines have one that nobody on the path can change), every other link its 1500, and no route an MTU or MSS of its own: those hide the black hole from some connections and leave it open.",
    'ip link on home, isp and edge shows every interface with its "mtu"; ip route show table all and ip rule show every route the router may use, and whether one carries an "mtu" or "advmss" of its own.',
    `On ${nodesOn(world, v.link).join(' and ')}: ip link set dev ${v.link} mtu ${v.mtu}. Set any other link back with ip link set dev LINK mtu ${STANDARD_MTU}, and delete a route with its own mtu or advmss (ip route del ... table N, ip rule del ...). Then fix the network itself: let the ICMP through, or clamp the MSS.`,
  ],
  async run(ctx) {
    const s = await smallLink(ctx, world, v.link);
    const problems: string[] = [];
    const wrong = s.ends.filter((e) => e.mtu !== v.mtu);
    if (wrong.length)
      problems.push(
        `the ${v.link} link's MTU was changed: ${wrong.map((e) => `${e.node} has ${e.mtu ?? 'no such interface'}`).join(', ')} (it must stay ${v.mtu})`,
      );
    const routers = await Promise.all(
      f.routers.map(async (name) => ({ name, ...(await readNode(await ctx.probe(name))) })),
    );
    for (const r of routers) {
      const shrunk = [...r.links].filter(([dev, m]) => dev !== 'lo' && dev !== v.link && m !== STANDARD_MTU);
      for (const [dev, m] of shrunk)
        problems.push(
          `${r.name}'s ${dev} interface has MTU ${m}, not ${STANDARD_MTU}: a smaller link elsewhere moves the black hole, it does not open it`,
        );
      for (const t of tunedRoutes(r.routing))
        problems.push(
          `${r.name} has the route ${routeWithRules(t, r.routing)}: a route's own MTU or MSS hides the black hole from some connections without opening it`,
        );
    }
    const evidence = [...s.evidence, ...routers.map((r) => r.routing.evidence)];
    if (problems.length) return fail(problems.join('; '), ...evidence);
    return pass(
      `the ${v.link} link still carries at most ${v.mtu} bytes per packet on ${s.ends.map((e) => e.node).join(', ')}; the routers' other links carry ${STANDARD_MTU} and their routes set no MTU or MSS, in any table`,
      ...evidence,
    );
  },
});

const aliceStandardCheck = (f: Facts): Check => ({
  id: 'alice-standard',
  title: "Alice's laptop keeps its standard settings (the fix belongs in the network, not on one laptop)",
  points: 1,
  hint: [
    "Alice's own laptop: her interface's MTU, her routes in every table, her firewall. A smaller MTU or MSS, or a local proxy, there hides the black hole for her alone; every other visitor still hangs, so the fix belongs on a router.",
    `On alice: ip link show dev ${f.iface} (its mtu), ip route show table all and ip rule (a route with "mtu" or "advmss"), iptables -t mangle -S and iptables -t nat -S (MSS clamping, redirects).`,
    `On alice: ip link set dev ${f.iface} mtu ${STANDARD_MTU}; ip route change default via ${f.gateway} dev ${f.iface}; delete the extra routes and rules that ip route show table all and ip rule list (ip route del ... table N, ip rule del ...); iptables -t mangle -F; iptables -t nat -F.`,
  ],
  async run(ctx) {
    const probe = await ctx.probe('alice');
    const [mine, fw] = await Promise.all([readNode(probe), readFirewall(probe)]);
    const problems: string[] = [];
    const ifMtu = mine.links.get(f.iface);
    if (ifMtu !== STANDARD_MTU)
      problems.push(
        `Alice's ${f.iface} interface has MTU ${ifMtu ?? 'unknown'}, not ${STANDARD_MTU}: that makes her own connections small, but fixes nothing for anyone else`,
      );
    for (const t of tunedRoutes(mine.routing))
      problems.push(
        `Alice's laptop has the route ${routeWithRules(t, mine.routing)}, which sets its own MSS or MTU: a workaround on one laptop, not a fix of the path`,
      );
    // A local address that is not hers (Bob's, on lo) lets a program on alice answer in Bob's place.
    const address = (r: Route) => r.prefix.split('/')[0] as string;
    const stand = mine.routing.used.filter(
      (r) => r.type === 'local' && !contains('127.0.0.0/8', address(r)) && !f.aliceAddresses.includes(address(r)),
    );
    for (const r of stand)
      problems.push(
        `Alice's laptop claims ${r.prefix.replace(/\/32$/, '')} as an address of its own (${routeText(r)}): a local stand-in, not the path`,
      );
    const tricks = fw.rules.filter((r) => TRICK.test(r.rule));
    for (const r of tricks)
      problems.push(
        `Alice's laptop rewrites or redirects her own traffic (${firewallText(r)}): a workaround on one laptop, not a fix of the path`,
      );
    const evidence = [mine.routing.evidence, fw.evidence];
    if (problems.length) return fail(problems.join('; '), ...evidence);
    return pass(
      `${f.iface} has MTU ${STANDARD_MTU}, no route in any table sets an MSS or MTU, and no rule rewrites or redirects her connections`,
      ...evidence,
    );
  },
});

/** The grader's own download from a fresh laptop on Alice's link, while Bob's server has forgotten the path MTU. */
async function freshDownload(ctx: CheckContext, f: Facts, path: string): Promise<Evidence> {
  // A fresh next hop keeps no path MTU: a route of Bob's own for the duration, removed afterwards.
  const webRoute = `${f.homePublic}/32 via ${f.webGateway} dev ${f.webIface} proto static metric 7`;
  const webNode = ctx.node('web');
  const laptop = await ctx.fresh(f.iface);
  await webNode.run(`ip route add ${webRoute} 2>/dev/null; true`, 5000);
  try {
    return await laptop.run(
      `curl -sS -m 8 -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total} s from port %{local_port}\\n' --resolve web.bob.example:80:${f.bob} ${q(`http://web.bob.example${path}`)}`,
      15000,
    );
  } finally {
    await webNode.run(`ip route del ${webRoute} 2>/dev/null; true`, 5000);
  }
}

const downloadCheck = (world: World, f: Facts): Check => ({
  id: 'download',
  title: `A large download (${DOWNLOAD_BYTES} bytes) from Bob completes, for a new laptop on Alice's network`,
  points: 4,
  deadlineMs: 4000,
  hint: [
    `For a download the sender of the big packets is Bob's server. The router in front of the small link answers each one with ICMP "fragmentation needed": follow that message back towards Bob and find the router whose firewall drops it. (The grader downloads from a fresh laptop of its own on Alice's network: what Alice's laptop learned or was set to does not count.)`,
    `iptables -S and iptables -L -v -n on each router (npx hurrynet shell ROUTER): a DROP rule for icmp type 3/4 (fragmentation-needed), in OUTPUT or FORWARD, whose counter grows while the download hangs. npx hurrynet journey -- curl -m 10 -o /dev/null http://web.bob.example/bytes/${DOWNLOAD_BYTES} shows where the full-size segments stop.`,
    'Delete that rule on its router: repeat it as iptables -S prints it, with -D instead of -A. Or clamp the TCP MSS on a router attached to the small link: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu.',
  ],
  async run(ctx) {
    // A claim about the network, so a fresh laptop of the grader's downloads: it has learned no
    // path MTU and has none of alice's settings (MTU, MSS, rules, relays).
    const token = nonce(6);
    const dl = await freshDownload(ctx, f, `/bytes/${DOWNLOAD_BYTES}?check=${token}`);
    const m = /^(\d{3}) (\d+) bytes in \S+ s from port (\d+)/m.exec(dl.output);
    if (dl.exitCode !== 0 || !m) {
      const hung = dl.exitCode === 28;
      return fail(
        hung
          ? `the download hung: ${/with (\d+) (?:out of \d+ )?bytes received/.exec(dl.output)?.[1] ?? 'almost no'} of ${DOWNLOAD_BYTES} bytes arrived in 8 s (small packets pass, full-size ones vanish)`
          : `the download failed (curl exit code ${dl.exitCode})`,
        dl,
      );
    }
    if (m[1] !== '200' || Number(m[2]) !== DOWNLOAD_BYTES)
      return fail(`the download answered ${m[1]} with ${m[2]} bytes, not 200 with ${DOWNLOAD_BYTES}`, dl);
    const [log, caught] = await Promise.all([accessEntriesWith(ctx.node('web'), token), interceptions(ctx, world)]);
    const entry = log.entries[0];
    const evidence = [dl, log.evidence, ...caught.evidence];
    const relays = caught.found.length ? ` (${caught.found.join('; ')})` : '';
    if (entry?.client !== f.homePublic || entry.status !== 200) {
      return fail(
        `${DOWNLOAD_BYTES} bytes arrived, but Bob's server never served that download to Alice's network: something on the way answered instead of Bob${relays}`,
        ...evidence,
      );
    }
    // The home router's NAT keeps the laptop's source port; a relay's own connection has another.
    if (entry.port !== undefined && entry.port !== Number(m[3])) {
      return fail(
        `Bob served the download to port ${entry.port}, but the laptop asked from port ${m[3]}: a relay on the way fetched it in the laptop's place, so the path itself still hangs${relays}`,
        ...evidence,
      );
    }
    if (caught.found.length) {
      return fail(
        `the download came through, but a router redirects connections to a relay of its own (${caught.found.join('; ')}): that hides the black hole instead of fixing it`,
        ...evidence,
      );
    }
    return pass(`all ${DOWNLOAD_BYTES} bytes arrived from Bob (${m[0].replace(/^\d{3} \d+ bytes /, '')})`, ...evidence);
  },
});

/** An answer that follows from the small link's MTU, judged only while the link keeps it. */
const mtuAnswer = (
  v: MtuVars,
  world: World,
  spec: {
    id: string;
    title: string;
    points: number;
    required?: boolean;
    key: string;
    hint: Hints;
    about: string;
    value(mtu: number): number;
  },
): Check =>
  answerCheck({
    ...spec,
    async expected(ctx) {
      const s = await smallLink(ctx, world, v.link);
      const ok = s.ends.every((e) => e.mtu === v.mtu);
      return { value: ok ? String(spec.value(v.mtu)) : undefined, evidence: ok ? [] : s.evidence };
    },
    matches: (given, want) => Number(given.trim().replace(/\s*bytes?$/i, '')) === Number(want),
  });

/** The learner's fragmentation ping, as the task card and the handout write it. */
export const fragPing = (v: Pick<MtuVars, 'fragSize'>) => `ping -M dont -c 1 -s ${v.fragSize} web.bob.example`;

/** The answers about the router's fragments of the learner's own ping (FRAG_SIZE), computed from the link's MTU. */
function fragmentAnswers(v: MtuVars, world: World): Check[] {
  const frag = fragmentsOf(v.mtu, v.fragSize);
  const ping = `your ${v.fragSize}-byte ping without DF`;
  const where =
    'Beyond the small link: on the router at its far end (npx hurrynet shell ROUTER), the packet you sent arrives in pieces, each an IP packet of its own with the same "id". Make Alice forget the path MTU first, so that the router cuts it, not her laptop.';
  const tool = `On that router: tcpdump -n -v -i LINK icmp (LINK: its interface on the small link), while alice runs ${fragPing(v)}. Every piece shows "offset" (in bytes) and "flags [+]" (more pieces follow) or "flags [none]" (the last); "length" is the piece's IP packet, header included. The reply comes back cut the same way: tcpdump -n -v -i ${aliceLan(world)} icmp on alice shows it.`;
  const spec = (s: {
    id: string;
    title: string;
    key: string;
    points: number;
    required?: boolean;
    about: string;
    fix: string;
    value: number;
  }): Check =>
    answerCheck({
      id: s.id,
      title: s.title,
      points: s.points,
      required: s.required,
      key: s.key,
      about: s.about,
      hint: [where, tool, s.fix],
      async expected(ctx) {
        const link = await smallLink(ctx, world, v.link);
        const ok = link.ends.every((e) => e.mtu === v.mtu);
        return { value: ok ? String(s.value) : undefined, evidence: ok ? [] : link.evidence };
      },
      matches: (given, want) => Number(given.trim().replace(/\s*bytes?$/i, '')) === Number(want),
    });
  return [
    spec({
      id: 'answer-fragments',
      title: `answers.yaml: how many fragments the router cuts your ${v.fragSize}-byte ping into (fragments)`,
      key: 'fragments',
      points: 1,
      about: `the number of fragments the router in front of the small link cuts ${ping} into`,
      fix: `Count the packets with the same id that your ping became beyond the small link (each fragment carries at most the link's MTU minus 20 bytes of data, in multiples of 8), and write fragments: N in /root/answers.yaml.`,
      value: frag.count,
    }),
    spec({
      id: 'answer-last-offset',
      title: `answers.yaml: the offset of the last fragment of that ping, in bytes (last_offset)`,
      key: 'last_offset',
      points: 1,
      about: `the offset, in bytes, of the last fragment of ${ping} beyond the small link`,
      fix: 'Write last_offset: the "offset" tcpdump -v prints for the piece with "flags [none]". It is the path MTU minus 20, rounded down to a multiple of 8 (times the pieces before it), because the offset field counts 8-byte units.',
      value: frag.lastOffset,
    }),
    spec({
      id: 'answer-last-length',
      title: `answers.yaml: the length of that last fragment, IP header included (last_length)`,
      key: 'last_length',
      points: 1,
      required: false,
      about: `the length tcpdump -v prints for the last fragment (its IP packet, header included) of ${ping}`,
      fix: `Write last_length: the "length" tcpdump -v prints for the piece with "flags [none]": 20 bytes of IP header + (${v.fragSize} + 8 bytes of ICMP header - last_offset).`,
      value: frag.lastLength,
    }),
  ];
}

function checks(v: MtuVars, world: World): Check[] {
  const f = facts(world);
  return [
    reachCheck(f),
    linkMtuCheck(v, world, f),
    aliceStandardCheck(f),
    downloadCheck(world, f),
    mtuAnswer(v, world, {
      id: 'answer-path-mtu',
      title: "answers.yaml: the path MTU between Alice's laptop and Bob's server (path_mtu)",
      points: 2,
      key: 'path_mtu',
      about: "the MTU of the smallest link between Alice's laptop and Bob's server",
      hint: [
        "The largest packet that crosses the whole way from Alice to Bob: the smallest link on the way decides it. Measure it from Alice's laptop with packets that must not be fragmented, and mind what ping's size counts.",
        'ping -M do -c 1 -s SIZE web.bob.example sends a packet of SIZE + 28 bytes (20 of IP header, 8 of ICMP header) with DF set; "message too long, mtu=N" or no reply means it did not fit. tracepath -n web.bob.example prints the pmtu it found.',
        'Lower SIZE until a reply comes back (or bisect: halve the range each time); write path_mtu: the largest SIZE that works + 28 in /root/answers.yaml.',
      ],
      value: (mtu) => mtu,
    }),
    mtuAnswer(v, world, {
      id: 'answer-mss',
      title:
        'answers.yaml: the largest TCP payload a full-size packet on this path can carry, without TCP options (mss)',
      points: 1,
      required: false,
      key: 'mss',
      about: 'the largest TCP payload, without options, that a packet of the path MTU carries',
      hint: [
        'A full-size packet on this path is path_mtu bytes long, and a TCP segment inside it pays for two headers before its data.',
        'The IPv4 header and the TCP header without options are 20 bytes each; tcpdump -v -n on alice shows the "mss" option a SYN announces.',
        'Write mss: path_mtu - 40 in /root/answers.yaml.',
      ],
      value: (mtu) => mtu - 40,
    }),
    ...fragmentAnswers(v, world),
  ];
}

export default defineLab<MtuVars>({
  number: 8,
  slug: 'mtu',
  title: 'MTU and fragmentation: the path-MTU black hole',
  topics: ['MTU', 'fragmentation', "don't fragment", 'path MTU discovery', 'ICMP', 'MSS clamping', 'iptables'],
  minutes: 35,
  goal: 'Find out why small requests to Bob work but a large download hangs: measure the path MTU with ping, find the router that drops ICMP "fragmentation needed", and fix the network so that large transfers complete again, without changing the small link.',
  submissionNodes: ['alice', 'home', 'isp', 'edge'],
  questions: [
    { key: 'path_mtu', prompt: "The path MTU between Alice's laptop and Bob's server, in bytes" },
    { key: 'mss', prompt: 'The largest TCP payload (without options) a full-size packet on this path carries' },
    { key: 'fragments', prompt: 'How many fragments the router cuts your ping without DF into' },
    { key: 'last_offset', prompt: 'The offset of the last of those fragments, in bytes' },
    { key: 'last_length', prompt: 'The length tcpdump -v prints for that last fragment' },
  ],
  vary,
  task(v) {
    return {
      download: `http://web.bob.example/bytes/${DOWNLOAD_BYTES}`,
      measure: "the path MTU between Alice's laptop and web.bob.example (ping -M do)",
      fragment: `${fragPing(v)} (may be fragmented: capture it beyond the small link)`,
      routers: 'home, isp, edge (open a shell on one with: npx hurrynet shell ROUTER)',
      answers: '/root/answers.yaml with path_mtu, mss, fragments, last_offset, last_length',
    };
  },
  faults,
  checks,
});
