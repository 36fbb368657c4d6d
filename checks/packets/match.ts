// Following packets from hop to hop. Every node's interfaces were captured; the same frame seen
// leaving one node and arriving at the next is one packet on one link, and a packet that arrives
// at a router and leaves it again keeps what a router does not change (IP ID, protocol, payload,
// TCP sequence numbers) while its TTL drops by one. Addresses and ports may change only as the
// router's own NAT state (conntrack) says, so a match across NAT is proven, not guessed from timing.
import { portsOf, type Packet } from './decode.js';
import { translates, type Conntrack, type Tuple } from './nat.js';

export interface Observation {
  node: string;
  iface: string;
  mac: string;
  packets: Packet[];
}

export interface NodeView {
  node: string;
  /** Bare IPv4 addresses of the node (all interfaces). */
  addresses: string[];
  conntrack: Conntrack[];
}

export interface Sighting {
  node: string;
  iface: string;
  dir: 'in' | 'out';
  packet: Packet;
}

export type ChangeWhy =
  'routing' | 'snat' | 'dnat' | 'reverse nat' | 'mss clamping' | 'fragmentation' | 'ttl' | 'nat helper';

export interface Change {
  field:
    | 'ttl'
    | 'src mac'
    | 'dst mac'
    | 'src ip'
    | 'dst ip'
    | 'src port'
    | 'dst port'
    | 'echo id'
    | 'mss'
    | 'fragments'
    | 'payload';
  from: string;
  to: string;
  why: ChangeWhy;
}

/** One router's handling of a packet: where it came in, where it left, what changed. */
export interface Hop {
  node: string;
  inIface: string;
  outIface: string;
  changes: Change[];
  /** How the NAT part of the match was proven. */
  matchedBy: 'unchanged' | 'conntrack' | 'ip id';
}

export type Fate =
  | { kind: 'delivered'; node: string }
  | { kind: 'died'; node: string; iface: string }
  | { kind: 'unclaimed'; node: string; iface: string }
  | { kind: 'unknown' };

/** One packet's trip: every sighting in order, the routers it crossed, and how it ended. */
export interface Trip {
  id: number;
  sightings: Sighting[];
  hops: Hop[];
  origin: { node: string; generated: boolean };
  fate: Fate;
}

export interface Flow {
  id: number;
  proto: number;
  /** The conversation as its first packet left: client and server as they were then. */
  first: Tuple;
  trips: Trip[];
  /** ICMP errors that quote one of the flow's packets. */
  errors: Trip[];
  /** Flows this one belongs with (an FTP data connection and its control connection, a DNS lookup forwarded by a cache). */
  related: { flow: number; why: string }[];
}

export interface Journey {
  flows: Flow[];
  trips: Trip[];
  /** ARP questions nobody answered: a next hop that was not there. */
  unansweredArp: { node: string; iface: string; target: string; asked: number }[];
}

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const isGroup = (mac: string) => mac === BROADCAST || (parseInt(mac.slice(0, 2), 16) & 1) === 1;
/** A window that only keeps IP ID wrap-around from matching; the proof is in the fields. */
const WINDOW_S = 3;

function tupleOf(p: Packet): Tuple | undefined {
  if (!p.ip) return undefined;
  const ports = portsOf(p) ?? { sport: 0, dport: 0 };
  // ICMP echo: conntrack names the echo id as both ports.
  if (p.icmp?.echoId !== undefined) return { src: p.ip.src, dst: p.ip.dst, sport: p.icmp.echoId, dport: p.icmp.echoId };
  return { src: p.ip.src, dst: p.ip.dst, ...ports };
}

/** What stays the same on the wire between two ends of a link: the whole frame. */
function wireKey(p: Packet): string {
  const ip = p.ip;
  if (!ip || !p.eth) return '';
  const t = p.tcp ? `${p.tcp.seq}/${p.tcp.ack}/${p.tcp.flags}` : '';
  return [
    p.eth.src,
    p.eth.dst,
    ip.src,
    ip.dst,
    ip.id,
    ip.ttl,
    ip.proto,
    ip.fragOffset,
    ip.length,
    JSON.stringify(portsOf(p) ?? {}),
    t,
    p.digest,
  ].join('|');
}

/** What a router keeps when it forwards (TTL aside): the key of a through-node match. */
function forwardKey(p: Packet, ttl: number): string {
  const ip = p.ip;
  if (!ip) return '';
  // Flags only: sequence numbers may be shifted by a NAT helper that rewrites an FTP PORT line.
  return [ip.id, ttl, ip.proto, p.tcp?.flags ?? '', p.icmp ? `${p.icmp.type}/${p.icmp.code}` : ''].join('|');
}

class Sets {
  private parent: number[] = [];
  make(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    while (this.parent[x] !== r) [x, this.parent[x]] = [this.parent[x] as number, r];
    return r;
  }
  join(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

/** The sightings of every capture: a frame the interface sent is "out", one addressed to it "in". */
export function sightingsOf(observations: Observation[]): Sighting[] {
  const out: Sighting[] = [];
  for (const o of observations) {
    for (const packet of o.packets) {
      if (!packet.eth || !packet.ip) continue;
      if (packet.eth.src === o.mac) out.push({ node: o.node, iface: o.iface, dir: 'out', packet });
      else if (packet.eth.dst === o.mac || isGroup(packet.eth.dst))
        out.push({ node: o.node, iface: o.iface, dir: 'in', packet });
    }
  }
  return out.sort((a, b) => a.packet.time - b.packet.time || (a.dir === b.dir ? 0 : a.dir === 'out' ? -1 : 1));
}

/** The changes a router made between an arriving and a leaving packet. */
export function changesOf(a: Packet, b: Packet, direction: 'original' | 'reply' | undefined): Change[] {
  const changes: Change[] = [];
  const ia = a.ip;
  const ib = b.ip;
  if (!ia || !ib) return changes;
  const nat: ChangeWhy = direction === 'reply' ? 'reverse nat' : 'snat';
  const push = (field: Change['field'], from: unknown, to: unknown, why: ChangeWhy) => {
    if (from !== to) changes.push({ field, from: String(from), to: String(to), why });
  };
  push('ttl', ia.ttl, ib.ttl, 'ttl');
  if (a.eth && b.eth) {
    push('src mac', a.eth.src, b.eth.src, 'routing');
    push('dst mac', a.eth.dst, b.eth.dst, 'routing');
  }
  push('src ip', ia.src, ib.src, direction === 'reply' ? 'reverse nat' : 'snat');
  push('dst ip', ia.dst, ib.dst, direction === 'reply' ? 'reverse nat' : 'dnat');
  const pa = portsOf(a);
  const pb = portsOf(b);
  if (a.icmp?.echoId !== undefined && b.icmp?.echoId !== undefined) push('echo id', a.icmp.echoId, b.icmp.echoId, nat);
  else if (pa && pb) {
    push('src port', pa.sport, pb.sport, direction === 'reply' ? 'reverse nat' : 'snat');
    push('dst port', pa.dport, pb.dport, direction === 'reply' ? 'reverse nat' : 'dnat');
  }
  if (a.tcp?.mss !== undefined && b.tcp?.mss !== undefined) push('mss', a.tcp.mss, b.tcp.mss, 'mss clamping');
  return changes;
}

interface Pair {
  from: number;
  to: number;
  hop?: Hop;
}

/** Pairs the same frame at both ends of each link. */
function wirePairs(s: Sighting[]): Pair[] {
  const ins = new Map<string, number[]>();
  s.forEach((x, i) => {
    if (x.dir !== 'in') return;
    const k = wireKey(x.packet);
    ins.set(k, [...(ins.get(k) ?? []), i]);
  });
  const pairs: Pair[] = [];
  const used = new Set<number>();
  s.forEach((x, i) => {
    if (x.dir !== 'out') return;
    const candidates = (ins.get(wireKey(x.packet)) ?? []).filter(
      (j) =>
        !used.has(j) && s[j]?.node !== x.node && Math.abs((s[j] as Sighting).packet.time - x.packet.time) < WINDOW_S,
    );
    // A broadcast reaches every node on the link; a unicast frame reaches one (the first unused).
    const taken = x.packet.eth && isGroup(x.packet.eth.dst) ? candidates : candidates.slice(0, 1);
    for (const j of taken) {
      used.add(j);
      pairs.push({ from: i, to: j });
    }
  });
  return pairs;
}

/** Pairs a packet arriving at a router with the packet the router sent on because of it. */
function forwardPairs(s: Sighting[], views: Map<string, NodeView>): Pair[] {
  const outs = new Map<string, number[]>();
  const add = (k: string, i: number) => outs.set(k, [...(outs.get(k) ?? []), i]);
  // A fragment after the first has no transport header: it is found by IP ID alone.
  const fragmentKey = (node: string, p: Packet, ttl: number) => `${node}|fragment|${p.ip?.id}|${ttl}|${p.ip?.proto}`;
  s.forEach((x, i) => {
    if (x.dir !== 'out' || !x.packet.ip) return;
    add(`${x.node}|${forwardKey(x.packet, x.packet.ip.ttl + 1)}`, i);
    if (x.packet.ip.mf || x.packet.ip.fragOffset > 0) add(fragmentKey(x.node, x.packet, x.packet.ip.ttl + 1), i);
  });
  const pairs: Pair[] = [];
  const used = new Set<number>();
  s.forEach((x, i) => {
    if (x.dir !== 'in' || !x.packet.ip) return;
    const a = x.packet;
    const ta = tupleOf(a) as Tuple;
    const view = views.get(x.node);
    const keyed = [
      ...(outs.get(`${x.node}|${forwardKey(a, a.ip?.ttl ?? 0)}`) ?? []),
      ...(outs.get(fragmentKey(x.node, a, a.ip?.ttl ?? 0)) ?? []),
    ];
    const candidates = [...new Set(keyed)].filter((j) => {
      const b = (s[j] as Sighting).packet;
      return !used.has(j) && b.time >= a.time - 0.001 && b.time - a.time < WINDOW_S;
    });
    // The first fragment proves the translation; later ones (no ports to compare) follow it.
    let first: Hop | undefined;
    for (const j of candidates) {
      const b = (s[j] as Sighting).packet;
      const tb = tupleOf(b) as Tuple;
      const fragmented = !!b.ip && (b.ip.mf || b.ip.fragOffset > 0) && !(a.ip?.mf || (a.ip?.fragOffset ?? 0) > 0);
      if (first && fragmented && (b.ip?.fragOffset ?? 0) > 0) {
        used.add(j);
        pairs.push({ from: i, to: j });
        continue;
      }
      // The payload must be the same (a fragment carries the start or a later part of it), except
      // where a NAT helper rewrote it (FTP's PORT and 227 lines): then the router's state must vouch.
      const samePayload = fragmented || b.digest === a.digest;
      if (!samePayload && !(a.tcp && b.tcp)) continue;
      let matchedBy: Hop['matchedBy'] = 'unchanged';
      let direction: 'original' | 'reply' | undefined;
      const sameEnds =
        ta.src === tb.src && ta.dst === tb.dst && (fragmented || (ta.sport === tb.sport && ta.dport === tb.dport));
      if (!sameEnds) {
        for (const e of view?.conntrack ?? []) {
          direction = e.proto === a.ip?.proto ? translates(e, ta, tb) : undefined;
          if (direction) break;
        }
        // A translation the router's state does not confirm (expired) still matches on the
        // unchanged fields, but only when exactly one packet fits, and it is marked as such.
        if (direction) matchedBy = 'conntrack';
        else if (candidates.length === 1) matchedBy = 'ip id';
        else continue;
      }
      if (!samePayload && matchedBy !== 'conntrack') continue;
      const changes = changesOf(a, b, direction);
      if (!samePayload)
        changes.push({
          field: 'payload',
          from: a.app ?? `${a.payloadLength} bytes`,
          to: b.app ?? `${b.payloadLength} bytes`,
          why: 'nat helper',
        });
      if (fragmented)
        changes.push({ field: 'fragments', from: `${a.ip?.length} bytes`, to: 'fragments', why: 'fragmentation' });
      used.add(j);
      first = { node: x.node, inIface: x.iface, outIface: (s[j] as Sighting).iface, changes, matchedBy };
      pairs.push({ from: i, to: j, hop: first });
      // Fragments of one datagram all belong to it: keep pairing them.
      if (!fragmented) break;
    }
  });
  return pairs;
}

function fateOf(next: Set<number>, indexes: number[], views: Map<string, NodeView>, s: Sighting[]): Fate {
  // The last sightings: those nothing follows.
  const ends = indexes.filter((i) => !next.has(i));
  const last = s[ends[ends.length - 1] ?? -1];
  if (!last) return { kind: 'unknown' };
  if (last.dir === 'out') return { kind: 'unclaimed', node: last.node, iface: last.iface };
  const dst = last.packet.ip?.dst ?? '';
  const view = views.get(last.node);
  if (view?.addresses.includes(dst) || dst === '255.255.255.255' || dst.startsWith('224.'))
    return { kind: 'delivered', node: last.node };
  return { kind: 'died', node: last.node, iface: last.iface };
}

const convKey = (proto: number, t: Tuple) => {
  const a = `${t.src}:${t.sport}`;
  const b = `${t.dst}:${t.dport}`;
  return `${proto}|${a < b ? `${a}|${b}` : `${b}|${a}`}`;
};

/** Follows every packet the captures saw, and groups the packets into conversations. */
export function follow(observations: Observation[], nodeViews: NodeView[]): Journey {
  const views = new Map(nodeViews.map((v) => [v.node, v]));
  const s = sightingsOf(observations);
  const sets = new Sets();
  s.forEach(() => sets.make());
  const pairs = [...wirePairs(s), ...forwardPairs(s, views)];
  const next = new Set<number>();
  const prev = new Set<number>();
  const hopsByFrom = new Map<number, Hop>();
  for (const p of pairs) {
    sets.join(p.from, p.to);
    next.add(p.from);
    prev.add(p.to);
    if (p.hop) hopsByFrom.set(p.from, p.hop);
  }
  const groups = new Map<number, number[]>();
  s.forEach((_, i) => {
    const r = sets.find(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  });
  const trips: Trip[] = [...groups.values()]
    .map((indexes) => indexes.sort((a, b) => a - b))
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))
    .map((indexes, id) => {
      const sightings = indexes.map((i) => s[i] as Sighting);
      const first = sightings[0] as Sighting;
      const hops = indexes.flatMap((i) => (hopsByFrom.has(i) ? [hopsByFrom.get(i) as Hop] : []));
      return {
        id: id + 1,
        sightings,
        hops,
        origin: { node: first.node, generated: first.dir === 'out' && !prev.has(indexes[0] as number) },
        fate: fateOf(next, indexes, views, s),
      };
    });
  return { trips, flows: flowsOf(trips), unansweredArp: unansweredArp(observations) };
}

function flowsOf(trips: Trip[]): Flow[] {
  const sets = new Sets();
  trips.forEach(() => sets.make());
  const owner = new Map<string, number>();
  const errors: number[] = [];
  trips.forEach((t, i) => {
    const p = t.sightings[0]?.packet;
    if (p?.icmp?.quoted) {
      errors.push(i);
      return;
    }
    // Fragments after the first carry no ports: they join through their trip, not their tuple.
    for (const x of t.sightings) {
      if (!x.packet.ip || x.packet.ip.fragOffset > 0) continue;
      const k = convKey(x.packet.ip.proto, tupleOf(x.packet) as Tuple);
      const seen = owner.get(k);
      if (seen === undefined) owner.set(k, i);
      else sets.join(i, seen);
    }
  });
  const byRoot = new Map<number, Trip[]>();
  trips.forEach((t, i) => {
    if (errors.includes(i)) return;
    const r = sets.find(i);
    byRoot.set(r, [...(byRoot.get(r) ?? []), t]);
  });
  const flows: Flow[] = [...byRoot.values()].map((ts, id) => {
    const p = ts[0]?.sightings[0]?.packet as Packet;
    return { id: id + 1, proto: p.ip?.proto ?? 0, first: tupleOf(p) as Tuple, trips: ts, errors: [], related: [] };
  });
  // An ICMP error joins the flow of the packet it quotes (at any hop, as translated there).
  for (const i of errors) {
    const t = trips[i] as Trip;
    const q = t.sightings[0]?.packet.icmp?.quoted;
    if (!q) continue;
    const key = convKey(q.ip.proto, { src: q.ip.src, dst: q.ip.dst, sport: q.sport ?? 0, dport: q.dport ?? 0 });
    const at = owner.get(key);
    const flow = at === undefined ? undefined : flows.find((f) => f.trips.includes(trips[at] as Trip));
    if (flow) flow.errors.push(t);
    else
      flows.push({
        id: flows.length + 1,
        proto: 1,
        first: tupleOf(t.sightings[0]?.packet as Packet) as Tuple,
        trips: [t],
        errors: [],
        related: [],
      });
  }
  linkRelated(flows);
  return flows;
}

/** FTP data connections to their control connection; a cache's forwarded DNS question to the one it answers. */
function linkRelated(flows: Flow[]): void {
  const texts = (f: Flow) =>
    f.trips.flatMap((t) => (t.sightings[0]?.packet.app ? [t.sightings.map((x) => x.packet.app as string)] : [])).flat();
  for (const control of flows.filter((f) => f.first.dport === 21)) {
    // Every address the control connection had at any hop: EPSV's reply names only a port.
    const ends = new Set(
      control.trips.flatMap((t) => t.sightings.flatMap((x) => (x.packet.ip ? [x.packet.ip.src, x.packet.ip.dst] : []))),
    );
    for (const line of texts(control)) {
      const target = ftpDataTarget(line);
      if (!target) continue;
      const fits = (tp: Tuple | undefined) =>
        !!tp &&
        ((tp.dport === target.port && (target.address ? tp.dst === target.address : ends.has(tp.dst))) ||
          (tp.sport === target.port && (target.address ? tp.src === target.address : ends.has(tp.src))));
      const data = flows.find(
        (f) => f !== control && f.trips.some((t) => t.sightings.some((x) => fits(tupleOf(x.packet)))),
      );
      if (data && !data.related.some((r) => r.flow === control.id)) {
        const why = `FTP ${target.active ? 'active' : 'passive'}-mode data connection (${target.command})`;
        data.related.push({ flow: control.id, why });
        control.related.push({ flow: data.id, why });
      }
    }
  }
  const questions = (f: Flow) =>
    new Set(
      texts(f)
        .filter((l) => l.startsWith('DNS ') && l.includes('?'))
        .map((l) => l.slice(4)),
    );
  const dns = flows.filter((f) => f.first.dport === 53);
  for (const a of dns) {
    const server = a.trips[0]?.fate;
    if (server?.kind !== 'delivered') continue;
    for (const b of dns) {
      // b asks one of a's questions and was sent by the node a's question went to: a cache forwarding it.
      const shared = [...questions(b)].find((q) => questions(a).has(q));
      if (a === b || !shared || !b.trips[0]?.origin.generated || b.trips[0].origin.node !== server.node) continue;
      a.related.push({ flow: b.id, why: `${server.node} asked upstream: ${shared}` });
      b.related.push({ flow: a.id, why: `${server.node} forwarding flow ${a.id}'s question` });
    }
  }
}

/** Where an FTP command or reply says the data connection goes: PORT, EPRT, 227 or 229. */
export function ftpDataTarget(
  line: string,
): { address?: string; port: number; active: boolean; command: string } | undefined {
  const six = /(PORT |227 .*\()(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(line);
  if (six) {
    const n = six.slice(2).map(Number) as [number, number, number, number, number, number];
    return {
      address: n.slice(0, 4).join('.'),
      port: n[4] * 256 + n[5],
      active: six[1] === 'PORT ',
      command: six[1] === 'PORT ' ? 'PORT' : '227',
    };
  }
  const eprt = /EPRT \|1\|([\d.]+)\|(\d+)\|/.exec(line);
  if (eprt) return { address: eprt[1] as string, port: Number(eprt[2]), active: true, command: 'EPRT' };
  const epsv = /229 .*\(\|\|\|(\d+)\|\)/.exec(line);
  if (epsv) return { port: Number(epsv[1]), active: false, command: '229' };
  return undefined;
}

function unansweredArp(observations: Observation[]): Journey['unansweredArp'] {
  const out: Journey['unansweredArp'] = [];
  for (const o of observations) {
    const asked = new Map<string, number>();
    const answered = new Set<string>();
    for (const p of o.packets) {
      if (!p.arp) continue;
      if (p.arp.op === 'request' && p.eth?.src === o.mac)
        asked.set(p.arp.targetIp, (asked.get(p.arp.targetIp) ?? 0) + 1);
      if (p.arp.op === 'reply') answered.add(p.arp.senderIp);
    }
    for (const [target, n] of asked)
      if (!answered.has(target)) out.push({ node: o.node, iface: o.iface, target, asked: n });
  }
  return out;
}
