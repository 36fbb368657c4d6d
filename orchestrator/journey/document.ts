// The journey as a document: plain data in a versioned schema (docs/journey.md). `--json` prints
// it; the terminal and HTML views render it. Everything a view needs is decided here: who owns a
// MAC, which way a packet travels, relative sequence numbers, what each router changed, how a
// packet ended.
import {
  describe as describePacket,
  icmpName,
  portsOf,
  protoName,
  type Ipv4,
  type Packet,
} from '../../checks/packets/decode.js';
import type { Change, Flow, Sighting, Trip } from '../../checks/packets/match.js';
import { mirror, sameTuple, type Tuple } from '../../checks/packets/nat.js';
import type { JourneyRun } from './run.js';

export const JOURNEY_SCHEMA = 'hurrynet.journey/1';

export interface HopDoc {
  node: string;
  iface: string;
  dir: 'in' | 'out';
  /** Seconds since the command started. */
  t: number;
  eth: { src: string; dst: string; srcOwner: string; dstOwner: string };
  /** The IPv4 header as decoded, with the protocol by name. */
  ip: Omit<Ipv4, 'proto' | 'headerLength'> & { proto: string };
  sport?: number;
  dport?: number;
  tcp?: {
    flags: string;
    seq: number;
    ack: number;
    relSeq: number;
    relAck: number;
    window: number;
    mss?: number;
    length: number;
  };
  icmp?: { type: number; code: number; name: string; mtu?: number; quoted?: string };
}

export interface FateDoc {
  kind: 'delivered' | 'died' | 'unclaimed' | 'unknown';
  node?: string;
  iface?: string;
  /** For a packet that died: why, as far as the router can tell. */
  reason?: string;
  summary?: string;
  facts?: string[];
}

export interface PacketDoc {
  id: number;
  flow: number;
  /** Towards the server (the flow's first packet's destination) or back. */
  direction: 'request' | 'reply';
  label: string;
  app?: string;
  from: string;
  path: string[];
  hops: HopDoc[];
  changes: (Change & { node: string })[];
  fate: FateDoc;
  isError: boolean;
}

export interface FlowDoc {
  id: number;
  protocol: string;
  app?: string;
  client: { ip: string; port: number; node?: string };
  server: { ip: string; port: number; node?: string };
  packets: number[];
  related: { flow: number; why: string }[];
  /** What the conversation shows as a whole, e.g. a DNS answer given without asking upstream. */
  note?: string;
}

export interface JourneyDoc {
  schema: typeof JOURNEY_SCHEMA;
  instance: string;
  from: string;
  command: string[];
  exitCode: number;
  timedOut: boolean;
  startedAt: string;
  seconds: JourneyRun['seconds'];
  nodes: { name: string; interfaces: { name: string; mac: string; mtu: number; addresses: string[] }[] }[];
  captures: { node: string; iface: string; packets: number; dropped: number; limitReached: boolean }[];
  /** Anything that makes the journey incomplete: a capture that missed packets, hit its limit, or did not start. */
  warnings: string[];
  flows: FlowDoc[];
  packets: PacketDoc[];
}

const APPS: Record<number, string> = {
  53: 'dns',
  80: 'http',
  443: 'https',
  21: 'ftp',
  20: 'ftp-data',
  123: 'ntp',
  67: 'dhcp',
  68: 'dhcp',
};

function tupleOf(p: Packet): Tuple | undefined {
  if (!p.ip) return undefined;
  const ports = portsOf(p) ?? { sport: 0, dport: 0 };
  return {
    src: p.ip.src,
    dst: p.ip.dst,
    ...(p.icmp?.echoId !== undefined ? { sport: p.icmp.echoId, dport: p.icmp.echoId } : ports),
  };
}

function tcpLabel(flags: string): string {
  const names: Record<string, string> = { S: 'SYN', F: 'FIN', R: 'RST', P: 'PSH', U: 'URG', '.': 'ACK' };
  return [...flags].map((f) => names[f] ?? f).join('-');
}

export function packetLabel(p: Packet): string {
  if (p.ip && p.ip.fragOffset > 0) return `fragment @${p.ip.fragOffset}`;
  if (p.tcp) return `${tcpLabel(p.tcp.flags)}${p.tcp.length ? ` ${p.tcp.length} B` : ''}`;
  if (p.udp) return `UDP ${p.payloadLength} B`;
  if (p.icmp) return icmpName(p.icmp);
  return describePacket(p);
}

function direction(trip: Trip, first: Trip): 'request' | 'reply' {
  const forward = first.sightings.map((s) => tupleOf(s.packet)).filter((t): t is Tuple => !!t);
  const own = trip.sightings.map((s) => tupleOf(s.packet)).filter((t): t is Tuple => !!t);
  return own.some((t) => forward.some((f) => sameTuple(mirror(f), t))) &&
    !own.some((t) => forward.some((f) => sameTuple(f, t)))
    ? 'reply'
    : 'request';
}

/** The path of a trip as node names, each node once per visit. */
function pathOf(trip: Trip): string[] {
  const path: string[] = [];
  for (const s of trip.sightings) if (path[path.length - 1] !== s.node) path.push(s.node);
  return path;
}

export function journeyDocument(run: JourneyRun): JourneyDoc {
  const owners = new Map<string, string>();
  for (const n of run.captures.nodes) for (const i of n.interfaces) owners.set(i.mac, n.node);
  const owner = (mac: string) => (mac === 'ff:ff:ff:ff:ff:ff' ? 'broadcast' : (owners.get(mac) ?? '?'));
  const addressOwner = new Map<string, string>();
  for (const n of run.captures.nodes)
    for (const i of n.interfaces) for (const a of i.addresses) addressOwner.set(a.split('/')[0] as string, n.node);
  const t0 = Date.parse(run.startedAt) / 1000;
  const flowOfTrip = new Map<number, Flow>();
  for (const f of run.journey.flows) for (const t of [...f.trips, ...f.errors]) flowOfTrip.set(t.id, f);

  // Relative sequence numbers: from each direction's first SYN (or first segment) per flow.
  const isn = new Map<string, number>();
  const isnKey = (flow: number, dir: string) => `${flow}|${dir}`;
  const packets: PacketDoc[] = [];
  for (const trip of [...run.journey.trips].sort((a, b) => a.id - b.id)) {
    const flow = flowOfTrip.get(trip.id);
    const first = trip.sightings[0]?.packet as Packet;
    const dir = flow ? direction(trip, flow.trips[0] as Trip) : 'request';
    const fid = flow?.id ?? 0;
    if (first.tcp) {
      const k = isnKey(fid, dir);
      if (!isn.has(k)) isn.set(k, first.tcp.seq);
    }
    const hops = trip.sightings.map((s) =>
      hopDoc(
        s,
        t0,
        owner,
        isn.get(isnKey(fid, dir)) ?? 0,
        isn.get(isnKey(fid, dir === 'request' ? 'reply' : 'request')) ?? 0,
      ),
    );
    const diagnosis = run.diagnoses.get(trip.id);
    const fate: FateDoc = {
      ...trip.fate,
      ...(diagnosis ? { reason: diagnosis.reason, summary: diagnosis.summary, facts: diagnosis.facts } : {}),
    };
    if (trip.fate.kind === 'unclaimed')
      fate.summary = `it left ${trip.fate.node} on ${trip.fate.iface} and no node there took it (no capture saw it arrive)`;
    packets.push({
      id: trip.id,
      flow: fid,
      direction: dir,
      label: packetLabel(first),
      ...(trip.sightings.find((s) => s.packet.app)?.packet.app
        ? { app: trip.sightings.find((s) => s.packet.app)?.packet.app }
        : {}),
      from: trip.origin.node,
      path: pathOf(trip),
      hops,
      changes: trip.hops.flatMap((h) => h.changes.map((c) => ({ ...c, node: h.node }))),
      fate,
      isError: !!first.icmp?.quoted,
    });
  }
  const flows: FlowDoc[] = run.journey.flows.map((f) => {
    const port = f.first.dport;
    return {
      id: f.id,
      protocol: protoName(f.proto),
      ...(APPS[port] ? { app: APPS[port] } : f.first.sport && APPS[f.first.sport] ? { app: APPS[f.first.sport] } : {}),
      client: {
        ip: f.first.src,
        port: f.first.sport,
        ...(addressOwner.get(f.first.src) ? { node: addressOwner.get(f.first.src) } : {}),
      },
      server: {
        ip: f.first.dst,
        port,
        ...(addressOwner.get(f.first.dst) ? { node: addressOwner.get(f.first.dst) } : {}),
      },
      packets: [...f.trips, ...f.errors].map((t) => t.id).sort((a, b) => a - b),
      related: f.related,
      ...dnsNote(f, addressOwner),
    };
  });
  return {
    schema: JOURNEY_SCHEMA,
    instance: run.instance,
    from: run.from,
    command: run.command,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    startedAt: run.startedAt,
    seconds: run.seconds,
    nodes: run.captures.nodes.map((n) => ({
      name: n.node,
      interfaces: n.interfaces.map((i) => ({ name: i.iface, mac: i.mac, mtu: i.mtu, addresses: i.addresses })),
    })),
    captures: run.captures.captures.map((c) => ({
      node: c.node,
      iface: c.iface,
      packets: c.captured,
      dropped: c.dropped,
      limitReached: c.limitReached,
    })),
    warnings: warningsOf(run),
    flows,
    packets,
  };
}

/** A lookup answered by a node that asked nobody: from its cache (a resolver) or its own zone. */
function dnsNote(f: Flow, owners: Map<string, string>): { note?: string } {
  if (f.first.dport !== 53) return {};
  const server = owners.get(f.first.dst);
  const answered = f.trips.some(
    (t) => t.sightings[0]?.packet.app?.startsWith('DNS ') && !t.sightings[0].packet.app.includes('?'),
  );
  const asked = f.related.some((r) => r.why.includes('asked upstream'));
  if (!server || !answered || asked) return {};
  return { note: `${server} answered without asking anyone: from its cache, or from a zone of its own` };
}

function warningsOf(run: JourneyRun): string[] {
  const w: string[] = [];
  for (const c of run.captures.captures) {
    if (c.limitReached)
      w.push(
        `the capture on ${c.node} ${c.iface} reached its limit of ${run.captures.limits.maxPackets} packets: later packets there are not shown`,
      );
    if (c.dropped) w.push(`the capture on ${c.node} ${c.iface} missed ${c.dropped} packets (the machine was too busy)`);
  }
  for (const n of run.captures.nodes)
    for (const f of n.failed) {
      const why = n.reasons?.[f];
      w.push(`the capture on ${n.node} ${f} did not start${why ? ` (${why})` : ''}: packets there are not shown`);
    }
  if (run.timedOut) w.push('the command hit its time limit and was stopped');
  return w;
}

function hopDoc(s: Sighting, t0: number, owner: (mac: string) => string, ownIsn: number, peerIsn: number): HopDoc {
  const p = s.packet;
  const ip = p.ip as NonNullable<Packet['ip']>;
  const ports = portsOf(p);
  const doc: HopDoc = {
    node: s.node,
    iface: s.iface,
    dir: s.dir,
    t: Math.max(0, Math.round((p.time - t0) * 1e6) / 1e6),
    eth: {
      src: p.eth?.src ?? '',
      dst: p.eth?.dst ?? '',
      srcOwner: owner(p.eth?.src ?? ''),
      dstOwner: owner(p.eth?.dst ?? ''),
    },
    ip: {
      src: ip.src,
      dst: ip.dst,
      ttl: ip.ttl,
      id: ip.id,
      df: ip.df,
      mf: ip.mf,
      fragOffset: ip.fragOffset,
      length: ip.length,
      proto: protoName(ip.proto),
    },
    ...(ports && (p.tcp || p.udp) ? { sport: ports.sport, dport: ports.dport } : {}),
  };
  if (p.tcp) {
    doc.tcp = {
      flags: p.tcp.flags,
      seq: p.tcp.seq,
      ack: p.tcp.ack,
      relSeq: (p.tcp.seq - ownIsn) >>> 0,
      relAck: p.tcp.flags.includes('.') ? (p.tcp.ack - peerIsn) >>> 0 : 0,
      window: p.tcp.window,
      ...(p.tcp.mss ? { mss: p.tcp.mss } : {}),
      length: p.tcp.length,
    };
  }
  if (p.icmp) {
    const q = p.icmp.quoted;
    doc.icmp = {
      type: p.icmp.type,
      code: p.icmp.code,
      name: icmpName(p.icmp),
      ...(p.icmp.mtu ? { mtu: p.icmp.mtu } : {}),
      ...(q
        ? {
            quoted: `${protoName(q.ip.proto)} ${q.ip.src}${q.sport !== undefined ? `:${q.sport}` : ''} > ${q.ip.dst}${q.dport !== undefined ? `:${q.dport}` : ''} id ${q.ip.id}`,
          }
        : {}),
    };
  }
  return doc;
}
