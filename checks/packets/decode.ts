// Frames to header fields: Ethernet, ARP, IPv4 (with fragments), TCP, UDP and ICMP (with the
// header an ICMP error quotes). Pure functions over the bytes a capture kept; lengths come from
// the headers, so a short snap length still gives true sizes.
import { createHash } from 'node:crypto';
import { LINKTYPE } from './pcap.js';
import { appSummary } from './app.js';

export interface Ethernet {
  src: string;
  dst: string;
  type: number;
}

export interface Arp {
  op: 'request' | 'reply';
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

export interface Ipv4 {
  src: string;
  dst: string;
  ttl: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in bytes. */
  fragOffset: number;
  proto: number;
  /** Total length from the header. */
  length: number;
  headerLength: number;
}

export interface Tcp {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Flags in tcpdump's letters: S, F, R, P, U and "." for ACK. */
  flags: string;
  window: number;
  mss?: number;
  /** Payload length, from the IP header. */
  length: number;
}

export interface Udp {
  sport: number;
  dport: number;
  length: number;
}

export interface Icmp {
  type: number;
  code: number;
  /** Echo identifier and sequence (types 0 and 8). */
  echoId?: number;
  echoSeq?: number;
  /** The next-hop MTU of a "fragmentation needed" error. */
  mtu?: number;
  /** The start of the datagram an error is about. */
  quoted?: { ip: Ipv4; sport?: number; dport?: number };
}

export interface Packet {
  time: number;
  /** The frame's length on the wire. */
  wireLength: number;
  eth?: Ethernet;
  arp?: Arp;
  ip?: Ipv4;
  tcp?: Tcp;
  udp?: Udp;
  icmp?: Icmp;
  /** Transport payload length (TCP/UDP data, ICMP body). */
  payloadLength: number;
  /** sha1 of the captured payload bytes, the part a router forwards unchanged (NAT helpers aside). */
  digest: string;
  /** The captured payload bytes (a view into the frame, not a copy). */
  payload: Buffer;
  /** One line about the payload: HTTP request or status line, DNS question or answer, FTP line, TLS record. */
  app?: string;
}

export const PROTO = { icmp: 1, tcp: 6, udp: 17 } as const;

const mac = (b: Buffer, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
export const ipv4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const byte = (b: Buffer, o: number) => b[o] ?? 0;

function ipHeader(b: Buffer, o: number): Ipv4 | undefined {
  if (b.length < o + 20 || byte(b, o) >> 4 !== 4) return undefined;
  const headerLength = (byte(b, o) & 0x0f) * 4;
  if (headerLength < 20) return undefined;
  const frag = b.readUInt16BE(o + 6);
  return {
    src: ipv4(b, o + 12),
    dst: ipv4(b, o + 16),
    ttl: byte(b, o + 8),
    id: b.readUInt16BE(o + 4),
    df: (frag & 0x4000) !== 0,
    mf: (frag & 0x2000) !== 0,
    fragOffset: (frag & 0x1fff) * 8,
    proto: byte(b, o + 9),
    length: b.readUInt16BE(o + 2),
    headerLength,
  };
}

function tcpHeader(b: Buffer, t: number, segment: number): { tcp: Tcp; dataAt: number } | undefined {
  if (b.length < t + 20) return undefined;
  const doff = (byte(b, t + 12) >> 4) * 4;
  const bits = byte(b, t + 13);
  const flags = [
    [0x02, 'S'],
    [0x01, 'F'],
    [0x04, 'R'],
    [0x08, 'P'],
    [0x20, 'U'],
    [0x10, '.'],
  ]
    .filter(([bit]) => (bits & (bit as number)) !== 0)
    .map(([, letter]) => letter)
    .join('');
  let mss: number | undefined;
  for (let o = t + 20; o < Math.min(t + doff, b.length);) {
    const kind = byte(b, o);
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    const len = byte(b, o + 1);
    if (len < 2) break;
    if (kind === 2 && len === 4 && o + 4 <= b.length) mss = b.readUInt16BE(o + 2);
    o += len;
  }
  return {
    tcp: {
      sport: b.readUInt16BE(t),
      dport: b.readUInt16BE(t + 2),
      seq: b.readUInt32BE(t + 4),
      ack: b.readUInt32BE(t + 8),
      flags,
      window: b.readUInt16BE(t + 14),
      mss,
      length: Math.max(0, segment - doff),
    },
    dataAt: t + doff,
  };
}

function icmpOf(b: Buffer, t: number): Icmp | undefined {
  if (b.length < t + 8) return undefined;
  const type = byte(b, t);
  const code = byte(b, t + 1);
  if (type === 0 || type === 8) return { type, code, echoId: b.readUInt16BE(t + 4), echoSeq: b.readUInt16BE(t + 6) };
  const icmp: Icmp = { type, code, ...(type === 3 && code === 4 ? { mtu: b.readUInt16BE(t + 6) } : {}) };
  const inner = ipHeader(b, t + 8);
  if (inner) {
    const l4 = t + 8 + inner.headerLength;
    const ports =
      (inner.proto === PROTO.tcp || inner.proto === PROTO.udp) && b.length >= l4 + 4
        ? { sport: b.readUInt16BE(l4), dport: b.readUInt16BE(l4 + 2) }
        : {};
    icmp.quoted = { ip: inner, ...ports };
  }
  return icmp;
}

/** Where the network layer starts in a frame, and the Ethernet header if there is one. */
function linkLayer(linkType: number, b: Buffer): { eth?: Ethernet; at: number; type: number } | undefined {
  if (linkType === LINKTYPE.ethernet) {
    if (b.length < 14) return undefined;
    let type = b.readUInt16BE(12);
    let at = 14;
    while ((type === 0x8100 || type === 0x88a8) && b.length >= at + 4) {
      type = b.readUInt16BE(at + 2);
      at += 4;
    }
    return { eth: { dst: mac(b, 0), src: mac(b, 6), type }, at, type };
  }
  if (linkType === LINKTYPE.linuxSll) return b.length >= 16 ? { at: 16, type: b.readUInt16BE(14) } : undefined;
  if (linkType === LINKTYPE.linuxSll2) return b.length >= 20 ? { at: 20, type: b.readUInt16BE(0) } : undefined;
  if (linkType === LINKTYPE.raw || linkType === LINKTYPE.ipv4 || linkType === 12) return { at: 0, type: 0x0800 };
  return undefined;
}

/** Decodes one captured frame; unknown link or network layers give a packet with only what is known. */
export function decodeFrame(linkType: number, data: Buffer, time: number, wireLength = data.length): Packet {
  const packet: Packet = { time, wireLength, payloadLength: 0, digest: '', payload: data.subarray(0, 0) };
  const link = linkLayer(linkType, data);
  if (!link) return packet;
  if (link.eth) packet.eth = link.eth;
  if (link.type === 0x0806 && data.length >= link.at + 28) {
    const o = link.at;
    packet.arp = {
      op: data.readUInt16BE(o + 6) === 2 ? 'reply' : 'request',
      senderMac: mac(data, o + 8),
      senderIp: ipv4(data, o + 14),
      targetIp: ipv4(data, o + 24),
    };
    return packet;
  }
  if (link.type !== 0x0800) return packet;
  const ip = ipHeader(data, link.at);
  if (!ip) return packet;
  packet.ip = ip;
  const l4 = link.at + ip.headerLength;
  const segment = ip.length - ip.headerLength;
  let dataAt = l4;
  // A later fragment carries no transport header: all of it is payload.
  if (ip.fragOffset === 0) {
    if (ip.proto === PROTO.tcp) {
      const t = tcpHeader(data, l4, segment);
      if (t) {
        packet.tcp = t.tcp;
        dataAt = t.dataAt;
      }
    } else if (ip.proto === PROTO.udp && data.length >= l4 + 8) {
      packet.udp = {
        sport: data.readUInt16BE(l4),
        dport: data.readUInt16BE(l4 + 2),
        length: data.readUInt16BE(l4 + 4),
      };
      dataAt = l4 + 8;
    } else if (ip.proto === PROTO.icmp) {
      const icmp = icmpOf(data, l4);
      if (icmp) packet.icmp = icmp;
      dataAt = l4 + 8;
    }
  }
  packet.payloadLength = Math.max(0, link.at + ip.length - dataAt);
  const payload = data.subarray(Math.min(dataAt, data.length), Math.min(link.at + ip.length, data.length));
  packet.payload = payload;
  packet.digest = payload.length ? createHash('sha1').update(payload).digest('hex').slice(0, 16) : '';
  const app = appSummary(packet, payload);
  if (app) packet.app = app;
  return packet;
}

/** The ports of a TCP or UDP packet, or the echo id of an ICMP echo (NAT translates it like a port). */
export function portsOf(p: Packet): { sport: number; dport: number } | undefined {
  if (p.tcp) return { sport: p.tcp.sport, dport: p.tcp.dport };
  if (p.udp) return { sport: p.udp.sport, dport: p.udp.dport };
  if (p.icmp?.echoId !== undefined)
    return p.icmp.type === 8 ? { sport: p.icmp.echoId, dport: 0 } : { sport: 0, dport: p.icmp.echoId };
  return undefined;
}

export const protoName = (proto: number): string =>
  proto === PROTO.tcp ? 'tcp' : proto === PROTO.udp ? 'udp' : proto === PROTO.icmp ? 'icmp' : `ip proto ${proto}`;

const ICMP_NAMES: Record<string, string> = {
  '0': 'echo reply',
  '8': 'echo request',
  '3/0': 'net unreachable',
  '3/1': 'host unreachable',
  '3/3': 'port unreachable',
  '3/4': 'fragmentation needed',
  '3/9': 'net prohibited',
  '3/10': 'host prohibited',
  '3/13': 'administratively prohibited',
  '11/0': 'TTL exceeded in transit',
  '11/1': 'fragment reassembly time exceeded',
  '5': 'redirect',
};

export function icmpName(icmp: Icmp): string {
  return (
    ICMP_NAMES[`${icmp.type}/${icmp.code}`] ??
    ICMP_NAMES[String(icmp.type)] ??
    `ICMP type ${icmp.type} code ${icmp.code}`
  );
}

/** tcpdump-like one line of the headers, without the link layer. */
export function describe(p: Packet): string {
  if (p.arp)
    return p.arp.op === 'request'
      ? `ARP who has ${p.arp.targetIp}? tell ${p.arp.senderIp}`
      : `ARP ${p.arp.senderIp} is at ${p.arp.senderMac}`;
  if (!p.ip) return `frame of ${p.wireLength} bytes`;
  const ports = portsOf(p);
  const ends =
    p.tcp || p.udp ? `${p.ip.src}:${ports?.sport} > ${p.ip.dst}:${ports?.dport}` : `${p.ip.src} > ${p.ip.dst}`;
  if (p.ip.fragOffset > 0)
    return `${ends} fragment at ${p.ip.fragOffset} (${p.ip.length - p.ip.headerLength} bytes${p.ip.mf ? ', more follow' : ''})`;
  if (p.tcp) return `${ends} TCP [${p.tcp.flags}] len ${p.tcp.length}${p.tcp.mss ? ` mss ${p.tcp.mss}` : ''}`;
  if (p.udp) return `${ends} UDP len ${p.payloadLength}`;
  if (p.icmp) return `${ends} ICMP ${icmpName(p.icmp)}${p.icmp.mtu ? ` (next-hop MTU ${p.icmp.mtu})` : ''}`;
  return `${ends} ${protoName(p.ip.proto)}`;
}
