// Lab 03: DNS resolution and caching. Name resolution on Alice's laptop is broken in one of three
// places (per seed): her resolver setting, the home router's forwarder, or a record missing from
// Bob's zone on the dns node. She finds it with dig and nslookup, fixes it, and shows that the home
// router's cache answers a second lookup without asking the dns node again. Graded with clean dig
// in sidecars, and from the far end: dnsmasq's log on home and bind's query log on dns.
import { randomBytes } from 'node:crypto';
import { defineLab, type Fault, type Vars } from '../../orchestrator/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { canonicalWorld, findNode, type Node, type World } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { dig, q, readFile, resolveWith } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';

// ---- facts from the world data ---------------------------------------------------------------------

function addressOn(node: string, link: string): string {
  const n = findNode(canonicalWorld, node) as Node;
  const cidr = n.interfaces.find((i) => i.link === link)?.addresses[0];
  if (!cidr) throw new Error(`lab 03: ${node} has no address on ${link}`);
  return cidr.split('/')[0] as string;
}

export const ZONE = 'bob.example';
/** The home router as Alice's laptop sees it: gateway, DHCP server and caching resolver. */
export const ROUTER = addressOn('home', 'home');
/** The home router's public address: what the dns node sees as the source of forwarded queries. */
export const ROUTER_PUBLIC = addressOn('home', 'access');
/** The authoritative server of bob.example (the dns node), the forwarder's right upstream. */
export const DNS_SERVER = canonicalWorld.settings.resolver.upstream;
const HOME_PREFIX = canonicalWorld.links.find((l) => l.name === 'home')?.prefix as string;
/** Bob's public address (web.bob.example): where the new names point. */
export const BOB_PUBLIC = canonicalWorld.settings.zones.find((z) => z.name === ZONE)?.records.find((r) => r.name === 'web')?.value as string;

const DNSMASQ_CONF = '/etc/hurrynet/dnsmasq.conf';
const DNSMASQ_LOG = '/var/log/dnsmasq.log';
const QUERY_LOG = '/var/log/named/queries.log';
const ZONE_FILE = `/etc/bind/zones/db.${ZONE}`;

// ---- variation -------------------------------------------------------------------------------------

export type FaultKind = 'resolver' | 'forwarder' | 'record';
export const FAULTS: readonly FaultKind[] = ['resolver', 'forwarder', 'record'];
/** Which node the learner has to fix, per fault (the answer to "fault_node"). */
export const FAULT_NODE: Record<FaultKind, string> = { resolver: 'alice', forwarder: 'home', record: 'dns' };

/** Addresses where no DNS server answers: free addresses on the home link, the access link and the backbone. */
export const BAD_RESOLVERS = ['192.168.1.10', '192.168.1.11', '192.168.1.53', '192.168.1.254', '203.0.113.53', '198.51.100.35', '198.51.100.54'];
/** Wrong upstreams for the forwarder: typos of the dns node's address, all free. */
export const BAD_UPSTREAMS = ['198.51.100.35', '198.51.100.54', '198.51.100.55', '198.51.100.153', '198.51.100.5', '203.0.113.53'];
/** Names the learner must make resolve (one is missing from the zone in the "record" fault). */
export const RECORD_NAMES = ['files', 'media', 'docs', 'shop', 'status', 'api', 'photos', 'store'];
/** Names for the cache demonstration (always present in the zone). */
export const CACHE_NAMES = ['wiki', 'news', 'chat', 'cdn', 'mail', 'maps', 'music', 'games'];

export interface Dns03Vars {
  fault: FaultKind;
  /** The address that does not answer ("" for the record fault). */
  badAddress: string;
  /** Full names. */
  mustResolve: string;
  cacheName: string;
  /** TTL of every record in bob.example (also its negative-caching TTL) in this learner's world. */
  ttl: number;
}

export function dnsVars(v: Vars): Dns03Vars {
  return {
    fault: String(v.fault) as FaultKind,
    badAddress: String(v.badAddress),
    mustResolve: String(v.mustResolve),
    cacheName: String(v.cacheName),
    ttl: Number(v.ttl),
  };
}

function shortName(full: string): string {
  return full.slice(0, -(ZONE.length + 1));
}

/** The lab's world: bob.example gets this learner's TTL, the cache name, and the name to resolve (unless it is the fault). */
export function overlay(world: World, vars: Vars): World {
  const v = dnsVars(vars);
  const zone = world.settings.zones.find((z) => z.name === ZONE);
  if (!zone) throw new Error(`lab 03: the world has no ${ZONE} zone`);
  zone.ttl = v.ttl;
  zone.records.push({ name: shortName(v.cacheName), type: 'A', value: BOB_PUBLIC });
  if (v.fault !== 'record') zone.records.push({ name: shortName(v.mustResolve), type: 'A', value: BOB_PUBLIC });
  return world;
}

export function faults(vars: Vars): Fault[] {
  const v = dnsVars(vars);
  switch (v.fault) {
    case 'resolver':
      return [
        {
          node: 'alice',
          description: "Alice's resolver setting names an address where no DNS server answers",
          // Same header as the file hurrynet-init writes, so nothing but the address gives it away.
          script: `printf '# written by hurrynet for the lab world\\nnameserver %s\\n' ${q(v.badAddress)} > /etc/resolv.conf`,
        },
      ];
    case 'forwarder':
      return [
        {
          node: 'home',
          description: "the home router's dnsmasq forwards to an address where no DNS server answers",
          script: [
            `sed -i 's/^server=.*/server=${v.badAddress}/' ${DNSMASQ_CONF}`,
            `grep -qx 'server=${v.badAddress}' ${DNSMASQ_CONF}`,
            'pkill -x dnsmasq || true',
            'for i in $(seq 100); do pgrep -x dnsmasq >/dev/null || break; sleep 0.05; done',
            `dnsmasq --conf-file=${DNSMASQ_CONF}`,
            'for i in $(seq 100); do listening tcp 53 && exit 0; sleep 0.05; done',
            'echo "dnsmasq did not come back" >&2; exit 1',
          ].join('\n'),
        },
      ];
    case 'record':
      return []; // the overlay leaves the record out of the zone
  }
}

// ---- log parsing (pure, exported for the unit tests) -------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface DnsmasqEvent {
  /** Seconds (the log has no year; differences within a lab session are what matter). */
  t: number;
  kind: 'query' | 'forwarded' | 'reply' | 'cached';
  name: string;
  qtype?: string;
  /** Client address (query) or upstream (forwarded). */
  peer?: string;
  /** What the answer is (reply, cached). */
  value?: string;
}

/** Parses dnsmasq's log-queries lines ("Nov 25 11:13:00 dnsmasq[39]: query[A] web.bob.example from 192.168.1.101"). */
export function parseDnsmasqLog(text: string): DnsmasqEvent[] {
  const events: DnsmasqEvent[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w{3})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) dnsmasq\[\d+\]: (.*)$/.exec(line.trim());
    if (!m) continue;
    const month = MONTHS.indexOf(m[1] as string);
    if (month < 0) continue;
    const t = Date.UTC(2001, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
    const msg = m[6] as string;
    let e: RegExpExecArray | null;
    if ((e = /^query\[(\w+)\] (\S+) from (\S+)$/.exec(msg))) events.push({ t, kind: 'query', qtype: e[1], name: (e[2] as string).toLowerCase(), peer: e[3] });
    else if ((e = /^forwarded (\S+) to (\S+)$/.exec(msg))) events.push({ t, kind: 'forwarded', name: (e[1] as string).toLowerCase(), peer: e[2] });
    else if ((e = /^reply (\S+) is (.+)$/.exec(msg))) events.push({ t, kind: 'reply', name: (e[1] as string).toLowerCase(), value: e[2] });
    else if ((e = /^cached (\S+) is (.+)$/.exec(msg))) events.push({ t, kind: 'cached', name: (e[1] as string).toLowerCase(), value: e[2] });
  }
  return events;
}

export interface BindQuery {
  t: number;
  client: string;
  name: string;
  qtype: string;
}

/** Parses bind's query log ("25-Nov-2026 11:13:00.888 client @0x.. 203.0.113.5#57141 (x): query: x IN A +E(0)K (198.51.100.53)"). */
export function parseQueryLog(text: string): BindQuery[] {
  const out: BindQuery[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d{2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) client (?:@\S+ )?([\d.]+)#\d+ \([^)]*\): query: (\S+) IN (\S+)/.exec(line.trim());
    if (!m) continue;
    const month = MONTHS.indexOf(m[2] as string);
    const t = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])) / 1000;
    out.push({ t, client: m[8] as string, name: (m[9] as string).toLowerCase().replace(/\.$/, ''), qtype: m[10] as string });
  }
  return out;
}

/** A lookup from Alice's network. */
export function isAliceSide(address: string | undefined): boolean {
  return !!address && IPV4.test(address) && contains(HOME_PREFIX, address) && address !== ROUTER;
}

export interface CacheHit {
  /** When the router answered from its cache. */
  t: number;
  /** When the entry entered the cache (the forwarded reply), if the log shows it. */
  inserted?: number;
  /** The TTL the learner must have seen: zone TTL minus the seconds the entry had spent in the cache. */
  ttlSeen?: number;
}

export interface CacheStory {
  /** A lookups of the name that reached the router from Alice's network. */
  lookups: number;
  /** Of those, answered from the cache. */
  hits: CacheHit[];
}

/** Follows the name through dnsmasq's log: which of Alice's A lookups were answered from the cache, and with which TTL. */
export function cacheStory(events: DnsmasqEvent[], name: string, zoneTtl: number): CacheStory {
  const n = name.toLowerCase();
  let lookups = 0;
  let lastQuery: DnsmasqEvent | undefined;
  let inserted: number | undefined;
  const hits: CacheHit[] = [];
  for (const e of events) {
    if (e.name !== n) continue;
    if (e.kind === 'query') {
      lastQuery = e;
      if (e.qtype === 'A' && isAliceSide(e.peer)) lookups++;
    } else if (e.kind === 'reply' && IPV4.test(e.value ?? '')) {
      inserted = e.t;
    } else if (e.kind === 'cached' && IPV4.test(e.value ?? '') && lastQuery?.qtype === 'A' && isAliceSide(lastQuery.peer)) {
      hits.push({ t: e.t, inserted, ttlSeen: inserted === undefined ? undefined : zoneTtl - (e.t - inserted) });
    }
  }
  return { lookups, hits };
}

/** Names of nodes mentioned in a free-text answer ("home", "the home router" → home). */
export function nodesNamed(answer: string): string[] {
  const words = normalizeAnswer(answer).split(/[^a-z]+/);
  return ['alice', 'home', 'dns'].filter((n) => words.includes(n));
}

// ---- observations ------------------------------------------------------------------------------------

function nonce(under: string): string {
  return `hn-${randomBytes(4).toString('hex')}.${under}`;
}

async function grepLog(host: Host, path: string, needle: string, lines = 400): Promise<{ text: string; evidence: Evidence }> {
  const e = await host.run(`grep -i -F -- ${q(needle)} ${path} | tail -n ${lines}`, 5000);
  return { text: e.output, evidence: e };
}

/** dig's output cut to what a learner reads: status, flags, answers, the server, or the timeout. */
function brief(e: Evidence): Evidence {
  const keep = /status:|^;; flags:|^[^;\s]\S*\s+\d+\s+IN\s|SERVER:|timed out|no servers|communications error/;
  return { ...e, output: e.output.split('\n').filter((l) => keep.test(l)).join('\n') };
}

/** The TTL of the SOA in an NXDOMAIN answer: how long a resolver may remember "no such name". */
function negativeTtl(digOutput: string): number | undefined {
  const m = /AUTHORITY SECTION:\n\S+\s+(\d+)\s+IN\s+SOA/.exec(digOutput);
  return m ? Number(m[1]) : undefined;
}

/** Evidence that shows only the lines about exactly this name (not, say, the grader's probes below it). */
function linesAbout(e: Evidence, name: string, keep = 4): Evidence {
  const token = new RegExp(`(^|[\\s(])${name.replace(/\./g, '\\.')}([\\s)]|$)`, 'i');
  return { ...e, output: e.output.split('\n').filter((l) => token.test(l)).slice(-keep).join('\n') };
}

async function firstNameserver(ctx: CheckContext): Promise<{ ns?: string; evidence: Evidence }> {
  // The probe shares alice's /etc/resolv.conf but reads it with its own clean cat.
  const f = await readFile(await ctx.probe('alice'), '/etc/resolv.conf');
  const ns = /^\s*nameserver\s+(\S+)/m.exec(f.text)?.[1];
  return { ns, evidence: f.evidence };
}

/** The dns node's query log lines for one name (any client, any type). */
async function dnsQueries(ctx: CheckContext, name: string): Promise<{ queries: BindQuery[]; evidence: Evidence }> {
  const g = await grepLog(ctx.node('dns'), QUERY_LOG, `query: ${name} IN`);
  const queries = parseQueryLog(g.text).filter((x) => x.name === name.toLowerCase());
  return { queries, evidence: linesAbout(g.evidence, name) };
}

async function routerStory(ctx: CheckContext, name: string, ttl: number): Promise<{ story: CacheStory; events: DnsmasqEvent[]; evidence: Evidence }> {
  const g = await grepLog(ctx.node('home'), DNSMASQ_LOG, name);
  const events = parseDnsmasqLog(g.text).filter((e) => e.name === name.toLowerCase());
  return { story: cacheStory(events, name, ttl), events, evidence: linesAbout(g.evidence, name) };
}

// ---- checks ------------------------------------------------------------------------------------------

function checks(vars: Vars): Check[] {
  const v = dnsVars(vars);
  const expectedNode = FAULT_NODE[v.fault];
  return [
    {
      id: 'resolver',
      title: "Alice's laptop asks the home router for names",
      points: 1,
      deadlineMs: 1500,
      hint: `Look at /etc/resolv.conf on alice: the first "nameserver" line is where every lookup goes. The home router (${ROUTER}) is the resolver DHCP hands out. Rewrite the file with nano or: echo 'nameserver ${ROUTER}' > /etc/resolv.conf (sed -i fails on this file: Docker mounts it).`,
      async run(ctx) {
        const { ns, evidence } = await firstNameserver(ctx);
        if (!ns) return fail("alice's /etc/resolv.conf names no nameserver", evidence);
        if (ns !== ROUTER) return fail(`alice sends her lookups to ${ns}, not to the home router ${ROUTER}`, evidence);
        return pass(`alice's first nameserver is the home router ${ROUTER}`, evidence);
      },
    },
    {
      id: 'forwarder',
      title: `The home router forwards lookups to Bob's DNS server (${DNS_SERVER})`,
      points: 1,
      hint: `Compare dig @${ROUTER} web.${ZONE} with dig @${DNS_SERVER} web.${ZONE} on alice. If only the second answers, read ${DNSMASQ_CONF} and the end of ${DNSMASQ_LOG} on home (npx hurrynet shell home): which server does it forward to? After editing, restart dnsmasq: pkill dnsmasq; dnsmasq --conf-file=${DNSMASQ_CONF}`,
      async run(ctx) {
        // A name nobody ever asked for cannot come from a cache: its answer must travel to the dns node.
        const probeName = nonce(ZONE);
        const r = await dig(await ctx.probe('home'), probeName, { server: ROUTER });
        if (r.status !== 'NXDOMAIN') {
          return fail(`the home router got no answer for a fresh name in ${ZONE} (${r.status}): it does not reach Bob's DNS server`, brief(r.evidence));
        }
        const seen = await grepLog(ctx.node('dns'), QUERY_LOG, probeName);
        if (!parseQueryLog(seen.text).some((x) => x.client === ROUTER_PUBLIC)) {
          return fail(`the home router answered, but the dns node never saw the query: it is not forwarding to ${DNS_SERVER}`, brief(r.evidence), seen.evidence);
        }
        return pass(`a fresh query went from the home router to the dns node (${ROUTER_PUBLIC} → ${DNS_SERVER}) and back`, brief(r.evidence), seen.evidence);
      },
    },
    {
      id: 'record',
      title: `Bob's DNS server knows ${v.mustResolve}`,
      points: 1,
      hint: `Ask the authoritative server directly: dig @${DNS_SERVER} ${v.mustResolve}. If it says NXDOMAIN, add the record to ${ZONE_FILE} on the dns node (a line "${shortName(v.mustResolve)} IN A <address>"), raise the serial in the SOA line, check it with named-checkzone ${ZONE} ${ZONE_FILE}, and reload with pkill -HUP named.`,
      async run(ctx) {
        const { address, result } = await resolveWith(await ctx.probe('dns'), v.mustResolve, '127.0.0.1');
        if (!address) return fail(`the dns node has no address for ${v.mustResolve} (${result.status})`, brief(result.evidence));
        if (!result.answers.some((a) => a.type === 'A' && a.value === BOB_PUBLIC)) {
          return fail(`the dns node answers ${address} for ${v.mustResolve}, not the address on your task card`, brief(result.evidence));
        }
        return pass(`the dns node answers ${BOB_PUBLIC} for ${v.mustResolve}`, brief(result.evidence));
      },
    },
    {
      id: 'alice-resolves',
      title: `${v.mustResolve} resolves on Alice's laptop through the home router`,
      points: 2,
      hint: `Run dig ${v.mustResolve} on alice and read the status and SERVER lines. Fix what the other checks point at. If the dns node has the record but the router still says NXDOMAIN, the router cached the "no such name" answer: clear its cache with pkill -HUP dnsmasq on home. The grader also sends its own query from alice to ${ROUTER} and looks for it in the router's log, so a local DNS server or an iptables rule on alice makes this fail.`,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const { ns, evidence: conf } = await firstNameserver(ctx);
        if (ns !== ROUTER) return fail(`alice asks ${ns ?? 'nobody'} for names, not the home router`, conf);
        const { address, result } = await resolveWith(probe, v.mustResolve, ROUTER);
        if (result.status === 'NXDOMAIN') {
          const story = await routerStory(ctx, v.mustResolve, v.ttl);
          const last = story.events.at(-1);
          const lastCached = last?.kind === 'cached' && last.value === 'NXDOMAIN';
          const left = negativeTtl(result.evidence.output);
          const why = lastCached
            ? `the home router answers NXDOMAIN for ${v.mustResolve} from its cache (negative caching${left ? `, for another ${left} s` : ''})`
            : `the home router answers NXDOMAIN (no such name) for ${v.mustResolve}`;
          return fail(why, brief(result.evidence), story.evidence);
        }
        if (!address) return fail(`no address for ${v.mustResolve} from the home router (${result.status})`, conf, brief(result.evidence));
        if (address !== BOB_PUBLIC) return fail(`${v.mustResolve} resolves to ${address}, not to the address on your task card`, brief(result.evidence));
        // Prove the path: a fresh name sent the same way must show up in the router's own log as
        // coming from alice (a fake server or a redirect on alice would never let it get there).
        const probeName = nonce(v.mustResolve);
        const sent = await dig(probe, probeName, { server: ROUTER });
        const seen = await grepLog(ctx.node('home'), DNSMASQ_LOG, probeName);
        const arrived = parseDnsmasqLog(seen.text).some((e) => e.kind === 'query' && isAliceSide(e.peer));
        if (!arrived) {
          return fail(`an answer came back, but the home router never received alice's query: something on alice intercepts DNS (a local server, an iptables rule?)`, brief(result.evidence), brief(sent.evidence), seen.evidence);
        }
        return pass(`alice gets ${BOB_PUBLIC} for ${v.mustResolve} from the home router, and her queries really arrive there`, brief(result.evidence), seen.evidence);
      },
    },
    {
      id: 'cache',
      title: `The home router answered a repeated lookup of ${v.cacheName} from its cache`,
      points: 2,
      hint: `Once names resolve, run dig ${v.cacheName} on alice, wait a few seconds, and run it again. Compare the TTLs and the flags (aa). Then look for the name in ${DNSMASQ_LOG} on home and in ${QUERY_LOG} on dns.`,
      async run(ctx) {
        const [router, dns] = await Promise.all([routerStory(ctx, v.cacheName, v.ttl), dnsQueries(ctx, v.cacheName)]);
        const { lookups, hits } = router.story;
        const fromRouter = dns.queries.filter((x) => x.client === ROUTER_PUBLIC && x.qtype === 'A').length;
        if (lookups === 0) return fail(`the home router never got a lookup of ${v.cacheName} from Alice's laptop`, router.evidence);
        if (fromRouter === 0) return fail(`the dns node never got a query for ${v.cacheName} from the home router, so nothing could be cached`, router.evidence, dns.evidence);
        if (hits.length === 0) {
          return fail(`all ${lookups} lookups of ${v.cacheName} from alice were forwarded; none was answered from the cache`, router.evidence, dns.evidence);
        }
        return pass(
          `the home router answered ${hits.length} of alice's ${lookups} lookups of ${v.cacheName} from its cache; the dns node saw ${fromRouter} quer${fromRouter === 1 ? 'y' : 'ies'} from it`,
          router.evidence,
          dns.evidence,
        );
      },
    },
    answerCheck({
      id: 'answer-fault-node',
      title: 'answers.yaml: which node had the fault',
      points: 1,
      key: 'fault_node',
      hint: 'Answer with the node you had to change: alice, home or dns.',
      async expected() {
        return { value: expectedNode, evidence: [] };
      },
      matches(given, expected) {
        const named = nodesNamed(given);
        return named.length === 1 && named[0] === expected;
      },
    }),
    answerCheck({
      id: 'answer-ttl-first',
      title: `answers.yaml: the TTL of your first lookup of ${v.cacheName}`,
      points: 1,
      key: 'ttl_first',
      hint: `The first answer comes straight from Bob's DNS server with the full TTL of the record: the number after the name in dig's ANSWER SECTION.`,
      async expected() {
        return { value: String(v.ttl), evidence: [] };
      },
    }),
    answerCheck({
      id: 'answer-ttl-second',
      title: `answers.yaml: the TTL of your second lookup (from the cache)`,
      points: 1,
      key: 'ttl_second',
      hint: `Copy the TTL of the lookup that the home router answered from its cache (it is lower than the first). The grader recomputes it from the router's log.`,
      async expected(ctx) {
        const { story, evidence } = await routerStory(ctx, v.cacheName, v.ttl);
        const seen = story.hits.flatMap((h) => (h.ttlSeen === undefined ? [] : [h.ttlSeen]));
        return { value: seen.length ? seen.join(',') : undefined, evidence: [evidence] };
      },
      matches(given, expected) {
        const n = Number(normalizeAnswer(given));
        if (!Number.isInteger(n) || n >= v.ttl) return false;
        // The log has one-second resolution: allow one second either way.
        return expected.split(',').some((s) => Math.abs(Number(s) - n) <= 1);
      },
    }),
    answerCheck({
      id: 'answer-dns-queries',
      title: `answers.yaml: how many queries for ${v.cacheName} reached the dns node`,
      points: 1,
      key: 'dns_queries',
      hint: `Count the lines for ${v.cacheName} in ${QUERY_LOG} on the dns node (npx hurrynet exec dns -- grep ${v.cacheName} ${QUERY_LOG}).`,
      async expected(ctx) {
        const { queries, evidence } = await dnsQueries(ctx, v.cacheName);
        if (queries.length === 0) return { value: undefined, evidence: [evidence] };
        const a = queries.filter((x) => x.qtype === 'A').length;
        return { value: `${a}|${queries.length}`, evidence: [evidence] };
      },
      // A lines only, or every line for the name (nslookup also asks for AAAA): both count.
      matches(given, expected) {
        return expected.split('|').includes(normalizeAnswer(given));
      },
    }),
  ];
}

export default defineLab({
  number: 3,
  slug: 'dns',
  title: 'DNS: resolution and caching',
  topics: ['DNS', 'resolver', 'dig', 'nslookup', 'zone file', 'TTL', 'caching', 'negative caching'],
  minutes: 35,
  goal: "Find out with dig and nslookup why names do not resolve on Alice's laptop, fix it where it is broken (her laptop, the home router or Bob's DNS server), and show that the home router answers a repeated lookup from its cache.",
  submissionNodes: ['alice', 'home', 'dns'],
  questions: [
    { key: 'fault_node', prompt: 'Which node had the fault: alice, home or dns' },
    { key: 'ttl_first', prompt: 'The TTL of your first lookup of cache_name' },
    { key: 'ttl_second', prompt: 'The TTL of your second lookup of cache_name, answered from the cache' },
    { key: 'dns_queries', prompt: "How many queries for cache_name the dns node's query log shows" },
  ],
  vary(rng) {
    const fault = rng.pick(FAULTS);
    const bad = fault === 'resolver' ? rng.pick(BAD_RESOLVERS) : fault === 'forwarder' ? rng.pick(BAD_UPSTREAMS) : '';
    return {
      fault,
      badAddress: bad,
      mustResolve: `${rng.pick(RECORD_NAMES)}.${ZONE}`,
      cacheName: `${rng.pick(CACHE_NAMES)}.${ZONE}`,
      ttl: rng.int(6, 30) * 60,
    };
  },
  task(vars) {
    const v = dnsVars(vars);
    return {
      must_resolve: v.mustResolve,
      expected_address: BOB_PUBLIC,
      cache_name: v.cacheName,
    };
  },
  overlay,
  faults,
  checks,
});
