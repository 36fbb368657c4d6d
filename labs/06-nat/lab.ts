// Lab 06: NAT and carrier-grade NAT. Alice's ISP has moved its customers into the shared address
// space 100.64.0.0/10 (RFC 6598) and translates all of them to one public address on the backbone
// (carrier-grade NAT, CGNAT). The lab's world is that new state: the access network and a mobile
// network for a second customer, Carol's phone, carry 100.64 prefixes, and the ISP router SNATs
// both to one public address (all per seed). On top of that the home router has lost its own
// translation (the fault): Alice's datagrams leave with 192.168.1.101 and Bob's replies have no way
// back. The learner puts the home router's NAT back, reads its translation table with conntrack,
// and explains from what Bob's server sees why two customers share one public address.
//
// Graded from places alice cannot fake: requests made by the grader itself from a fresh machine it
// attaches to Alice's LAN (the network claim: the home router translates its LAN) and from clean
// sidecars on alice and on carol, with the source address Bob's access log records for each; the
// home router's connection-tracking entry for each of the grader's connections (read by a clean
// sidecar in its namespace), which shows whether the home router translated it or redirected it to
// a relay; alice's own entry when the home router never saw her connection; the home router's
// ISP-side address, read the same way. Answers are compared with those observations.
import { randomInt } from 'node:crypto';
import {
  accessEntriesWith,
  addressOf,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  nodeOf,
  nonce,
  type Fault,
  type Rng,
  type World,
} from '../kit/index.js';
import { FORGET_FLOWS, interfaceAddress } from '../kit/firewall.js';
import { webPublic } from '../kit/web.js';
import { formatIp, parseCidr, parseIp } from '../../orchestrator/world/addresses.js';
import { natCommands } from '../../orchestrator/world/config.js';
import type { Node } from '../../orchestrator/world/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Hints, type Host } from '../../checks/types.js';
import { q } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

/** RFC 6598's shared address space for carrier-grade NAT. */
export const SHARED_SPACE = '100.64.0.0/10';
/** The second customer and the ISP network she is on (names of at most 12 characters). */
export const CAROL = 'carol';
export const MOBILE_LINK = 'mobile';

/** The user agent of Carol's news app, so that Bob's access log tells her requests apart. */
export const CAROL_AGENT = 'carol-phone news-app/1.0';
const APP_SECONDS = 10;
/** Carol's news app (files/carol/...), started by a fault with the agent and the interval. */
export const NEWS_APP = '/usr/local/bin/news-app';

// ---- variation --------------------------------------------------------------------------------

export type NatVars = {
  accessPrefix: string;
  ispAccess: string;
  homeAddress: string;
  mobilePrefix: string;
  ispMobile: string;
  carolAddress: string;
  publicAddress: string;
};

/** Backbone addresses nobody in a world uses: candidates for the CGNAT's public address. */
export function freeBackboneAddresses(world: World): string[] {
  const used = new Set(world.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare))));
  const backbone = world.links.find((l) => l.name === 'backbone');
  if (!backbone) throw new Error('lab 06: the world lacks the backbone link');
  const { address, length } = parseCidr(backbone.prefix);
  const first = parseIp(address);
  const out: string[] = [];
  for (let x = first + 1; x < first + 2 ** (32 - length) - 1; x++) if (!used.has(formatIp(x))) out.push(formatIp(x));
  return out;
}

/** A /24 inside the shared address space. */
const sharedPrefix = (rng: Rng) => `100.${rng.int(64, 127)}.${rng.int(0, 255)}.0/24`;
/** Host number `host` of a /24 drawn above (its first three octets). */
const hostIn = (prefix: string | undefined, host: number) =>
  `${bare(prefix ?? '')
    .split('.')
    .slice(0, 3)
    .join('.')}.${host}`;

// The ISP's routers take .1 of each prefix; the customers a host of their own. The public address
// is drawn from the world the overlay starts from.
const vary = draws<NatVars>({
  accessPrefix: (r) => sharedPrefix(r),
  ispAccess: (_r, d) => hostIn(d.accessPrefix, 1),
  homeAddress: (r, d) => hostIn(d.accessPrefix, r.int(2, 254)),
  mobilePrefix: (r, d) => {
    let mobile = sharedPrefix(r);
    while (mobile === d.accessPrefix) mobile = sharedPrefix(r);
    return mobile;
  },
  ispMobile: (_r, d) => hostIn(d.mobilePrefix, 1),
  carolAddress: (r, d) => hostIn(d.mobilePrefix, r.int(2, 254)),
  publicAddress: (r) => r.pick(freeBackboneAddresses(canonicalWorld)),
});

// ---- the lab's world: CGNAT at the ISP --------------------------------------------------------

function overlay(world: World, v: NatVars): World {
  const access = world.links.find((l) => l.name === 'access');
  const backbone = world.links.find((l) => l.name === 'backbone');
  const home = nodeOf(world, 'home');
  const isp = nodeOf(world, 'isp');
  if (!access || !backbone) throw new Error('lab 06 needs the access and backbone links');
  const oldIspAccess = addressOf(world, 'isp', 'access');
  const len = (prefix: string) => parseCidr(prefix).length;
  access.prefix = v.accessPrefix;
  access.title = "The ISP's access network (shared address space, behind the ISP's carrier-grade NAT)";
  world.links.splice(world.links.indexOf(access) + 1, 0, {
    name: MOBILE_LINK,
    title: "The ISP's mobile network (shared address space, behind the same carrier-grade NAT)",
    prefix: v.mobilePrefix,
  });
  for (const i of home.interfaces) if (i.link === 'access') i.addresses = [`${v.homeAddress}/${len(access.prefix)}`];
  home.routes = home.routes.map((r) => (r.to === 'default' ? { ...r, via: v.ispAccess } : r));
  isp.title = 'ISP router (routes by prefix; carrier-grade NAT for its customers)';
  for (const i of isp.interfaces) {
    if (i.link === 'access') i.addresses = [`${v.ispAccess}/${len(access.prefix)}`];
    if (i.link === 'backbone') i.addresses = [...i.addresses, `${v.publicAddress}/${len(backbone.prefix)}`];
  }
  isp.interfaces.push({ link: MOBILE_LINK, addresses: [`${v.ispMobile}/${len(v.mobilePrefix)}`] });
  isp.nat = [{ kind: 'snat', privateAddress: SHARED_SPACE, publicAddress: v.publicAddress, outLink: 'backbone' }];
  const carol: Node = {
    name: CAROL,
    title: "Carol's phone (another customer of Alice's ISP)",
    role: 'alice',
    interfaces: [{ link: MOBILE_LINK, addresses: [`${v.carolAddress}/${len(v.mobilePrefix)}`] }],
    routes: [{ to: 'default', via: v.ispMobile }],
    nameserver: addressOf(world, 'dns', 'backbone'),
    router: false,
    services: [],
    memoryMb: 128,
  };
  world.nodes.splice(world.nodes.findIndex((n) => n.name === 'alice') + 1, 0, carol);
  // The ISP's own names follow its router to the new access network.
  for (const z of world.settings.zones) {
    for (const r of z.records) if (r.type === 'A' && r.value === oldIspAccess) r.value = v.ispAccess;
  }
  return world;
}

function faults(_v: NatVars, world: World): Fault[] {
  // The world's own masquerade on the home router, deleted rule by rule.
  const masquerade = natCommands((nodeOf(world, 'home').nat ?? []).filter((r) => r.kind === 'masquerade')).map((c) =>
    c.replace(' -A ', ' -D '),
  );
  return [
    {
      node: 'home',
      description: "the home router's address translation is gone",
      script: [...masquerade, FORGET_FLOWS].join('\n'),
    },
    {
      node: CAROL,
      description: "Carol's phone: its prompt, and a news app that reads Bob's notes every few seconds",
      script: [
        "sed -i 's/alice/carol/g; s/Alice.s laptop/Carol'\\''s phone/' /root/.bashrc",
        `chmod +x ${NEWS_APP}`,
        `setsid nohup ${NEWS_APP} ${q(CAROL_AGENT)} ${APP_SECONDS} >/dev/null 2>&1 < /dev/null &`,
      ].join('\n'),
    },
  ];
}

/** What the checks know of the lab's world: Bob's address, the home router's two sides, the CGNAT's address. */
function facts(world: World) {
  const cgnat = nodeOf(world, 'isp').nat?.find((r) => r.kind === 'snat');
  if (cgnat?.kind !== 'snat') throw new Error("lab 06: the ISP router of the lab's world has no carrier-grade NAT");
  return {
    bob: webPublic(world),
    homeLan: addressOf(world, 'home', 'lan'),
    /** The home router's own address on the ISP side, what it translates to. */
    homeAddress: addressOf(world, 'home', 'access'),
    publicAddress: cgnat.publicAddress,
  };
}
type Facts = ReturnType<typeof facts>;

// ---- observations -----------------------------------------------------------------------------

export interface Arrival {
  /** The source address Bob's server recorded for the grader's request, if it arrived. */
  client?: string;
  status: number;
  /** The local port the grader's curl used (to find its connection-tracking entry). */
  port: number;
  /** The local address it used: with the port, it names the connection in a router's table. */
  local?: string;
  evidence: Evidence[];
}

/** A request the grader makes itself with a clean curl, and what Bob's access log says of it. */
async function arrival(ctx: CheckContext, f: Facts, host: Host): Promise<Arrival> {
  const token = nonce();
  const port = randomInt(40000, 49000);
  const url = `http://${f.bob}/whoami?check=${token}`;
  const e = await host.run(
    `curl -sS -m 3 --local-port ${port}-${port + 20} -o /dev/null -w '%{http_code} from %{local_ip} port %{local_port}' ${q(url)}`,
    8000,
  );
  const status = e.exitCode === 0 ? Number(e.output.trim().split(' ')[0]) : 0;
  // curl prints the write-out even when the connection fails, so the port it used is known either way.
  const from = /from (\S*) port (\d+)/.exec(e.output);
  const used = Number(from?.[2] ?? 0) || port;
  const log = await accessEntriesWith(ctx.node('web'), token);
  return {
    client: log.entries[0]?.client || undefined,
    status,
    port: used,
    local: from?.[1] || undefined,
    evidence: [e, log.evidence],
  };
}

export interface Flow {
  origSrc: string;
  origDst: string;
  origSport: number;
  origDport: number;
  replySrc: string;
  replyDst: string;
  replySport: number;
  replyDport: number;
}

/** Parses `conntrack -L` lines into original and reply tuples. */
export function parseConntrack(output: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of output.split('\n')) {
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1] as string);
    const dst = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1] as string);
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
    const dport = [...line.matchAll(/\bdport=(\d+)/g)].map((m) => Number(m[1]));
    if (src.length < 2 || dst.length < 2 || sport.length < 2 || dport.length < 2) continue;
    flows.push({
      origSrc: src[0] as string,
      origDst: dst[0] as string,
      origSport: sport[0] as number,
      origDport: dport[0] as number,
      replySrc: src[1] as string,
      replyDst: dst[1] as string,
      replySport: sport[1] as number,
      replyDport: dport[1] as number,
    });
  }
  return flows;
}

/** What became of one connection to Bob (his public address, port 80), judged from one router's table. */
export type Outcome =
  /** No entry: the connection never passed this router. */
  | { kind: 'missing' }
  /** It arrived addressed to somewhere else than Bob: the sender itself redirected it. */
  | { kind: 'elsewhere'; to: string }
  /** The router rewrote its destination (REDIRECT or DNAT): replies come from a relay. */
  | { kind: 'redirected'; to: string }
  /** Forwarded with its private source address. */
  | { kind: 'untranslated'; from: string }
  /** Forwarded with a new source address (and port). */
  | { kind: 'translated'; from: string; to: string };

/** Reads one connection-tracking entry of a connection to `bob`: untranslated, translated, or sent to a relay. */
export function outcomeOf(flow: Flow | undefined, bob: string): Outcome {
  if (!flow) return { kind: 'missing' };
  if (flow.origDst !== bob || flow.origDport !== 80)
    return { kind: 'elsewhere', to: `${flow.origDst}:${flow.origDport}` };
  // The reply tuple names who really answers: anything but Bob's own address and port is a relay.
  if (flow.replySrc !== flow.origDst || flow.replySport !== flow.origDport)
    return { kind: 'redirected', to: `${flow.replySrc}:${flow.replySport}` };
  const from = `${flow.origSrc}:${flow.origSport}`;
  if (flow.replyDst === flow.origSrc) return { kind: 'untranslated', from };
  return { kind: 'translated', from, to: `${flow.replyDst}:${flow.replyDport}` };
}

/** The home router's own addresses, as a relay on it would answer from. */
function onHome(endpoint: string, f: Facts): boolean {
  const address = endpoint.split(':')[0];
  return address === f.homeLan || address === f.homeAddress || address?.startsWith('127.') === true;
}

/** One connection the grader made itself to Bob, followed through the home router (and the sender). */
interface Passage {
  arrival: Arrival;
  outcome: Outcome;
  /** Set when the sender's own table shows the connection sent to a relay on the sender. */
  senderRelay?: string;
  evidence: Evidence[];
}

/**
 * The table entry of the grader's own connection. Source address and port together: a port alone
 * can also be the source port of a relay's own connection (a relay on the home router talks to
 * Bob from the router's address), which would pass for a connection forwarded as it should be.
 */
export function flowOf(flows: Flow[], a: Pick<Arrival, 'port' | 'local'>, bob: string): Flow | undefined {
  const mine = flows.filter((f) => f.origSport === a.port && (!a.local || f.origSrc === a.local));
  return mine.find((f) => f.origDst === bob) ?? mine[0];
}

async function entryFor(
  host: Host,
  a: Pick<Arrival, 'port' | 'local'>,
  bob: string,
): Promise<{ flow?: Flow; evidence: Evidence }> {
  const e = await host.run(`conntrack -L -p tcp --orig-port-src ${a.port} 2>/dev/null`, 5000);
  return { flow: flowOf(parseConntrack(e.output), a, bob), evidence: e };
}

/** The grader's own request from `from` (a fresh machine on the LAN, or a sidecar on alice), and its fate. */
async function passage(ctx: CheckContext, f: Facts, from: 'fresh' | 'alice'): Promise<Passage> {
  const sender = from === 'fresh' ? await ctx.fresh('lan') : await ctx.probe('alice');
  const a = await arrival(ctx, f, sender);
  const home = await entryFor(await ctx.probe('home'), a, f.bob);
  const outcome = outcomeOf(home.flow, f.bob);
  const evidence = [a.evidence[0] as Evidence, home.evidence];
  if (from === 'fresh' || (outcome.kind !== 'missing' && outcome.kind !== 'elsewhere'))
    return { arrival: a, outcome, evidence };
  // The home router never saw it as a connection to Bob: did alice's own namespace send it elsewhere?
  const own = await entryFor(sender, a, f.bob);
  const mine = outcomeOf(own.flow, f.bob);
  return {
    arrival: a,
    outcome,
    senderRelay: mine.kind === 'redirected' ? mine.to : undefined,
    evidence: [...evidence, own.evidence],
  };
}

/** Why a connection was not translated as it should be, in the learner's terms (undefined: it was). */
function natProblem(p: Passage, subject: string, f: Facts): string | undefined {
  const o = p.outcome;
  const bob = `${f.bob}:80`;
  switch (o.kind) {
    case 'missing':
      return `the home router has no connection-tracking entry for ${subject} (port ${p.arrival.port}): it never passed the home router`;
    case 'elsewhere':
      return `${subject} reached the home router addressed to ${o.to}, not to Bob (${bob}): the machine that sent it redirected it`;
    case 'redirected':
      return `the home router redirects ${subject} to Bob (${bob}) to a relay ${onHome(o.to, f) ? `on the home router (${o.to})` : `at ${o.to}`} instead of translating and forwarding it: Bob hears from the relay`;
    case 'untranslated':
      return `the home router forwarded ${o.from} -> ${bob} untranslated: Bob's replies would go to the private address ${o.from.split(':')[0]}, which no router outside Alice's home can reach`;
    case 'translated':
      if (o.to.split(':')[0] !== f.homeAddress)
        return `the home router translated ${o.from} to ${o.to}, which is not its own ISP-side address ${f.homeAddress}: replies cannot come back`;
      if (p.arrival.status !== 200)
        return `the home router translated ${o.from} to ${o.to}, but the request still got ${p.arrival.status || 'no answer'}`;
      return undefined;
  }
}

// ---- checks -----------------------------------------------------------------------------------

const homeNatCheck = (f: Facts): Check => ({
  id: 'home-nat',
  title: "The home router translates connections from Alice's home network to its own ISP-side address",
  points: 3,
  deadlineMs: 6000,
  hint: [
    "The home router's side towards the ISP: which source address do the datagrams from Alice's LAN carry when they leave it? A private address there gets no replies. The grader connects from a fresh machine of its own on her LAN, so the translation must cover every machine there.",
    `On home (npx hurrynet shell home): tcpdump -ni access tcp port 80 while alice runs curl shows the source that leaves; iptables -t nat -S POSTROUTING lists the translations; conntrack -L -p tcp --dport 80 shows each connection in both directions (the reply's dst= is where Bob's answers go).`,
    `On home: iptables -t nat -A POSTROUTING -o access -j MASQUERADE (or -j SNAT --to-source <its own address on access>), then a new curl from alice: a connection that began before keeps its old entry (conntrack -F forgets them all). A REDIRECT or DNAT to a relay does not count.`,
  ],
  async run(ctx) {
    // A claim about the network: judged from the grader's own machine on the LAN, which nothing
    // set on alice can steer.
    const p = await passage(ctx, f, 'fresh');
    const problem = natProblem(p, "a new connection from a fresh machine on Alice's LAN", f);
    if (problem) return fail(problem, ...p.evidence);
    const o = p.outcome as Extract<Outcome, { kind: 'translated' }>;
    return pass(
      `home translated a fresh machine's connection ${o.from} to ${o.to}, and Bob answered 200`,
      ...p.evidence,
    );
  },
});

/** Where Bob's server saw one customer's request arrive from, compared with the CGNAT's address. */
function arrivedFromCgnat(who: string, a: Arrival, f: Facts, evidence: Evidence[]) {
  if (!a.client)
    return fail(
      `the grader's request from ${who} never reached Bob's server, or its reply never came back (curl: ${a.status || 'no answer'})`,
      ...evidence,
    );
  if (a.client !== f.publicAddress)
    return fail(
      `Bob's server saw ${who}'s request arrive from ${a.client}, not from the ISP's public address ${f.publicAddress}`,
      ...evidence,
    );
  return pass(`Bob's server saw ${who}'s request arrive from ${a.client}`, ...evidence);
}

const aliceWebCheck = (f: Facts): Check => ({
  id: 'alice-web',
  title: "Bob's server receives Alice's request from the public address of the ISP's carrier-grade NAT",
  points: 2,
  deadlineMs: 6000,
  hint: [
    "Where Bob's server sees Alice's request come from once her home router translates again: the ISP translates it a second time, to the one public address it gives all its customers, not the home router's own.",
    'curl http://web.bob.example/whoami on alice (clientAddress is the source Bob sees); on isp, iptables -t nat -S and conntrack -L -p tcp --dport 80 show the second translation; on alice and home, iptables -t nat -S shows any redirect.',
    "Fix the home router's translation (see the first check) and nothing more: delete any REDIRECT, DNAT or relay you added on alice or on home (iptables -t nat -D ..., and stop the relay). Bob must hear from Alice's own connection.",
  ],
  async run(ctx) {
    const p = await passage(ctx, f, 'alice');
    const a = p.arrival;
    const evidence = [...p.evidence, ...a.evidence.slice(1)];
    // Only relays matter here; an untranslated connection that still arrives is home-nat's business.
    if (p.senderRelay || p.outcome.kind === 'elsewhere' || p.outcome.kind === 'redirected') {
      const relay =
        p.senderRelay ?? (p.outcome.kind === 'redirected' || p.outcome.kind === 'elsewhere' ? p.outcome.to : '');
      const where = p.outcome.kind === 'redirected' ? 'by the home router' : 'on alice';
      return fail(
        `the grader's connection from alice to ${f.bob}:80 was redirected ${where} to a relay (${relay})${a.client ? `: Bob's server saw the relay's request from ${a.client}, not alice's` : ''}`,
        ...evidence,
      );
    }
    return arrivedFromCgnat('alice', a, f, evidence);
  },
});

const carolWebCheck = (f: Facts): Check => ({
  id: 'carol-web',
  title: "Bob's server receives Carol's request from that same public address",
  points: 1,
  deadlineMs: 6000,
  hint: [
    "Carol's phone, the ISP's other customer: it worked when the lab started, and reaches Bob only through the ISP router and its carrier-grade NAT. What changed on that way?",
    `Bob's access log: npx hurrynet exec web -- tail ${FILES.webAccessLog}; her news app signs its requests "${CAROL_AGENT}". On isp: iptables -t nat -S and ip route.`,
    `Undo what you changed on the ISP router: its SNAT rule for ${SHARED_SPACE} out of the backbone (iptables -t nat -S on isp) must stay as the lab started it. Or start over with npx hurrynet lab 6 --reset.`,
  ],
  async run(ctx) {
    const a = await arrival(ctx, f, await ctx.probe(CAROL));
    return arrivedFromCgnat('carol', a, f, a.evidence);
  },
});

/** An address answer, compared with what the grader observes now (a prefix length given with it is ignored). */
const addressAnswer = (spec: {
  id: string;
  title: string;
  key: string;
  about: string;
  hint: Hints;
  observe(ctx: CheckContext): Promise<{ value?: string; evidence: Evidence[] }>;
}): Check =>
  answerCheck({ ...spec, points: 1, expected: spec.observe, matches: (given, want) => bare(given.trim()) === want });

/** The source address Bob's server records for the grader's own request from a node. */
const seenFrom = (f: Facts, node: string) => async (ctx: CheckContext) => {
  const a = await arrival(ctx, f, await ctx.probe(node));
  return { value: a.client, evidence: a.evidence };
};

function checks(_v: NatVars, world: World): Check[] {
  const f = facts(world);
  return [
    homeNatCheck(f),
    aliceWebCheck(f),
    carolWebCheck(f),
    addressAnswer({
      id: 'answer-alice-public',
      title: "answers.yaml: the address Bob's server sees for Alice",
      key: 'alice_public',
      about: "the address Bob's server records for a request from alice",
      hint: [
        "What Bob's server sees as the source of Alice's requests, after every translation on the way, once the home router translates again.",
        'curl http://web.bob.example/whoami on alice: clientAddress is the source Bob recorded.',
        'In /root/answers.yaml, alice_public is that clientAddress, the address alone.',
      ],
      observe: seenFrom(f, 'alice'),
    }),
    addressAnswer({
      id: 'answer-carol-public',
      title: "answers.yaml: the address Bob's server sees for Carol",
      key: 'carol_public',
      about: "the address Bob's server records for a request from Carol's phone",
      hint: [
        "Bob's server's record of Carol's news app: which source address do her requests carry? Compare it with Alice's.",
        `npx hurrynet exec web -- tail ${FILES.webAccessLog}: the lines with the user agent "${CAROL_AGENT}", and their client field.`,
        'In /root/answers.yaml, carol_public is the client address of those lines, the address alone.',
      ],
      observe: seenFrom(f, CAROL),
    }),
    addressAnswer({
      id: 'answer-home-side',
      title: "answers.yaml: the address of Alice's home router on its ISP side",
      key: 'home_isp_side',
      about: "the home router's own address on its ISP (access) side",
      hint: [
        'The home router itself, on the side that faces the ISP: its own address there, the one it translates to. Bob never sees it: the ISP translates it once more.',
        'ip -br addr show dev access on home (npx hurrynet shell home).',
        'In /root/answers.yaml, home_isp_side is that address without the prefix length (no /24).',
      ],
      async observe(ctx) {
        // Read by a clean sidecar in the home router's namespace.
        const r = await interfaceAddress(await ctx.probe('home'), 'access');
        return { value: r.address, evidence: [r.evidence] };
      },
    }),
  ];
}

export default defineLab<NatVars>({
  number: 6,
  slug: 'nat',
  title: 'NAT and carrier-grade NAT',
  topics: [
    'NAT',
    'masquerade',
    'connection tracking',
    'private addresses',
    'CGNAT',
    'shared address space 100.64.0.0/10',
  ],
  minutes: 30,
  goal: "Put the home router's address translation back, watch it in the connection-tracking table, and find out from what Bob's server sees why Alice and Carol, two customers of the same ISP, share one public address.",
  submissionNodes: ['alice', CAROL, 'home'],
  questions: [
    { key: 'alice_public', prompt: "The source address Bob's server sees for Alice's requests" },
    { key: 'carol_public', prompt: "The source address Bob's server sees for Carol's requests" },
    { key: 'home_isp_side', prompt: "The address of Alice's home router on its ISP (access) side" },
  ],
  vary,
  task(v) {
    // Only what every learner shares (the card must not give this learner's addresses away), read
    // from this learner's world all the same.
    const world = overlay(structuredClone(canonicalWorld), v);
    return {
      bob: `http://web.bob.example/whoami (Bob's server, ${webPublic(world)})`,
      alice: `this laptop, ${addressOf(world, 'alice')}, behind the home router ${addressOf(world, 'home', 'lan')}`,
      carol: `Carol's phone, another customer of your ISP; its news app calls Bob every ${APP_SECONDS} s`,
      bob_log: `npx hurrynet exec web -- tail ${FILES.webAccessLog}`,
      routers: 'home, isp (npx hurrynet shell <router>; conntrack -L shows translations)',
      answers: '/root/answers.yaml with alice_public, carol_public, home_isp_side',
    };
  },
  overlay,
  faults,
  checks,
});
