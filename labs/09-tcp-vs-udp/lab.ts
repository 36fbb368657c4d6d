// Lab 09: TCP vs UDP for a live stream. Bob's streamer on the web node sends the same numbered
// frames over UDP (one datagram each) and over TCP (one line each) at a steady pace, and the path
// back to Alice loses some of them: the ISP router drops Bob's stream packets at random
// (iptables statistic), with a loss rate that differs per learner. The learner receives both
// streams on Alice's laptop, counts what arrived over UDP (and how many frames came late), checks
// that TCP delivered everything, finds TCP's retransmissions in a capture, and says which
// transport suits a live stream and why.
//
// Graded from places alice cannot touch: the home router runs the grader's own tcpdump on Alice's
// network from the start, printing every packet of the stream it forwarded to her laptop (for UDP
// with the frame number, for TCP with the sequence numbers). The learner's counts must match one
// of the streams the router really delivered to her, so answers copied from another learner (other
// frame count, other loss) or produced by a fake local streamer fail. The ISP router's DROP
// counters and Bob's streamer log back the story up as evidence.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { projectRoot } from '../../orchestrator/paths.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { readFile } from '../../checks/probes.js';
import { normalizeAnswer } from '../../checks/answers.js';
import { parseTcpWitness, parseUdpWitness, readLarge, type TcpFlow, type UdpStream } from './witness.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;
const alice = findNode(canonicalWorld, 'alice');
const home = findNode(canonicalWorld, 'home');
const web = findNode(canonicalWorld, 'web');
const edge = findNode(canonicalWorld, 'edge');
const bobWeb = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!alice || !home || !web || !edge || !bobWeb) throw new Error('lab 09: the world lacks alice, home, web, edge or web.bob.example');

/** Alice's laptop and its interface (named after its link). */
export const ALICE = bare(alice.interfaces[0]?.addresses[0] as string);
export const IFACE = alice.interfaces[0]?.link as string;
/** The home router's interface on Alice's network, where the grader's capture listens. */
const HOME_LAN = home.interfaces.find((i) => i.link === IFACE)?.link as string;
/** Bob's public address and the server behind it. */
export const BOB = bobWeb.value;
export const BOB_NAME = 'web.bob.example';
const WEB_PRIVATE = bare(web.interfaces[0]?.addresses[0] as string);
/** The edge's side facing the backbone (its security group guards new flows arriving there). */
const EDGE_OUTSIDE = edge.firewall?.guardedLinks[0] as string;
if (!ALICE || !IFACE || !HOME_LAN || !WEB_PRIVATE || !EDGE_OUTSIDE) throw new Error('lab 09: incomplete world data');

/** The stream's port, for UDP and for TCP alike (5004 is RTP's customary port). */
export const PORT = 5004;
/** One frame every PACE_MS milliseconds, over both transports. */
export const PACE_MS = 10;
const STREAM_LOG = '/var/log/stream/streams.log';
const WITNESS_DIR = '/var/lib/hurrynet';
const UDP_WITNESS = `${WITNESS_DIR}/stream-udp.txt`;
const TCP_WITNESS = `${WITNESS_DIR}/stream-tcp.txt`;

// ---- variation --------------------------------------------------------------------------------

export const FRAMES_MIN = 200;
export const FRAMES_MAX = 400;
export const LOSS_MIN = 10;
export const LOSS_MAX = 30;
export const LATE_MIN = 3;
export const LATE_MAX = 8;

export interface StreamVars {
  /** Frames per stream. */
  frames: number;
  /** The ISP's loss rate for Bob's stream packets, in percent. */
  lossPercent: number;
  /** How often Bob's streamer sends a frame just after its successor, in percent. */
  latePercent: number;
}

function vary(rng: Rng): Vars {
  return {
    frames: rng.int(FRAMES_MIN / 10, FRAMES_MAX / 10) * 10,
    lossPercent: rng.int(LOSS_MIN, LOSS_MAX),
    latePercent: rng.int(LATE_MIN, LATE_MAX),
  };
}

export function streamVars(v: Vars): StreamVars {
  return { frames: Number(v.frames), lossPercent: Number(v.lossPercent), latePercent: Number(v.latePercent) };
}

const probability = (percent: number) => (percent / 100).toFixed(2);

// ---- faults: the streamer, the way in, the loss, the grader's witness ------------------------

function streamerSource(): string {
  return readFileSync(join(projectRoot(), 'labs', '09-tcp-vs-udp', 'streamer.js'), 'utf8');
}

function faults(vars: Vars): Fault[] {
  const v = streamVars(vars);
  const lossRule = (proto: string) => `iptables -A FORWARD -s ${BOB} -p ${proto} --sport ${PORT} -m statistic --mode random --probability ${probability(v.lossPercent)} -j DROP`;
  const allowRule = (proto: string) => `iptables -I FORWARD 2 -i ${EDGE_OUTSIDE} -d ${WEB_PRIVATE} -p ${proto} --dport ${PORT} -m conntrack --ctstate NEW -j ACCEPT`;
  const tcpdump = (file: string, opts: string, filter: string) =>
    `setsid nohup tcpdump -i ${HOME_LAN} -l -nn -S ${opts} '${filter}' >${file} 2>${file}.log </dev/null &`;
  return [
    {
      node: 'web',
      description: `Bob's live streamer on port ${PORT} (UDP and TCP), ${v.frames} frames per stream`,
      script: [
        'mkdir -p /srv/stream /var/log/stream',
        `cat > /srv/stream/streamer.js <<'HURRYNET_STREAMER'\n${streamerSource()}HURRYNET_STREAMER`,
        `setsid nohup node /srv/stream/streamer.js ${PORT} ${v.frames} ${PACE_MS} ${probability(v.latePercent)} ${STREAM_LOG} >/var/log/stream/streamer.out 2>&1 </dev/null &`,
        `for i in $(seq 1 150); do listening udp ${PORT} && listening tcp ${PORT} && exit 0; sleep 0.1; done`,
        'echo "the streamer did not start: $(cat /var/log/stream/streamer.out)" >&2; exit 1',
      ].join('\n'),
    },
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
      description: "the grader's own capture of the stream on Alice's network (frame numbers and TCP sequence numbers)",
      script: [
        `mkdir -p ${WITNESS_DIR}`,
        tcpdump(UDP_WITNESS, '-A -s 128', `src host ${BOB} and udp src port ${PORT}`),
        tcpdump(TCP_WITNESS, '-s 96', `src host ${BOB} and tcp src port ${PORT}`),
        `for i in $(seq 1 150); do grep -q listening ${UDP_WITNESS}.log && grep -q listening ${TCP_WITNESS}.log && exit 0; sleep 0.1; done`,
        `echo "the router's capture did not start: $(cat ${UDP_WITNESS}.log ${TCP_WITNESS}.log)" >&2; exit 1`,
      ].join('\n'),
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

interface Observation {
  udp: UdpStream[];
  tcp: TcpFlow[];
  ok: boolean;
  evidence: Evidence[];
  transient: boolean;
}

const toAlice = (client: string) => client.startsWith(`${ALICE}:`);

const cache = new WeakMap<CheckContext, Promise<Observation>>();

/** One reading of the router's captures per grading run, shared by the checks. */
function observe(ctx: CheckContext): Promise<Observation> {
  let o = cache.get(ctx);
  if (!o) {
    o = (async () => {
      const router = ctx.node('home');
      const [u, t] = await Promise.all([readLarge(router, UDP_WITNESS), readLarge(router, TCP_WITNESS)]);
      const udp = u.ok ? parseUdpWitness(u.text).filter((s) => toAlice(s.client)) : [];
      const tcp = t.ok ? parseTcpWitness(t.text).filter((f) => toAlice(f.client)) : [];
      const transient = !!(u.transient || t.transient);
      if (transient) cache.delete(ctx);
      return { udp, tcp, ok: u.ok && t.ok, evidence: [u.evidence, t.evidence], transient };
    })();
    cache.set(ctx, o);
  }
  return o;
}

/** The router's view of the streams, without the counts (those are the answers). */
function streamList(o: Observation, what: 'udp' | 'tcp'): Evidence {
  const lines =
    what === 'udp'
      ? o.udp.map((s) => `UDP stream ${s.stream} of ${s.frames} frames to ${s.client}`)
      : o.tcp.map((f) => `TCP connection to ${f.client}: ${f.finBytes === undefined ? 'not finished (no FIN from Bob yet)' : f.complete ? 'complete up to Bob\'s FIN' : 'FIN seen, but bytes are missing'}`);
  return {
    where: 'home',
    command: `the grader's capture on the home router (${what === 'udp' ? UDP_WITNESS : TCP_WITNESS}), streams to ${ALICE}`,
    exitCode: o.ok ? 0 : 1,
    output: lines.length ? lines.join('\n') : o.ok ? '(no stream from Bob reached Alice yet)' : '(the capture could not be read)',
  };
}

async function dropCounters(ctx: CheckContext): Promise<Evidence> {
  const e = await ctx.node('isp').run(`iptables -L FORWARD -v -n -x | grep -E 'pkts|spt:${PORT}'`, 5000);
  return { ...e, command: `iptables -L FORWARD -v -n -x (the loss on the ISP router: packets dropped so far)` };
}

async function streamerLog(ctx: CheckContext): Promise<Evidence> {
  const r = await readFile(ctx.node('web'), STREAM_LOG);
  return { ...r.evidence, command: `tail -n 6 ${STREAM_LOG} (Bob's streamer: what it sent)`, output: r.text.trim().split('\n').slice(-6).join('\n') || '(no stream sent yet)' };
}

// ---- checks -----------------------------------------------------------------------------------

const number = (value: unknown) => {
  const s = String(value ?? '').trim();
  return /^\d+$/.test(s) ? Number(s) : NaN;
};

/** How far a learner's TCP retransmission count may be from the router's (capture details). */
export function retransmissionTolerance(count: number): number {
  return Math.max(2, Math.round(count * 0.1));
}

/** Words that show the learner understood why: late data is useless, TCP waits and resends. */
export const WHY_WORDS = /retransmi|resen[dt]|re-sen[dt]|wait|delay|late|stall|block|behind|lag|latenc|real[- ]?time|live|stale|out of date|too old|skip|on time|in time|freez|buffer|head[- ]of[- ]line/i;

async function answersFile(ctx: CheckContext): Promise<{ values?: Record<string, unknown>; file: Evidence; error?: string }> {
  const a = await ctx.answers();
  const file: Evidence = { where: 'alice', command: 'cat /root/answers.yaml', exitCode: a.ok ? 0 : 1, output: a.ok ? a.raw : a.error };
  return a.ok ? { values: a.values, file } : { file, error: a.error };
}

function udpMatches(o: Observation, received: number): UdpStream[] {
  return o.udp.filter((s) => Math.abs(s.received - received) <= 1);
}

function checks(vars: Vars): Check[] {
  const v = streamVars(vars);
  return [
    {
      id: 'udp-stream',
      title: `Alice received Bob's stream over UDP (port ${PORT})`,
      points: 1,
      deadlineMs: 2000,
      hint: `Send one datagram to ask for the stream and keep listening on the same socket: echo go | nc -u -w 2 ${BOB_NAME} ${PORT} > udp.txt`,
      async run(ctx) {
        const o = await observe(ctx);
        const list = streamList(o, 'udp');
        if (!o.ok) return fail("the grader's capture on the home router could not be read", ...o.evidence);
        if (!o.udp.length) return fail(`the home router has forwarded no UDP stream from ${BOB}:${PORT} to Alice's laptop yet`, list, await streamerLog(ctx));
        return pass(`the home router forwarded ${o.udp.length} UDP stream(s) from Bob to Alice's laptop`, list);
      },
    },
    {
      id: 'tcp-stream',
      title: `Alice received the whole stream over TCP (port ${PORT}), retransmissions and all`,
      points: 1,
      deadlineMs: 2000,
      hint: `Connect and read until Bob closes: nc ${BOB_NAME} ${PORT} < /dev/null > tcp.txt (capture it at the same time: tcpdump -i ${IFACE} -nn -w tcp.pcap tcp port ${PORT})`,
      async run(ctx) {
        const o = await observe(ctx);
        const list = streamList(o, 'tcp');
        if (!o.ok) return fail("the grader's capture on the home router could not be read", ...o.evidence);
        const done = o.tcp.filter((f) => f.complete);
        if (!done.length) {
          if (o.tcp.length) return fail(`no TCP connection from Bob's port ${PORT} to Alice has finished with every byte delivered yet: read until Bob closes the connection`, list);
          return fail(`the home router has forwarded no TCP stream from ${BOB}:${PORT} to Alice's laptop yet`, list, await streamerLog(ctx));
        }
        if (!done.some((f) => f.retransmissions > 0)) return fail('the TCP stream arrived complete, but without a single retransmission: run it again (the loss is random)', list);
        return pass(`${done.length} TCP stream(s) arrived complete at Alice's laptop, with lost segments sent again`, list);
      },
    },
    {
      id: 'answer-udp-received',
      title: `answers.yaml: how many of the ${v.frames} frames arrived over UDP (udp_received)`,
      points: 2,
      deadlineMs: 1500,
      hint: 'Count the frames of ONE run, all the way to the end of the stream (nc -w 2 waits two quiet seconds): wc -l udp.txt. Every frame is one datagram and one line.',
      async run(ctx) {
        const [a, o] = await Promise.all([answersFile(ctx), observe(ctx)]);
        if (!a.values) return fail(a.error ?? 'no answers', a.file);
        const given = number(a.values.udp_received);
        if (Number.isNaN(given)) return fail('answers.yaml needs "udp_received: <number>" (a whole number)', a.file);
        if (!o.udp.length) return fail('the home router has forwarded no UDP stream to Alice yet, so there is nothing to compare with', a.file, streamList(o, 'udp'));
        if (given === v.frames && !o.udp.some((s) => s.received === v.frames)) return fail(`udp_received: ${given} is every frame Bob sent; over this lossy path some never arrive`, a.file);
        const m = udpMatches(o, given);
        if (!m.length) return fail(`udp_received: ${given} matches none of the UDP streams the home router delivered to Alice's laptop`, a.file, streamList(o, 'udp'));
        const s = m[0] as UdpStream;
        return pass(`stream ${s.stream}: ${s.received} of ${s.frames} frames reached Alice (${((100 * (s.frames - s.received)) / s.frames).toFixed(0)} % lost)`, a.file, await dropCounters(ctx));
      },
    },
    {
      id: 'answer-udp-late',
      title: 'answers.yaml: in that run, how many frames arrived after a higher-numbered one (udp_late)',
      points: 1,
      deadlineMs: 1500,
      hint: "Walk through the frame numbers in the order they arrived and remember the highest so far; a frame below it came late. awk can do it: awk '{ if ($2 < max) late++; if ($2 > max) max = $2 } END { print late + 0 }' udp.txt",
      async run(ctx) {
        const [a, o] = await Promise.all([answersFile(ctx), observe(ctx)]);
        if (!a.values) return fail(a.error ?? 'no answers', a.file);
        const received = number(a.values.udp_received);
        const late = number(a.values.udp_late);
        if (Number.isNaN(late)) return fail('answers.yaml needs "udp_late: <number>" (a whole number, 0 if none)', a.file);
        const m = Number.isNaN(received) ? [] : udpMatches(o, received);
        if (!m.length) return fail('udp_late is judged for the run your udp_received describes, and that one matches no stream yet (see udp_received)', a.file);
        const s = m.find((x) => Math.abs(x.late - late) <= 1);
        if (!s) return fail(`udp_late: ${late} is not what arrived in the run with ${received} frames`, a.file);
        return pass(`stream ${s.stream}: ${s.late} frame(s) arrived after a higher-numbered one`, a.file);
      },
    },
    {
      id: 'answer-tcp-received',
      title: `answers.yaml: how many of the ${v.frames} frames arrived over TCP (tcp_received)`,
      points: 1,
      deadlineMs: 1500,
      hint: 'Count the lines of one complete TCP run: wc -l tcp.txt',
      async run(ctx) {
        const [a, o] = await Promise.all([answersFile(ctx), observe(ctx)]);
        if (!a.values) return fail(a.error ?? 'no answers', a.file);
        const given = number(a.values.tcp_received);
        if (Number.isNaN(given)) return fail('answers.yaml needs "tcp_received: <number>"', a.file);
        if (!o.tcp.some((f) => f.complete)) return fail('no TCP stream has reached Alice complete yet, so this answer cannot be judged', a.file, streamList(o, 'tcp'));
        if (given !== v.frames) return fail(`tcp_received: ${given} is not what a complete TCP run delivers`, a.file, streamList(o, 'tcp'));
        return pass(`all ${v.frames} frames arrived over TCP, in order, although the path lost packets`, a.file, streamList(o, 'tcp'));
      },
    },
    {
      id: 'answer-tcp-retransmissions',
      title: 'answers.yaml: how many retransmitted segments your TCP capture shows (tcp_retransmissions)',
      points: 2,
      deadlineMs: 1500,
      hint: `In tcpdump -nn -r tcp.pcap 'tcp src port ${PORT}', Bob's data segments show "seq A:B"; a retransmission starts (A) below the highest B seen before it. Count them for one complete run.`,
      async run(ctx) {
        const [a, o] = await Promise.all([answersFile(ctx), observe(ctx)]);
        if (!a.values) return fail(a.error ?? 'no answers', a.file);
        const given = number(a.values.tcp_retransmissions);
        if (Number.isNaN(given)) return fail('answers.yaml needs "tcp_retransmissions: <number>"', a.file);
        const done = o.tcp.filter((f) => f.complete);
        if (!done.length) return fail('no TCP stream has reached Alice complete yet, so this answer cannot be judged', a.file, streamList(o, 'tcp'));
        if (given === 0) return fail('tcp_retransmissions: 0, yet the path loses packets: look for sequence numbers that go back', a.file);
        const f = done.find((x) => Math.abs(x.retransmissions - given) <= retransmissionTolerance(x.retransmissions));
        if (!f) return fail(`tcp_retransmissions: ${given} is not close to what any complete TCP run to Alice's laptop shows`, a.file, streamList(o, 'tcp'));
        return pass(`the TCP run to ${f.client} had ${f.retransmissions} retransmitted segments among ${f.dataSegments} data segments`, a.file, await dropCounters(ctx));
      },
    },
    {
      id: 'answer-live-stream',
      title: 'answers.yaml: which transport suits a live stream, and why (live_stream, why)',
      points: 2,
      deadlineMs: 1500,
      hint: 'Think of a live video call: is a frame that arrives half a second late still useful? What does TCP do with everything behind a lost segment while it waits for the resend?',
      async run(ctx) {
        const a = await answersFile(ctx);
        if (!a.values) return fail(a.error ?? 'no answers', a.file);
        const choice = normalizeAnswer(a.values.live_stream);
        const why = String(a.values.why ?? '').trim();
        if (!choice) return fail('answers.yaml needs "live_stream: udp" or "live_stream: tcp"', a.file);
        if (choice !== 'udp') return fail(`live_stream: ${choice} is not the transport that keeps a live stream on time`, a.file);
        if (why.length < 15 || !WHY_WORDS.test(why)) return fail('"why" needs a sentence about timing: what happens to late or lost frames, and what TCP would do instead', a.file);
        return pass('UDP, because for live media a late frame is as bad as a lost one, and TCP would hold everything back to resend it', a.file);
      },
    },
  ];
}

export default defineLab({
  number: 9,
  slug: 'tcp-vs-udp',
  title: 'TCP vs UDP: a live stream over a lossy path',
  topics: ['UDP', 'TCP', 'packet loss', 'reordering', 'retransmission', 'live streaming', 'nc', 'tcpdump'],
  minutes: 35,
  goal: "Receive Bob's live stream on Alice's laptop over UDP and over TCP through a path that loses packets, measure what arrives, find TCP's retransmissions in a capture, and decide which transport fits a live stream.",
  submissionNodes: ['alice'],
  questions: [
    { key: 'udp_received', prompt: 'How many frames of one UDP run arrived' },
    { key: 'udp_late', prompt: 'In that run, how many frames arrived after a higher-numbered frame' },
    { key: 'tcp_received', prompt: 'How many frames of one TCP run arrived' },
    { key: 'tcp_retransmissions', prompt: 'How many retransmitted segments from Bob your capture of a TCP run shows' },
    { key: 'live_stream', prompt: 'Which transport fits a live stream: udp or tcp' },
    { key: 'why', prompt: 'Why, in one sentence' },
  ],
  vary,
  task(vars) {
    const v = streamVars(vars);
    return {
      stream_server: BOB_NAME,
      stream_port: `${PORT} (udp and tcp)`,
      frames: String(v.frames),
      frame_interval: `${PACE_MS} ms`,
      answers: '/root/answers.yaml with udp_received, udp_late, tcp_received, tcp_retransmissions, live_stream, why',
    };
  },
  faults,
  checks,
});
