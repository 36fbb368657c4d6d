// A small reader for the classic pcap files that `tcpdump -w` writes, enough to follow IPv4/TCP
// connections: which packets carried SYN, ACK and data, their sequence numbers and options. The
// grader reads the learner's capture with this (in the orchestrator, not with tools on alice).

export interface TcpPacket {
  /** Capture time in seconds (with fractions). */
  time: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  syn: boolean;
  ackFlag: boolean;
  fin: boolean;
  rst: boolean;
  psh: boolean;
  /** The MSS option, when the segment carries one (SYN and SYN-ACK). */
  mss?: number;
  /** TCP payload length, from the IP header (also when the capture truncated the packet). */
  length: number;
  /** The captured part of the payload. */
  payload: Buffer;
}

export interface Capture {
  linkType: number;
  /** Packets read (all kinds). */
  frames: number;
  tcp: TcpPacket[];
  /** Set when the file ends in the middle of a record (tcpdump was still writing). */
  truncated: boolean;
}

export class PcapError extends Error {}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

/** Where the IPv4 header starts in a frame of this link type, or -1 when it is not IPv4. */
function ipOffset(linkType: number, frame: Buffer): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return -1;
      let type = frame.readUInt16BE(12);
      let off = 14;
      while ((type === 0x8100 || type === 0x88a8) && frame.length >= off + 4) {
        type = frame.readUInt16BE(off + 2);
        off += 4;
      }
      return type === 0x0800 ? off : -1;
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length >= 16 && frame.readUInt16BE(14) === 0x0800 ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
      return frame.length >= 20 && frame.readUInt16BE(0) === 0x0800 ? 20 : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case 12: // DLT_RAW on some systems
      return frame.length >= 1 && frame[0] !== undefined && frame[0] >> 4 === 4 ? 0 : -1;
    default:
      return -1;
  }
}

const ipv4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function tcpOf(time: number, frame: Buffer, at: number): TcpPacket | undefined {
  if (frame.length < at + 20) return undefined;
  const ihl = ((frame[at] as number) & 0x0f) * 4;
  if ((frame[at] as number) >> 4 !== 4 || ihl < 20 || frame[at + 9] !== 6) return undefined;
  if ((frame.readUInt16BE(at + 6) & 0x1fff) !== 0) return undefined; // a later fragment: no TCP header
  const total = frame.readUInt16BE(at + 2);
  const t = at + ihl;
  if (frame.length < t + 20) return undefined;
  const doff = ((frame[t + 12] as number) >> 4) * 4;
  const flags = frame[t + 13] as number;
  let mss: number | undefined;
  // Options: kind 0 ends them, 1 is padding, 2 is the MSS (length 4).
  for (let o = t + 20; o < Math.min(t + doff, frame.length); ) {
    const kind = frame[o] as number;
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    const len = frame[o + 1] ?? 0;
    if (len < 2) break;
    if (kind === 2 && len === 4 && o + 4 <= frame.length) mss = frame.readUInt16BE(o + 2);
    o += len;
  }
  const length = Math.max(0, total - ihl - doff);
  return {
    time,
    src: ipv4(frame, at + 12),
    dst: ipv4(frame, at + 16),
    sport: frame.readUInt16BE(t),
    dport: frame.readUInt16BE(t + 2),
    seq: frame.readUInt32BE(t + 4),
    ack: frame.readUInt32BE(t + 8),
    fin: (flags & 0x01) !== 0,
    syn: (flags & 0x02) !== 0,
    rst: (flags & 0x04) !== 0,
    psh: (flags & 0x08) !== 0,
    ackFlag: (flags & 0x10) !== 0,
    mss,
    length,
    payload: frame.subarray(Math.min(t + doff, frame.length), Math.min(t + doff + length, frame.length)),
  };
}

/** Reads a classic pcap file (either byte order, micro- or nanosecond timestamps). */
export function readPcap(data: Buffer): Capture {
  if (data.length < 24) throw new PcapError('the file is too short to be a packet capture');
  const magicLE = data.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else if (data.readUInt32BE(0) === 0xa1b2c3d4 || data.readUInt32BE(0) === 0xa1b23c4d) {
    le = false;
    nano = data.readUInt32BE(0) === 0xa1b23c4d;
  } else if (data.readUInt32LE(0) === 0x0a0d0d0a) {
    throw new PcapError('this is a pcapng file; write the capture with tcpdump -w, which writes classic pcap');
  } else {
    throw new PcapError('this is not a pcap file (it does not start with the pcap magic number); write it with tcpdump -w');
  }
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const tcp: TcpPacket[] = [];
  let frames = 0;
  let off = 24;
  let truncated = false;
  while (off < data.length) {
    if (off + 16 > data.length) {
      truncated = true;
      break;
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (incl > 262144 || off + 16 + incl > data.length) {
      truncated = true;
      break;
    }
    const frame = data.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    frames++;
    const at = ipOffset(linkType, frame);
    if (at < 0) continue;
    const p = tcpOf(sec + frac / (nano ? 1e9 : 1e6), frame, at);
    if (p) tcp.push(p);
  }
  return { linkType, frames, tcp, truncated };
}

/** One TCP connection as seen from its client: handshake, request and what the server sent. */
export interface Connection {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  syn: TcpPacket;
  synAck?: TcpPacket;
  /** The client's ACK that completes the handshake. */
  ack?: TcpPacket;
  /** Client payload, in order (enough to see the request line). */
  request: string;
  /** Server segments that carried data (retransmissions included). */
  serverData: TcpPacket[];
  packets: TcpPacket[];
}

/** Splits a capture into connections to server:serverPort, each starting with a client SYN. */
export function connections(packets: TcpPacket[], server: string, serverPort: number): Connection[] {
  const all: Connection[] = [];
  const current = new Map<string, Connection>();
  for (const p of packets) {
    const fromClient = p.dst === server && p.dport === serverPort;
    const fromServer = p.src === server && p.sport === serverPort;
    if (!fromClient && !fromServer) continue;
    const key = fromClient ? `${p.src}:${p.sport}` : `${p.dst}:${p.dport}`;
    if (fromClient && p.syn && !p.ackFlag) {
      const existing = current.get(key);
      if (existing && existing.syn.seq === p.seq && !existing.synAck) {
        existing.packets.push(p); // a retransmitted SYN
        continue;
      }
      const c: Connection = { client: p.src, clientPort: p.sport, server, serverPort, syn: p, request: '', serverData: [], packets: [p] };
      current.set(key, c);
      all.push(c);
      continue;
    }
    const c = current.get(key);
    if (!c) continue;
    c.packets.push(p);
    if (fromServer) {
      if (p.syn && p.ackFlag && p.ack === ((c.syn.seq + 1) >>> 0)) c.synAck ??= p;
      else if (p.length > 0 && c.synAck) c.serverData.push(p);
    } else if (c.synAck) {
      if (!c.ack && p.ackFlag && !p.syn && p.ack === ((c.synAck.seq + 1) >>> 0)) c.ack = p;
      if (p.length > 0 && c.request.length < 4096) c.request += p.payload.toString('latin1');
    }
  }
  return all;
}

/** Distinct data segments (a retransmission of the same bytes counts once). */
export function distinctSegments(data: TcpPacket[]): number {
  return new Set(data.map((p) => `${p.seq}:${p.length}`)).size;
}

/** Bytes of data the server sent: from the first byte after its ISN to the highest byte seen. */
export function serverBytes(c: Connection): number | undefined {
  if (!c.synAck || !c.serverData.length) return undefined;
  const first = (c.synAck.seq + 1) >>> 0;
  return Math.max(...c.serverData.map((p) => ((p.seq - first) >>> 0) + p.length));
}

function flagText(p: TcpPacket): string {
  const f = `${p.syn ? 'S' : ''}${p.fin ? 'F' : ''}${p.rst ? 'R' : ''}${p.psh ? 'P' : ''}${p.ackFlag ? '.' : ''}`;
  return f || 'none';
}

/** A tcpdump-like line (absolute numbers, like tcpdump -nn -S). */
export function describe(p: TcpPacket): string {
  const seq = p.length > 0 ? `seq ${p.seq}:${(p.seq + p.length) >>> 0}` : `seq ${p.seq}`;
  const showSeq = p.syn || p.fin || p.length > 0;
  const ack = p.ackFlag ? `, ack ${p.ack}` : '';
  const mss = p.mss !== undefined ? `, options [mss ${p.mss}]` : '';
  return `${p.time.toFixed(6)} IP ${p.src}.${p.sport} > ${p.dst}.${p.dport}: Flags [${flagText(p)}]${showSeq ? `, ${seq}` : ''}${ack}${mss}, length ${p.length}`;
}

// ---- tcpdump text (what the grader's own capture prints) --------------------------------------

const LINE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[([^\]]*)\](.*)$/;

/** Parses lines printed by `tcpdump -nn -S -tt` into packets (payload bytes are not in the text). */
export function parseTcpdumpText(text: string): TcpPacket[] {
  const out: TcpPacket[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const flags = m[6] as string;
    const rest = m[7] as string;
    const seq = /, seq (\d+)/.exec(rest);
    const ack = /, ack (\d+)/.exec(rest);
    const len = /, length (\d+)/.exec(rest);
    const mss = /\bmss (\d+)/.exec(rest);
    out.push({
      time: Number(m[1]),
      src: m[2] as string,
      sport: Number(m[3]),
      dst: m[4] as string,
      dport: Number(m[5]),
      seq: Number(seq?.[1] ?? 0),
      ack: Number(ack?.[1] ?? 0),
      syn: flags.includes('S'),
      fin: flags.includes('F'),
      rst: flags.includes('R'),
      psh: flags.includes('P'),
      ackFlag: flags.includes('.'),
      mss: mss ? Number(mss[1]) : undefined,
      length: Number(len?.[1] ?? 0),
      payload: Buffer.alloc(0),
    });
  }
  return out;
}
