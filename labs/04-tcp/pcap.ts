// Lab 04's view of a capture: the TCP segments of the classic pcap files that `tcpdump -w`
// writes, decoded by the project's one packet decoder (checks/packets/), and followed as
// connections. The grader reads the learner's capture with this (in the orchestrator, not with
// tools on alice).
import { decodeFrame } from '../../checks/packets/decode.js';
import { PcapError, readPcapFile } from '../../checks/packets/pcap.js';

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

export { PcapError };

/** Reads a classic pcap file (either byte order, micro- or nanosecond timestamps) with the project's one decoder. */
export function readPcap(data: Buffer): Capture {
  const file = readPcapFile(data);
  const tcp: TcpPacket[] = [];
  for (const r of file.records) {
    const p = decodeFrame(file.linkType, r.data, r.time, r.wireLength);
    // A later fragment has no TCP header: it is not a segment of its own.
    if (!p.ip || !p.tcp) continue;
    const f = p.tcp.flags;
    tcp.push({
      time: p.time,
      src: p.ip.src,
      dst: p.ip.dst,
      sport: p.tcp.sport,
      dport: p.tcp.dport,
      seq: p.tcp.seq,
      ack: p.tcp.ack,
      syn: f.includes('S'),
      ackFlag: f.includes('.'),
      fin: f.includes('F'),
      rst: f.includes('R'),
      psh: f.includes('P'),
      mss: p.tcp.mss,
      length: p.tcp.length,
      payload: p.payload,
    });
  }
  return { linkType: file.linkType, frames: file.records.length, tcp, truncated: file.truncated };
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
      const c: Connection = {
        client: p.src,
        clientPort: p.sport,
        server,
        serverPort,
        syn: p,
        request: '',
        serverData: [],
        packets: [p],
      };
      current.set(key, c);
      all.push(c);
      continue;
    }
    const c = current.get(key);
    if (!c) continue;
    c.packets.push(p);
    if (fromServer) {
      if (p.syn && p.ackFlag && p.ack === (c.syn.seq + 1) >>> 0) c.synAck ??= p;
      else if (p.length > 0 && c.synAck) c.serverData.push(p);
    } else if (c.synAck) {
      if (!c.ack && p.ackFlag && !p.syn && p.ack === (c.synAck.seq + 1) >>> 0) c.ack = p;
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
