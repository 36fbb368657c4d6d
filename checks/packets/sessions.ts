// TCP sessions in a capture: who opened each, how many bytes each side sent (by sequence numbers,
// so retransmissions count once), the clear-text start of each side's data and where TLS began
// (after STARTTLS, the payload is encrypted: only its size tells). Pure, over readPcapFile and
// decodeFrame; a witness's evidence that an exchange really crossed the network.
import { readPcapFile } from './pcap.js';
import { decodeFrame } from './decode.js';

export interface TcpSession {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** The client's SYN was captured (the session began while the capture ran). */
  opened: boolean;
  /** Data bytes each side sent, from the first to the highest sequence number seen. */
  clientBytes: number;
  serverBytes: number;
  /** Each side's data from its start, up to the first TLS record, a gap or maxText bytes (latin1). */
  clientText: string;
  serverText: string;
  /** Where in the client's data its first TLS record starts (a TLS session), if it does. */
  clientTlsAt?: number;
  /**
   * The content types of the client's TLS records, in order (22 handshake, 23 application data,
   * 21 alert; in TLS 1.3 everything after the ClientHello is 23): how much it said, not what.
   */
  clientTlsRecords?: number[];
  start: number;
  end: number;
}

interface Side {
  base?: number;
  synSeen: boolean;
  end: number;
  segments: { at: number; data: Buffer; len: number }[];
}

/** A TLS handshake record's first bytes: content type 22, version 3.x. */
const isTlsRecord = (b: Buffer) => b.length >= 3 && b[0] === 0x16 && b[1] === 0x03 && (b[2] ?? 9) <= 0x04;

/**
 * One side's data in sequence order: the clear text until a gap, a cut-short segment, a TLS record
 * or max bytes; then, when TLS began, the records of the encrypted stream (until a gap), by type.
 */
function assemble(side: Side, max: number): { text: string; tlsAt?: number; tlsRecords?: number[] } {
  const segs = [...side.segments].sort((a, b) => a.at - b.at);
  const clear: Buffer[] = [];
  const tls: Buffer[] = [];
  let pos = 0;
  let tlsAt: number | undefined;
  for (const s of segs) {
    if (s.at > pos || (tlsAt === undefined && pos >= max)) break;
    if (s.at + s.data.length <= pos) continue;
    if (tlsAt === undefined && s.at === pos && isTlsRecord(s.data)) tlsAt = pos;
    const take = s.data.subarray(pos - s.at);
    (tlsAt === undefined ? clear : tls).push(take);
    pos += take.length;
    if (s.data.length < s.len) break;
  }
  const text = Buffer.concat(clear).subarray(0, max).toString('latin1');
  if (tlsAt === undefined) return { text };
  // Each record: type, version (2 bytes), length (2 bytes), then that many bytes.
  const stream = Buffer.concat(tls);
  const tlsRecords: number[] = [];
  for (let o = 0; o + 5 <= stream.length; o += 5 + stream.readUInt16BE(o + 3)) tlsRecords.push(stream[o] as number);
  return { text, tlsAt, tlsRecords };
}

/** The TCP sessions of a classic pcap file, in the order they began (an empty file has none). */
export function tcpSessions(pcap: Buffer, maxText = 256 * 1024): TcpSession[] {
  if (pcap.length === 0) return [];
  const file = readPcapFile(pcap);
  const sessions: { s: TcpSession; c: Side; v: Side }[] = [];
  const open = new Map<string, (typeof sessions)[number]>();
  const newSide = (): Side => ({ synSeen: false, end: 0, segments: [] });
  for (const r of file.records) {
    const p = decodeFrame(file.linkType, r.data, r.time, r.wireLength);
    if (!p.ip || !p.tcp) continue;
    const a = `${p.ip.src}:${p.tcp.sport}`;
    const b = `${p.ip.dst}:${p.tcp.dport}`;
    const key = a < b ? `${a} ${b}` : `${b} ${a}`;
    const synOnly = p.tcp.flags.includes('S') && !p.tcp.flags.includes('.');
    let entry = open.get(key);
    // A SYN opens a new session on these ports, unless it is the same SYN again (retransmitted).
    const sameSyn = !!entry && entry.s.client === p.ip.src && entry.c.base === (p.tcp.seq + 1) >>> 0;
    if (!entry || (synOnly && !sameSyn)) {
      // Without its SYN, the client is the side on the higher port (servers listen on low ones).
      const fromClient = synOnly || p.tcp.sport > p.tcp.dport;
      entry = {
        s: {
          client: fromClient ? p.ip.src : p.ip.dst,
          clientPort: fromClient ? p.tcp.sport : p.tcp.dport,
          server: fromClient ? p.ip.dst : p.ip.src,
          serverPort: fromClient ? p.tcp.dport : p.tcp.sport,
          opened: false,
          clientBytes: 0,
          serverBytes: 0,
          clientText: '',
          serverText: '',
          start: r.time,
          end: r.time,
        },
        c: newSide(),
        v: newSide(),
      };
      open.set(key, entry);
      sessions.push(entry);
    }
    const fromClient = p.ip.src === entry.s.client && p.tcp.sport === entry.s.clientPort;
    const side = fromClient ? entry.c : entry.v;
    entry.s.end = r.time;
    if (p.tcp.flags.includes('S')) {
      side.synSeen = true;
      side.base = (p.tcp.seq + 1) >>> 0;
      if (fromClient && synOnly) entry.s.opened = true;
    }
    if (p.tcp.length === 0) continue;
    side.base ??= p.tcp.seq;
    const at = (p.tcp.seq - side.base) >>> 0;
    // A segment from before the base (seen without its SYN) wraps to a huge offset: skip it.
    if (at > 0x7fffffff) continue;
    side.segments.push({ at, data: p.payload, len: p.tcp.length });
    side.end = Math.max(side.end, at + p.tcp.length);
  }
  return sessions.map(({ s, c, v }) => {
    const ct = assemble(c, maxText);
    const st = assemble(v, maxText);
    return {
      ...s,
      clientBytes: c.end,
      serverBytes: v.end,
      clientText: ct.text,
      serverText: st.text,
      ...(ct.tlsAt !== undefined ? { clientTlsAt: ct.tlsAt, clientTlsRecords: ct.tlsRecords ?? [] } : {}),
    };
  });
}

/** One line per session, for a check's evidence. */
export function describeSessions(sessions: TcpSession[]): string {
  if (!sessions.length) return '(no TCP sessions)';
  return sessions
    .map((s) => {
      const tls =
        s.clientTlsAt !== undefined
          ? `, TLS from byte ${s.clientTlsAt} (${s.clientBytes - s.clientTlsAt} bytes in ${s.clientTlsRecords?.length ?? 0} records)`
          : '';
      const opened = s.opened ? '' : ' (its start was not captured)';
      return `${s.client}:${s.clientPort} -> ${s.server}:${s.serverPort}: the client sent ${s.clientBytes} bytes, the server ${s.serverBytes}${tls}${opened}`;
    })
    .join('\n');
}
