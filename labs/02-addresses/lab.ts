// Lab 02: addresses. Alice's laptop starts without a working address (the DHCP client never ran,
// or a wrong static configuration is left over). She finds her interface and MAC, removes the
// wrong configuration, takes a lease from the home router's DHCP server, proves reachability and
// reports her private address, her router's public address and her MAC.
//
// Graded from places alice cannot fake: the home router's lease file (MAC <-> address), her
// addresses, routes and MAC read by a clean sidecar in her network namespace, pings from that
// sidecar, Bob's access log (which source address arrived after NAT), and answers compared with
// those observations. The public address varies per seed (overlay of the home router's access
// address); alice's MAC is random per start, and the leased address follows from it.
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { ping, readFile } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

// ---- facts from the world data ----------------------------------------------------------------

const IFACE = 'home';
const dhcp = canonicalWorld.settings.dhcp;
const homeLink = canonicalWorld.links.find((l) => l.name === dhcp.link);
const accessLink = canonicalWorld.links.find((l) => l.name === 'access');
const bobWeb = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
const ispNode = findNode(canonicalWorld, 'isp');
const homeNode = findNode(canonicalWorld, 'home');
if (!homeLink || !accessLink || !bobWeb || !ispNode || !homeNode) throw new Error('lab 02: the world lacks the home/access links, the isp/home nodes or web.bob.example');

/** Alice's home network, e.g. 192.168.1.0/24. */
export const HOME_PREFIX = homeLink.prefix;
const HOME_LEN = Number(HOME_PREFIX.split('/')[1]);
/** The home router on the home network (DHCP server, gateway and DNS server), e.g. 192.168.1.1. */
export const ROUTER = dhcp.router;
/** Bob's public address (web.bob.example), e.g. 198.51.100.80. */
export const BOB_PUBLIC = bobWeb.value;
export const ACCESS_PREFIX = accessLink.prefix;
/** The ISP's router on the access network: never a valid public address for Alice's router. */
export const ISP_ADDRESS = (ispNode.interfaces.find((i) => i.link === 'access')?.addresses[0] ?? '').split('/')[0] as string;
/** The home router's access address in the story (lab 01 uses it): this lab never reuses it. */
export const STORY_PUBLIC = (homeNode.interfaces.find((i) => i.link === 'access')?.addresses[0] ?? '').split('/')[0] as string;

const octets = (a: string) => a.split('.').map(Number);
const homeBase = octets(HOME_PREFIX.split('/')[0] as string); // [192, 168, 1, 0]
const poolFirst = octets(dhcp.rangeStart)[3] as number; // 100
const poolLast = octets(dhcp.rangeEnd)[3] as number; // 199
const onHome = (host: number) => `${homeBase[0]}.${homeBase[1]}.${homeBase[2]}.${host}`;

const LEASES = '/var/lib/misc/dnsmasq.leases';
const ACCESS_LOG = '/var/log/web/access.log';

// ---- variation --------------------------------------------------------------------------------

export const KINDS = ['no-dhcp', 'wrong-subnet', 'no-route', 'wrong-gateway'] as const;
export type Kind = (typeof KINDS)[number];

/** Third octets of "some other network" Alice's laptop might remember (never the home one). */
const OTHER_NETS = [0, 2, 10, 20, 42, 88, 178].filter((n) => n !== homeBase[2]);
/** Gateways that do not exist on the home network. */
const WRONG_GATEWAYS = [254, 253, 10, 2];

/** A host number on the home network outside the DHCP pool, and not the router. */
function staticHost(rng: Rng, avoid: number[]): number {
  const candidates: number[] = [];
  for (let h = 2; h <= 254; h++) if ((h < poolFirst || h > poolLast) && !avoid.includes(h)) candidates.push(h);
  return rng.pick(candidates);
}

function vary(rng: Rng): Vars {
  const kind = rng.pick(KINDS);
  // Draw every value for every kind, so the sequence of draws (and each seed) never depends on the kind.
  const publicHost = rng.int(10, 250);
  const otherNet = rng.pick(OTHER_NETS);
  const otherHost = rng.int(2, 254);
  const wrongGateway = rng.pick(WRONG_GATEWAYS);
  const routerHost = octets(ROUTER)[3] as number;
  const host = staticHost(rng, [routerHost, wrongGateway]);
  const base = `${homeBase[0]}.${homeBase[1]}`;
  let staticAddress = '';
  let staticGateway = '';
  switch (kind) {
    case 'no-dhcp':
      break;
    case 'wrong-subnet':
      staticAddress = `${base}.${otherNet}.${otherHost}/24`;
      staticGateway = `${base}.${otherNet}.1`;
      break;
    case 'no-route':
      staticAddress = `${onHome(host)}/${HOME_LEN}`;
      break;
    case 'wrong-gateway':
      staticAddress = `${onHome(host)}/${HOME_LEN}`;
      staticGateway = onHome(wrongGateway);
      break;
  }
  const pub = octets(ACCESS_PREFIX.split('/')[0] as string);
  return { kind, staticAddress, staticGateway, publicAddress: `${pub[0]}.${pub[1]}.${pub[2]}.${publicHost}` };
}

/** Alice is a DHCP client (no static address or route in the world); her router's public address varies. */
function overlay(world: World, v: Vars): World {
  const alice = findNode(world, 'alice');
  const home = findNode(world, 'home');
  if (!alice || !home) throw new Error('lab 02 needs the alice and home nodes');
  for (const i of alice.interfaces) if (i.link === dhcp.link) i.addresses = [];
  alice.routes = [];
  for (const i of home.interfaces) {
    if (i.link === 'access') i.addresses = i.addresses.map((a) => `${String(v.publicAddress)}/${a.split('/')[1] ?? '24'}`);
  }
  return world;
}

function faults(v: Vars): Fault[] {
  const lines = [
    // A MAC of its own for every start (locally administered, unicast), so no two laptops share one.
    'read -r a b c d e f < <(od -An -N6 -tu1 /dev/urandom)',
    `mac=$(printf '%02x:%02x:%02x:%02x:%02x:%02x' $(( (a & 0xfc) | 0x02 )) "$b" "$c" "$d" "$e" "$f")`,
    `ip link set dev ${IFACE} address "$mac"`,
    `ip -4 addr flush dev ${IFACE}`,
    `ip -4 route flush dev ${IFACE}`,
  ];
  const address = String(v.staticAddress);
  const gateway = String(v.staticGateway);
  if (address) lines.push(`ip addr add ${address} brd + dev ${IFACE}`);
  if (gateway) lines.push(`ip route add default via ${gateway} dev ${IFACE}`);
  // A static configuration brings its own (equally stale) DNS server; without DHCP there is none.
  const nameserver = gateway || (address ? ROUTER : '');
  lines.push(nameserver ? `printf 'nameserver %s\\n' ${nameserver} > /etc/resolv.conf` : ': > /etc/resolv.conf');
  return [{ node: 'alice', description: 'a fresh MAC and the starting address configuration', script: lines.join('\n') }];
}

// ---- observations -----------------------------------------------------------------------------

interface Iface {
  /** The interface exists. */
  present: boolean;
  mac?: string;
  /** IPv4 addresses in CIDR form. */
  addresses: string[];
  evidence: Evidence;
}

const ADDR = /\b(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b/g;
const bare = (cidr: string) => cidr.split('/')[0] as string;

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
  const e = await ctx.node('home').run(`cat ${LEASES} && echo "# clock: $(date +%s)"`, 5000);
  const lines = e.output.split('\n');
  const now = Number(/^# clock: (\d+)/m.exec(e.output)?.[1] ?? 0);
  const list = lines.flatMap((line) => {
    const m = /^(\d+)\s+([0-9a-f:]{17})\s+(\S+)\s+(\S+)/i.exec(line.trim());
    return m ? [{ expiry: Number(m[1]), mac: (m[2] as string).toLowerCase(), address: m[3] as string, host: m[4] as string }] : [];
  });
  return { leases: list, now, evidence: e };
}

const live = (l: Lease, now: number) => l.expiry === 0 || l.expiry > now;

/** The address on alice's interface that the router leased to her current MAC, if any. */
async function leasedAddress(ctx: CheckContext): Promise<{ address?: string; evidence: Evidence[] }> {
  const [iface, l] = await Promise.all([aliceIface(ctx), leases(ctx)]);
  const mine = l.leases.filter((x) => x.mac === iface.mac && live(x, l.now));
  const address = iface.addresses.map(bare).find((a) => mine.some((x) => x.address === a));
  return { address, evidence: [iface.evidence, l.evidence] };
}

/** The home router's public (access) address, from the router itself. */
async function routerPublic(ctx: CheckContext): Promise<{ address?: string; evidence: Evidence }> {
  const e = await ctx.node('home').run('ip -4 -br addr show dev access', 5000);
  const m = /\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(e.output);
  return { address: e.exitCode === 0 ? m?.[1] : undefined, evidence: e };
}

// ---- checks -----------------------------------------------------------------------------------

function checks(_v: Vars): Check[] {
  return [
    {
      id: 'address',
      title: `Alice's ${IFACE} interface has exactly one IPv4 address, inside the home network ${HOME_PREFIX}`,
      points: 2,
      hint: `Look with "ip addr show dev ${IFACE}". Remove addresses that do not belong (ip addr flush dev ${IFACE}), then ask the home router for one: dhclient -v ${IFACE}`,
      async run(ctx) {
        const iface = await aliceIface(ctx);
        if (!iface.present) return fail(`alice has no interface named ${IFACE}`, iface.evidence);
        const list = iface.addresses;
        if (list.length === 0) return fail(`${IFACE} has no IPv4 address at all: nothing on the network can answer alice`, iface.evidence);
        if (list.length > 1) return fail(`${IFACE} carries ${list.length} IPv4 addresses (${list.join(', ')}); it should carry just one`, iface.evidence);
        const only = list[0] as string;
        if (!contains(HOME_PREFIX, bare(only))) return fail(`${only} is not inside the home network ${HOME_PREFIX}, so the home router cannot reach it`, iface.evidence);
        if (!only.endsWith(`/${HOME_LEN}`)) return fail(`${only} has the wrong prefix length: the home network is a /${HOME_LEN}`, iface.evidence);
        return pass(`${IFACE} carries ${only}, inside ${HOME_PREFIX}`, iface.evidence);
      },
    },
    {
      id: 'lease',
      title: "Alice's address is a DHCP lease from the home router, for her MAC",
      points: 3,
      hint: `Only the DHCP client gets a lease: run "dhclient -v ${IFACE}" on alice and watch for DHCPACK. A static address typed in by hand is not a lease, even inside the pool ${dhcp.rangeStart}-${dhcp.rangeEnd}.`,
      async run(ctx) {
        const [iface, l] = await Promise.all([aliceIface(ctx), leases(ctx)]);
        const evidence = [iface.evidence, l.evidence];
        if (!iface.present || !iface.mac) return fail(`alice has no interface named ${IFACE}`, ...evidence);
        const mine = l.leases.filter((x) => x.mac === iface.mac);
        const current = mine.filter((x) => live(x, l.now));
        const on = iface.addresses.map(bare);
        const match = current.find((x) => on.includes(x.address));
        if (match) return pass(`the home router leased ${match.address} to alice's MAC ${iface.mac}, and ${IFACE} carries it`, ...evidence);
        if (!l.leases.length) return fail("the home router's lease table is empty: alice holds no lease (her DHCP client never asked, or gave the lease back)", ...evidence);
        if (!mine.length) return fail(`the home router has no lease for alice's MAC ${iface.mac}`, ...evidence);
        if (!current.length) return fail(`the lease for alice's MAC ${iface.mac} has expired or was released`, ...evidence);
        const leased = current.map((x) => x.address).join(', ');
        return fail(`the home router leased ${leased} to alice's MAC, but ${IFACE} carries ${on.join(', ') || 'no IPv4 address'}`, ...evidence);
      },
    },
    {
      id: 'route',
      title: `Alice's default route goes through the home router (${ROUTER})`,
      points: 1,
      hint: `"ip route" should show exactly one line "default via ${ROUTER} dev ${IFACE}". Delete a wrong one (ip route del default) before running the DHCP client, which adds the right one.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const e = await probe.run('ip -4 route show', 5000);
        const defaults = e.output.split('\n').filter((l) => /^default\b/.test(l));
        if (!defaults.length) return fail('alice has no default route, so nothing beyond her own network can be reached', e);
        if (defaults.length > 1) return fail(`alice has ${defaults.length} default routes; keep only the one via ${ROUTER}`, e);
        const via = /\bvia (\S+)/.exec(defaults[0] as string)?.[1];
        const dev = /\bdev (\S+)/.exec(defaults[0] as string)?.[1];
        if (via !== ROUTER) return fail(`the default route points at ${via ?? 'no gateway'}, not at the home router ${ROUTER}`, e);
        if (dev !== IFACE) return fail(`the default route leaves through ${dev}, not ${IFACE}`, e);
        return pass(`default via ${ROUTER} dev ${IFACE}`, e);
      },
    },
    {
      id: 'reach',
      title: `Alice reaches the home router (${ROUTER}) and Bob's server (${BOB_PUBLIC}) with ping`,
      points: 2,
      hint: `Try "ping -c 3 ${ROUTER}" first (your own network), then "ping -c 3 ${BOB_PUBLIC}" (beyond the router). "Network is unreachable" means no route; no replies at all often means a wrong address or gateway.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const [router, bob] = await Promise.all([ping(probe, ROUTER, 2), ping(probe, BOB_PUBLIC, 2)]);
        if (!router.ok) return fail(`no reply from the home router ${ROUTER}`, router.evidence, bob.evidence);
        if (!bob.ok) return fail(`the home router answers, but Bob's server ${BOB_PUBLIC} does not`, router.evidence, bob.evidence);
        return pass(`both answered (${router.received}/${router.sent} and ${bob.received}/${bob.sent} replies)`, router.evidence, bob.evidence);
      },
    },
    {
      id: 'whoami',
      title: "Bob's server saw Alice's /whoami request arrive from her router's public address",
      points: 1,
      hint: 'Ask Bob\'s server who you are: curl http://web.bob.example/whoami (its "clientAddress" is what the server saw).',
      async run(ctx) {
        const [pub, log] = await Promise.all([routerPublic(ctx), readFile(ctx.node('web'), ACCESS_LOG)]);
        const whoami = log.text
          .split('\n')
          .filter((l) => l.includes('/whoami'))
          .flatMap((l) => {
            try {
              return [JSON.parse(l) as { client: string; method: string; path: string; status: number }];
            } catch {
              return [];
            }
          })
          .filter((x) => /^\/whoami\/?(\?|$)/.test(x.path) && x.method === 'GET');
        const shortLog: Evidence = {
          ...log.evidence,
          command: `grep /whoami ${ACCESS_LOG} | tail -n 5`,
          output: log.text.split('\n').filter((l) => l.includes('/whoami')).slice(-5).join('\n'),
        };
        if (!pub.address) return fail("the home router's public address could not be read", pub.evidence);
        if (whoami.some((x) => x.client === pub.address && x.status === 200)) {
          return pass(`GET /whoami arrived from ${pub.address} (the home router's public address, after NAT)`, pub.evidence, shortLog);
        }
        if (!whoami.length) return fail("Bob's server has not seen a GET /whoami yet", shortLog);
        return fail(`GET /whoami arrived, but never successfully from ${pub.address}`, pub.evidence, shortLog);
      },
    },
    answerCheck({
      id: 'answer-private',
      title: 'answers.yaml: your private address (the leased one)',
      points: 1,
      key: 'private_address',
      hint: `The address the DHCP client got ("bound to ..." in dhclient's output, or "ip addr show dev ${IFACE}"), without the /${HOME_LEN}.`,
      async expected(ctx) {
        const r = await leasedAddress(ctx);
        return { value: r.address, evidence: r.evidence };
      },
      matches: (given, want) => bare(given.trim()) === want,
    }),
    answerCheck({
      id: 'answer-public',
      title: "answers.yaml: your router's public address, as Bob's server sees it",
      points: 1,
      key: 'public_address',
      hint: 'curl http://web.bob.example/whoami shows the source address that reached Bob: that is your home router after NAT, not your laptop.',
      async expected(ctx) {
        const r = await routerPublic(ctx);
        return { value: r.address, evidence: [r.evidence] };
      },
    }),
    answerCheck({
      id: 'answer-mac',
      title: "answers.yaml: the MAC address of Alice's home interface",
      points: 1,
      key: 'mac_address',
      hint: `"ip link show dev ${IFACE}" prints it after "link/ether" (six pairs of hex digits); "ifconfig ${IFACE}" calls it "ether".`,
      async expected(ctx) {
        const iface = await aliceIface(ctx);
        return { value: iface.mac, evidence: [iface.evidence] };
      },
    }),
  ];
}

export default defineLab({
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
    return {
      interface: IFACE,
      dhcp_server: `the home router, ${ROUTER}`,
      ping: `${ROUTER} and ${BOB_PUBLIC}`,
      whoami: 'http://web.bob.example/whoami',
      answers: '/root/answers.yaml with private_address, public_address, mac_address',
    };
  },
  overlay,
  faults,
  checks,
});
