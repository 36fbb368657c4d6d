// Lab 13: troubleshooting, the capstone. Three faults from earlier labs are injected at once,
// chosen per seed: one in Alice's own network settings (no or a wrong address, or a wrong default
// gateway), one in name resolution (a resolver that does not exist, or a record missing from Bob's
// zone), and one on the network between Alice and Bob's services (no NAT on the home router, a
// missing route on Bob's edge, or the edge's security group dropping HTTP or FTP). The learner
// diagnoses with ip/ifconfig, ping, dig/nslookup, traceroute and curl, fixes everything, and writes
// in answers.yaml which fault each group had and the tool that showed it.
//
// Graded end to end from Alice's side with clean binaries in a sidecar in her network namespace:
// her address and route, her resolver, Bob's names through the home router, ping, HTTP and an FTP
// listing; HTTP and FTP are confirmed from the far end (Bob's access log, the FTP server's log,
// each with a nonce the probe sent and the source address that arrived after NAT).
import { randomBytes } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { firewallCommands, natCommands } from '../../orchestrator/config.js';
import { canonicalWorld, findNode, type Node } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { dig, ping, q, type DigResult } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';

// ---- facts from the world data ----------------------------------------------------------------------

function node(name: string): Node {
  const n = findNode(canonicalWorld, name);
  if (!n) throw new Error(`lab 13: the world has no ${name} node`);
  return n;
}
function addressOn(name: string, link: string): string {
  const cidr = node(name).interfaces.find((i) => i.link === link)?.addresses[0];
  if (!cidr) throw new Error(`lab 13: ${name} has no address on ${link}`);
  return cidr;
}
const bare = (cidr: string) => cidr.split('/')[0] as string;

export const ZONE = 'bob.example';
const zone = canonicalWorld.settings.zones.find((z) => z.name === ZONE);
const recordOf = (name: string) => zone?.records.find((r) => r.name === name && r.type === 'A')?.value;
/** Alice's laptop as the world defines it: address, prefix and gateway. */
export const ALICE_CIDR = addressOn('alice', 'home');
export const HOME_PREFIX = canonicalWorld.links.find((l) => l.name === 'home')?.prefix as string;
export const ROUTER = bare(addressOn('home', 'home'));
export const ALICE_PUBLIC = bare(addressOn('home', 'access'));
export const ISP_ACCESS = bare(addressOn('isp', 'access'));
export const DNS_SERVER = canonicalWorld.settings.resolver.upstream;
export const EDGE_UPSTREAM = node('edge').routes.find((r) => r.to === 'default')?.via as string;
/** The names whose records may go missing, and where they point. */
export const RECORDS = { web: recordOf('web') as string, ftp: recordOf('ftp') as string };
export const BOB_PUBLIC = RECORDS.web;
const HOME_IFACE = 'home';
if (!zone || !RECORDS.web || !RECORDS.ftp || !EDGE_UPSTREAM || !HOME_PREFIX) throw new Error('lab 13: the world lacks bob.example records or the edge route');

const ZONE_FILE = `/etc/bind/zones/db.${ZONE}`;
const ACCESS_LOG = '/var/log/web/access.log';
const FTP_LOG = '/var/log/vsftpd.log';

/** The edge's security-group rules that let new HTTP and FTP flows in, as the world renders them. */
function allowRule(to: string, port: string): string {
  const rule = node('edge').firewall?.allow.find((r) => r.to === to && r.proto === 'tcp' && (r.ports ?? '').split(',').includes(port));
  if (!rule) throw new Error(`lab 13: the edge has no rule for tcp ${port} to ${to}`);
  const cmd = firewallCommands({ guardedLinks: [], allow: [rule] }).find((c) => c.includes('NEW'));
  return (cmd as string).replace(/^iptables -A FORWARD /, '');
}
export const HTTP_RULE = allowRule(bare(addressOn('web', 'vpc')), '80');
export const FTP_RULE = allowRule(bare(addressOn('ftp', 'vpc')), '21');
const MASQUERADE = (natCommands(node('home').nat?.filter((r) => r.kind === 'masquerade') ?? [])[0] ?? '').replace(/^iptables -t nat -A POSTROUTING /, '');
if (!MASQUERADE) throw new Error('lab 13: the home router has no masquerade rule');

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
  'home-nat': ['traceroute', 'tracepath', 'mtr'],
  'edge-route': ['traceroute', 'tracepath', 'mtr'],
  'edge-http': ['curl', 'wget', 'nc', 'telnet'],
  'edge-ftp': ['curl', 'ftp', 'lftp', 'nc', 'telnet'],
};

/** Networks Alice's laptop might remember from elsewhere (never the home one). */
export const OTHER_NETS = [0, 2, 10, 20, 42, 88].map((n) => `192.168.${n}`).filter((p) => !contains(HOME_PREFIX, `${p}.1`));
/** Gateways that do not exist on the home network. */
export const BAD_GATEWAYS = ['192.168.1.254', '192.168.1.253', '192.168.1.10', '192.168.1.2', '192.168.1.200'];
/** Addresses where no DNS server answers. */
export const BAD_RESOLVERS = ['192.168.1.53', '192.168.1.10', '192.168.1.254', '198.51.100.35', '198.51.100.54', '203.0.113.53'];

export interface Lab13Vars {
  laptop: FaultId;
  names: FaultId;
  network: FaultId;
  /** alice-address: "none" (no address at all) or a wrong network's address with its gateway. */
  wrongAddress: string;
  wrongGateway: string;
  badGateway: string;
  badResolver: string;
  /** dns-record: the name whose A record is missing (web or ftp). */
  missingRecord: 'web' | 'ftp';
}

export function labVars(v: Vars): Lab13Vars {
  return {
    laptop: String(v.laptop) as FaultId,
    names: String(v.names) as FaultId,
    network: String(v.network) as FaultId,
    wrongAddress: String(v.wrongAddress),
    wrongGateway: String(v.wrongGateway),
    badGateway: String(v.badGateway),
    badResolver: String(v.badResolver),
    missingRecord: String(v.missingRecord) as 'web' | 'ftp',
  };
}

function vary(rng: Rng): Vars {
  // Every value is drawn for every seed, so the sequence of draws never depends on the faults.
  const laptop = rng.pick(GROUPS.laptop);
  const names = rng.pick(GROUPS.names);
  const network = rng.pick(GROUPS.network);
  const noAddress = rng.next() < 0.5;
  const net = rng.pick(OTHER_NETS);
  const host = rng.int(100, 199);
  return {
    laptop,
    names,
    network,
    wrongAddress: noAddress ? 'none' : `${net}.${host}/24`,
    wrongGateway: noAddress ? '' : `${net}.1`,
    badGateway: rng.pick(BAD_GATEWAYS),
    badResolver: rng.pick(BAD_RESOLVERS),
    missingRecord: rng.pick(['web', 'ftp'] as const),
  };
}

export function faultsOf(v: Lab13Vars): FaultId[] {
  return [v.laptop, v.names, v.network];
}

/** One fault, as a script on one node. */
export function faultScript(id: FaultId, v: Lab13Vars): Fault {
  switch (id) {
    case 'alice-address':
      return {
        node: 'alice',
        description: "Alice's laptop has no address, or one from another network",
        script: [`ip -4 addr flush dev ${HOME_IFACE}`, ...(v.wrongAddress === 'none' ? [] : [`ip addr add ${v.wrongAddress} brd + dev ${HOME_IFACE}`, `ip route add default via ${v.wrongGateway} dev ${HOME_IFACE}`])].join('\n'),
      };
    case 'alice-gateway':
      return { node: 'alice', description: "Alice's default route points at a router that does not exist", script: `ip route replace default via ${v.badGateway} dev ${HOME_IFACE}` };
    case 'alice-resolver':
      return {
        node: 'alice',
        description: "Alice's resolver setting names an address where no DNS server answers",
        // Same header as the file hurrynet-init writes; Docker mounts the file, so write into it.
        script: `printf '# written by hurrynet for the lab world\\nnameserver %s\\n' ${q(v.badResolver)} > /etc/resolv.conf`,
      };
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
      return { node: 'home', description: 'the home router no longer translates addresses (no masquerade)', script: `iptables -t nat -D POSTROUTING ${MASQUERADE}\nconntrack -F >/dev/null 2>&1 || true` };
    case 'edge-route':
      return { node: 'edge', description: "Bob's edge lost its default route", script: 'ip route del default\nip route flush cache || true' };
    case 'edge-http':
      return { node: 'edge', description: "the edge's security group no longer lets HTTP in", script: `iptables -D FORWARD ${HTTP_RULE}\nconntrack -F >/dev/null 2>&1 || true` };
    case 'edge-ftp':
      return { node: 'edge', description: "the edge's security group no longer lets FTP in", script: `iptables -D FORWARD ${FTP_RULE}\nconntrack -F >/dev/null 2>&1 || true` };
  }
}

function faults(vars: Vars): Fault[] {
  const v = labVars(vars);
  // Faults on the same node run in one script, in a fixed order.
  const byNode = new Map<string, Fault[]>();
  for (const f of faultsOf(v).map((id) => faultScript(id, v))) byNode.set(f.node, [...(byNode.get(f.node) ?? []), f]);
  return [...byNode.entries()].map(([n, list]) => ({ node: n, description: list.map((f) => f.description).join('; '), script: list.map((f) => f.script).join('\n') }));
}

const TASK = {
  faults: 'three: one in the laptop group, one in the names group, one in the network group',
  must_work: `ping ${BOB_PUBLIC}; dig web.${ZONE}; curl http://web.${ZONE}/; curl ftp://ftp.${ZONE}/`,
};

// ---- observations ------------------------------------------------------------------------------------

/** dig's output cut to what a learner reads. */
function brief(e: Evidence): Evidence {
  const keep = /status:|^[^;\s]\S*\s+\d+\s+IN\s|SERVER:|timed out|no servers|communications error|unreachable/;
  return { ...e, output: e.output.split('\n').filter((l) => keep.test(l)).join('\n') };
}

async function resolveHome(probe: Host, name: string): Promise<{ address?: string; result: DigResult }> {
  const result = await dig(probe, name, { server: ROUTER });
  return { address: result.answers.find((a) => a.type === 'A')?.value, result: { ...result, evidence: brief(result.evidence) } };
}

const nonce = () => `hn-${randomBytes(4).toString('hex')}`;

// ---- checks ------------------------------------------------------------------------------------------

function checks(vars: Vars): Check[] {
  const v = labVars(vars);
  const answer = (group: Group, title: string, hint: string) => {
    const fault = v[group];
    return answerCheck({
      id: `answer-${group}`,
      title,
      points: 2,
      key: `${group}_fault`,
      alsoKeys: { [`${group}_tool`]: TOOLS[fault].join('|') },
      hint,
      async expected() {
        return { value: fault, evidence: [] };
      },
      // Fault ids in any spelling ("Home NAT", "home_nat"); for tools, the command's first word.
      matches: (given, expected) => {
        const g = normalizeAnswer(given).replace(/[\s_]+/g, '-');
        return expected.split('|').some((e) => g === e || g.split('-')[0] === e || normalizeAnswer(given).split(' ')[0] === e);
      },
    });
  };
  return [
    {
      id: 'laptop',
      title: `Alice's laptop has an address on the home network ${HOME_PREFIX} and its default route via the home router ${ROUTER}`,
      points: 2,
      hint: `On alice: "ip addr show dev ${HOME_IFACE}" and "ip route". The laptop normally has ${ALICE_CIDR} with "default via ${ROUTER}" (or take a lease: dhclient -v ${HOME_IFACE}). Fix with ip addr flush / ip addr add / ip route replace default via ${ROUTER}.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const e = await probe.run(`ip -4 -br addr show dev ${HOME_IFACE}; echo; ip -4 route show`, 5000);
        const [addrPart = '', routePart = ''] = e.output.split(/\n\s*\n/);
        const addrs = [...addrPart.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/g)].map((m) => m[1] as string);
        const defaults = routePart.split('\n').filter((l) => /^default\b/.test(l));
        const mine = addrs.filter((a) => contains(HOME_PREFIX, a) && a !== ROUTER);
        if (!addrs.length) return fail(`alice's ${HOME_IFACE} interface has no IPv4 address: nothing can answer her`, e);
        if (!mine.length) return fail(`alice's address ${addrs.join(', ')} is not on the home network ${HOME_PREFIX}`, e);
        if (defaults.length !== 1) return fail(defaults.length ? `alice has ${defaults.length} default routes; keep only the one via ${ROUTER}` : 'alice has no default route: nothing beyond her own network can be reached', e);
        const via = /\bvia (\S+)/.exec(defaults[0] as string)?.[1];
        if (via !== ROUTER) return fail(`alice's default route points at ${via ?? 'no gateway'}, not at the home router ${ROUTER}`, e);
        const gw = await ping(probe, ROUTER, 2);
        if (!gw.ok) return fail(`the home router ${ROUTER} does not answer a ping from alice`, e, gw.evidence);
        return pass(`${mine.join(', ')} with default via ${ROUTER}, and the router answers`, e, gw.evidence);
      },
    },
    {
      id: 'resolver',
      title: `Alice's laptop asks the home router (${ROUTER}) for names, and gets answers`,
      points: 2,
      hint: `"dig ns.${ZONE}" on alice: the SERVER line says which resolver answered; "no servers could be reached" means none did. Alice's resolver is in /etc/resolv.conf and should be "nameserver ${ROUTER}" (write into the file: echo 'nameserver ${ROUTER}' > /etc/resolv.conf).`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        // No @server: this dig reads alice's own /etc/resolv.conf (the sidecar shares it).
        const r = await dig(probe, `ns.${ZONE}`);
        const e = brief(r.evidence);
        if (r.status === 'TIMEOUT' || !r.server) return fail('the resolver in alice\'s /etc/resolv.conf does not answer', e);
        if (r.server !== ROUTER) return fail(`alice asks ${r.server} for names, not her home router ${ROUTER}`, e);
        if (r.status !== 'NOERROR') return fail(`the home router answered ${r.status}`, e);
        return pass(`the home router ${ROUTER} answered alice's lookup`, e);
      },
    },
    {
      id: 'names',
      title: `web.${ZONE} and ftp.${ZONE} resolve to ${BOB_PUBLIC} through the home router`,
      points: 2,
      hint: `Ask the home router, then Bob's DNS server directly: "dig @${ROUTER} web.${ZONE}" and "dig @${DNS_SERVER} web.${ZONE}" (same for ftp). NXDOMAIN from Bob's server means the record is missing from his zone (${ZONE_FILE} on dns; reload with pkill -HUP named). If only the router still says NXDOMAIN, it remembers the old answer: pkill -HUP dnsmasq on home empties its cache.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const names = Object.keys(RECORDS) as (keyof typeof RECORDS)[];
        const results = await Promise.all(names.map((n) => resolveHome(probe, `${n}.${ZONE}`)));
        const evidence = results.map((r) => r.result.evidence);
        const bad = names.filter((n, i) => results[i]?.address !== RECORDS[n]);
        if (!bad.length) return pass(`both resolve to ${BOB_PUBLIC} through ${ROUTER}`, ...evidence);
        const first = bad[0] as keyof typeof RECORDS;
        const r = results[names.indexOf(first)]?.result as DigResult;
        if (r.status === 'TIMEOUT') return fail(`the home router ${ROUTER} does not answer alice's question for ${first}.${ZONE}`, ...evidence);
        if (r.status === 'NXDOMAIN') {
          // Is the record back in Bob's zone, and only the router's cache remembers its absence?
          // Asked on the dns node itself, so that no fault on the way hides the answer.
          const auth = await dig(await ctx.probe('dns'), `${first}.${ZONE}`, { server: '127.0.0.1' });
          if (auth.answers.some((a) => a.type === 'A' && a.value === RECORDS[first])) {
            return fail(`Bob's DNS server has ${first}.${ZONE} again, but the home router still answers NXDOMAIN from its cache (negative caching)`, ...evidence, brief(auth.evidence));
          }
          return fail(`${first}.${ZONE} does not exist (NXDOMAIN): the record is missing`, ...evidence, brief(auth.evidence));
        }
        return fail(`${first}.${ZONE} resolves to ${results[names.indexOf(first)]?.address ?? 'nothing'} (${r.status}), not ${RECORDS[first]}`, ...evidence);
      },
    },
    {
      id: 'ping',
      title: `Alice reaches Bob's server (${BOB_PUBLIC}) and Bob's DNS server (${DNS_SERVER}) with ping`,
      points: 2,
      hint: `"ping -c 3 ${BOB_PUBLIC}" on alice. No replies beyond the home router? Follow the path hop by hop: traceroute -n -w 1 -m 8 ${BOB_PUBLIC}. Where the list of routers stops, look at that router and the next one (NAT on home: iptables -t nat -S; routes on edge: ip route).`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const [bob, dns] = await Promise.all([ping(probe, BOB_PUBLIC, 2), ping(probe, DNS_SERVER, 2)]);
        if (!bob.ok && !dns.ok) return fail(`neither ${BOB_PUBLIC} nor ${DNS_SERVER} answers alice`, bob.evidence, dns.evidence);
        if (!bob.ok) return fail(`Bob's DNS server answers, but his server ${BOB_PUBLIC} does not`, bob.evidence, dns.evidence);
        if (!dns.ok) return fail(`Bob's server answers, but his DNS server ${DNS_SERVER} does not`, bob.evidence, dns.evidence);
        return pass(`both answer (${bob.received}/${bob.sent} and ${dns.received}/${dns.sent} replies)`, bob.evidence, dns.evidence);
      },
    },
    {
      id: 'http',
      title: `HTTP from Alice's laptop reaches Bob's web server (http://web.${ZONE}/)`,
      points: 2,
      deadlineMs: 4000,
      hint: `"curl -v -m 5 http://web.${ZONE}/" on alice. If ping and traceroute reach ${BOB_PUBLIC} but curl times out, something lets ping through and drops HTTP: look at the edge's security group (iptables -S FORWARD on edge).`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { address, result } = await resolveHome(probe, `web.${ZONE}`);
        if (!address) return fail(`web.${ZONE} does not resolve through the home router, so the HTTP request cannot start`, result.evidence);
        const path = `/?probe=${nonce()}`;
        const e = await probe.run(`curl -sS --connect-timeout 2 -m 4 -o /dev/null -w '%{http_code}\\n' --resolve web.${ZONE}:80:${address} ${q(`http://web.${ZONE}${path}`)}`, 8000);
        if (e.exitCode !== 0) return fail(`curl got no answer from web.${ZONE} (${address}): ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'no response'}`, result.evidence, e);
        if (e.output.trim() !== '200') return fail(`web.${ZONE} answered ${e.output.trim()}, not 200`, result.evidence, e);
        const log = await ctx.node('web').run(`grep -F -- ${q(`"path":"${path}"`)} ${ACCESS_LOG} | tail -n 1`, 5000);
        if (!log.output.includes(`"client":"${ALICE_PUBLIC}"`)) return fail(`an answer came back, but Bob's access log has no request for ${path} from ${ALICE_PUBLIC}: it did not come from Bob's server`, e, log);
        return pass(`200 OK, and Bob's access log shows the request from ${ALICE_PUBLIC}`, e, log);
      },
    },
    {
      id: 'ftp',
      title: `FTP from Alice's laptop lists Bob's file store (ftp://ftp.${ZONE}/)`,
      points: 2,
      deadlineMs: 4000,
      hint: `"curl -v -m 5 ftp://ftp.${ZONE}/" on alice lists the files. If ping reaches ${BOB_PUBLIC} but FTP times out at "Trying", look at the edge's security group (iptables -S FORWARD on edge): FTP needs port 21 and the passive data ports.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { address, result } = await resolveHome(probe, `ftp.${ZONE}`);
        if (!address) return fail(`ftp.${ZONE} does not resolve through the home router, so the FTP session cannot start`, result.evidence);
        const tag = nonce();
        const e = await probe.run(`curl -sS --connect-timeout 2 -m 4 -Q ${q(`NOOP ${tag}`)} ${q(`ftp://${address}/`)} | head -n 5`, 8000);
        if (!/\S/.test(e.output) || /curl: \(/.test(e.output)) return fail(`no listing from ftp.${ZONE} (${address}): ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'empty'}`, result.evidence, e);
        const log = await ctx.node('ftp').run(`grep -F -- ${q(`"NOOP ${tag}"`)} ${FTP_LOG} | tail -n 1`, 5000);
        if (!log.output.includes(`Client "${ALICE_PUBLIC}"`)) return fail(`a listing came back, but Bob's FTP server never saw this session from ${ALICE_PUBLIC}`, e, log);
        return pass(`the listing came back, and the FTP server's log shows the session from ${ALICE_PUBLIC}`, e, log);
      },
    },
    answer(
      'laptop',
      "answers.yaml: the fault in Alice's own network settings, and the tool that showed it",
      'laptop_fault is alice-address or alice-gateway; laptop_tool the command that showed it (for example ip).',
    ),
    answer('names', 'answers.yaml: the fault in name resolution, and the tool that showed it', 'names_fault is alice-resolver or dns-record; names_tool the command that showed it.'),
    answer(
      'network',
      "answers.yaml: the fault on the network between Alice and Bob's services, and the tool that showed it",
      'network_fault is home-nat, edge-route, edge-http or edge-ftp; network_tool the command that pinpointed it (where a path stops, or which service does not answer while ping does).',
    ),
  ];
}

export default defineLab({
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
  task: () => TASK,
  faults,
  checks,
});
