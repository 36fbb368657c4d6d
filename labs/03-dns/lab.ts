// Lab 03: DNS resolution and caching. Name resolution on Alice's laptop is broken in one of three
// places (per seed): her resolver setting, the home router's forwarder, or a record missing from
// Bob's zone on the dns node. She finds it with dig and nslookup, fixes it, and shows that the home
// router's cache answers a second lookup without asking the dns node again. Graded with clean dig:
// claims about the network (the router's resolver works for the LAN, Bob's server has the record)
// from fresh machines the grader attaches to Alice's LAN (the link lan) and the backbone; claims
// about Alice's laptop from a sidecar in her namespace; and from the far end: dnsmasq's log on home
// and bind's query log on dns, which show whether a query really reached the router's resolver
// and Bob.
import { contains } from '../../orchestrator/world/addresses.js';
import { freshSeat } from '../../orchestrator/world/world.js';
import {
  fail,
  pass,
  type Check,
  type CheckContext,
  type Evidence,
  type Host,
  type Verdict,
} from '../../checks/types.js';
import { dig, readFile, resolveWith, type DigResult } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import {
  addressOf,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  nonce,
  startService,
  writeFile,
  type Fault,
  type World,
} from '../kit/index.js';
import {
  digBrief,
  firstNameserverIn,
  grepLog,
  linesAbout,
  negativeTtl,
  parseDnsmasqLog,
  parseQueryLog,
  zoneAddress,
  type BindQuery,
  type DnsmasqEvent,
} from '../kit/dns.js';

export const ZONE = 'bob.example';
const ZONE_FILE = `/etc/bind/zones/db.${ZONE}`;

// ---- facts from the lab's world --------------------------------------------------------------------

export interface DnsFacts {
  /** The home router as Alice's laptop sees it: gateway, DHCP server and caching resolver. */
  router: string;
  /** The home router's public address: what the dns node sees as the source of forwarded queries. */
  routerPublic: string;
  /** The authoritative server of bob.example (the dns node), the forwarder's right upstream. */
  dnsServer: string;
  /** Bob's public address (web.bob.example): where the new names point. */
  bobPublic: string;
  /** Where the grader's own fresh machine sits on Alice's LAN (ctx.fresh('lan')). */
  freshLan: string;
  homePrefix: string;
}

export function dnsFacts(world: World): DnsFacts {
  const homePrefix = world.links.find((l) => l.name === 'lan')?.prefix;
  if (!homePrefix) throw new Error('lab 03: the world has no lan link');
  return {
    router: addressOf(world, 'home', 'lan'),
    routerPublic: addressOf(world, 'home', 'access'),
    dnsServer: world.settings.resolver.upstream,
    bobPublic: zoneAddress(world, `web.${ZONE}`),
    freshLan: bare(freshSeat(world, 'lan').cidr),
    homePrefix,
  };
}

// ---- variation -------------------------------------------------------------------------------------

export const FAULTS = ['resolver', 'forwarder', 'record'] as const;
export type FaultKind = (typeof FAULTS)[number];
/** Which node the learner has to fix, per fault (the answer to "fault_node"). */
export const FAULT_NODE: Record<FaultKind, string> = { resolver: 'alice', forwarder: 'home', record: 'dns' };

/**
 * Addresses where no DNS server answers: free addresses on the lan link, the access link and the
 * backbone. Never the grader's fresh machine's seat on the lan link (192.168.1.254), which is alive
 * while a check runs (the unit test holds this against the lab's world).
 */
export const BAD_RESOLVERS = [
  '192.168.1.10',
  '192.168.1.11',
  '192.168.1.53',
  '203.0.113.53',
  '198.51.100.35',
  '198.51.100.54',
];
/** Wrong upstreams for the forwarder: typos of the dns node's address, all free. */
export const BAD_UPSTREAMS = [
  '198.51.100.35',
  '198.51.100.54',
  '198.51.100.55',
  '198.51.100.153',
  '198.51.100.5',
  '203.0.113.53',
];
/** Names the learner must make resolve (one is missing from the zone in the "record" fault). */
export const RECORD_NAMES = ['files', 'media', 'docs', 'shop', 'status', 'api', 'photos', 'store'];
/** Names for the cache demonstration (always present in the zone). */
export const CACHE_NAMES = ['wiki', 'news', 'chat', 'cdn', 'mail', 'maps', 'music', 'games'];

export type DnsVars = {
  fault: FaultKind;
  /** The address that does not answer ("" for the record fault). */
  badAddress: string;
  /** Full names. */
  mustResolve: string;
  cacheName: string;
  /** TTL of every record in bob.example (also its negative-caching TTL) in this learner's world. */
  ttl: number;
};

const vary = draws<DnsVars>({
  fault: (r) => r.pick(FAULTS),
  badAddress: (r, d) =>
    d.fault === 'resolver' ? r.pick(BAD_RESOLVERS) : d.fault === 'forwarder' ? r.pick(BAD_UPSTREAMS) : '',
  mustResolve: (r) => `${r.pick(RECORD_NAMES)}.${ZONE}`,
  cacheName: (r) => `${r.pick(CACHE_NAMES)}.${ZONE}`,
  ttl: (r) => r.int(6, 30) * 60,
});

function shortName(full: string): string {
  return full.slice(0, -(ZONE.length + 1));
}

/** The lab's world: bob.example gets this learner's TTL, the cache name, and the name to resolve (unless it is the fault). */
export function overlay(world: World, v: DnsVars): World {
  const zone = world.settings.zones.find((z) => z.name === ZONE);
  if (!zone) throw new Error(`lab 03: the world has no ${ZONE} zone`);
  const { bobPublic } = dnsFacts(world);
  zone.ttl = v.ttl;
  zone.records.push({ name: shortName(v.cacheName), type: 'A', value: bobPublic });
  if (v.fault !== 'record') zone.records.push({ name: shortName(v.mustResolve), type: 'A', value: bobPublic });
  return world;
}

/** Restarts the home router's dnsmasq on a wrong upstream (it reads its configuration only at start). */
function wrongForwarder(upstream: string): Fault {
  const conf = FILES.dnsmasqConf;
  const start = startService('home', "the home router's dnsmasq forwards to an address where no DNS server answers", {
    start: `dnsmasq --conf-file=${conf}`,
    port: 53,
  });
  const stop = [
    `sed -i 's/^server=.*/server=${upstream}/' ${conf}`,
    `grep -qx 'server=${upstream}' ${conf}`,
    // The old dnsmasq must be gone first, or the new one finds port 53 taken (and the wait below
    // would see the old one listening).
    'pkill -x dnsmasq || true',
    'for i in $(seq 100); do pgrep -x dnsmasq >/dev/null || break; sleep 0.05; done',
  ];
  return { ...start, script: [...stop, start.script].join('\n') };
}

export function faults(v: DnsVars): Fault[] {
  switch (v.fault) {
    case 'resolver':
      // Same header as the file hurrynet-init writes, so nothing but the address gives it away.
      return [
        writeFile(
          'alice',
          '/etc/resolv.conf',
          `# written by hurrynet for the lab world\nnameserver ${v.badAddress}\n`,
          "Alice's resolver setting names an address where no DNS server answers",
        ),
      ];
    case 'forwarder':
      return [wrongForwarder(v.badAddress)];
    case 'record':
      return []; // the overlay leaves the record out of the zone
  }
}

// ---- the router's cache, from its log (pure, exported for the unit tests) ---------------------------

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A lookup from Alice's network (never the router itself, nor the grader's fresh machine). */
export function isAliceSide(f: DnsFacts, address: string | undefined): boolean {
  return (
    !!address && IPV4.test(address) && contains(f.homePrefix, address) && address !== f.router && address !== f.freshLan
  );
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
export function cacheStory(f: DnsFacts, events: DnsmasqEvent[], name: string, zoneTtl: number): CacheStory {
  const n = name.toLowerCase();
  let lookups = 0;
  let lastQuery: DnsmasqEvent | undefined;
  let inserted: number | undefined;
  const hits: CacheHit[] = [];
  for (const e of events) {
    if (e.name !== n) continue;
    if (e.kind === 'query') {
      lastQuery = e;
      if (e.qtype === 'A' && isAliceSide(f, e.peer)) lookups++;
    } else if (e.kind === 'reply' && IPV4.test(e.value ?? '')) {
      inserted = e.t;
    } else if (
      e.kind === 'cached' &&
      IPV4.test(e.value ?? '') &&
      lastQuery?.qtype === 'A' &&
      isAliceSide(f, lastQuery.peer)
    ) {
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

/** A name under `under` that nobody ever asked for: no cache can hold its answer. */
const freshName = (under: string) => `hn-${nonce()}.${under}`;

/** The home router's NAT rules that touch port 53: what a redirect of DNS would look like. */
async function dnsRedirects(ctx: CheckContext): Promise<Evidence> {
  const e = await (
    await ctx.probe('home')
  ).run(
    `iptables -t nat -S | grep -E -- '--dport (53|domain)\\b|--to-ports? 53\\b' || echo '(no NAT rule for port 53)'`,
    5000,
  );
  return { ...e, command: 'iptables -t nat -S (rules for port 53)' };
}

async function firstNameserver(ctx: CheckContext): Promise<{ ns?: string; evidence: Evidence }> {
  // The probe shares alice's /etc/resolv.conf but reads it with its own clean cat.
  const f = await readFile(await ctx.probe('alice'), '/etc/resolv.conf');
  return { ns: firstNameserverIn(f.text), evidence: f.evidence };
}

/** The dns node's query log lines for one name (any client, any type). */
async function dnsQueries(ctx: CheckContext, name: string): Promise<{ queries: BindQuery[]; evidence: Evidence }> {
  const g = await grepLog(ctx.node('dns'), FILES.bindQueryLog, `query: ${name} IN`);
  const queries = parseQueryLog(g.text).filter((x) => x.name === name.toLowerCase());
  return { queries, evidence: linesAbout(g.evidence, name) };
}

async function routerStory(
  ctx: CheckContext,
  f: DnsFacts,
  name: string,
  ttl: number,
): Promise<{ story: CacheStory; events: DnsmasqEvent[]; evidence: Evidence }> {
  const g = await grepLog(ctx.node('home'), FILES.dnsmasqLog, name);
  const events = parseDnsmasqLog(g.text).filter((e) => e.name === name.toLowerCase());
  return { story: cacheStory(f, events, name, ttl), events, evidence: linesAbout(g.evidence, name) };
}

// ---- checks ------------------------------------------------------------------------------------------

const resolverCheck = (f: DnsFacts): Check => ({
  id: 'resolver',
  title: "Alice's laptop asks the home router for names",
  points: 1,
  deadlineMs: 1500,
  hint: [
    `Alice's laptop, the first step of every lookup: which server does it ask? On this network DHCP hands out the home router (${f.router}) as the resolver.`,
    'On alice: /etc/resolv.conf, whose first "nameserver" line is where every lookup goes; the SERVER: line of dig NAME says who answered (or "no servers could be reached").',
    `On alice: echo 'nameserver ${f.router}' > /etc/resolv.conf, or edit it with nano (sed -i fails on this file: Docker mounts it).`,
  ],
  async run(ctx) {
    const { ns, evidence } = await firstNameserver(ctx);
    if (!ns) return fail("alice's /etc/resolv.conf names no nameserver", evidence);
    if (ns !== f.router) return fail(`alice sends her lookups to ${ns}, not to the home router ${f.router}`, evidence);
    return pass(`alice's first nameserver is the home router ${f.router}`, evidence);
  },
});

const forwarderCheck = (f: DnsFacts): Check => ({
  id: 'forwarder',
  title: `The home router forwards lookups to Bob's DNS server (${f.dnsServer})`,
  points: 1,
  hint: [
    `The home router's resolver: a question it cannot answer from its cache must go on to Bob's DNS server (${f.dnsServer}). Compare what the router answers with what Bob's server answers for the same name.`,
    `On alice: dig @${f.router} web.${ZONE} and dig @${f.dnsServer} web.${ZONE}. On home (npx hurrynet shell home): the server= line of ${FILES.dnsmasqConf}, and the "forwarded ... to" lines at the end of ${FILES.dnsmasqLog}.`,
    `On home: set the line to server=${f.dnsServer} in ${FILES.dnsmasqConf}, then restart dnsmasq, which reads it only at start: pkill dnsmasq; dnsmasq --conf-file=${FILES.dnsmasqConf}. An iptables rule that passes port 53 straight to Bob does not count: the grader looks for its question in the router's log.`,
  ],
  async run(ctx) {
    // A fresh machine on the LAN asks, so nothing set on alice (or in the router's own OUTPUT
    // path) changes the way. A name nobody ever asked for cannot come from a cache: its answer
    // must travel through the router's resolver to the dns node.
    const name = freshName(ZONE);
    const r = await dig(await ctx.fresh('lan'), name, { server: f.router });
    if (r.status !== 'NXDOMAIN') {
      return fail(
        `the home router gave a fresh machine on Alice's LAN no answer for a new name in ${ZONE} (${r.status}): it does not reach Bob's DNS server`,
        digBrief(r.evidence),
      );
    }
    const [atDns, atRouter] = await Promise.all([
      grepLog(ctx.node('dns'), FILES.bindQueryLog, name),
      grepLog(ctx.node('home'), FILES.dnsmasqLog, name),
    ]);
    const reachedDns = parseQueryLog(atDns.text).some((x) => x.client === f.routerPublic);
    const viaResolver = parseDnsmasqLog(atRouter.text).some((e) => e.kind === 'query' && e.peer === f.freshLan);
    const evidence = [digBrief(r.evidence), linesAbout(atRouter.evidence, name), linesAbout(atDns.evidence, name)];
    if (!viaResolver) {
      return fail(
        reachedDns
          ? `the answer came from Bob's DNS server, but the home router's resolver (dnsmasq) never saw the query: the router passes port 53 straight through (a redirect), so it forwards and caches nothing`
          : `an answer came back, but neither the home router's resolver (dnsmasq) nor Bob's DNS server saw the query: something on the home router answers in their place (a redirect)`,
        ...evidence,
        await dnsRedirects(ctx),
      );
    }
    if (!reachedDns)
      return fail(
        `the home router answered, but the dns node never saw the query: it is not forwarding to ${f.dnsServer}`,
        ...evidence,
      );
    return pass(
      `a fresh query from a new machine on Alice's LAN went through the home router's resolver to the dns node (${f.routerPublic} → ${f.dnsServer}) and back`,
      ...evidence,
    );
  },
});

const recordCheck = (v: DnsVars, f: DnsFacts): Check => ({
  id: 'record',
  title: `Bob's DNS server knows ${v.mustResolve}`,
  points: 1,
  hint: [
    `Bob's DNS server, the one that is authoritative for ${ZONE}: does its zone list ${v.mustResolve} with the address on your task card? Ask it directly, not through the router.`,
    `dig @${f.dnsServer} ${v.mustResolve}: NXDOMAIN with the flag aa means the zone itself lacks the name. On dns: the zone file ${ZONE_FILE}, and named-checkzone ${ZONE} ${ZONE_FILE} to check it.`,
    `On dns: add the line "${shortName(v.mustResolve)} IN A ${f.bobPublic}" to ${ZONE_FILE}, raise the serial (the first number of the SOA line), run named-checkzone ${ZONE} ${ZONE_FILE}, and reload with pkill -HUP named.`,
  ],
  async run(ctx) {
    // Asked the way the world asks: at its public address, from a fresh machine on the backbone.
    const { address, result } = await resolveWith(await ctx.fresh('backbone'), v.mustResolve, f.dnsServer);
    if (!address)
      return fail(
        `Bob's DNS server (${f.dnsServer}) has no address for ${v.mustResolve} (${result.status})`,
        digBrief(result.evidence),
      );
    if (!result.answers.some((a) => a.type === 'A' && a.value === f.bobPublic)) {
      return fail(
        `Bob's DNS server answers ${address} for ${v.mustResolve}, not the address on your task card`,
        digBrief(result.evidence),
      );
    }
    return pass(
      `Bob's DNS server (${f.dnsServer}) answers ${f.bobPublic} for ${v.mustResolve}`,
      digBrief(result.evidence),
    );
  },
});

/** Why the router says NXDOMAIN for the name: no such record, or one it remembers from before (negative caching). */
async function nxdomain(ctx: CheckContext, v: DnsVars, f: DnsFacts, result: DigResult): Promise<Verdict> {
  const story = await routerStory(ctx, f, v.mustResolve, v.ttl);
  const last = story.events.at(-1);
  const left = negativeTtl(result.evidence.output);
  const why =
    last?.kind === 'cached' && last.value === 'NXDOMAIN'
      ? `the home router answers NXDOMAIN for ${v.mustResolve} from its cache (negative caching${left ? `, for another ${left} s` : ''})`
      : `the home router answers NXDOMAIN (no such name) for ${v.mustResolve}`;
  return fail(why, digBrief(result.evidence), story.evidence);
}

/**
 * Proof of the path: fresh names sent the same way must show up in the router's own log, from alice
 * (a fake server, relay or redirect on alice would keep hers away) and from the fresh machine (a
 * redirect of port 53 on the router keeps both away). Undefined when both arrived.
 */
async function pathProblem(
  ctx: CheckContext,
  v: DnsVars,
  f: DnsFacts,
  hosts: { alice: Host; lan: Host },
  answer: Evidence,
): Promise<Verdict | undefined> {
  const [fromAlice, fromLan] = [freshName(v.mustResolve), freshName(v.mustResolve)];
  const [sent] = await Promise.all([
    dig(hosts.alice, fromAlice, { server: f.router }),
    dig(hosts.lan, fromLan, { server: f.router }),
  ]);
  const seen = await grepLog(ctx.node('home'), FILES.dnsmasqLog, [fromAlice, fromLan]);
  const queries = parseDnsmasqLog(seen.text).filter((e) => e.kind === 'query');
  const aliceArrived = queries.some((e) => e.name === fromAlice && isAliceSide(f, e.peer));
  const lanArrived = queries.some((e) => e.name === fromLan && e.peer === f.freshLan);
  const evidence = [answer, digBrief(sent.evidence), seen.evidence];
  if (!aliceArrived && !lanArrived) {
    return fail(
      `queries sent to the home router (${f.router}) never reach its resolver, neither alice's nor a fresh machine's on her LAN: something on the home router redirects port 53 elsewhere`,
      ...evidence,
      await dnsRedirects(ctx),
    );
  }
  if (!aliceArrived)
    return fail(
      `an answer came back, but the home router never received alice's query: something on alice intercepts DNS (a local server, a relay, an iptables rule?)`,
      ...evidence,
    );
  return undefined;
}

const aliceResolvesCheck = (v: DnsVars, f: DnsFacts): Check => ({
  id: 'alice-resolves',
  title: `${v.mustResolve} resolves on Alice's laptop through the home router`,
  points: 2,
  hint: [
    `The whole chain for ${v.mustResolve}: alice asks the home router, the router asks Bob's DNS server. The other checks say which link is broken; once it is fixed, the router may still remember the old "no such name" answer.`,
    `On alice: dig ${v.mustResolve} (its status and SERVER lines). A NXDOMAIN from the router while dig @${f.dnsServer} ${v.mustResolve} answers is a remembered answer (negative caching): ${FILES.dnsmasqLog} on home shows it as "cached ... is NXDOMAIN".`,
    `Fix what the other checks point at, then empty the router's cache with pkill -HUP dnsmasq on home (or wait for the negative TTL) and run dig ${v.mustResolve} on alice again. No local DNS server, relay or iptables rule on alice: the grader's own queries must reach the router.`,
  ],
  async run(ctx) {
    const alice = await ctx.probe('alice');
    const { ns, evidence: conf } = await firstNameserver(ctx);
    if (ns !== f.router) return fail(`alice asks ${ns ?? 'nobody'} for names, not the home router`, conf);
    const lan = await ctx.fresh('lan');
    const [{ address, result }, other] = await Promise.all([
      resolveWith(alice, v.mustResolve, f.router),
      resolveWith(lan, v.mustResolve, f.router),
    ]);
    if (result.status === 'NXDOMAIN') return nxdomain(ctx, v, f, result);
    const answer = digBrief(result.evidence);
    if (!address) return fail(`no address for ${v.mustResolve} from the home router (${result.status})`, conf, answer);
    if (address !== f.bobPublic)
      return fail(`${v.mustResolve} resolves to ${address}, not to the address on your task card`, answer);
    // The router must give the same answer to anyone on the LAN: otherwise what alice sees was
    // made (or rewritten) on her own laptop.
    if (other.address !== f.bobPublic) {
      return fail(
        `alice gets ${f.bobPublic} for ${v.mustResolve}, but a fresh machine on Alice's LAN gets ${other.address ?? other.result.status} from the home router: the answer on alice does not come from the router (a local server or relay on alice rewrites it)`,
        answer,
        digBrief(other.result.evidence),
      );
    }
    const problem = await pathProblem(ctx, v, f, { alice, lan }, answer);
    return (
      problem ??
      pass(
        `alice gets ${f.bobPublic} for ${v.mustResolve} from the home router, as a fresh machine on her LAN does, and her queries really arrive there`,
        answer,
      )
    );
  },
});

const cacheCheck = (v: DnsVars, f: DnsFacts): Check => ({
  id: 'cache',
  title: `The home router answered a repeated lookup of ${v.cacheName} from its cache`,
  points: 2,
  hint: [
    `Two lookups of ${v.cacheName} from alice, a few seconds apart, once names resolve: the first goes on to Bob's DNS server, the second should stop at the home router. Nothing may empty the router's cache in between.`,
    `dig ${v.cacheName} on alice shows the TTL and the flags (aa means straight from the zone); ${FILES.dnsmasqLog} on home says "forwarded" or "cached" for each lookup, and ${FILES.bindQueryLog} on dns lists the queries that reached Bob.`,
    `On alice: dig ${v.cacheName}; sleep 3; dig ${v.cacheName} (no pkill -HUP dnsmasq in between). The second answer has no aa and a lower TTL.`,
  ],
  async run(ctx) {
    const [router, dns] = await Promise.all([routerStory(ctx, f, v.cacheName, v.ttl), dnsQueries(ctx, v.cacheName)]);
    const { lookups, hits } = router.story;
    const fromRouter = dns.queries.filter((x) => x.client === f.routerPublic && x.qtype === 'A').length;
    if (lookups === 0)
      return fail(`the home router never got a lookup of ${v.cacheName} from Alice's laptop`, router.evidence);
    if (fromRouter === 0)
      return fail(
        `the dns node never got a query for ${v.cacheName} from the home router, so nothing could be cached`,
        router.evidence,
        dns.evidence,
      );
    if (hits.length === 0)
      return fail(
        `all ${lookups} lookups of ${v.cacheName} from alice were forwarded; none was answered from the cache`,
        router.evidence,
        dns.evidence,
      );
    return pass(
      `the home router answered ${hits.length} of alice's ${lookups} lookups of ${v.cacheName} from its cache; the dns node saw ${fromRouter} quer${fromRouter === 1 ? 'y' : 'ies'} from it`,
      router.evidence,
      dns.evidence,
    );
  },
});

const answerChecks = (v: DnsVars, f: DnsFacts): Check[] => [
  answerCheck({
    id: 'answer-fault-node',
    title: 'answers.yaml: which node had the fault',
    points: 1,
    key: 'fault_node',
    about: 'the node that had the fault in your world',
    hint: [
      "The node where the chain broke: the one whose setting or data you had to change for names to resolve (your own laptop, the home router, or Bob's DNS server).",
      `The checks resolver, forwarder and record: the one that failed before your fix names the node (alice's /etc/resolv.conf, home's ${FILES.dnsmasqConf}, dns's ${ZONE_FILE}).`,
      'In /root/answers.yaml: fault_node: alice, home or dns, one node only, the one you fixed.',
    ],
    async expected() {
      return { value: FAULT_NODE[v.fault], evidence: [] };
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
    about: `the TTL of ${v.cacheName} in Bob's zone`,
    hint: [
      `The first lookup of ${v.cacheName}: its answer comes straight from Bob's DNS server, with the full TTL the zone gives the record.`,
      `dig ${v.cacheName} on alice: the TTL is the number after the name in the ANSWER SECTION; the zone file ${ZONE_FILE} on dns sets it with $TTL.`,
      `Copy the TTL of your first dig ${v.cacheName} (the one with the flag aa) into /root/answers.yaml as ttl_first.`,
    ],
    async expected() {
      return { value: `${v.ttl}`, evidence: [] };
    },
  }),
  answerCheck({
    id: 'answer-ttl-second',
    title: `answers.yaml: the TTL of your second lookup (from the cache)`,
    points: 1,
    key: 'ttl_second',
    about: `the TTL the home router's cache gave your repeated lookup of ${v.cacheName}`,
    hint: [
      `The second lookup, answered by the home router from its cache: the TTL counts down from the first one by the seconds the answer has spent in the cache.`,
      `dig ${v.cacheName} on alice a few seconds after the first: no aa flag, a lower TTL. The router's log ${FILES.dnsmasqLog} shows the "cached" line the grader reads.`,
      `Copy the TTL of the answer from the cache into /root/answers.yaml as ttl_second: lower than ttl_first (one second off is fine).`,
    ],
    async expected(ctx) {
      const { story, evidence } = await routerStory(ctx, f, v.cacheName, v.ttl);
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
    about: `the number of queries for ${v.cacheName} in the dns node's query log`,
    hint: [
      `Bob's DNS server's own record of the questions it got for ${v.cacheName}: a lookup answered from the router's cache never arrives there.`,
      `${FILES.bindQueryLog} on the dns node (npx hurrynet exec dns -- grep ${v.cacheName} ${FILES.bindQueryLog}); queries from ${f.routerPublic} are the ones the router forwarded.`,
      `Count them: npx hurrynet exec dns -- grep -c ${v.cacheName} ${FILES.bindQueryLog}, and write the number in /root/answers.yaml as dns_queries.`,
    ],
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

export function checks(v: DnsVars, world: World): Check[] {
  const f = dnsFacts(world);
  return [
    resolverCheck(f),
    forwarderCheck(f),
    recordCheck(v, f),
    aliceResolvesCheck(v, f),
    cacheCheck(v, f),
    ...answerChecks(v, f),
  ];
}

export default defineLab<DnsVars>({
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
  vary,
  task(v) {
    // The task card gets no world: the address comes from this learner's world, built as the lab builds it.
    const { bobPublic } = dnsFacts(overlay(structuredClone(canonicalWorld), v));
    return { must_resolve: v.mustResolve, expected_address: bobPublic, cache_name: v.cacheName };
  },
  overlay,
  faults,
  checks,
});
