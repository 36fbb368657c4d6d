// Lab 06: NAT and carrier-grade NAT. Alice's ISP has moved its customers into the shared address
// space 100.64.0.0/10 (RFC 6598) and translates all of them to one public address on the backbone
// (carrier-grade NAT, CGNAT). The lab's world is that new state: the access network and a mobile
// network for a second customer, Carol's phone, carry 100.64 prefixes, and the ISP router SNATs
// both to one public address (all per seed). On top of that the home router has lost its own
// translation (the fault): Alice's datagrams leave with 192.168.1.101 and Bob's replies have no way
// back. The learner puts the home router's NAT back, reads its translation table with conntrack,
// and explains from what Bob's server sees why two customers share one public address.
//
// Graded from places alice cannot fake: requests made by the grader itself from clean sidecars on
// alice and on carol, with the source address Bob's access log records for each; the home
// router's connection-tracking entry for the grader's own connection (read by a clean sidecar in
// its namespace), which shows whether the home router translated it; the home router's ISP-side
// address, read the same way. Answers are compared with those observations.
import { randomBytes, randomInt } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { formatIp, parseCidr, parseIp } from '../../orchestrator/addresses.js';
import { canonicalWorld, findNode, type Node, type World } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { q, readFile } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;

function addressOn(world: World, node: string, link: string): string {
  const a = findNode(world, node)?.interfaces.find((i) => i.link === link)?.addresses[0];
  if (!a) throw new Error(`lab 06: the world has no address for ${node} on ${link}`);
  return bare(a);
}

/** Alice's laptop on her home network. */
export const ALICE = addressOn(canonicalWorld, 'alice', 'home');
/** The home router on Alice's home network. */
export const HOME_LAN = addressOn(canonicalWorld, 'home', 'home');
const bobRecord = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!bobRecord) throw new Error('lab 06: the world has no web.bob.example');
/** Bob's public address (web.bob.example). */
export const BOB_PUBLIC = bobRecord.value;
/** The ISP router on the backbone (its first address there stays). */
export const ISP_BACKBONE = addressOn(canonicalWorld, 'isp', 'backbone');
const DNS_SERVER = addressOn(canonicalWorld, 'dns', 'backbone');
const BACKBONE_PREFIX = canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix ?? '';
const OLD_ISP_ACCESS = addressOn(canonicalWorld, 'isp', 'access');
if (!BACKBONE_PREFIX) throw new Error('lab 06: the world lacks the backbone link');

/** RFC 6598's shared address space for carrier-grade NAT. */
export const SHARED_SPACE = '100.64.0.0/10';
/** The second customer and the ISP network she is on (names of at most 12 characters). */
export const CAROL = 'carol';
export const MOBILE_LINK = 'mobile';

const ACCESS_LOG = '/var/log/web/access.log';
/** The user agent of Carol's news app, so that Bob's access log tells her requests apart. */
export const CAROL_AGENT = 'carol-phone news-app/1.0';
const APP_SECONDS = 10;

// ---- variation --------------------------------------------------------------------------------

/** Backbone addresses nobody in the canonical world uses: candidates for the CGNAT's public address. */
export function freeBackboneAddresses(): string[] {
  const used = new Set(canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare))));
  const { address, length } = parseCidr(BACKBONE_PREFIX);
  const first = parseIp(address);
  const out: string[] = [];
  for (let x = first + 1; x < first + 2 ** (32 - length) - 1; x++) if (!used.has(formatIp(x))) out.push(formatIp(x));
  return out;
}

/** A /24 inside the shared address space. */
function sharedNet(rng: Rng): string {
  return `100.${rng.int(64, 127)}.${rng.int(0, 255)}`;
}

function vary(rng: Rng): Vars {
  const access = sharedNet(rng);
  let mobile = sharedNet(rng);
  while (mobile === access) mobile = sharedNet(rng);
  const homeHost = rng.int(2, 254);
  const carolHost = rng.int(2, 254);
  const publicAddress = rng.pick(freeBackboneAddresses());
  return {
    accessPrefix: `${access}.0/24`,
    ispAccess: `${access}.1`,
    homeAddress: `${access}.${homeHost}`,
    mobilePrefix: `${mobile}.0/24`,
    ispMobile: `${mobile}.1`,
    carolAddress: `${mobile}.${carolHost}`,
    publicAddress,
  };
}

// ---- the lab's world: CGNAT at the ISP --------------------------------------------------------

function overlay(world: World, v: Vars): World {
  const access = world.links.find((l) => l.name === 'access');
  const backbone = world.links.find((l) => l.name === 'backbone');
  const home = findNode(world, 'home');
  const isp = findNode(world, 'isp');
  if (!access || !backbone || !home || !isp) throw new Error('lab 06 needs the access and backbone links and the home and isp nodes');
  const len = (prefix: string) => parseCidr(prefix).length;
  access.prefix = String(v.accessPrefix);
  access.title = "The ISP's access network (shared address space, behind the ISP's carrier-grade NAT)";
  world.links.splice(world.links.indexOf(access) + 1, 0, {
    name: MOBILE_LINK,
    title: "The ISP's mobile network (shared address space, behind the same carrier-grade NAT)",
    prefix: String(v.mobilePrefix),
  });
  for (const i of home.interfaces) if (i.link === 'access') i.addresses = [`${String(v.homeAddress)}/${len(access.prefix)}`];
  home.routes = home.routes.map((r) => (r.to === 'default' ? { ...r, via: String(v.ispAccess) } : r));
  isp.title = "ISP router (routes by prefix; carrier-grade NAT for its customers)";
  for (const i of isp.interfaces) {
    if (i.link === 'access') i.addresses = [`${String(v.ispAccess)}/${len(access.prefix)}`];
    if (i.link === 'backbone') i.addresses = [...i.addresses, `${String(v.publicAddress)}/${len(backbone.prefix)}`];
  }
  isp.interfaces.push({ link: MOBILE_LINK, addresses: [`${String(v.ispMobile)}/${len(String(v.mobilePrefix))}`] });
  isp.nat = [{ kind: 'snat', privateAddress: SHARED_SPACE, publicAddress: String(v.publicAddress), outLink: 'backbone' }];
  const carol: Node = {
    name: CAROL,
    title: "Carol's phone (another customer of Alice's ISP)",
    role: 'alice',
    interfaces: [{ link: MOBILE_LINK, addresses: [`${String(v.carolAddress)}/${len(String(v.mobilePrefix))}`] }],
    routes: [{ to: 'default', via: String(v.ispMobile) }],
    nameserver: DNS_SERVER,
    router: false,
    services: [],
    memoryMb: 128,
  };
  world.nodes.splice(world.nodes.findIndex((n) => n.name === 'alice') + 1, 0, carol);
  // The ISP's own names follow its router to the new access network.
  for (const z of world.settings.zones) {
    for (const r of z.records) if (r.type === 'A' && r.value === OLD_ISP_ACCESS) r.value = String(v.ispAccess);
  }
  return world;
}

function faults(): Fault[] {
  return [
    {
      node: 'home',
      description: "the home router's address translation is gone",
      script: 'iptables -t nat -D POSTROUTING -o access -j MASQUERADE\nconntrack -F >/dev/null 2>&1 || true',
    },
    {
      node: CAROL,
      description: "Carol's phone: its prompt, and a news app that reads Bob's notes every few seconds",
      script: [
        "sed -i 's/alice/carol/g; s/Alice.s laptop/Carol'\\''s phone/' /root/.bashrc",
        `cat > /usr/local/bin/news-app <<'EOF'`,
        '#!/bin/bash',
        "# Carol's news app: fetches Bob's notes now and then, as phones do in the background.",
        `while :; do curl -s -m 3 -A '${CAROL_AGENT}' -o /dev/null http://web.bob.example/api/notes; sleep ${APP_SECONDS}; done`,
        'EOF',
        'chmod +x /usr/local/bin/news-app',
        'setsid nohup /usr/local/bin/news-app >/dev/null 2>&1 < /dev/null &',
      ].join('\n'),
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

interface Arrival {
  /** The source address Bob's server recorded for the grader's request, if it arrived. */
  client?: string;
  status: number;
  /** The local port the grader's curl used (to find its connection-tracking entry). */
  port: number;
  evidence: Evidence[];
}

/** A request the grader makes itself from a clean sidecar, and what Bob's access log says of it. */
async function arrival(ctx: CheckContext, node: string): Promise<Arrival> {
  const probe = await ctx.probe(node);
  const token = randomBytes(4).toString('hex');
  const port = randomInt(40000, 49000);
  const url = `http://${BOB_PUBLIC}/whoami?check=${token}`;
  const e = await probe.run(`curl -sS -m 3 --local-port ${port}-${port + 20} -o /dev/null -w '%{http_code} from port %{local_port}' ${q(url)}`, 8000);
  const status = e.exitCode === 0 ? Number(e.output.trim().split(' ')[0]) : 0;
  // curl prints the write-out even when the connection fails, so the port it used is known either way.
  const used = Number(/from port (\d+)/.exec(e.output)?.[1] ?? 0) || port;
  const log = await readFile(ctx.node('web'), ACCESS_LOG);
  const line = log.text.split('\n').find((l) => l.includes(token));
  let client: string | undefined;
  try {
    client = line ? String((JSON.parse(line) as { client?: string }).client ?? '') || undefined : undefined;
  } catch {
    client = undefined;
  }
  const logEvidence: Evidence = { ...log.evidence, command: `grep ${token} ${ACCESS_LOG}`, output: line ?? '(no line for this request)' };
  return { client, status, port: used, evidence: [e, logEvidence] };
}

/** The home router's own address on the ISP side, read by a clean sidecar in its namespace. */
async function homeIspSide(ctx: CheckContext): Promise<{ address?: string; evidence: Evidence }> {
  const probe = await ctx.probe('home');
  const e = await probe.run('ip -4 -br addr show dev access', 5000);
  const m = /\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/.exec(e.output);
  return { address: e.exitCode === 0 ? m?.[1] : undefined, evidence: e };
}

export interface Flow {
  origSrc: string;
  origDst: string;
  origSport: number;
  replySrc: string;
  replyDst: string;
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
    flows.push({ origSrc: src[0] as string, origDst: dst[0] as string, origSport: sport[0] as number, replySrc: src[1] as string, replyDst: dst[1] as string, replyDport: dport[1] as number });
  }
  return flows;
}

// ---- checks -----------------------------------------------------------------------------------

function checks(v: Vars): Check[] {
  const publicAddress = String(v.publicAddress);
  const homeAddress = String(v.homeAddress);
  return [
    {
      id: 'home-nat',
      title: "The home router translates Alice's connections to its own ISP-side address",
      points: 3,
      deadlineMs: 6000,
      hint: `On the home router (npx hurrynet shell home), translate what leaves through the access interface: iptables -t nat -A POSTROUTING -o access -j MASQUERADE (or -j SNAT --to-source <its own address on access>). Then make a new connection from alice and look at "conntrack -L" on home.`,
      async run(ctx) {
        const a = await arrival(ctx, 'alice');
        const probe = await ctx.probe('home');
        const e = await probe.run(`conntrack -L -p tcp --orig-port-src ${a.port} --orig-port-dst 80 2>/dev/null`, 5000);
        const flow = parseConntrack(e.output).find((f) => f.origSport === a.port && f.origDst === BOB_PUBLIC);
        const evidence = [a.evidence[0] as Evidence, e];
        if (!flow) return fail(`the home router has no connection-tracking entry for the grader's connection from alice (port ${a.port}): it never passed the home router`, ...evidence);
        if (flow.replyDst === flow.origSrc) {
          return fail(`the home router forwarded ${flow.origSrc}:${flow.origSport} -> ${BOB_PUBLIC}:80 untranslated: Bob's replies would go to the private address ${flow.origSrc}, which no router outside Alice's home can reach`, ...evidence);
        }
        if (flow.replyDst !== homeAddress) return fail(`the home router translated ${flow.origSrc} to ${flow.replyDst}, which is not its own ISP-side address ${homeAddress}: replies cannot come back`, ...evidence);
        if (a.status !== 200) return fail(`the home router translated ${flow.origSrc} to ${homeAddress}, but the request still got ${a.status || 'no answer'}`, ...evidence);
        return pass(`home translated ${flow.origSrc}:${flow.origSport} to ${flow.replyDst}:${flow.replyDport}, and Bob answered 200`, ...evidence);
      },
    },
    {
      id: 'alice-web',
      title: "Bob's server receives Alice's request from the public address of the ISP's carrier-grade NAT",
      points: 2,
      deadlineMs: 6000,
      hint: `curl http://web.bob.example/whoami on alice. Once the home router translates again, Bob should see the address the ISP's carrier-grade NAT gives all its customers, not the home router's own.`,
      async run(ctx) {
        const a = await arrival(ctx, 'alice');
        if (!a.client) return fail(`the grader's request from alice never reached Bob's server, or its reply never came back (curl: ${a.status || 'no answer'})`, ...a.evidence);
        if (a.client !== publicAddress) return fail(`Bob's server saw alice's request arrive from ${a.client}, not from the ISP's public address ${publicAddress}`, ...a.evidence);
        return pass(`Bob's server saw alice's request arrive from ${a.client}`, ...a.evidence);
      },
    },
    {
      id: 'carol-web',
      title: "Bob's server receives Carol's request from that same public address",
      points: 1,
      deadlineMs: 6000,
      hint: `Carol's phone works out of the box: her news app's requests show in Bob's access log (user agent "${CAROL_AGENT}"). If they stopped arriving, undo what you changed on the ISP router.`,
      async run(ctx) {
        const a = await arrival(ctx, CAROL);
        if (!a.client) return fail(`the grader's request from carol never reached Bob's server, or its reply never came back (curl: ${a.status || 'no answer'})`, ...a.evidence);
        if (a.client !== publicAddress) return fail(`Bob's server saw carol's request arrive from ${a.client}, not from the ISP's public address ${publicAddress}`, ...a.evidence);
        return pass(`Bob's server saw carol's request arrive from ${a.client}`, ...a.evidence);
      },
    },
    answerCheck({
      id: 'answer-alice-public',
      title: "answers.yaml: the address Bob's server sees for Alice",
      points: 1,
      key: 'alice_public',
      hint: 'On alice: curl http://web.bob.example/whoami, and read clientAddress (after the home router translates again).',
      async expected(ctx) {
        const a = await arrival(ctx, 'alice');
        return { value: a.client, evidence: a.evidence };
      },
      matches: (given, want) => bare(given.trim()) === want,
    }),
    answerCheck({
      id: 'answer-carol-public',
      title: "answers.yaml: the address Bob's server sees for Carol",
      points: 1,
      key: 'carol_public',
      hint: `Read Bob's access log: npx hurrynet exec web -- tail /var/log/web/access.log. Carol's news app signs its requests "${CAROL_AGENT}"; compare their client address with Alice's.`,
      async expected(ctx) {
        const a = await arrival(ctx, CAROL);
        return { value: a.client, evidence: a.evidence };
      },
      matches: (given, want) => bare(given.trim()) === want,
    }),
    answerCheck({
      id: 'answer-home-side',
      title: "answers.yaml: the address of Alice's home router on its ISP side",
      points: 1,
      key: 'home_isp_side',
      hint: 'On the home router: ip -br addr show dev access (the address, without the /24). It is not what Bob sees.',
      async expected(ctx) {
        const r = await homeIspSide(ctx);
        return { value: r.address, evidence: [r.evidence] };
      },
      matches: (given, want) => bare(given.trim()) === want,
    }),
  ];
}

export default defineLab({
  number: 6,
  slug: 'nat',
  title: 'NAT and carrier-grade NAT',
  topics: ['NAT', 'masquerade', 'connection tracking', 'private addresses', 'CGNAT', 'shared address space 100.64.0.0/10'],
  minutes: 30,
  goal: "Put the home router's address translation back, watch it in the connection-tracking table, and find out from what Bob's server sees why Alice and Carol, two customers of the same ISP, share one public address.",
  submissionNodes: ['alice', CAROL, 'home'],
  questions: [
    { key: 'alice_public', prompt: "The source address Bob's server sees for Alice's requests" },
    { key: 'carol_public', prompt: "The source address Bob's server sees for Carol's requests" },
    { key: 'home_isp_side', prompt: "The address of Alice's home router on its ISP (access) side" },
  ],
  vary,
  task() {
    return {
      bob: `http://web.bob.example/whoami (Bob's server, ${BOB_PUBLIC})`,
      alice: `this laptop, ${ALICE}, behind the home router ${HOME_LAN}`,
      carol: `Carol's phone, another customer of your ISP; its news app calls Bob every ${APP_SECONDS} s`,
      bob_log: 'npx hurrynet exec web -- tail /var/log/web/access.log',
      routers: 'home, isp (npx hurrynet shell <router>; conntrack -L shows translations)',
      answers: '/root/answers.yaml with alice_public, carol_public, home_isp_side',
    };
  },
  overlay,
  faults,
  checks,
});

