// Lab 02: addresses. Alice's laptop starts without a working address (the DHCP client never ran,
// or a wrong static configuration is left over). She finds her interface and MAC, removes the
// wrong configuration, takes a lease from the home router's DHCP server, proves reachability and
// reports her private address, her router's public address and her MAC.
//
// Graded from places alice cannot fake: the home router's lease file (MAC <-> address), her
// addresses and MAC read by a clean sidecar in her network namespace, her routing read there in
// full (every ip rule, every table a rule can select, and what the kernel chooses for Bob's
// address), pings from that sidecar with ICMP ids of the grader's choosing that the home router's
// connection table must show answered (so a reply from an address alice gave herself, or from a
// nat rule on the laptop, does not count), Bob's access log (which source address arrived after
// NAT), and answers compared with those observations. The faults sit on alice herself, so it is
// her namespace that is judged, not a fresh machine's. The public address varies per seed (overlay of the home router's access
// address); alice's MAC is random per start, and the leased address follows from it.
import { randomInt } from 'node:crypto';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { answerCheck } from '../../checks/answers.js';
import { contains } from '../../orchestrator/world/addresses.js';
import {
  accessEntriesWith,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  heredoc,
  nodeOf,
  type Fault,
  type Rng,
  type World,
} from '../kit/index.js';
import { zoneAddress } from '../kit/dns.js';
import { readRoutesTo, readStandIns, tableNote, unusualRules, type Route, type RoutesTo } from '../kit/routing.js';

// ---- facts from the world -----------------------------------------------------------------------

/** Alice's interface: interfaces are named after their links. */
export const IFACE = 'lan';

/** What this lab knows about a world (the lab's own in faults and checks; the canonical one in vary). */
export function homeFacts(world: World) {
  const dhcp = world.settings.dhcp;
  const prefix = world.links.find((l) => l.name === dhcp.link)?.prefix;
  if (!prefix) throw new Error(`lab 02: the world lacks the ${dhcp.link} link`);
  return {
    dhcp,
    /** Alice's home network, e.g. 192.168.1.0/24, and its prefix length. */
    prefix,
    length: Number(prefix.split('/')[1]),
    /** The home router on the home network (DHCP server, gateway and DNS server), e.g. 192.168.1.1. */
    router: dhcp.router,
    /** Bob's public address (web.bob.example), e.g. 198.51.100.80. */
    bob: zoneAddress(world, 'web.bob.example'),
  };
}
export type HomeFacts = ReturnType<typeof homeFacts>;

const octets = (a: string) => a.split('.').map(Number);
const hostOf = (a: string) => Number(a.split('.')[3]);
/** The address of a host number in the /24 an address belongs to. */
const sameNet = (address: string, host: number) => `${octets(address).slice(0, 3).join('.')}.${host}`;

// ---- variation ------------------------------------------------------------------------------------

export const KINDS = ['no-dhcp', 'wrong-subnet', 'no-route', 'wrong-gateway'] as const;
export type Kind = (typeof KINDS)[number];

export type AddressesVars = {
  kind: Kind;
  /** The static configuration alice starts with ('' for none). */
  staticGateway: string;
  staticAddress: string;
  /** The home router's public (access) address. */
  publicAddress: string;
};

/** Third octets of "some other network" Alice's laptop might remember (never the home one). */
const OTHER_NETS = [0, 2, 10, 20, 42, 88, 178];
/** Host numbers of gateways that do not exist on the home network. */
const WRONG_GATEWAYS = [254, 253, 10, 2];

// vary has no world of its own: it draws from the canonical one, whose home network and access
// link the overlay leaves as they are (read once, on the first draw).
let canonicalFacts: (HomeFacts & { publicHosts: string[] }) | undefined;
function start(): HomeFacts & { publicHosts: string[] } {
  if (canonicalFacts) return canonicalFacts;
  const access = canonicalWorld.links.find((l) => l.name === 'access')?.prefix ?? '';
  const used = canonicalWorld.nodes.flatMap((n) =>
    n.interfaces.filter((i) => i.link === 'access').flatMap((i) => i.addresses.map(bare)),
  );
  const publicHosts = Array.from({ length: 241 }, (_, i) => sameNet(bare(access), i + 10)).filter(
    (a) => !used.includes(a),
  );
  canonicalFacts = { ...homeFacts(canonicalWorld), publicHosts };
  return canonicalFacts;
}

/** The gateway alice remembers: one on another network, or one that does not exist on hers. */
function drawGateway(rng: Rng, { kind }: Partial<AddressesVars>): string {
  const { prefix, router } = start();
  if (kind === 'wrong-subnet') {
    const home = octets(prefix);
    const net = rng.pick(OTHER_NETS.filter((n) => n !== home[2]));
    return `${home[0]}.${home[1]}.${net}.1`;
  }
  return kind === 'wrong-gateway' ? sameNet(router, rng.pick(WRONG_GATEWAYS)) : '';
}

/** The address alice remembers: on the gateway's network, or a static one at home outside the DHCP pool. */
function drawAddress(rng: Rng, { kind, staticGateway: gateway = '' }: Partial<AddressesVars>): string {
  const { prefix, length, router, dhcp } = start();
  if (kind === 'no-dhcp') return '';
  if (kind === 'wrong-subnet') return `${sameNet(gateway, rng.int(2, 254))}/24`;
  // A host outside the DHCP pool, neither the router nor the remembered gateway.
  const avoid = [router, gateway].filter(Boolean).map(hostOf);
  const hosts: number[] = [];
  for (let h = 2; h <= 254; h++)
    if ((h < hostOf(dhcp.rangeStart) || h > hostOf(dhcp.rangeEnd)) && !avoid.includes(h)) hosts.push(h);
  return `${sameNet(bare(prefix), rng.pick(hosts))}/${length}`;
}

const vary = draws<AddressesVars>({
  kind: (r) => r.pick(KINDS),
  staticGateway: drawGateway,
  staticAddress: drawAddress,
  // A public address for the home router on the access link, never one a node there uses.
  publicAddress: (r) => r.pick(start().publicHosts),
});

/** Alice is a DHCP client (no static address or route in the world); her router's public address varies. */
function overlay(world: World, v: AddressesVars): World {
  const alice = nodeOf(world, 'alice');
  const link = world.settings.dhcp.link;
  for (const i of alice.interfaces) if (i.link === link) i.addresses = [];
  alice.routes = [];
  for (const i of nodeOf(world, 'home').interfaces) {
    if (i.link === 'access') i.addresses = i.addresses.map((a) => `${v.publicAddress}/${a.split('/')[1] ?? '24'}`);
  }
  return world;
}

function faults(v: AddressesVars, world: World): Fault[] {
  const lines = [
    // A MAC of its own for every start (locally administered, unicast), so no two laptops share one.
    'read -r a b c d e f < <(od -An -N6 -tu1 /dev/urandom)',
    `mac=$(printf '%02x:%02x:%02x:%02x:%02x:%02x' $(( (a & 0xfc) | 0x02 )) "$b" "$c" "$d" "$e" "$f")`,
    `ip link set dev ${IFACE} address "$mac"`,
    `ip -4 addr flush dev ${IFACE}`,
    `ip -4 route flush dev ${IFACE}`,
  ];
  if (v.staticAddress) lines.push(`ip addr add ${v.staticAddress} brd + dev ${IFACE}`);
  if (v.staticGateway) lines.push(`ip route add default via ${v.staticGateway} dev ${IFACE}`);
  // A static configuration brings its own (equally stale) DNS server; without DHCP there is none.
  const nameserver = v.staticGateway || (v.staticAddress ? homeFacts(world).router : '');
  // Docker mounts /etc/resolv.conf: it is written into, never replaced.
  lines.push(nameserver ? heredoc('/etc/resolv.conf', `nameserver ${nameserver}\n`) : ': > /etc/resolv.conf');
  return [
    { node: 'alice', description: 'a fresh MAC and the starting address configuration', script: lines.join('\n') },
  ];
}

// ---- observations ---------------------------------------------------------------------------------

interface Iface {
  /** The interface exists. */
  present: boolean;
  mac?: string;
  /** IPv4 addresses in CIDR form. */
  addresses: string[];
  evidence: Evidence;
}

const ADDR = /\b(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b/g;

/** Alice's interface (MAC and IPv4 addresses) as a clean `ip` in her network namespace sees it. */
async function aliceIface(ctx: CheckContext): Promise<Iface> {
  const probe = await ctx.probe('alice');
  const e = await probe.run(`ip -br link show dev ${IFACE} && ip -4 -br addr show dev ${IFACE}`, 5000);
  if (e.exitCode !== 0) return { present: false, addresses: [], evidence: e };
  const [linkLine = '', ...lines] = e.output.split('\n').filter(Boolean);
  const mac = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i.exec(linkLine)?.[1]?.toLowerCase();
  const addresses = lines.flatMap((l) => [...l.matchAll(ADDR)].map((m) => `${m[1]}/${m[2]}`));
  return { present: true, mac, addresses, evidence: e };
}

interface Lease {
  expiry: number;
  mac: string;
  address: string;
  host: string;
}

/** The home router's DHCP leases and its clock (dnsmasq writes "expiry mac address host client-id"). */
async function leases(ctx: CheckContext): Promise<{ leases: Lease[]; now: number; evidence: Evidence }> {
  const e = await ctx.node('home').run(`cat ${FILES.dnsmasqLeases} && echo "# clock: $(date +%s)"`, 5000);
  const now = Number(/^# clock: (\d+)/m.exec(e.output)?.[1] ?? 0);
  const list = e.output.split('\n').flatMap((line) => {
    const m = /^(\d+)\s+([0-9a-f:]{17})\s+(\S+)\s+(\S+)/i.exec(line.trim());
    return m
      ? [{ expiry: Number(m[1]), mac: (m[2] as string).toLowerCase(), address: m[3] as string, host: m[4] as string }]
      : [];
  });
  return { leases: list, now, evidence: e };
}

const live = (l: Lease, now: number) => l.expiry === 0 || l.expiry > now;

/** Alice's interface with the router's leases: those for her MAC, the live ones, and the one she carries. */
async function leaseView(ctx: CheckContext) {
  const [iface, l] = await Promise.all([aliceIface(ctx), leases(ctx)]);
  const mine = l.leases.filter((x) => x.mac === iface.mac);
  const current = mine.filter((x) => live(x, l.now));
  const carried = current.find((x) => iface.addresses.map(bare).includes(x.address));
  return { iface, all: l.leases, mine, current, carried, evidence: [iface.evidence, l.evidence] };
}

/** The home router's public (access) address, from the router itself. */
async function routerPublic(ctx: CheckContext): Promise<{ address?: string; evidence: Evidence }> {
  const e = await ctx.node('home').run('ip -4 -br addr show dev access', 5000);
  const m = /\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(e.output);
  return { address: e.exitCode === 0 ? m?.[1] : undefined, evidence: e };
}

// ---- routing: every table a rule can select, and what the kernel really chooses -----------------

/** Alice's rules, every table, and what the kernel chooses for Bob's address from each of her addresses (and from none). */
async function routing(ctx: CheckContext, f: HomeFacts): Promise<RoutesTo> {
  const iface = await aliceIface(ctx);
  const queries = [{ to: f.bob }, ...iface.addresses.map((a) => ({ to: f.bob, from: bare(a) }))];
  const r = await readRoutesTo(await ctx.probe('alice'), queries);
  return {
    ...r,
    evidence: {
      ...r.evidence,
      command: 'ip -4 rule show; ip -4 route show table all; ip -4 route get (on alice, clean binaries)',
    },
  };
}

/** Default routes in the tables some rule selects (the local table holds none that forwards). */
const defaultsInUse = (r: Pick<RoutesTo, 'used'>) =>
  r.used.filter((x) => x.prefix === '0.0.0.0/0' && x.table !== 'local');

/** What is wrong with alice's routing for this lab, in words; '' when nothing is. */
export function routeProblem(
  r: Pick<RoutesTo, 'rules' | 'used' | 'chosen'>,
  f: Pick<HomeFacts, 'router' | 'bob'>,
): string {
  const inUse = defaultsInUse(r);
  const ruleOf = (table: string) => {
    const rules = r.rules.filter((x) => x.table === table);
    const extra = unusualRules(rules)[0];
    return extra ? `ip rule ${extra.pref} "${extra.text}"` : `the stock rule "${rules[0]?.text ?? `lookup ${table}`}"`;
  };
  const where = (x: Route) =>
    x.table === 'main' ? 'the main table' : `table ${x.table} (selected by ${ruleOf(x.table)})`;
  // A wrong default anywhere a rule can reach is a wrong default, whichever table hides it; every
  // next hop of a multipath default counts.
  const wrong = inUse.find((x) => x.dev !== IFACE || !x.vias.length || x.vias.some((v) => v !== f.router));
  if (wrong) {
    const by = wrong.vias.find((v) => v !== f.router) ?? wrong.vias[0] ?? 'no gateway';
    return `${where(wrong)} has "${wrong.line}": traffic it serves leaves by ${by} instead of the home router ${f.router} on ${IFACE}`;
  }
  for (const table of new Set(inUse.map((x) => x.table))) {
    const n = inUse.filter((x) => x.table === table).length;
    if (n > 1)
      return `${table === 'main' ? 'the main table' : `table ${table}`} holds ${n} default routes; keep only the one via ${f.router}`;
  }
  const [plain] = r.chosen;
  if (!inUse.length) {
    const reaches = plain?.via
      ? `; her other routes send ${f.bob} via ${plain.via} dev ${plain.dev}, but the lab asks for the one default route DHCP gives`
      : ', so nothing beyond her own network can be reached';
    return `alice has no default route in any routing table${reaches}`;
  }
  const other = r.chosen.find((c) => c.via !== f.router || c.dev !== IFACE);
  if (other)
    return `the kernel sends Bob's address ${f.bob}${other.from ? ` from ${other.from}` : ''} another way: "${other.line}"${tableNote(other) || ' (a more specific route in the main table overrides the default)'}`;
  return '';
}

function routeSummary(r: RoutesTo, f: HomeFacts): string {
  const table = defaultsInUse(r)[0]?.table ?? 'main';
  return `default via ${f.router} dev ${IFACE}${table === 'main' ? '' : ` (in table ${table})`}, and the kernel sends Bob's address that way`;
}

// ---- ping with the grader's own ICMP id, and who answered it --------------------------------------

async function pingWithId(
  host: Host,
  target: string,
  id: number,
): Promise<{ ok: boolean; sent: number; received: number; evidence: Evidence }> {
  const e = await host.run(`ping -n -c 2 -i 0.2 -W 1 -e ${id} ${target}`, 10000);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(e.output);
  const sent = Number(m?.[1] ?? 0);
  const received = Number(m?.[2] ?? 0);
  return { ok: received > 0, sent, received, evidence: e };
}

/** Why a ping was answered without crossing the router: an address of alice's own, or her nat table. */
async function localAnswer(probe: Host, targets: string[]): Promise<string> {
  const s = await readStandIns(probe, targets);
  return [
    ...s.local.map((c) => `${c.to} is an address on alice herself (dev ${c.dev}), so her own kernel answers`),
    ...s.redirects
      .slice(0, 1)
      .map((r) => `alice's nat table rewrites where packets go: ${r.rule}${r.legacy ? ' (iptables-legacy)' : ''}`),
  ].join('; ');
}

// ---- checks -----------------------------------------------------------------------------------

const addressCheck = (f: HomeFacts): Check => ({
  id: 'address',
  title: `Alice's ${IFACE} interface has exactly one IPv4 address, inside the home network ${f.prefix}`,
  points: 2,
  hint: [
    `Alice's ${IFACE} interface: how many IPv4 addresses does it carry, and does each one fit the home network ${f.prefix} that the router ${f.router} is on (same network part, same prefix length)?`,
    `ip addr show dev ${IFACE} (or ip -br addr) lists every address after "inet" with its prefix length; ifconfig ${IFACE} shows only the first one.`,
    `ip addr flush dev ${IFACE} removes every address on it; then dhclient -v ${IFACE} asks the home router for one and puts it on ${IFACE}.`,
  ],
  async run(ctx) {
    const iface = await aliceIface(ctx);
    if (!iface.present) return fail(`alice has no interface named ${IFACE}`, iface.evidence);
    const list = iface.addresses;
    if (list.length === 0)
      return fail(`${IFACE} has no IPv4 address at all: nothing on the network can answer alice`, iface.evidence);
    if (list.length > 1)
      return fail(
        `${IFACE} carries ${list.length} IPv4 addresses (${list.join(', ')}); it should carry just one`,
        iface.evidence,
      );
    const only = list[0] as string;
    if (!contains(f.prefix, bare(only)))
      return fail(
        `${only} is not inside the home network ${f.prefix}, so the home router cannot reach it`,
        iface.evidence,
      );
    if (!only.endsWith(`/${f.length}`))
      return fail(`${only} has the wrong prefix length: the home network is a /${f.length}`, iface.evidence);
    return pass(`${IFACE} carries ${only}, inside ${f.prefix}`, iface.evidence);
  },
});

const leaseCheck = (f: HomeFacts): Check => ({
  id: 'lease',
  title: "Alice's address is a DHCP lease from the home router, for her MAC",
  points: 3,
  hint: [
    `The home router's own list of the addresses it lent, and to which MAC: Alice's address must be on it for her MAC. An address typed in by hand is not on it, even one inside the pool ${f.dhcp.rangeStart}-${f.dhcp.rangeEnd}.`,
    `dhclient -v ${IFACE} prints the conversation with the DHCP server (DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, "bound to ..."); ip link show dev ${IFACE} gives the MAC the router lends to.`,
    `ip addr flush dev ${IFACE} and ip route flush dev ${IFACE} first (a hand-typed address stays otherwise), then dhclient -v ${IFACE}, and wait for DHCPACK and "bound to".`,
  ],
  async run(ctx) {
    const { iface, all, mine, current, carried, evidence } = await leaseView(ctx);
    if (!iface.present || !iface.mac) return fail(`alice has no interface named ${IFACE}`, ...evidence);
    if (carried)
      return pass(
        `the home router leased ${carried.address} to alice's MAC ${iface.mac}, and ${IFACE} carries it`,
        ...evidence,
      );
    if (!all.length)
      return fail(
        "the home router's lease table is empty: alice holds no lease (her DHCP client never asked, or gave the lease back)",
        ...evidence,
      );
    if (!mine.length) return fail(`the home router has no lease for alice's MAC ${iface.mac}`, ...evidence);
    if (!current.length) return fail(`the lease for alice's MAC ${iface.mac} has expired or was released`, ...evidence);
    const leased = current.map((x) => x.address).join(', ');
    return fail(
      `the home router leased ${leased} to alice's MAC, but ${IFACE} carries ${iface.addresses.map(bare).join(', ') || 'no IPv4 address'}`,
      ...evidence,
    );
  },
});

const routeCheck = (f: HomeFacts): Check => ({
  id: 'route',
  title: `Alice's default route goes through the home router (${f.router})`,
  points: 1,
  hint: [
    `Alice's default route, the way out for everything beyond her own network: there must be exactly one, through the home router ${f.router}, in every routing table her rules can pick.`,
    `ip route shows the main table (the "default via ..." line); ip rule and ip route show table all show the other tables, and ip route get ${f.bob} which way the kernel really sends Bob's address.`,
    `ip route del default (as often as ip route shows one, and in any other table with "table NAME"), then dhclient -v ${IFACE}: it adds "default via ${f.router} dev ${IFACE}".`,
  ],
  async run(ctx) {
    const r = await routing(ctx, f);
    const problem = routeProblem(r, f);
    return problem ? fail(problem, r.evidence) : pass(routeSummary(r, f), r.evidence);
  },
});

const reachCheck = (f: HomeFacts): Check => ({
  id: 'reach',
  title: `Alice reaches the home router (${f.router}) and Bob's server (${f.bob}) with ping`,
  points: 2,
  hint: [
    `Two distances: the home router ${f.router} on Alice's own network, and Bob's server ${f.bob} beyond it. The first needs a right address, the second a right default route as well.`,
    `ping -c 3 ${f.router}, then ping -c 3 ${f.bob}. "Network is unreachable" means no route for it; "Destination Host Unreachable" means no neighbour answered (a gateway that is not there); silence often means an address from another network.`,
    `Once the address and the default route are right (ip addr flush dev ${IFACE}; ip route flush dev ${IFACE}; dhclient -v ${IFACE}), run ping -c 3 ${f.router} and ping -c 3 ${f.bob} from alice herself, with nothing on her laptop answering in their place.`,
  ],
  async run(ctx) {
    const probe = await ctx.probe('alice');
    // Each ping carries an ICMP id of the grader's choosing; the home router's connection
    // table then shows which of them really crossed it and were answered.
    const idRouter = randomInt(1000, 30000);
    const idBob = idRouter + 30000;
    const [router, bob] = await Promise.all([pingWithId(probe, f.router, idRouter), pingWithId(probe, f.bob, idBob)]);
    if (!router.ok) return fail(`no reply from the home router ${f.router}`, router.evidence, bob.evidence);
    if (!bob.ok)
      return fail(`the home router answers, but Bob's server ${f.bob} does not`, router.evidence, bob.evidence);
    const seen = await ctx
      .node('home')
      .run(`conntrack -L -p icmp 2>/dev/null | grep -E ' id=(${idRouter}|${idBob}) ' || true`, 5000);
    const farEnd: Evidence = {
      ...seen,
      command: `conntrack -L -p icmp on the home router (the grader's pings, ids ${idRouter} and ${idBob})`,
    };
    const crossed = (dst: string, id: number) =>
      seen.output
        .split('\n')
        .some((l) => l.includes(`dst=${dst} `) && l.includes(` id=${id} `) && !l.includes('[UNREPLIED]'));
    const missing = [crossed(f.router, idRouter) ? '' : f.router, crossed(f.bob, idBob) ? '' : f.bob].filter(Boolean);
    if (missing.length) {
      const why = await localAnswer(probe, missing);
      return fail(
        `replies came back for ${missing.join(' and ')}, but not from the network: the home router never saw those pings answered${why ? ` (${why})` : ''}`,
        router.evidence,
        bob.evidence,
        farEnd,
      );
    }
    return pass(
      `both answered (${router.received}/${router.sent} and ${bob.received}/${bob.sent} replies), and the home router saw each exchange`,
      router.evidence,
      bob.evidence,
      farEnd,
    );
  },
});

const whoamiCheck: Check = {
  id: 'whoami',
  title: "Bob's server saw Alice's /whoami request arrive from her router's public address",
  points: 1,
  hint: [
    "Bob's own record of who asked: his server writes down every request with the address it came from. It must show your /whoami request, arriving from your home router's public address.",
    'curl http://web.bob.example/whoami answers with JSON; its "clientAddress" is the source address Bob\'s server saw.',
    'Once Alice reaches Bob (see the other checks), run curl http://web.bob.example/whoami on alice.',
  ],
  async run(ctx) {
    const [pub, log] = await Promise.all([routerPublic(ctx), accessEntriesWith(ctx.node('web'), '/whoami')]);
    const whoami = log.entries.filter((x) => /^\/whoami\/?(\?|$)/.test(x.path) && x.method === 'GET');
    if (!pub.address) return fail("the home router's public address could not be read", pub.evidence);
    if (whoami.some((x) => x.client === pub.address && x.status === 200)) {
      return pass(
        `GET /whoami arrived from ${pub.address} (the home router's public address, after NAT)`,
        pub.evidence,
        log.evidence,
      );
    }
    if (!whoami.length) return fail("Bob's server has not seen a GET /whoami yet", log.evidence);
    return fail(`GET /whoami arrived, but never successfully from ${pub.address}`, pub.evidence, log.evidence);
  },
};

const answerChecks = (f: HomeFacts): Check[] => [
  answerCheck({
    id: 'answer-private',
    title: 'answers.yaml: your private address (the leased one)',
    points: 1,
    key: 'private_address',
    about: `the address the home router leased to alice's MAC and her ${IFACE} interface carries`,
    hint: [
      `Alice's own address on her home network: the one the DHCP server lent her, as it stands on her ${IFACE} interface now (an earlier lease or a hand-typed address does not count).`,
      `"bound to ..." in the output of dhclient -v ${IFACE}, or the "inet" line of ip addr show dev ${IFACE}.`,
      `Write that address without its /${f.length} in /root/answers.yaml: private_address: 192.168.1.x.`,
    ],
    async expected(ctx) {
      const l = await leaseView(ctx);
      return { value: l.carried?.address, evidence: l.evidence };
    },
    matches: (given, want) => bare(given.trim()) === want,
  }),
  answerCheck({
    id: 'answer-public',
    title: "answers.yaml: your router's public address, as Bob's server sees it",
    points: 1,
    key: 'public_address',
    about: "the home router's public address",
    hint: [
      "The address Bob sees, not one on Alice's laptop: her home router rewrites the source of everything that leaves (NAT), so only the far end can tell you.",
      'curl http://web.bob.example/whoami on alice: its "clientAddress" is the source address that reached Bob.',
      'Copy clientAddress from /whoami into /root/answers.yaml: public_address: 203.0.113.x (yours, from your own world).',
    ],
    async expected(ctx) {
      const r = await routerPublic(ctx);
      return { value: r.address, evidence: [r.evidence] };
    },
  }),
  answerCheck({
    id: 'answer-mac',
    title: `answers.yaml: the MAC address of Alice's ${IFACE} interface`,
    points: 1,
    key: 'mac_address',
    about: `the MAC address of alice's ${IFACE} interface`,
    hint: [
      `The hardware address of Alice's ${IFACE} interface, the name of her network card on Alice's home network: six pairs of hex digits, new at every start of the lab.`,
      `ip link show dev ${IFACE} prints it after "link/ether"; ifconfig ${IFACE} calls it "ether"; cat /sys/class/net/${IFACE}/address prints only it.`,
      `Write it in /root/answers.yaml as mac_address: xx:xx:xx:xx:xx:xx, copied from ip link show dev ${IFACE} on the laptop you are grading.`,
    ],
    async expected(ctx) {
      const iface = await aliceIface(ctx);
      return { value: iface.mac, evidence: [iface.evidence] };
    },
  }),
];

function checks(_v: AddressesVars, world: World): Check[] {
  const f = homeFacts(world);
  return [addressCheck(f), leaseCheck(f), routeCheck(f), reachCheck(f), whoamiCheck, ...answerChecks(f)];
}

export default defineLab<AddressesVars>({
  number: 2,
  slug: 'addresses',
  title: 'Addresses: interfaces, MAC, DHCP, private and public',
  topics: ['interfaces', 'IPv4 addresses', 'MAC addresses', 'DHCP', 'default route', 'private vs public', 'NAT'],
  minutes: 25,
  goal: "Bring Alice's laptop onto her home network: find its interface and MAC, clear a broken address configuration, take a lease from the home router's DHCP server, prove she can reach Bob, and report her private address, her public address and her MAC.",
  submissionNodes: ['alice'],
  questions: [
    { key: 'private_address', prompt: "Alice's private address (the one leased by the home router)" },
    { key: 'public_address', prompt: "The public address Bob's server sees for Alice (her router's)" },
    { key: 'mac_address', prompt: `The MAC address of Alice's ${IFACE} interface` },
  ],
  vary,
  task() {
    // The card names the home router and Bob, whom the overlay never moves.
    const { router, bob } = start();
    return {
      interface: IFACE,
      dhcp_server: `the home router, ${router}`,
      ping: `${router} and ${bob}`,
      whoami: 'http://web.bob.example/whoami',
      answers: '/root/answers.yaml with private_address, public_address, mac_address',
    };
  },
  overlay,
  faults,
  checks,
});
