// The grader's own view of the streams: two tcpdump processes on Alice's home router print every
// packet Bob's streamer got through to Alice's network (text, one header line per packet; the
// UDP one with the payload, which carries the frame number). These pure functions turn that text
// into streams: per UDP stream, which frames arrived and how many came late; per TCP connection,
// whether every byte up to Bob's FIN arrived and how many segments were retransmissions.
import { gunzipSync } from 'node:zlib';
import type { Evidence, Host } from '../../checks/types.js';
import { q } from '../../checks/probes.js';

const HEADER = /^(\d\d):(\d\d):(\d\d\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$/;
const FRAME = /frame (\d+) of (\d+) stream (\d+)/;
const SEQ_SPACE = 2 ** 32;

export interface UdpStream {
  /** The stream number Bob's streamer put in every frame. */
  stream: number;
  /** Where the frames went on Alice's network, e.g. 192.168.1.101:41234. */
  client: string;
  /** How many frames the stream has ("frame 17 of 300"). */
  frames: number;
  /** Distinct frames that arrived. */
  received: number;
  /** Frames that arrived after a higher-numbered frame of the same stream. */
  late: number;
  /** Capture time of the first and last frame (seconds since midnight). */
  first: number;
  last: number;
}

export interface TcpFlow {
  /** Alice's end of the connection, e.g. 192.168.1.101:47584. */
  client: string;
  /** Bob's initial sequence number (from his SYN-ACK). */
  isn: number;
  /** Segments that carried data (retransmissions included). */
  dataSegments: number;
  /** Data segments that started below the highest sequence number already seen. */
  retransmissions: number;
  /** Bytes of data up to Bob's FIN, when a FIN was seen. */
  finBytes?: number;
  /** Every byte from the first up to the FIN arrived. */
  complete: boolean;
  first: number;
  last: number;
}

const seconds = (h: string, m: string, s: string) => Number(h) * 3600 + Number(m) * 60 + Number(s);

/** Reads the UDP witness (tcpdump -A): a header line per datagram, then its payload. */
export function parseUdpWitness(text: string): UdpStream[] {
  const streams = new Map<string, UdpStream & { seen: Set<number>; max: number }>();
  let pending: { client: string; t: number } | undefined;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h) {
      pending = /^UDP, length \d+/.test(h[8] as string) ? { client: `${h[6]}:${h[7]}`, t: seconds(h[1] as string, h[2] as string, h[3] as string) } : undefined;
      continue;
    }
    if (!pending) continue;
    const f = FRAME.exec(line);
    if (!f) continue;
    const n = Number(f[1]);
    const key = `${f[3]}|${pending.client}`;
    let s = streams.get(key);
    if (!s) {
      s = { stream: Number(f[3]), client: pending.client, frames: Number(f[2]), received: 0, late: 0, first: pending.t, last: pending.t, seen: new Set(), max: 0 };
      streams.set(key, s);
    }
    s.last = pending.t;
    if (!s.seen.has(n)) {
      s.seen.add(n);
      s.received++;
      if (n < s.max) s.late++;
      s.max = Math.max(s.max, n);
    }
    pending = undefined;
  }
  return [...streams.values()].map(({ seen: _seen, max: _max, ...s }) => s);
}

interface FlowState extends TcpFlow {
  maxEnd: number;
  ranges: [number, number][];
}

/** Reads the TCP witness (tcpdump -S): header lines of the segments Bob sent to Alice's network. */
export function parseTcpWitness(text: string): TcpFlow[] {
  const flows: FlowState[] = [];
  const open = new Map<string, FlowState>();
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (!h) continue;
    const rest = h[8] as string;
    const flags = /^Flags \[([^\]]*)\]/.exec(rest)?.[1];
    if (flags === undefined) continue;
    const client = `${h[6]}:${h[7]}`;
    const t = seconds(h[1] as string, h[2] as string, h[3] as string);
    const seqM = /, seq (\d+)(?::(\d+))?/.exec(rest);
    const length = Number(/, length (\d+)/.exec(rest)?.[1] ?? 0);
    if (flags.includes('S')) {
      const isn = Number(seqM?.[1] ?? NaN);
      if (!Number.isFinite(isn)) continue;
      const known = open.get(client);
      if (known && known.isn === isn) continue; // a retransmitted SYN-ACK
      const flow: FlowState = { client, isn, dataSegments: 0, retransmissions: 0, complete: false, first: t, last: t, maxEnd: 1, ranges: [] };
      flows.push(flow);
      open.set(client, flow);
      continue;
    }
    const flow = open.get(client);
    if (!flow || !seqM) continue;
    flow.last = t;
    const rel = (abs: number) => (((abs - flow.isn) % SEQ_SPACE) + SEQ_SPACE) % SEQ_SPACE;
    const start = rel(Number(seqM[1]));
    const end = seqM[2] !== undefined ? rel(Number(seqM[2])) : start;
    if (length > 0 && end > start) {
      flow.dataSegments++;
      if (start < flow.maxEnd) flow.retransmissions++;
      flow.maxEnd = Math.max(flow.maxEnd, end);
      flow.ranges.push([start, end]);
    }
    if (flags.includes('F')) flow.finBytes = end - 1;
  }
  for (const f of flows) {
    if (f.finBytes === undefined) continue;
    let covered = 1;
    for (const [a, b] of [...f.ranges].sort((x, y) => x[0] - y[0])) if (a <= covered) covered = Math.max(covered, b);
    f.complete = covered >= f.finBytes + 1;
  }
  return flows.map(({ maxEnd: _m, ranges: _r, ...f }) => f);
}

const CHUNK = 14000;
/** Only the newest part of a file is read (older streams or sessions fall off the front). */
const MAX_BYTES = 4_000_000;

/** Reads a possibly large text file from a node (gzip + base64 in chunks, each under the evidence cap). */
export async function readLarge(host: Host, path: string): Promise<{ ok: boolean; text: string; evidence: Evidence; transient?: boolean }> {
  const command = `read ${path} (the grader parses it itself)`;
  const ev = (exitCode: number, output: string): Evidence => ({ where: host.where, command, exitCode, output });
  const head = await host.run(`f=${q(path)}; [ -f "$f" ] || { echo "no such file: $f"; exit 3; }; t=$(mktemp); tail -c ${MAX_BYTES} -- "$f" | gzip -1 -n -c > "$t" && echo "$t $(stat -c %s "$t") $(stat -c %s "$f")"`, 10000);
  if (head.exitCode === 3) return { ok: false, text: '', evidence: ev(3, head.output) };
  const m = /^(\S+) (\d+) (\d+)$/m.exec(head.output);
  if (head.exitCode !== 0 || !m) return { ok: false, text: '', evidence: ev(head.exitCode, head.output), transient: true };
  const [, tmp, gzSize, rawSize] = m as unknown as [string, string, string, string];
  try {
    const offsets: number[] = [];
    for (let o = 0; o < Number(gzSize); o += CHUNK) offsets.push(o);
    const parts = await Promise.all(offsets.map((o) => host.run(`tail -c +${o + 1} -- ${tmp} | head -c ${CHUNK} | base64 -w0`, 10000)));
    const bad = parts.find((p) => p.exitCode !== 0);
    if (bad) return { ok: false, text: '', evidence: ev(bad.exitCode, bad.output), transient: true };
    const text = gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.output.trim(), 'base64')))).toString('latin1');
    return { ok: true, text, evidence: ev(0, `${rawSize} bytes`) };
  } catch (err) {
    return { ok: false, text: '', evidence: ev(1, `could not read the copy: ${(err as Error).message}`), transient: true };
  } finally {
    await host.run(`rm -f -- ${tmp}`, 5000);
  }
}
