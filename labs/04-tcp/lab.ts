// Lab 04: TCP. Alice captures her own HTTP exchange with Bob's server (tcpdump -w on her laptop)
// and reads the three-way handshake, the initial sequence numbers, the MSS and how many segments
// Bob's response took. Each learner fetches a different number of bytes, and her laptop announces
// a different MSS (a route attribute, advmss), so the segment counts differ; sequence numbers are
// random for every connection anyway, so copied answers fail.
//
// The capture is the learner's own file, so it is evidence she could fabricate. The grader reads
// it (parsing the pcap itself, not with tools on alice) and cross-checks it against places she
// cannot touch: a capture of its own, started on the home router when the lab starts (every SYN
// and every data segment between the home network and Bob's port 80, as the router forwarded
// them), and Bob's access log (the request, the client port it arrived from, the time). A
// capture is accepted only when the router saw the same connection: same port, same initial
// sequence numbers in both directions, same number of data segments from Bob.
import { gunzipSync } from 'node:zlib';
import { defineLab, type Fault, type Vars } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { readFile } from '../../checks/probes.js';
import { answerCheck } from '../../checks/answers.js';
import { connections, describe, distinctSegments, parseTcpdumpText, PcapError, readPcap, serverBytes, type Connection, type TcpPacket } from './pcap.js';

// ---- facts from the world data ----------------------------------------------------------------

const alice = findNode(canonicalWorld, 'alice');
const home = findNode(canonicalWorld, 'home');
const web = findNode(canonicalWorld, 'web');
const bobWeb = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'web' && r.type === 'A');
if (!alice || !home || !web || !bobWeb) throw new Error('lab 04: the world lacks alice, home, web or web.bob.example');
const bare = (cidr: string) => cidr.split('/')[0] as string;

/** Alice's interface (and link), e.g. "home". */
export const IFACE = alice.interfaces[0]?.link as string;
/** Alice's address, e.g. 192.168.1.101. */
export const ALICE = bare(alice.interfaces[0]?.addresses[0] as string);
/** Alice's default gateway, e.g. 192.168.1.1. */
export const GATEWAY = alice.routes.find((r) => r.to === 'default')?.via as string;
/** Bob's public address (web.bob.example), e.g. 198.51.100.80. */
export const BOB = bobWeb.value;
/** The home router's public address: the client address Bob's access log records. */
export const HOME_PUBLIC = bare(home.interfaces.find((i) => i.link === 'access')?.addresses[0] as string);
/** The home router's interface on Alice's network (where its own capture listens). */
const HOME_LAN = home.interfaces.find((i) => i.link === IFACE)?.link as string;
/** Bob's server's interface. */
const WEB_IFACE = web.interfaces[0]?.link as string;
if (!IFACE || !GATEWAY || !HOME_PUBLIC || !HOME_LAN || !WEB_IFACE) throw new Error('lab 04: incomplete world data');

export const CAPTURE = '/root/handshake.pcap';
const ACCESS_LOG = '/var/log/web/access.log';
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

function vary(rng: { int(min: number, max: number): number }): Vars {
  return {
    bytes: rng.int(SIZE_MIN / 100, SIZE_MAX / 100) * 100,
    advmss: rng.int(MSS_MIN / 20, MSS_MAX / 20) * 20,
  };
}

const pathOf = (v: Vars) => `/bytes/${Number(v.bytes)}`;

function faults(v: Vars): Fault[] {
  return [
    {
      node: 'alice',
      description: `Alice's laptop announces MSS ${Number(v.advmss)} (a route attribute, as a VPN client would set)`,
      script: `ip route change default via ${GATEWAY} dev ${IFACE} advmss ${Number(v.advmss)}`,
    },
    {
      node: 'web',
      // Without this the kernel hands 64 KB "super-segments" to the virtual wire (segmentation
      // offload) and a capture shows a few huge packets instead of MSS-sized segments.
      description: "Bob's server puts real, MSS-sized segments on the wire (no segmentation offload)",
      script: `ip link set dev ${WEB_IFACE} gso_max_segs 1`,
    },
    {
      node: 'home',
      description: "the grader's own capture on the home router (SYNs and Bob's data segments, headers only)",
      script: [
        `mkdir -p ${WITNESS.replace(/\/[^/]+$/, '')}`,
        `setsid nohup tcpdump -i ${HOME_LAN} -nn -U -Z root -s 128 -w ${WITNESS} 'tcp and host ${BOB} and port 80' >${WITNESS_LOG} 2>&1 </dev/null &`,
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
async function readCapture(ctx: CheckContext): Promise<CaptureRead> {
  const node = ctx.node('alice');
  const command = `read ${CAPTURE} (the grader parses the pcap itself)`;
  const ev = (exitCode: number, output: string): Evidence => ({ where: 'alice', command, exitCode, output });
  const head = await node.run(
    `f=${CAPTURE}; [ -f "$f" ] || { echo "no such file: $f"; exit 3; }; s=$(stat -L -c %s -- "$f"); [ "$s" -le ${MAX_RAW_BYTES} ] || { echo "$s bytes"; exit 4; }; ` +
      `t=$(mktemp); timeout 10 gzip -1 -n -c -- "$f" > "$t" && echo "$t $(stat -c %s "$t") $s"`,
    15000,
  );
  if (head.exitCode === 3) return { ok: false, error: `there is no ${CAPTURE} on Alice's laptop`, conns: [], frames: 0, evidence: ev(3, head.output) };
  if (head.exitCode === 4) {
    return { ok: false, error: `${CAPTURE} is too large (${head.output.trim()}): capture only port 80 while you fetch, then stop tcpdump`, conns: [], frames: 0, evidence: ev(4, head.output) };
  }
  const m = /^(\S+) (\d+) (\d+)$/m.exec(head.output);
  if (head.exitCode !== 0 || !m) return { ok: false, error: `${CAPTURE} could not be read`, conns: [], frames: 0, evidence: ev(head.exitCode, head.output), transient: head.exitCode < 0 };
  const [, tmp, gzSize, rawSize] = m as unknown as [string, string, string, string];
  if (!/^\/[\w./-]+$/.test(tmp)) return { ok: false, error: `${CAPTURE} could not be read`, conns: [], frames: 0, evidence: ev(1, head.output) };
  try {
    if (Number(gzSize) > MAX_GZ_BYTES) {
      return { ok: false, error: `${CAPTURE} is too large (${rawSize} bytes): capture only port 80 while you fetch, then stop tcpdump`, conns: [], frames: 0, evidence: ev(1, head.output) };
    }
    const offsets: number[] = [];
    for (let o = 0; o < Number(gzSize); o += CHUNK) offsets.push(o);
    const parts = await Promise.all(offsets.map((o) => node.run(`tail -c +${o + 1} -- ${tmp} | head -c ${CHUNK} | base64 -w0`, 10000)));
    const bad = parts.find((p) => p.exitCode !== 0);
    if (bad) return { ok: false, error: `${CAPTURE} could not be read`, conns: [], frames: 0, evidence: ev(bad.exitCode, bad.output), transient: true };
    let data: Buffer;
    try {
      data = gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.output.trim(), 'base64'))), { maxOutputLength: MAX_RAW_BYTES });
    } catch {
      return { ok: false, error: `${CAPTURE} could not be read`, conns: [], frames: 0, evidence: ev(1, 'the compressed copy was damaged'), transient: true };
    }
    const cap = readPcap(data);
    const conns = connections(cap.tcp, BOB, 80).filter((c) => c.client === ALICE);
    const summary = `${rawSize} bytes, ${cap.frames} packets, ${conns.length} connection(s) from ${ALICE} to ${BOB} port 80${cap.truncated ? ' (the last record is cut short: was tcpdump still running?)' : ''}`;
    return { ok: true, conns, frames: cap.frames, evidence: ev(0, summary) };
  } catch (err) {
    if (err instanceof PcapError) return { ok: false, error: `${CAPTURE} is not a capture tcpdump can read: ${err.message}`, conns: [], frames: 0, evidence: ev(1, err.message) };
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
function pickExchange(read: CaptureRead, path: string, port: number | undefined): Exchange {
  if (!read.ok) return { problem: read.error, evidence: [read.evidence] };
  const fetched = read.conns.filter((c) => c.request.startsWith(`GET ${path} `) || c.request.startsWith(`GET ${path}?`));
  const full = fetched.filter(complete);
  const conn = full.find((c) => c.clientPort === port) ?? full.at(-1);
  if (conn) return { conn, evidence: [{ ...read.evidence, output: `${read.evidence.output}\n${exchangeText(conn)}` }] };
  let problem: string;
  if (!read.conns.length) problem = `the capture holds no connection from Alice (${ALICE}) to Bob's server (${BOB}) port 80`;
  else if (!fetched.length) problem = `the capture has connections to Bob's server, but none carries the request GET ${path}`;
  else problem = `the capture shows GET ${path}, but not the whole three-way handshake (SYN, SYN-ACK, ACK) before it: start tcpdump before curl`;
  const shown = read.conns.slice(-3).map(exchangeText).join('\n');
  return { problem, evidence: [{ ...read.evidence, output: `${read.evidence.output}${shown ? `\n${shown}` : ''}` }] };
}

/**
 * The exchange in tcpdump's words, without the numbers the learner must read herself (sequence
 * numbers, MSS, how many segments): the grader's output must not be the answer key.
 */
function exchangeText(c: Connection): string {
  const brief = (p: TcpPacket) => describe(p).replace(/, (seq|ack) \d+(:\d+)?/g, '').replace(/, options \[[^\]]*\]/, '').replace(/^\S+ /, '');
  const lines = [c.syn, c.synAck, c.ack].filter((p) => p !== undefined).map((p) => brief(p));
  const req = c.request.split('\r\n')[0];
  if (req) lines.push(`  request: ${req}`);
  if (c.serverData.length) lines.push(`  ... then Bob's data segments (count them yourself) ...`);
  return lines.join('\n');
}

/** The home router's own record of the connection from Alice's port, read with its own tcpdump. */
async function witness(ctx: CheckContext, port: number): Promise<{ conn?: Connection; evidence: Evidence; transient: boolean }> {
  // SYNs of either side, and Bob's segments that carry data (IP length - IP header - TCP header > 0).
  const filter = `tcp port ${port} and ((tcp[tcpflags] & tcp-syn != 0) or (src host ${BOB} and src port 80 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 0))`;
  const e = await ctx.node('home').run(`tcpdump -r ${WITNESS} -nn -S -tt '${filter}' 2>/dev/null | sed -E '/Flags \\[S/!s/, options \\[[^]]*\\]//' | cut -c1-220`, 15000);
  const conns = connections(parseTcpdumpText(e.output), BOB, 80).filter((c) => c.client === ALICE && c.clientPort === port);
  return { conn: conns.at(-1), evidence: e, transient: e.exitCode < 0 };
}

interface Observation {
  exchange: Exchange;
  answerPort?: number;
}

const cache = new WeakMap<CheckContext, Promise<Observation>>();

/** One reading of the learner's capture per grading run, shared by the checks. */
function observe(ctx: CheckContext): Promise<Observation> {
  let o = cache.get(ctx);
  if (!o) {
    o = (async () => {
      const [read, answers] = await Promise.all([readCapture(ctx), ctx.answers()]);
      const port = answers.ok ? Number(answers.values.client_port) : undefined;
      const exchange = pickExchange(read, pathOf(ctx.vars), Number.isInteger(port) ? port : undefined);
      if (read.transient) cache.delete(ctx);
      return { exchange, answerPort: port };
    })();
    cache.set(ctx, o);
  }
  return o;
}

// ---- checks -----------------------------------------------------------------------------------

const num = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN);
/** Numeric comparison; "a|b" accepts either. */
const sameNumber = (given: string, want: string) => want.split('|').some((w) => num(given) === Number(w));

function exchangeAnswer(id: string, title: string, key: string, points: number, hint: string, value: (c: Connection) => string | undefined, required = true): Check {
  return answerCheck({
    id,
    title,
    key,
    points,
    hint,
    required,
    async expected(ctx) {
      const o = await observe(ctx);
      const c = o.exchange.conn;
      return { value: c ? value(c) : undefined, evidence: o.exchange.evidence };
    },
    matches: sameNumber,
  });
}

function checks(v: Vars): Check[] {
  const path = pathOf(v);
  return [
    {
      id: 'capture',
      title: `${CAPTURE} holds Alice's whole exchange with Bob: handshake and GET ${path}`,
      points: 2,
      hint: `Start the capture first, then fetch, then stop it: tcpdump -i ${IFACE} -w ${CAPTURE} port 80 & (then curl -o /dev/null http://web.bob.example${path}, then kill %1). Look at it with: tcpdump -r ${CAPTURE} -nn -S`,
      async run(ctx) {
        const o = await observe(ctx);
        const c = o.exchange.conn;
        if (!c) return fail(o.exchange.problem ?? 'no usable exchange in the capture', ...o.exchange.evidence);
        return pass(`the capture shows SYN, SYN-ACK and ACK from port ${c.clientPort}, then GET ${path} and Bob's answer`, ...o.exchange.evidence);
      },
    },
    {
      id: 'witnessed',
      title: 'The home router saw the same connection (same port, same initial sequence numbers, same segments)',
      points: 2,
      hint: 'Hand in the capture tcpdump wrote while you fetched, unchanged and complete: the grader compares it with what the home router forwarded at that moment.',
      deadlineMs: 6000,
      async run(ctx) {
        const o = await observe(ctx);
        const c = o.exchange.conn;
        if (!c || !c.synAck) return fail(`there is no exchange in ${CAPTURE} to compare (see the first check)`, ...o.exchange.evidence);
        // Read afresh on every attempt: the router's tcpdump may still be writing on a busy machine.
        const w = (await witness(ctx, c.clientPort)).conn;
        const mine: Evidence = { where: 'alice', command: `the handshake in ${CAPTURE}`, exitCode: 0, output: exchangeText(c) };
        // The router's record is shown only as a verdict: it is the answer key.
        const redacted: Evidence = { where: 'home', command: `tcpdump -r (the router's own capture) 'tcp port ${c.clientPort}'`, exitCode: 0, output: '(not shown: it does not match the capture)' };
        if (!w || !w.synAck) return fail(`the home router never forwarded a connection from ${ALICE} port ${c.clientPort} to ${BOB}:80 with that handshake`, mine, redacted);
        if (w.syn.seq !== c.syn.seq || w.synAck.seq !== c.synAck.seq) {
          return fail(`the home router saw port ${c.clientPort} connect with other initial sequence numbers than the capture shows`, mine, redacted);
        }
        if (w.serverData.length > c.serverData.length) {
          return fail(`the capture misses some of Bob's data segments that the home router forwarded: tcpdump was stopped before it had written them all (wait a second or two after curl before you stop it, then capture again)`, mine, redacted);
        }
        if (w.serverData.length < c.serverData.length) {
          return fail(`the capture holds more data segments from Bob than the home router forwarded on that connection`, mine, redacted);
        }
        const agreed: Evidence = { ...redacted, output: '(not shown: it agrees with the capture in both initial sequence numbers and in every data segment from Bob)' };
        return pass(`the router forwarded the same handshake and the same data segments from Bob on port ${c.clientPort}`, mine, agreed);
      },
    },
    {
      id: 'served',
      title: `Bob's server answered that GET ${path} (its access log shows the request from Alice's network)`,
      points: 1,
      hint: `Fetch the exact path from your task card: curl -o /dev/null http://web.bob.example${path}`,
      async run(ctx) {
        const [o, log] = await Promise.all([observe(ctx), readFile(ctx.node('web'), ACCESS_LOG)]);
        const entries = log.text.split('\n').flatMap((l) => {
          try {
            return [JSON.parse(l) as { time: string; client: string; port?: number; method: string; path: string; status: number }];
          } catch {
            return [];
          }
        });
        const mine = entries.filter((e) => e.method === 'GET' && (e.path === path || e.path.startsWith(`${path}?`)));
        const shortLog: Evidence = { ...log.evidence, command: `grep '${path}' ${ACCESS_LOG} | tail -n 5`, output: mine.slice(-5).map((e) => JSON.stringify(e)).join('\n') };
        if (!mine.length) return fail(`Bob's access log has no GET ${path}`, shortLog);
        const c = o.exchange.conn;
        if (!c) return fail(`Bob served GET ${path}, but ${CAPTURE} holds no exchange to match it with (see the first check)`, shortLog);
        const sent = c.packets.find((p) => p.length > 0 && p.src === ALICE)?.time ?? c.syn.time;
        // NAT keeps the port unless it is taken; the time is a second witness.
        const match = mine.find((e) => e.client === HOME_PUBLIC && e.status === 200 && (e.port === c.clientPort || Math.abs(Date.parse(e.time) / 1000 - sent) < 3));
        if (!match) return fail(`Bob's access log shows no successful GET ${path} from ${HOME_PUBLIC} port ${c.clientPort} at the time of the capture`, shortLog);
        return pass(`Bob served GET ${path} with 200 to ${match.client} port ${match.port ?? '?'} (Alice's connection, after NAT)`, shortLog);
      },
    },
    exchangeAnswer('answer-port', "answers.yaml: Alice's source port (client_port)", 'client_port', 1, "Alice's side of the connection is 192.168.1.101.PORT in every line; Bob's side is port 80.", (c) => String(c.clientPort)),
    exchangeAnswer(
      'answer-client-isn',
      "answers.yaml: Alice's initial sequence number (client_isn)",
      'client_isn',
      1,
      'The "seq" of the first segment, the SYN (Flags [S]). Read the capture with -S, or tcpdump shows relative numbers (0, 1, ...) after the SYN.',
      (c) => String(c.syn.seq),
    ),
    exchangeAnswer(
      'answer-server-isn',
      "answers.yaml: Bob's initial sequence number (server_isn)",
      'server_isn',
      1,
      'The "seq" of the SYN-ACK (Flags [S.]); its "ack" is client_isn + 1.',
      (c) => (c.synAck ? String(c.synAck.seq) : undefined),
    ),
    exchangeAnswer(
      'answer-mss',
      'answers.yaml: the MSS Alice announced in her SYN (mss)',
      'mss',
      1,
      'Options are printed in brackets after the SYN: options [mss ...,sackOK,...]. Bob announces his own in the SYN-ACK.',
      (c) => (c.syn.mss !== undefined ? String(c.syn.mss) : undefined),
    ),
    exchangeAnswer(
      'answer-segments',
      'answers.yaml: how many segments carrying data Bob sent for the response (data_segments)',
      'data_segments',
      2,
      `Count Bob's segments whose "length" is above 0: tcpdump -r ${CAPTURE} -nn -S 'src port 80' lists everything Bob sent, and the lines ending in "length 0" (SYN-ACK, pure ACKs, FIN) carry no data. grep -c counts lines.`,
      (c) => {
        const all = c.serverData.length;
        const distinct = distinctSegments(c.serverData);
        return all === distinct ? String(all) : `${all}|${distinct}`;
      },
    ),
    exchangeAnswer(
      'answer-bytes',
      "answers.yaml: how many bytes of data Bob sent (headers and body), from the sequence numbers (server_bytes)",
      'server_bytes',
      1,
      "Sequence numbers count bytes: Bob's first data byte is server_isn + 1, and the last data segment ends at seq ...:END. The difference is the answer.",
      (c) => {
        const n = serverBytes(c);
        return n === undefined ? undefined : String(n);
      },
      false,
    ),
  ];
}

export default defineLab({
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
    { key: 'server_bytes', prompt: 'How many bytes of data Bob sent (HTTP headers and body), from the sequence numbers' },
  ],
  vary,
  task(v) {
    return {
      fetch: `http://web.bob.example${pathOf(v)}`,
      capture_on: `${IFACE} (Alice's interface), port 80`,
      capture_file: CAPTURE,
      answers: '/root/answers.yaml with client_port, client_isn, server_isn, mss, data_segments, server_bytes',
    };
  },
  faults,
  checks,
});
