// Lab 09: TCP vs UDP for a live stream. Bob's streamer on the web node sends numbered frames over
// UDP (one datagram each) and over TCP (one line each) at a steady pace, and the path back to
// Alice loses some of them: the ISP router drops Bob's stream packets at random (iptables
// statistic), with a loss rate that differs per learner. The learner receives both streams on
// Alice's laptop, counts what arrived over UDP (and how many frames came late), checks that TCP
// delivered everything, finds TCP's retransmissions in a capture, and says which transport suits
// a live stream and why.
//
// Every answer belongs to one run of this learner's world. Each stream carries an id of its own
// (8 random letters) and a length of its own (the seed's length plus or minus SPREAD frames),
// printed in every frame; the answers name the runs they describe by that id, and each number
// must be exactly what the grader's own record shows for that run. Nothing on the task card or in
// the handout predicts any of it, and another learner's ids never occur in this world.
//
// The grader's record is taken where the learner cannot reach: on the home router, by tcpdump
// processes that read only packets coming IN from the ISP (the access link), so packets forged on
// Alice's LAN with Bob's address as their source never enter it (a third capture on the LAN side
// notices such packets, to say so). Home to Alice is one lossless hop, so what entered the router
// is what Alice's laptop got. A local fake streamer (an iptables redirect, a hosts entry, Bob's
// address on the laptop) makes up ids the record does not have; the reason names what alice does.
// The ISP's DROP counters and Bob's streamer log (his own record of what he sent) are evidence.
// The streamer itself is files/web/srv/stream/streamer.js, copied onto web at start.
import { addressOf, defineLab, draws, nodeOf, type Fault, type World } from '../kit/index.js';
import { oncePerRun, readLarge, startProgram } from '../kit/programs.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Verdict } from '../../checks/types.js';
import { q, readFile } from '../../checks/probes.js';
import { answersEvidence, normalizeAnswer, rubricCheck, type Concept } from '../../checks/answers.js';
import { FRAME, parseTcpWitness, parseUdpWitness, STREAM_ID, type TcpFlow, type UdpStream } from './witness.js';

// ---- facts from the lab's world ---------------------------------------------------------------

export const BOB_NAME = 'web.bob.example';

/** Where the stream runs in this lab's world. */
export interface StreamWorld {
  /** Alice's laptop and its interface (named after its link). */
  alice: string;
  iface: string;
  /** The home router's interface on Alice's network (where forged packets would arrive). */
  homeLan: string;
  /** The home router's side towards the ISP, where the grader records what Bob's packets brought. */
  homeWan: string;
  /** Alice's public address: every stream to her network arrives addressed to it (NAT). */
  homePublic: string;
  /** Bob's public address (web.bob.example) and the server behind it. */
  bob: string;
  webPrivate: string;
  /** The edge's side facing the backbone (its security group guards new flows arriving there). */
  edgeOutside: string;
}

export function streamWorld(world: World): StreamWorld {
  const iface = nodeOf(world, 'alice').interfaces[0]?.link;
  const home = nodeOf(world, 'home');
  const homeWan = home.interfaces.find((i) => i.link !== iface)?.link;
  const bob = world.settings.zones
    .find((z) => z.name === 'bob.example')
    ?.records.find((r) => r.name === 'web' && r.type === 'A')?.value;
  const edgeOutside = nodeOf(world, 'edge').firewall?.guardedLinks[0];
  if (!iface || !home.interfaces.some((i) => i.link === iface) || !homeWan || !bob || !edgeOutside)
    throw new Error(
      "lab 09: the world lacks alice on a home link, the home router's uplink, web.bob.example or the edge's guarded side",
    );
  return {
    alice: addressOf(world, 'alice'),
    iface,
    homeLan: iface,
    homeWan,
    homePublic: addressOf(world, 'home', homeWan),
    bob,
    webPrivate: addressOf(world, 'web'),
    edgeOutside,
  };
}

/** The stream's port, for UDP and for TCP alike (5004 is RTP's customary port). */
export const PORT = 5004;
/** One frame every PACE_MS milliseconds, over both transports. */
export const PACE_MS = 10;
/** Each stream is the seed's length plus or minus up to SPREAD frames, drawn per run. */
export const SPREAD = 40;
/** Where the lab's files put Bob's streamer on web (files/web/...). */
export const STREAMER = '/srv/stream/streamer.js';
const STREAM_LOG = '/var/log/stream/streams.log';
const WITNESS_DIR = '/var/lib/hurrynet';
const UDP_WITNESS = `${WITNESS_DIR}/stream-udp.txt`;
const TCP_WITNESS = `${WITNESS_DIR}/stream-tcp.txt`;
const FORGED_WITNESS = `${WITNESS_DIR}/stream-forged.txt`;

// ---- variation --------------------------------------------------------------------------------

export const FRAMES_MIN = 200;
export const FRAMES_MAX = 400;
export const LOSS_MIN = 10;
export const LOSS_MAX = 30;
export const LATE_MIN = 3;
export const LATE_MAX = 8;

export type StreamVars = {
  /** The middle of this learner's stream lengths (each run draws its own, within SPREAD). */
  frames: number;
  /** The ISP's loss rate for Bob's stream packets, in percent. */
  lossPercent: number;
  /** How often Bob's streamer sends a frame just after its successor, in percent. */
  latePercent: number;
};

const vary = draws<StreamVars>({
  frames: (r) => r.int(FRAMES_MIN / 10, FRAMES_MAX / 10) * 10,
  lossPercent: (r) => r.int(LOSS_MIN, LOSS_MAX),
  latePercent: (r) => r.int(LATE_MIN, LATE_MAX),
});

const probability = (percent: number) => (percent / 100).toFixed(2);

// ---- faults: the streamer, the way in, the loss, the grader's witness ------------------------

function faults(v: StreamVars, world: World): Fault[] {
  const w = streamWorld(world);
  const lossRule = (proto: string) =>
    `iptables -A FORWARD -s ${w.bob} -p ${proto} --sport ${PORT} -m statistic --mode random --probability ${probability(v.lossPercent)} -j DROP`;
  const allowRule = (proto: string) =>
    `iptables -I FORWARD 2 -i ${w.edgeOutside} -d ${w.webPrivate} -p ${proto} --dport ${PORT} -m conntrack --ctstate NEW -j ACCEPT`;
  // -Q in: only what arrives on that interface. On the ISP side that is Bob's real packets; on
  // the LAN side a packet "from Bob" can only have been made on Alice's network.
  const tcpdump = (iface: string, file: string, opts: string, filter: string) =>
    `setsid nohup tcpdump -i ${iface} -Q in -l -nn -A -s 160 ${opts} '${filter}' >${file} 2>${file}.log </dev/null &`;
  const fromBob = `src host ${w.bob} and dst host ${w.homePublic}`;
  return [
    startProgram(
      'web',
      `Bob's live streamer on port ${PORT} (UDP and TCP), streams of ${v.frames - SPREAD} to ${v.frames + SPREAD} frames`,
      {
        start: `node ${STREAMER} ${PORT} ${v.frames} ${SPREAD} ${PACE_MS} ${probability(v.latePercent)} ${STREAM_LOG}`,
        listens: [
          { proto: 'udp', port: PORT },
          { proto: 'tcp', port: PORT },
        ],
        log: '/var/log/stream/streamer.out',
      },
    ),
    {
      node: 'edge',
      description: `Bob's security group lets the stream's port in (udp and tcp ${PORT})`,
      script: [allowRule('udp'), allowRule('tcp')].join('\n'),
    },
    {
      node: 'isp',
      description: `the ISP loses ${v.lossPercent} % of Bob's stream packets on their way to Alice`,
      script: [lossRule('udp'), lossRule('tcp')].join('\n'),
    },
    {
      node: 'home',
      description:
        "the grader's own record of the stream where it enters the home router from the ISP (frames, stream ids, TCP sequence numbers)",
      script: [
        `mkdir -p ${WITNESS_DIR}`,
        tcpdump(w.homeWan, UDP_WITNESS, '', `${fromBob} and udp src port ${PORT}`),
        tcpdump(w.homeWan, TCP_WITNESS, '-S', `${fromBob} and tcp src port ${PORT}`),
        tcpdump(w.homeLan, FORGED_WITNESS, '', `src host ${w.bob} and src port ${PORT}`),
        `for i in $(seq 1 150); do grep -q listening ${UDP_WITNESS}.log && grep -q listening ${TCP_WITNESS}.log && grep -q listening ${FORGED_WITNESS}.log && exit 0; sleep 0.1; done`,
        `echo "the router's capture did not start: $(cat ${UDP_WITNESS}.log ${TCP_WITNESS}.log ${FORGED_WITNESS}.log)" >&2; exit 1`,
      ].join('\n'),
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

interface Observation {
  udp: UdpStream[];
  tcp: TcpFlow[];
  /** Packets claiming to be Bob's that arrived from Alice's LAN, and the stream ids they named. */
  forged: { packets: number; ids: string[] };
  ok: boolean;
  evidence: Evidence[];
  transient: boolean;
}

/** What the LAN-side capture caught: packets that only a machine on Alice's network can have made. */
export function parseForged(text: string): { packets: number; ids: string[] } {
  const packets = text.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ IP /.test(l)).length;
  const ids = [...new Set([...text.matchAll(new RegExp(FRAME.source, 'g'))].map((m) => m[3] as string))];
  return { packets, ids };
}

/** The router's captures, read once per grading run and shared by the checks (again after a transient failure). */
function recordReader(w: StreamWorld): (ctx: CheckContext) => Promise<Observation> {
  const toAlice = (client: string) => client.startsWith(`${w.homePublic}:`);
  return oncePerRun(
    async (ctx) => {
      const router = ctx.node('home');
      const [u, t, f] = await Promise.all([
        readLarge(router, UDP_WITNESS, 'latin1'),
        readLarge(router, TCP_WITNESS, 'latin1'),
        readLarge(router, FORGED_WITNESS, 'latin1'),
      ]);
      const udp = u.ok ? parseUdpWitness(u.text).filter((s) => toAlice(s.client)) : [];
      const tcp = t.ok ? parseTcpWitness(t.text).filter((x) => toAlice(x.client)) : [];
      const forged = f.ok ? parseForged(f.text) : { packets: 0, ids: [] };
      return {
        udp,
        tcp,
        forged,
        ok: u.ok && t.ok,
        evidence: [u.evidence, t.evidence],
        transient: !!(u.transient || t.transient || f.transient),
      };
    },
    (o) => !o.transient,
  );
}

/** What every check of one grading run shares: the world's facts and one reading of the record. */
interface Grading {
  w: StreamWorld;
  observe(ctx: CheckContext): Promise<Observation>;
}

const clock = (t: number) => {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = Math.floor(t % 60);
  return [h, m, s].map((x) => String(x).padStart(2, '0')).join(':');
};

/**
 * The router's view of the streams, without ids or counts (those are the answers): when each run
 * arrived and to which port of Alice's network, so a learner can tell her runs apart.
 */
function streamList(w: StreamWorld, o: Observation, what: 'udp' | 'tcp'): Evidence {
  const lines =
    what === 'udp'
      ? o.udp.map((s) => `UDP stream to ${s.client}, from ${clock(s.first)} to ${clock(s.last)}`)
      : o.tcp.map(
          (f) =>
            `TCP connection to ${f.client} at ${clock(f.first)}: ${f.finBytes === undefined ? 'not finished (no FIN from Bob yet)' : f.complete ? "complete up to Bob's FIN" : 'FIN seen, but bytes are missing'}`,
        );
  return {
    where: 'home',
    command: `the grader's record on the home router (packets from ${w.bob}:${PORT} coming in from the ISP, to ${w.homePublic})`,
    exitCode: o.ok ? 0 : 1,
    output: lines.length
      ? lines.join('\n')
      : o.ok
        ? '(no stream from Bob reached Alice yet)'
        : '(the record could not be read)',
  };
}

async function dropCounters(ctx: CheckContext): Promise<Evidence> {
  const e = await ctx.node('isp').run(`iptables -L FORWARD -v -n -x | grep -E 'pkts|spt:${PORT}'`, 5000);
  return { ...e, command: `iptables -L FORWARD -v -n -x (the loss on the ISP router: packets dropped so far)` };
}

/** Bob's own record of one stream (what he sent, to which address and port). */
async function bobsRecord(ctx: CheckContext, id: string): Promise<Evidence> {
  const e = await ctx.node('web').run(`grep -F ${q(`"stream":"${id}"`)} ${STREAM_LOG} | tail -n 1`, 5000);
  return {
    ...e,
    command: `grep stream ${id} ${STREAM_LOG} (Bob's streamer: what it sent)`,
    output: e.output.trim() || '(Bob has no stream with that id)',
  };
}

async function streamerLog(ctx: CheckContext): Promise<Evidence> {
  const r = await readFile(ctx.node('web'), STREAM_LOG);
  return {
    ...r.evidence,
    command: `tail -n 6 ${STREAM_LOG} (Bob's streamer: what it sent)`,
    output: r.text.trim().split('\n').slice(-6).join('\n') || '(no stream sent yet)',
  };
}

/**
 * What on Alice's laptop would answer in Bob's place, for the reasons: a redirect of the stream's
 * port in her nat table, Bob's address on one of her interfaces, a hosts entry for his name.
 * Read with clean binaries in her namespace (the hosts file from the node itself).
 */
async function localStandIns(ctx: CheckContext, w: StreamWorld): Promise<{ notes: string[]; evidence: Evidence[] }> {
  const probe = await ctx.probe('alice');
  const [nat, addr, hosts] = await Promise.all([
    probe.run(
      `iptables-save -t nat 2>/dev/null | grep -E -- '-j (REDIRECT|DNAT)' | grep -E -- '${PORT}|${w.bob.replace(/\./g, '\\.')}' || true`,
      5000,
    ),
    probe.run(`ip -4 -o addr show | grep -F ' ${w.bob}/' || true`, 5000),
    ctx.node('alice').run(`grep -v '^#' /etc/hosts | grep -w -F ${q(BOB_NAME)} || true`, 5000),
  ]);
  const notes: string[] = [];
  const rules = nat.output.split('\n').filter((l) => l.trim());
  if (rules.length)
    notes.push(`alice's own nat table redirects the stream to a program on the laptop (${rules[0]?.trim()})`);
  if (addr.output.trim())
    notes.push(
      `Bob's address ${w.bob} is on alice herself (${addr.output.trim().split(/\s+/).slice(1, 4).join(' ')}), so the laptop answers for him`,
    );
  const entry = hosts.output.split('\n').find((l) => l.trim() && !l.trim().startsWith(w.bob));
  if (entry) notes.push(`alice's /etc/hosts sends ${BOB_NAME} elsewhere (${entry.trim()})`);
  return {
    notes,
    evidence: [
      { ...nat, command: 'iptables-save -t nat (on alice: redirects of the stream)' },
      { ...addr, command: `ip -4 addr (on alice: is ${w.bob} one of hers?)` },
      { ...hosts, command: `grep ${BOB_NAME} /etc/hosts (on alice)` },
    ],
  };
}

/** No stream of one transport came in from the ISP: say so, and name any stand-in or forgery. */
async function noStream(ctx: CheckContext, g: Grading, o: Observation, what: 'udp' | 'tcp'): Promise<Verdict> {
  const local = await localStandIns(ctx, g.w);
  const forged = o.forged.packets
    ? `; ${o.forged.packets} packet(s) that claim to come from Bob arrived from Alice's own network instead, and those do not count`
    : '';
  const stand = local.notes.length ? `; ${local.notes.join('; ')}` : '';
  return fail(
    `no ${what.toUpperCase()} stream from ${g.w.bob}:${PORT} has come in from the ISP for Alice's network yet${forged}${stand}`,
    streamList(g.w, o, what),
    await streamerLog(ctx),
    ...local.evidence,
  );
}

/** Why a stream id is not in the record, in words that name what happened. */
async function unknownStream(
  ctx: CheckContext,
  g: Grading,
  o: Observation,
  key: string,
  id: string,
  what: 'udp' | 'tcp',
): Promise<{ reason: string; evidence: Evidence[] }> {
  const local = await localStandIns(ctx, g.w);
  const forged = o.forged.ids.includes(id) || (o.forged.packets > 0 && !local.notes.length);
  let why = '';
  if (forged)
    why = `: packets that claim to come from Bob (${o.forged.packets} of them) arrived at the home router from Alice's own network, so they were made there, and they do not count`;
  else if (local.notes.length) why = `: ${local.notes.join('; ')}`;
  const reason = `your ${key} ("${id}") is not the id of a ${what.toUpperCase()} run that Bob's packets brought to Alice's network: the grader's record, taken where his packets enter the home router from the ISP, has no run with that id${why}`;
  return { reason, evidence: [streamList(g.w, o, what), ...local.evidence] };
}

// ---- answers ------------------------------------------------------------------------------------

const number = (value: unknown) => {
  const s = String(value ?? '').trim();
  return /^\d+$/.test(s) ? Number(s) : NaN;
};

/** A stream id as the learner wrote it (in any case). */
export function streamId(value: unknown): string | undefined {
  const s = String(value ?? '')
    .trim()
    .toLowerCase();
  return new RegExp(`^${STREAM_ID}$`).test(s) ? s : undefined;
}

/** The bytes of a segment as tcpdump shows them, "A:B" (with or without "seq "). */
export function byteRange(value: unknown): [number, number] | undefined {
  const m = /^(?:seq\s+)?(\d+)\s*:\s*(\d+)$/i.exec(String(value ?? '').trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The learner's answer to KEY, quoted as hers: never restated as a fact of the world. */
const yours = (key: string, value: unknown) => `your ${key} (${JSON.stringify(String(value ?? '').trim())})`;

/**
 * What a reason for choosing UDP links: what TCP does about a loss, what that does to the frames
 * behind it, and what a late frame is worth live (or what UDP does instead). Two of the three make
 * an explanation; a keyword, or "no idea" with one, does not.
 */
export const WHY_CONCEPTS: Concept[] = [
  {
    idea: 'what TCP does about a lost segment (it sends it again)',
    patterns: [/retransmi|re-?sen[dt]|\bsen(d|ds|t|ding)\b(\s+\S+){0,3}\s+again|recover/i],
  },
  {
    idea: 'that TCP delivers in order, so everything after a missing segment waits for it (head-of-line blocking)',
    patterns: [
      /in[- ]order|\border(ed)?\b|\bwait|\bhold|\bheld|block|stall|stuck|queue|pause|\bgap\b|\bhole\b|buffer/i,
    ],
  },
  {
    idea: 'that a late frame is worthless in a live stream, so UDP skips a lost frame instead of waiting for it',
    patterns: [
      /\blate\b|later than|stale|out of date|too old|\bold (frame|data|picture)|on time|in time|real[- ]?time|useless|worthless|no (longer )?use|pointless|\bskip|move on|keep(s)? (on )?(playing|going)|\blag|delay|latenc|freez|glitch|jitter|catch(es)? up|fall(s|ing)? behind/i,
      /\b(drop|lose|miss)(s|es|ed|ing)? (a |the |one |some |that )?(single )?(frame|packet|datagram)/i,
    ],
  },
];

const ID_HINT = 'the id printed on every frame of that run, "stream XXXXXXXX" (8 letters)';

type Found<T> =
  | { ok: true; item: T; values: Record<string, unknown>; file: Evidence; o: Observation }
  | { ok: false; reason: string; evidence: Evidence[] };

/** The id the answers give for one transport's run (udp_stream, tcp_stream), once the record has a run with it. */
async function namedRun(ctx: CheckContext, g: Grading, what: 'udp' | 'tcp'): Promise<Found<string>> {
  const key = `${what}_stream`;
  const [a, o] = await Promise.all([ctx.answers(), g.observe(ctx)]);
  const file = answersEvidence(a);
  if (!a.ok) return { ok: false, reason: a.error, evidence: [file] };
  if (!o.ok)
    return { ok: false, reason: "the grader's record on the home router could not be read", evidence: o.evidence };
  const id = streamId(a.values[key]);
  if (!id) return { ok: false, reason: `answers.yaml needs "${key}: <id>": ${ID_HINT}`, evidence: [file] };
  if (!(o[what] as { stream?: string }[]).some((x) => x.stream === id)) {
    const u = await unknownStream(ctx, g, o, key, id, what);
    return { ok: false, reason: u.reason, evidence: [file, ...u.evidence] };
  }
  return { ok: true, item: id, values: a.values, file, o };
}

/** The UDP stream the answers name (udp_stream), as the grader's record has it. */
async function namedUdp(ctx: CheckContext, g: Grading): Promise<Found<UdpStream>> {
  const r = await namedRun(ctx, g, 'udp');
  return r.ok ? { ...r, item: r.o.udp.find((x) => x.stream === r.item) as UdpStream } : r;
}

/** The TCP run the answers name (tcp_stream), complete, as the grader's record has it. */
async function namedTcp(ctx: CheckContext, g: Grading): Promise<Found<TcpFlow>> {
  const r = await namedRun(ctx, g, 'tcp');
  if (!r.ok) return r;
  const f = r.o.tcp.find((x) => x.stream === r.item && x.complete);
  if (!f)
    return {
      ok: false,
      reason: `${yours('tcp_stream', r.item)} names a TCP run that, in the grader's record, never arrived complete: read until Bob closes the connection, and answer for a run that finished`,
      evidence: [r.file, streamList(g.w, r.o, 'tcp')],
    };
  return { ...r, item: f };
}

type Counted<T> =
  | { ok: true; item: T; given: number; values: Record<string, unknown>; file: Evidence; o: Observation }
  | { ok: false; verdict: Verdict };

/** A whole-number answer about the named run; `judged` says which run a failure to find it concerns. */
function counted<T>(r: Found<T>, key: string, needs: string, judged = ''): Counted<T> {
  if (!r.ok) return { ok: false, verdict: fail(`${judged}${r.reason}`, ...r.evidence) };
  const given = number(r.values[key]);
  if (Number.isNaN(given)) return { ok: false, verdict: fail(`answers.yaml needs "${key}: <number>"${needs}`, r.file) };
  return { ...r, given };
}

// ---- checks -----------------------------------------------------------------------------------

const udpStreamCheck = (g: Grading): Check => ({
  id: 'udp-stream',
  title: `Alice received Bob's stream over UDP (port ${PORT})`,
  points: 1,
  deadlineMs: 2000,
  hint: [
    `Bob's streamer answers over UDP to whoever sends it a datagram on port ${PORT}, at the address and port the datagram came from. There is no connection: Alice has to ask, then keep listening on the same socket until the stream ends.`,
    `nc -u talks UDP and prints what comes back on the socket it sent from; -w 2 makes it stop two quiet seconds after the last datagram. The task card (/root/TASK.txt) names the server and the port.`,
    `On alice: echo go | nc -u -w 2 ${BOB_NAME} ${PORT} > udp.txt, and wait until nc returns by itself.`,
  ],
  async run(ctx) {
    const o = await g.observe(ctx);
    if (!o.ok) return fail("the grader's record on the home router could not be read", ...o.evidence);
    if (!o.udp.length) return noStream(ctx, g, o, 'udp');
    return pass(`${o.udp.length} UDP stream(s) from Bob came in for Alice's network`, streamList(g.w, o, 'udp'));
  },
});

const tcpStreamCheck = (g: Grading): Check => ({
  id: 'tcp-stream',
  title: `Alice received the whole stream over TCP (port ${PORT}), retransmissions and all`,
  points: 1,
  deadlineMs: 2000,
  hint: [
    `A TCP connection to Bob's port ${PORT}, read until Bob closes it: the grader needs one run that arrived complete, with at least one lost segment sent again (the loss is random, so one run may have none).`,
    `nc without -u opens a TCP connection and prints what arrives until the other side closes; tcpdump -i ${g.w.iface} -nn -w FILE records the packets at the same time.`,
    `On alice: tcpdump -i ${g.w.iface} -nn -w tcp.pcap tcp port ${PORT} & (wait for "listening"), then nc ${BOB_NAME} ${PORT} < /dev/null > tcp.txt; sleep 1; kill %1. Run it again if the grader saw no retransmission.`,
  ],
  async run(ctx) {
    const o = await g.observe(ctx);
    const list = streamList(g.w, o, 'tcp');
    if (!o.ok) return fail("the grader's record on the home router could not be read", ...o.evidence);
    const done = o.tcp.filter((f) => f.complete);
    if (!done.length) {
      if (o.tcp.length)
        return fail(
          `no TCP connection from Bob's port ${PORT} to Alice has finished with every byte delivered yet: read until Bob closes the connection`,
          list,
        );
      return noStream(ctx, g, o, 'tcp');
    }
    if (!done.some((f) => f.retransmissions > 0))
      return fail(
        'the TCP stream arrived complete, but without a single retransmission: run it again (the loss is random)',
        list,
      );
    return pass(
      `${done.length} TCP stream(s) arrived complete for Alice's network, with lost segments sent again`,
      list,
    );
  },
});

const udpReceivedCheck = (g: Grading): Check => ({
  id: 'answer-udp-received',
  title: 'answers.yaml: which UDP run you counted, and how many of its frames arrived (udp_stream, udp_received)',
  points: 2,
  deadlineMs: 1500,
  hint: [
    'One UDP run, all the way to its end: the frames that reached Alice, not the N of "frame n of N" (what Bob sent). Every frame names its run ("stream" and 8 letters); give the id and the count of the same run.',
    "In udp.txt every datagram is one line: wc -l udp.txt counts them, head -1 udp.txt shows the run's id. nc -w 2 must have waited until the stream ended.",
    "Write udp_stream: the id on udp.txt's lines, and udp_received: wc -l < udp.txt, from the same file. Ran the stream again? Then count the new file.",
  ],
  async run(ctx) {
    const r = counted(await namedUdp(ctx, g), 'udp_received', ' (a whole number)');
    if (!r.ok) return r.verdict;
    const { item: s, given } = r;
    if (given !== s.received) {
      if (given === s.frames)
        return fail(
          `${yours('udp_received', r.values.udp_received)} is the N of "frame n of N" of UDP run ${s.stream}, what Bob sent; the question is how many of them reached Alice over this lossy path: count the lines`,
          r.file,
        );
      return fail(
        `${yours('udp_received', r.values.udp_received)} is not the number of frames of UDP run ${s.stream} that the grader's record shows arriving for Alice's network`,
        r.file,
        streamList(g.w, r.o, 'udp'),
      );
    }
    return pass(
      `stream ${s.stream}: ${s.received} of ${s.frames} frames reached Alice (${((100 * (s.frames - s.received)) / s.frames).toFixed(0)} % lost)`,
      r.file,
      await bobsRecord(ctx, s.stream),
      await dropCounters(ctx),
    );
  },
});

const udpLateCheck = (g: Grading): Check => ({
  id: 'answer-udp-late',
  title: 'answers.yaml: in that run, how many frames arrived after a higher-numbered one (udp_late)',
  points: 1,
  deadlineMs: 1500,
  hint: [
    'The frame numbers of the run udp_stream names, in the order they arrived: a frame is late when a higher-numbered one arrived before it. Missing frames are not late.',
    'awk reads udp.txt line by line; $2 is the frame number. Remember the highest number so far; a frame below it came late.',
    "awk '{ if ($2 < max) late++; if ($2 > max) max = $2 } END { print late + 0 }' udp.txt, on the same file as udp_received; write the result as udp_late.",
  ],
  async run(ctx) {
    const r = counted(
      await namedUdp(ctx, g),
      'udp_late',
      ' (a whole number, 0 if none)',
      'udp_late is judged for the run udp_stream names: ',
    );
    if (!r.ok) return r.verdict;
    const { item: s, given: late } = r;
    if (late !== s.late)
      return fail(
        `${yours('udp_late', r.values.udp_late)} is not the number of frames of UDP run ${s.stream} that, in the grader's record, arrived after a higher-numbered frame of that run`,
        r.file,
      );
    return pass(`stream ${s.stream}: ${s.late} frame(s) arrived after a higher-numbered one`, r.file);
  },
});

const tcpReceivedCheck = (g: Grading): Check => ({
  id: 'answer-tcp-received',
  title: 'answers.yaml: which TCP run you read, and how many of its frames arrived (tcp_stream, tcp_received)',
  points: 1,
  deadlineMs: 1500,
  hint: [
    'One TCP run that nc read until Bob closed the connection: count what arrived and compare it with the N of "frame n of N" on its lines. Give that run\'s id with it.',
    'wc -l tcp.txt counts the frames (one a line); head -1 tcp.txt shows the id.',
    "Write tcp_stream: the id on tcp.txt's lines, and tcp_received: wc -l < tcp.txt.",
  ],
  async run(ctx) {
    const r = counted(await namedTcp(ctx, g), 'tcp_received', '');
    if (!r.ok) return r.verdict;
    const { item: f, given } = r;
    if (f.frames === undefined)
      return fail(
        `the grader's record of TCP run ${f.stream} shows no frame count`,
        r.file,
        streamList(g.w, r.o, 'tcp'),
      );
    if (given !== f.frames)
      return fail(
        `${yours('tcp_received', r.values.tcp_received)} is not the number of frames TCP run ${f.stream} delivered to Alice (the grader's record of that connection, complete up to Bob's FIN)`,
        r.file,
        streamList(g.w, r.o, 'tcp'),
      );
    return pass(
      `all ${f.frames} frames of stream ${f.stream} arrived over TCP, in order, although the path lost packets`,
      r.file,
      await bobsRecord(ctx, f.stream as string),
    );
  },
});

const tcpRetransmissionsCheck = (g: Grading): Check => ({
  id: 'answer-tcp-retransmissions',
  title:
    'answers.yaml: how many retransmitted segments your capture of that run shows, and the bytes of the first (tcp_retransmissions, tcp_first_resend)',
  points: 2,
  deadlineMs: 1500,
  hint: [
    `Your capture of the run tcp_stream names, Bob's segments in the order they arrived: where do the byte numbers go back? A segment whose bytes belong before data that already arrived is one Bob sent again.`,
    `tcpdump -nn -r tcp.pcap 'tcp src port ${PORT}' prints "seq A:B" for each of Bob's data segments (relative byte numbers). A retransmission starts (A) below the highest B seen before it.`,
    `tcpdump -nn -r tcp.pcap 'tcp src port ${PORT}' | grep -o 'seq [0-9]*:[0-9]*' | tr ':' ' ' | awk '{ if ($2 < max) { r++; if (!f) f = $2 ":" $3 } if ($3 > max) max = $3 } END { print r + 0, f }' prints tcp_retransmissions and tcp_first_resend, for a capture of that one connection.`,
  ],
  async run(ctx) {
    const r = counted(
      await namedTcp(ctx, g),
      'tcp_retransmissions',
      '',
      'tcp_retransmissions is judged for the run tcp_stream names: ',
    );
    if (!r.ok) return r.verdict;
    const { item: f, given } = r;
    if (given === 0 && f.retransmissions > 0)
      return fail(
        `${yours('tcp_retransmissions', r.values.tcp_retransmissions)} cannot be right for TCP run ${f.stream}: in the grader's record of it, byte numbers go back. Look for them in your capture`,
        r.file,
      );
    if (given !== f.retransmissions)
      return fail(
        `${yours('tcp_retransmissions', r.values.tcp_retransmissions)} is not the number of Bob's segments in TCP run ${f.stream} that start below data that had already arrived, in the grader's record of that run (the packets your capture on alice sees)`,
        r.file,
        streamList(g.w, r.o, 'tcp'),
      );
    const range = byteRange(r.values.tcp_first_resend);
    if (!range)
      return fail(
        'answers.yaml needs "tcp_first_resend: A:B": the seq A:B of the first retransmitted segment, as tcpdump prints it',
        r.file,
      );
    const first = f.firstResend;
    if (!first || range[0] !== first[0] || range[1] !== first[1])
      return fail(
        `${yours('tcp_first_resend', r.values.tcp_first_resend)} is not the seq A:B of the first segment of TCP run ${f.stream} that starts below data that had already arrived`,
        r.file,
      );
    return pass(
      `the TCP run ${f.stream} had ${f.retransmissions} retransmitted segments among ${f.dataSegments} data segments, the first one seq ${first.join(':')}`,
      r.file,
      await dropCounters(ctx),
    );
  },
});

const liveStreamCheck: Check = {
  id: 'answer-live-stream',
  title: 'answers.yaml: which transport suits a live stream (live_stream)',
  points: 1,
  deadlineMs: 1500,
  hint: [
    'Compare your two runs: what did UDP do with a lost frame, and what did TCP do with the frames after one? For a live picture, is a frame that comes a quarter of a second late still worth showing?',
    'udp.txt has gaps but keeps going; in tcp.pcap, tcpdump -nn -ttt -r tcp.pcap shows the pause before each resend (-ttt: the time since the previous packet).',
    'Write live_stream: udp. A live stream would rather skip a lost frame and show the next one on time than wait for the resend.',
  ],
  async run(ctx) {
    const a = await ctx.answers();
    const file = answersEvidence(a);
    if (!a.ok) return fail(a.error, file);
    const choice = normalizeAnswer(a.values.live_stream);
    if (!choice) return fail('answers.yaml needs "live_stream: udp" or "live_stream: tcp"', file);
    if (choice !== 'udp')
      return fail(
        `${yours('live_stream', a.values.live_stream)} is not the transport that keeps a live stream on time`,
        file,
      );
    return pass('UDP: a live stream would rather lose a frame than wait for it', file);
  },
};

const whyCheck: Check = rubricCheck({
  id: 'answer-why',
  title: 'answers.yaml: why that transport suits a live stream (why)',
  points: 1,
  key: 'why',
  concepts: WHY_CONCEPTS,
  need: 2,
  hint: [
    'Explain what you saw, cause and effect: what TCP did after a lost segment, what happened to the frames behind it meanwhile, and what a frame is worth live when it comes late (or what UDP did instead).',
    "In tcp.pcap (tcpdump -nn -ttt -r tcp.pcap 'tcp src port 5004'), find a pause before a resend and the burst of frames right after it; in udp.txt, the missing numbers. nc prints no arrival times: the t= on a frame is when Bob wrote it.",
    'Write why: a sentence or two in your own words, e.g. that TCP resends a lost segment and holds every later frame back until it arrives, so the picture stalls and falls behind, while UDP skips the lost frame and shows the next one on time.',
  ],
});

function checks(_v: StreamVars, world: World): Check[] {
  const w = streamWorld(world);
  const g: Grading = { w, observe: recordReader(w) };
  return [
    udpStreamCheck(g),
    tcpStreamCheck(g),
    udpReceivedCheck(g),
    udpLateCheck(g),
    tcpReceivedCheck(g),
    tcpRetransmissionsCheck(g),
    liveStreamCheck,
    whyCheck,
  ];
}

export default defineLab<StreamVars>({
  number: 9,
  slug: 'tcp-vs-udp',
  title: 'TCP vs UDP: a live stream over a lossy path',
  topics: ['UDP', 'TCP', 'packet loss', 'reordering', 'retransmission', 'live streaming', 'nc', 'tcpdump'],
  minutes: 35,
  goal: "Receive Bob's live stream on Alice's laptop over UDP and over TCP through a path that loses packets, measure what arrives, find TCP's retransmissions in a capture, and decide which transport fits a live stream.",
  submissionNodes: ['alice'],
  questions: [
    { key: 'udp_stream', prompt: 'The id of the UDP run you counted (on every frame: "stream XXXXXXXX")' },
    { key: 'udp_received', prompt: 'How many frames of that UDP run arrived' },
    { key: 'udp_late', prompt: 'In that run, how many frames arrived after a higher-numbered frame' },
    { key: 'tcp_stream', prompt: 'The id of the TCP run you read and captured' },
    { key: 'tcp_received', prompt: 'How many frames of that TCP run arrived' },
    { key: 'tcp_retransmissions', prompt: 'How many retransmitted segments from Bob your capture of that run shows' },
    { key: 'tcp_first_resend', prompt: 'The bytes (seq A:B) of the first retransmitted segment' },
    { key: 'live_stream', prompt: 'Which transport fits a live stream: udp or tcp' },
    { key: 'why', prompt: 'Why, in one sentence' },
  ],
  vary,
  task() {
    // Nothing here predicts an answer: each run has its own id and length, printed in its frames.
    return {
      stream_server: BOB_NAME,
      stream_port: `${PORT} (udp and tcp)`,
      frame_interval: `${PACE_MS} ms`,
      frames: 'every run has its own length and id, printed on each frame: "frame n of N stream XXXXXXXX"',
      answers:
        '/root/answers.yaml with udp_stream, udp_received, udp_late, tcp_stream, tcp_received, tcp_retransmissions, tcp_first_resend, live_stream, why',
    };
  },
  faults,
  checks,
});
