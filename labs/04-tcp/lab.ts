// Lab 04: TCP. Alice captures her own HTTP exchange with Bob's server (tcpdump -w on her laptop)
// and reads the three-way handshake, the initial sequence numbers, the MSS and how many segments
// Bob's response took. Each learner fetches a different number of bytes, and her laptop announces
// a different MSS (a route attribute, advmss), so the segment counts differ; sequence numbers are
// random for every connection anyway, so copied answers fail.
//
// The capture is the learner's own file, so it is evidence she could fabricate. The grader reads
// it (parsing the pcap itself, not with tools on alice) and cross-checks it against places she
// cannot touch: a capture of its own, started on the home router when the lab starts (every SYN
// and every data segment between the home router and Bob's port 80, on its side facing the ISP,
// where frames Alice plays onto her own network never appear), and Bob's access log (the request, the client port it arrived from, the time). A
// capture is accepted only when the router saw the same connection: same port, same initial
// sequence numbers in both directions, same MSS in Alice's SYN, the same data segments from Bob.
// The answers are judged against such a confirmed capture only: a classmate's genuine capture,
// or one's own edited to suit, earns no answer points.
import { gunzipSync } from 'node:zlib';
import {
  fail,
  inconclusive,
  pass,
  type Check,
  type CheckContext,
  type Evidence,
  type Hints,
} from '../../checks/types.js';
import { answerCheck } from '../../checks/answers.js';
import {
  accessEntriesWith,
  addressOf,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  nodeOf,
  type Fault,
  type World,
} from '../kit/index.js';
import { zoneAddress } from '../kit/dns.js';
import {
  connections,
  describe,
  distinctSegments,
  parseTcpdumpText,
  PcapError,
  readPcap,
  serverBytes,
  type Connection,
  type TcpPacket,
} from './pcap.js';

// ---- facts from the lab's world ---------------------------------------------------------------

/** What the lab needs to know about Alice's side and Bob's, read once per world. */
export function tcpFacts(world: World) {
  const alice = nodeOf(world, 'alice');
  const iface = alice.interfaces[0]?.link;
  const gateway = alice.routes.find((r) => r.to === 'default')?.via;
  // The home router's interface towards the ISP, where its own capture listens: only packets from
  // upstream carry Bob's address as their source there (whatever Alice sends leaves it translated
  // to the router's own address), so nothing played onto Alice's network can pass for Bob's.
  const homeWan = nodeOf(world, 'home').interfaces.find((i) => i.link !== iface)?.link;
  const webIface = nodeOf(world, 'web').interfaces[0]?.link;
  if (!iface || !gateway || !homeWan || !webIface)
    throw new Error('lab 04: alice needs a link and a default route, home a second link, web a link');
  return {
    /** Alice's interface (and link), e.g. "lan". */
    iface,
    /** Alice's address, e.g. 192.168.1.101, and her default gateway, e.g. 192.168.1.1. */
    alice: addressOf(world, 'alice', iface),
    gateway,
    /** Bob's public address (web.bob.example), e.g. 198.51.100.80. */
    bob: zoneAddress(world, 'web.bob.example'),
    /** The home router's public address: the client address Bob's access log records. */
    homePublic: addressOf(world, 'home', 'access'),
    homeWan,
    /** Bob's server's interface. */
    webIface,
  };
}
export type TcpFacts = ReturnType<typeof tcpFacts>;

export const CAPTURE = '/root/handshake.pcap';
const WITNESS = '/var/lib/hurrynet/tcp-witness.pcap';
const WITNESS_LOG = '/var/lib/hurrynet/tcp-witness.log';
/** Captures larger than this are refused (they hold far more than one exchange). */
const MAX_RAW_BYTES = 16 * 1024 * 1024;
const MAX_GZ_BYTES = 512 * 1024;
const CHUNK = 14000;

// ---- variation --------------------------------------------------------------------------------

export const MSS_MIN = 900;
export const MSS_MAX = 1400;
export const SIZE_MIN = 20000;
export const SIZE_MAX = 59900;

export type TcpVars = { bytes: number; advmss: number };

const vary = draws<TcpVars>({
  bytes: (r) => r.int(SIZE_MIN / 100, SIZE_MAX / 100) * 100,
  advmss: (r) => r.int(MSS_MIN / 20, MSS_MAX / 20) * 20,
});

const pathOf = (v: TcpVars) => `/bytes/${v.bytes}`;

function faults(v: TcpVars, world: World): Fault[] {
  const f = tcpFacts(world);
  return [
    {
      node: 'alice',
      description: `Alice's laptop announces MSS ${v.advmss} (a route attribute, as a VPN client would set)`,
      script: `ip route change default via ${f.gateway} dev ${f.iface} advmss ${v.advmss}`,
    },
    {
      node: 'web',
      // Without this the kernel hands 64 KB "super-segments" to the virtual wire (segmentation
      // offload) and a capture shows a few huge packets instead of MSS-sized segments.
      description: "Bob's server puts real, MSS-sized segments on the wire (no segmentation offload)",
      script: `ip link set dev ${f.webIface} gso_max_segs 1`,
    },
    {
      node: 'home',
      // tcpdump is no service with a port: it is ready when it says it listens.
      description: "the grader's own capture on the home router (SYNs and Bob's data segments, headers only)",
      script: [
        `mkdir -p ${WITNESS.replace(/\/[^/]+$/, '')}`,
        `setsid nohup tcpdump -i ${f.homeWan} -nn -U -Z root -s 128 -w ${WITNESS} 'tcp and host ${f.bob} and port 80' >${WITNESS_LOG} 2>&1 </dev/null &`,
        `for i in $(seq 1 150); do grep -q listening ${WITNESS_LOG} && exit 0; sleep 0.1; done`,
        `echo "the router's capture did not start: $(cat ${WITNESS_LOG})" >&2; exit 1`,
      ].join('\n'),
    },
  ];
}

// ---- observations -----------------------------------------------------------------------------

interface CaptureRead {
  ok: boolean;
  error?: string;
  conns: Connection[];
  frames: number;
  evidence: Evidence;
  /** An exec failed (not the learner's fault): do not keep this reading. */
  transient?: boolean;
}

/** Reads the learner's capture from alice (gzip + base64 in chunks) and parses it here. */
async function readCapture(ctx: CheckContext, f: TcpFacts): Promise<CaptureRead> {
  const node = ctx.node('alice');
  const command = `read ${CAPTURE} (the grader parses the pcap itself)`;
  const ev = (exitCode: number, output: string): Evidence => ({ where: 'alice', command, exitCode, output });
  const head = await node.run(
    `f=${CAPTURE}; [ -f "$f" ] || { echo "no such file: $f"; exit 3; }; s=$(stat -L -c %s -- "$f"); [ "$s" -le ${MAX_RAW_BYTES} ] || { echo "$s bytes"; exit 4; }; ` +
      `t=$(mktemp); timeout 10 gzip -1 -n -c -- "$f" > "$t" && echo "$t $(stat -c %s "$t") $s"`,
    15000,
  );
  if (head.exitCode === 3)
    return {
      ok: false,
      error: `there is no ${CAPTURE} on Alice's laptop`,
      conns: [],
      frames: 0,
      evidence: ev(3, head.output),
    };
  if (head.exitCode === 4) {
    return {
      ok: false,
      error: `${CAPTURE} is too large (${head.output.trim()}): capture only port 80 while you fetch, then stop tcpdump`,
      conns: [],
      frames: 0,
      evidence: ev(4, head.output),
    };
  }
  const m = /^(\S+) (\d+) (\d+)$/m.exec(head.output);
  if (head.exitCode !== 0 || !m)
    return {
      ok: false,
      error: `${CAPTURE} could not be read`,
      conns: [],
      frames: 0,
      evidence: { ...ev(head.exitCode, head.output), graderError: head.graderError },
      transient: head.exitCode < 0,
    };
  const [, tmp, gzSize, rawSize] = m as unknown as [string, string, string, string];
  if (!/^\/[\w./-]+$/.test(tmp))
    return { ok: false, error: `${CAPTURE} could not be read`, conns: [], frames: 0, evidence: ev(1, head.output) };
  try {
    if (Number(gzSize) > MAX_GZ_BYTES) {
      return {
        ok: false,
        error: `${CAPTURE} is too large (${rawSize} bytes): capture only port 80 while you fetch, then stop tcpdump`,
        conns: [],
        frames: 0,
        evidence: ev(1, head.output),
      };
    }
    const offsets: number[] = [];
    for (let o = 0; o < Number(gzSize); o += CHUNK) offsets.push(o);
    const parts = await Promise.all(
      offsets.map((o) => node.run(`tail -c +${o + 1} -- ${tmp} | head -c ${CHUNK} | base64 -w0`, 10000)),
    );
    const bad = parts.find((p) => p.exitCode !== 0);
    if (bad)
      return {
        ok: false,
        error: `${CAPTURE} could not be read`,
        conns: [],
        frames: 0,
        evidence: {
          ...ev(bad.exitCode, bad.output),
          graderError: bad.graderError ?? 'a part of the copy could not be read',
        },
        transient: true,
      };
    let data: Buffer;
    try {
      data = gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.output.trim(), 'base64'))), {
        maxOutputLength: MAX_RAW_BYTES,
      });
    } catch {
      return {
        ok: false,
        error: `${CAPTURE} could not be read`,
        conns: [],
        frames: 0,
        evidence: { ...ev(1, 'the compressed copy was damaged'), graderError: 'the compressed copy was damaged' },
        transient: true,
      };
    }
    const cap = readPcap(data);
    const conns = connections(cap.tcp, f.bob, 80).filter((c) => c.client === f.alice);
    const summary = `${rawSize} bytes, ${cap.frames} packets, ${conns.length} connection(s) from ${f.alice} to ${f.bob} port 80${cap.truncated ? ' (the last record is cut short: was tcpdump still running?)' : ''}`;
    return { ok: true, conns, frames: cap.frames, evidence: ev(0, summary) };
  } catch (err) {
    if (err instanceof PcapError)
      return {
        ok: false,
        error: `${CAPTURE} is not a capture tcpdump can read: ${err.message}`,
        conns: [],
        frames: 0,
        evidence: ev(1, err.message),
      };
    throw err;
  } finally {
    await node.run(`rm -f -- ${tmp}`, 5000);
  }
}

interface Exchange {
  conn?: Connection;
  /** Why there is no usable exchange. */
  problem?: string;
  evidence: Evidence[];
}

const complete = (c: Connection) => !!c.synAck && !!c.ack;

/** The connection in the capture that fetched this learner's path (the one her answers name, if several). */
function pickExchange(f: TcpFacts, read: CaptureRead, path: string, port: number | undefined): Exchange {
  if (!read.ok) return { problem: read.error, evidence: [read.evidence] };
  const fetched = read.conns.filter(
    (c) => c.request.startsWith(`GET ${path} `) || c.request.startsWith(`GET ${path}?`),
  );
  const full = fetched.filter(complete);
  const conn = full.find((c) => c.clientPort === port) ?? full.at(-1);
  if (conn) return { conn, evidence: [{ ...read.evidence, output: `${read.evidence.output}\n${exchangeText(conn)}` }] };
  let problem: string;
  if (!read.conns.length)
    problem = `the capture holds no connection from Alice (${f.alice}) to Bob's server (${f.bob}) port 80`;
  else if (!fetched.length)
    problem = `the capture has connections to Bob's server, but none carries the request GET ${path}`;
  else
    problem = `the capture shows GET ${path}, but not the whole three-way handshake (SYN, SYN-ACK, ACK) before it: start tcpdump before curl`;
  const shown = read.conns.slice(-3).map(exchangeText).join('\n');
  return { problem, evidence: [{ ...read.evidence, output: `${read.evidence.output}${shown ? `\n${shown}` : ''}` }] };
}

/**
 * The exchange in tcpdump's words, without the numbers the learner must read herself (sequence
 * numbers, MSS, how many segments): the grader's output must not be the answer key.
 */
function exchangeText(c: Connection): string {
  const brief = (p: TcpPacket) =>
    describe(p)
      .replace(/, (seq|ack) \d+(:\d+)?/g, '')
      .replace(/, options \[[^\]]*\]/, '')
      .replace(/^\S+ /, '');
  const lines = [c.syn, c.synAck, c.ack].filter((p) => p !== undefined).map((p) => brief(p));
  const req = c.request.split('\r\n')[0];
  if (req) lines.push(`  request: ${req}`);
  if (c.serverData.length) lines.push(`  ... then Bob's data segments (count them yourself) ...`);
  return lines.join('\n');
}

/** The home router's own record of the connection from Alice's port, read with its own tcpdump. */
async function witness(
  ctx: CheckContext,
  f: TcpFacts,
  port: number,
): Promise<{ conn?: Connection; evidence: Evidence; transient: boolean }> {
  // SYNs of either side, and Bob's segments that carry data (IP length - IP header - TCP header > 0).
  const filter = `tcp port ${port} and ((tcp[tcpflags] & tcp-syn != 0) or (src host ${f.bob} and src port 80 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 0))`;
  const e = await ctx
    .node('home')
    .run(
      `tcpdump -r ${WITNESS} -nn -S -tt '${filter}' 2>/dev/null | sed -E '/Flags \\[S/!s/, options \\[[^]]*\\]//' | cut -c1-220`,
      15000,
    );
  // Seen upstream of the NAT: Alice's connection leaves as the router's public address, with her
  // port (NAT keeps it unless it is taken) and her sequence numbers and MSS unchanged.
  const conns = connections(parseTcpdumpText(e.output), f.bob, 80).filter(
    (c) => c.client === f.homePublic && c.clientPort === port,
  );
  return { conn: conns.at(-1), evidence: e, transient: e.exitCode < 0 };
}

/**
 * Why the router's record of a connection disagrees with the capture, or undefined when they
 * agree: the same initial sequence numbers, the same MSS in Alice's SYN, and the same data
 * segments from Bob (each one's sequence number and length, and how many, retransmissions too).
 */
export function disagreement(c: Connection, w: Connection | undefined): string | undefined {
  if (!w || !w.synAck)
    return `the home router never forwarded a connection from ${c.client} port ${c.clientPort} to ${c.server}:${c.serverPort} with that handshake`;
  if (w.syn.seq !== c.syn.seq || w.synAck.seq !== c.synAck?.seq)
    return `the home router saw port ${c.clientPort} connect with other initial sequence numbers than the capture shows`;
  if (w.syn.mss !== c.syn.mss)
    return `the home router saw Alice's SYN on port ${c.clientPort} announce another MSS than the capture shows`;
  if (w.serverData.length > c.serverData.length) {
    return `the capture misses some of Bob's data segments that the home router forwarded: tcpdump was stopped before it had written them all (wait a second or two after curl before you stop it, then capture again)`;
  }
  if (w.serverData.length < c.serverData.length)
    return `the capture holds more data segments from Bob than the home router forwarded on that connection`;
  const key = (p: TcpPacket) => `${p.seq}:${p.length}`;
  const forwarded = new Set(w.serverData.map(key));
  if (c.serverData.some((p) => !forwarded.has(key(p))))
    return `the capture's data segments from Bob are not the ones the home router forwarded on that connection (other sequence numbers or lengths)`;
  return undefined;
}

interface Observation {
  exchange: Exchange;
  answerPort?: number;
}

interface Confirmed {
  /** The capture's exchange, when the home router forwarded exactly that connection. */
  conn?: Connection;
  evidence: Evidence[];
}

/** What the checks of one learner's grading share: one reading of her capture per run, and its confirmation. */
interface Observer {
  observe(ctx: CheckContext): Promise<Observation>;
  confirmed(ctx: CheckContext): Promise<Confirmed>;
}

function observer(f: TcpFacts, path: string): Observer {
  const observations = new WeakMap<CheckContext, Promise<Observation>>();
  const confirmations = new WeakMap<CheckContext, Promise<Confirmed>>();
  const observe = (ctx: CheckContext): Promise<Observation> => {
    let o = observations.get(ctx);
    if (!o) {
      o = (async () => {
        const [read, answers] = await Promise.all([readCapture(ctx, f), ctx.answers()]);
        const port = answers.ok ? Number(answers.values.client_port) : undefined;
        const exchange = pickExchange(f, read, path, Number.isInteger(port) ? port : undefined);
        if (read.transient) observations.delete(ctx);
        return { exchange, answerPort: port };
      })();
      observations.set(ctx, o);
    }
    return o;
  };
  /**
   * The capture's exchange, confirmed by the home router's own record: answers are judged against
   * it only, so a capture from another world, or one edited to suit, earns no answer. Only an
   * agreement is kept for the run; a disagreement is read again on the next attempt (the router's
   * tcpdump may still be writing on a busy machine).
   */
  const confirmed = (ctx: CheckContext): Promise<Confirmed> => {
    let p = confirmations.get(ctx);
    if (!p) {
      p = (async (): Promise<Confirmed> => {
        const o = await observe(ctx);
        const c = o.exchange.conn;
        if (!c) return { evidence: o.exchange.evidence };
        const w = await witness(ctx, f, c.clientPort);
        if (w.transient) {
          // The grader could not read its own capture (its evidence carries the error, not the key).
          confirmations.delete(ctx);
          return { evidence: [...o.exchange.evidence, w.evidence] };
        }
        const problem = disagreement(c, w.conn);
        if (!problem) return { conn: c, evidence: o.exchange.evidence };
        confirmations.delete(ctx);
        const note: Evidence = {
          where: 'home',
          command: "the router's own capture, compared with yours (see the check 'witnessed')",
          exitCode: 1,
          output: problem,
        };
        return { evidence: [...o.exchange.evidence, note] };
      })();
      confirmations.set(ctx, p);
      p.catch(() => confirmations.delete(ctx));
    }
    return p;
  };
  return { observe, confirmed };
}

// ---- checks -----------------------------------------------------------------------------------

const captureCheck = (path: string, o: Observer, f: TcpFacts): Check => ({
  id: 'capture',
  title: `${CAPTURE} holds Alice's whole exchange with Bob: handshake and GET ${path}`,
  points: 2,
  hint: [
    `The file ${CAPTURE} on Alice's laptop: it must hold one whole connection to Bob's port 80, from the first SYN through GET ${path} to Bob's answer. A capture started after the fetch, or on another interface, misses the start.`,
    `tcpdump -r ${CAPTURE} -nn -S reads it back: look for Flags [S], [S.] and [.] before the GET. tcpdump -i ${f.iface} -w FILE port 80 writes one; wait for "listening on ${f.iface}" before you fetch.`,
    `tcpdump -i ${f.iface} -w ${CAPTURE} port 80 & (wait for "listening on ${f.iface}"), then curl -o /dev/null http://web.bob.example${path}, wait a second or two, then kill %1.`,
  ],
  async run(ctx) {
    const { exchange } = await o.observe(ctx);
    const c = exchange.conn;
    if (!c) return fail(exchange.problem ?? 'no usable exchange in the capture', ...exchange.evidence);
    return pass(
      `the capture shows SYN, SYN-ACK and ACK from port ${c.clientPort}, then GET ${path} and Bob's answer`,
      ...exchange.evidence,
    );
  },
});

const witnessedCheck = (o: Observer, f: TcpFacts): Check => ({
  id: 'witnessed',
  title: 'The home router saw the same connection (same port, same initial sequence numbers and MSS, same segments)',
  points: 2,
  hint: [
    "The home router's own record of the connection, against your capture: the same port, the same initial sequence numbers and MSS, and every data segment Bob sent. A capture from another world, an edited one, or one stopped too early differs.",
    `tcpdump -r ${CAPTURE} -nn -S shows what you hand in. tcpdump writes packets in batches: if it stops before the last batch is written, Bob's last segments are missing from the file.`,
    `Capture again, unchanged and complete: tcpdump -i ${f.iface} -w ${CAPTURE} port 80 &, the curl, then wait a second or two before kill %1 (never kill -9), and leave the file as tcpdump wrote it.`,
  ],
  deadlineMs: 6000,
  async run(ctx) {
    const { exchange } = await o.observe(ctx);
    const c = exchange.conn;
    if (!c || !c.synAck)
      return fail(`there is no exchange in ${CAPTURE} to compare (see the first check)`, ...exchange.evidence);
    // Read afresh on every attempt: the router's tcpdump may still be writing on a busy machine.
    const seen = await witness(ctx, f, c.clientPort);
    if (seen.transient) return inconclusive("the home router's own capture could not be read", seen.evidence);
    const mine: Evidence = {
      where: 'alice',
      command: `the handshake in ${CAPTURE}`,
      exitCode: 0,
      output: exchangeText(c),
    };
    // The router's record is shown only as a verdict: it is the answer key.
    const redacted: Evidence = {
      where: 'home',
      command: `tcpdump -r (the router's own capture) 'tcp port ${c.clientPort}'`,
      exitCode: 0,
      output: '(not shown: it does not match the capture)',
    };
    const problem = disagreement(c, seen.conn);
    if (problem) return fail(problem, mine, redacted);
    const agreed: Evidence = {
      ...redacted,
      output:
        "(not shown: it agrees with the capture in both initial sequence numbers, Alice's MSS and every data segment from Bob)",
    };
    return pass(
      `the router forwarded the same handshake and the same data segments from Bob on port ${c.clientPort}`,
      mine,
      agreed,
    );
  },
});

const servedCheck = (path: string, o: Observer, f: TcpFacts): Check => ({
  id: 'served',
  title: `Bob's server answered that GET ${path} (its access log shows the request from Alice's network)`,
  points: 1,
  hint: [
    `Bob's access log, his record of every request: it must show GET ${path}, the path on your task card, from Alice's network, on the connection of your capture.`,
    `The "fetch" line of /root/TASK.txt gives the URL; curl -o /dev/null -w '%{http_code}\\n' URL prints the status Bob answered (200 when he served it).`,
    `While tcpdump captures: curl -o /dev/null http://web.bob.example${path}`,
  ],
  async run(ctx) {
    const [{ exchange }, log] = await Promise.all([o.observe(ctx), accessEntriesWith(ctx.node('web'), path)]);
    const mine = log.entries.filter((e) => e.method === 'GET' && (e.path === path || e.path.startsWith(`${path}?`)));
    const shortLog: Evidence = {
      ...log.evidence,
      command: `grep '${path}' ${FILES.webAccessLog} | tail -n 5`,
      output: mine
        .slice(-5)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    };
    if (!mine.length) return fail(`Bob's access log has no GET ${path}`, shortLog);
    const c = exchange.conn;
    if (!c)
      return fail(
        `Bob served GET ${path}, but ${CAPTURE} holds no exchange to match it with (see the first check)`,
        shortLog,
      );
    const sent = c.packets.find((p) => p.length > 0 && p.src === f.alice)?.time ?? c.syn.time;
    // NAT keeps the port unless it is taken; the time is a second witness.
    const match = mine.find(
      (e) =>
        e.client === f.homePublic &&
        e.status === 200 &&
        (e.port === c.clientPort || Math.abs(Date.parse(e.time) / 1000 - sent) < 3),
    );
    if (!match)
      return fail(
        `Bob's access log shows no successful GET ${path} from ${f.homePublic} port ${c.clientPort} at the time of the capture`,
        shortLog,
      );
    return pass(
      `Bob served GET ${path} with 200 to ${match.client} port ${match.port ?? '?'} (Alice's connection, after NAT)`,
      shortLog,
    );
  },
});

const num = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN);
/** Numeric comparison; "a|b" accepts either. */
const sameNumber = (given: string, want: string) => want.split('|').some((w) => num(given) === Number(w));

interface ExchangeAnswer {
  id: string;
  title: string;
  key: string;
  points: number;
  hint: Hints;
  /** What the answer is compared with, in the world's terms. */
  about: string;
  /** The answer, read from the confirmed connection. */
  value: (c: Connection) => string | undefined;
  required?: boolean;
}

/** An answer judged against the capture's exchange once the home router has confirmed it. */
function exchangeAnswer({ value, ...spec }: ExchangeAnswer, o: Observer): Check {
  return answerCheck({
    ...spec,
    async expected(ctx) {
      const { conn, evidence } = await o.confirmed(ctx);
      return { value: conn ? value(conn) : undefined, evidence };
    },
    matches: sameNumber,
  });
}

const exchangeAnswers = (f: TcpFacts): ExchangeAnswer[] => [
  {
    id: 'answer-port',
    title: "answers.yaml: Alice's source port (client_port)",
    key: 'client_port',
    points: 1,
    about: 'the port Alice used on the connection of your capture',
    hint: [
      "Alice's side of the connection: the port her laptop picked for this one connection (Bob's side is port 80). Each connection gets its own.",
      `tcpdump -r ${CAPTURE} -nn -S: every line reads SOURCE.PORT > DESTINATION.PORT; Alice is ${f.alice}.`,
      `In /root/answers.yaml, client_port: the number after ${f.alice}. in the SYN (Flags [S]) of the connection that fetched your path.`,
    ],
    value: (c) => String(c.clientPort),
  },
  {
    id: 'answer-client-isn',
    title: "answers.yaml: Alice's initial sequence number (client_isn)",
    key: 'client_isn',
    points: 1,
    about: "the initial sequence number in Alice's SYN on the connection of your capture",
    hint: [
      "Alice's first segment, the SYN: the number she starts counting her bytes at. It is random for every connection.",
      `tcpdump -r ${CAPTURE} -nn -S (with -S, or tcpdump shows relative numbers 0, 1, ... after the SYN); the SYN is the line with Flags [S].`,
      'In /root/answers.yaml, client_isn: the number after "seq" in the Flags [S] line, absolute, as tcpdump -S prints it.',
    ],
    value: (c) => String(c.syn.seq),
  },
  {
    id: 'answer-server-isn',
    title: "answers.yaml: Bob's initial sequence number (server_isn)",
    key: 'server_isn',
    points: 1,
    about: "the initial sequence number in Bob's SYN-ACK on the connection of your capture",
    hint: [
      "Bob's answer to the SYN, the SYN-ACK: it starts his own count, and acknowledges Alice's SYN.",
      `tcpdump -r ${CAPTURE} -nn -S: the line with Flags [S.]; its "ack" is client_isn + 1, because the SYN counts as one byte.`,
      'In /root/answers.yaml, server_isn: the number after "seq" in the Flags [S.] line, absolute.',
    ],
    value: (c) => (c.synAck ? String(c.synAck.seq) : undefined),
  },
  {
    id: 'answer-mss',
    title: 'answers.yaml: the MSS Alice announced in her SYN (mss)',
    key: 'mss',
    points: 1,
    about: "the MSS in Alice's SYN on the connection of your capture",
    hint: [
      "The options of Alice's SYN: she tells Bob the largest segment she wants to receive. Her laptop's routes set it here (advmss on the default route).",
      `tcpdump -r ${CAPTURE} -nn -S prints the options in brackets after the SYN: options [mss ...,sackOK,...]; ip route shows advmss. Bob announces his own MSS in the SYN-ACK.`,
      'In /root/answers.yaml, mss: the number after "mss" in the options of the Flags [S] line (Alice\'s, not Bob\'s).',
    ],
    value: (c) => (c.syn.mss !== undefined ? String(c.syn.mss) : undefined),
  },
  {
    id: 'answer-segments',
    title: 'answers.yaml: how many segments carrying data Bob sent for the response (data_segments)',
    key: 'data_segments',
    points: 2,
    about: 'the number of data segments from Bob on the connection of your capture',
    hint: [
      "Bob's side of the connection, only the segments that carry data: the SYN-ACK, pure ACKs and the FIN carry none. Each data segment is at most as big as Alice's MSS allows.",
      `tcpdump -r ${CAPTURE} -nn 'src port 80' lists everything Bob sent; the lines ending in "length 0" carry no data. grep -v drops lines, grep -c counts them.`,
      `tcpdump -r ${CAPTURE} -nn 'src port 80' | grep -vc 'length 0$' counts them (one connection in the capture); write the number as data_segments.`,
    ],
    value: (c) => {
      const all = c.serverData.length;
      const distinct = distinctSegments(c.serverData);
      return all === distinct ? String(all) : `${all}|${distinct}`;
    },
  },
  {
    id: 'answer-bytes',
    title: 'answers.yaml: how many bytes of data Bob sent (headers and body), from the sequence numbers (server_bytes)',
    key: 'server_bytes',
    points: 1,
    about: 'the number of data bytes Bob sent on the connection of your capture',
    hint: [
      "Bob's sequence numbers count his bytes: where his data starts and where his last data segment ends. HTTP headers travel in the same byte stream as the body, so the total is a little more than the size on your card.",
      `tcpdump -r ${CAPTURE} -nn -S 'src port 80': each data segment shows seq A:B (bytes A up to, not including, B); the first data byte is server_isn + 1.`,
      'If the last data segment from Bob is seq A:B, write server_bytes: B - server_isn - 1.',
    ],
    value: (c) => serverBytes(c)?.toString(),
    required: false,
  },
];

function checks(v: TcpVars, world: World): Check[] {
  const f = tcpFacts(world);
  const path = pathOf(v);
  const o = observer(f, path);
  return [
    captureCheck(path, o, f),
    witnessedCheck(o, f),
    servedCheck(path, o, f),
    ...exchangeAnswers(f).map((a) => exchangeAnswer(a, o)),
  ];
}

export default defineLab<TcpVars>({
  number: 4,
  slug: 'tcp',
  title: 'TCP: handshake, sequence numbers and segments',
  topics: ['TCP', 'three-way handshake', 'sequence and acknowledgement numbers', 'MSS', 'segmentation', 'tcpdump'],
  minutes: 30,
  goal: "Capture Alice's own HTTP download with tcpdump, then read the capture: the three-way handshake, both initial sequence numbers, the MSS, and how many segments Bob's response took.",
  submissionNodes: ['alice'],
  questions: [
    { key: 'client_port', prompt: "Alice's source port for the connection" },
    { key: 'client_isn', prompt: "Alice's initial sequence number (in her SYN), absolute" },
    { key: 'server_isn', prompt: "Bob's initial sequence number (in his SYN-ACK), absolute" },
    { key: 'mss', prompt: 'The MSS Alice announced in her SYN' },
    { key: 'data_segments', prompt: 'How many segments carrying data Bob sent on the connection' },
    {
      key: 'server_bytes',
      prompt: 'How many bytes of data Bob sent (HTTP headers and body), from the sequence numbers',
    },
  ],
  vary,
  task(v) {
    // The task card gets no world; this lab has no overlay, so its world is the canonical one.
    const { iface } = tcpFacts(canonicalWorld);
    return {
      fetch: `http://web.bob.example${pathOf(v)}`,
      capture_on: `${iface} (Alice's interface), port 80`,
      capture_file: CAPTURE,
      answers: `${FILES.answers} with client_port, client_isn, server_isn, mss, data_segments, server_bytes`,
    };
  },
  faults,
  checks,
});
