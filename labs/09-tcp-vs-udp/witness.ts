// The grader's own view of the streams: two tcpdump processes on Alice's home router print every
// packet of Bob's streamer that came in from the ISP (text, one header line per packet, then the
// first bytes of the payload, which carry the frame number, the stream's length and its id).
// These pure functions turn that text into streams: per UDP stream, which frames arrived and how
// many came late; per TCP connection, which stream it carried, whether every byte up to Bob's FIN
// arrived, how many segments were retransmissions and which bytes the first one carried.

const HEADER = /^(\d\d):(\d\d):(\d\d\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$/;
/** A stream id: 8 of the consonants files/web/srv/stream/streamer.js draws from (never a number to a YAML reader). */
export const STREAM_ID = '[bcdfghjkmnpqrstvwxz]{8}';
/** One frame's line: its number, the stream's length and the stream's id. */
export const FRAME = new RegExp(`frame (\\d+) of (\\d+) stream (${STREAM_ID})\\b`);
const SEQ_SPACE = 2 ** 32;

export interface UdpStream {
  /** The id Bob's streamer put in every frame of this stream. */
  stream: string;
  /** Where the frames went, e.g. 203.0.113.5:41234 (Alice's network, behind its NAT). */
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
  /** Alice's end of the connection as the ISP delivers it, e.g. 203.0.113.5:47584. */
  client: string;
  /** The id of the stream this connection carried (from its payload), when a frame was seen. */
  stream?: string;
  /** How many frames that stream has. */
  frames?: number;
  /** Bob's initial sequence number (from his SYN-ACK). */
  isn: number;
  /** Segments that carried data (retransmissions included). */
  dataSegments: number;
  /**
   * Data segments that started below the highest sequence number already seen. Nothing on the
   * lab's path reorders Bob's TCP segments, so each is a resend (checked against Bob's own capture
   * in the unit test). A resend that arrives in order (its original lost, nothing later arrived
   * yet) looks like new data to any capture on Alice's side, and is not counted.
   */
  retransmissions: number;
  /** The bytes of the first retransmission, relative to Bob's first data byte (1), as tcpdump shows them. */
  firstResend?: [number, number];
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
      pending = /^UDP, length \d+/.test(h[8] as string)
        ? { client: `${h[6]}:${h[7]}`, t: seconds(h[1] as string, h[2] as string, h[3] as string) }
        : undefined;
      continue;
    }
    if (!pending) continue;
    const f = FRAME.exec(line);
    if (!f) continue;
    const n = Number(f[1]);
    const key = `${f[3]}|${pending.client}`;
    let s = streams.get(key);
    if (!s) {
      s = {
        stream: f[3] as string,
        client: pending.client,
        frames: Number(f[2]),
        received: 0,
        late: 0,
        first: pending.t,
        last: pending.t,
        seen: new Set(),
        max: 0,
      };
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

/** Reads the TCP witness (tcpdump -S -A): the segments Bob sent to Alice's network, each header with its first payload bytes. */
export function parseTcpWitness(text: string): TcpFlow[] {
  const flows: FlowState[] = [];
  const open = new Map<string, FlowState>();
  // The flow whose payload the following lines show (tcpdump -A prints it after the header).
  let payloadOf: FlowState | undefined;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (!h) {
      const f = payloadOf && payloadOf.stream === undefined ? FRAME.exec(line) : null;
      if (f && payloadOf) {
        payloadOf.stream = f[3] as string;
        payloadOf.frames = Number(f[2]);
      }
      continue;
    }
    payloadOf = undefined;
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
      const flow: FlowState = {
        client,
        isn,
        dataSegments: 0,
        retransmissions: 0,
        complete: false,
        first: t,
        last: t,
        maxEnd: 1,
        ranges: [],
      };
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
      payloadOf = flow;
      flow.dataSegments++;
      if (start < flow.maxEnd) {
        flow.retransmissions++;
        flow.firstResend ??= [start, end];
      }
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
