// A router's NAT state as `conntrack -L` prints it: for each connection the tuple as it arrived
// (original direction) and the tuple the answer is expected with (reply direction). A translated
// connection has a reply tuple that is not the mirror of its original one.
import { PROTO } from './decode.js';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface Conntrack {
  proto: number;
  orig: Tuple;
  reply: Tuple;
  /** tcp state, e.g. ESTABLISHED, TIME_WAIT (empty for udp and icmp). */
  state: string;
  /** Set by conntrack when it saw no answer yet. */
  unreplied: boolean;
}

const PROTOS: Record<string, number> = { tcp: PROTO.tcp, udp: PROTO.udp, icmp: PROTO.icmp };

/** Parses `conntrack -L` lines; icmp entries use the echo id as both ports (as NAT translates it). */
export function parseConntrack(text: string): Conntrack[] {
  const out: Conntrack[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const proto = PROTOS[words[0] ?? ''];
    if (proto === undefined) continue;
    const values = (key: string) => words.filter((w) => w.startsWith(`${key}=`)).map((w) => w.slice(key.length + 1));
    const [src, dst] = [values('src'), values('dst')];
    if (src.length < 2 || dst.length < 2) continue;
    const ports = (i: number): [number, number] => {
      if (proto === PROTO.icmp) {
        const id = Number(values('id')[i] ?? 0);
        return [id, id];
      }
      return [Number(values('sport')[i] ?? 0), Number(values('dport')[i] ?? 0)];
    };
    const [os, od] = ports(0);
    const [rs, rd] = ports(1);
    out.push({
      proto,
      orig: { src: src[0] as string, dst: dst[0] as string, sport: os, dport: od },
      reply: { src: src[1] as string, dst: dst[1] as string, sport: rs, dport: rd },
      state: proto === PROTO.tcp ? (words.find((w) => /^[A-Z_]{4,}$/.test(w) && w !== 'ASSURED') ?? '') : '',
      unreplied: words.includes('[UNREPLIED]'),
    });
  }
  return out;
}

export const mirror = (t: Tuple): Tuple => ({ src: t.dst, dst: t.src, sport: t.dport, dport: t.sport });
export const sameTuple = (a: Tuple, b: Tuple): boolean =>
  a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport;
export const tupleText = (t: Tuple, ports = true): string =>
  ports ? `${t.src}:${t.sport} > ${t.dst}:${t.dport}` : `${t.src} > ${t.dst}`;

/** Whether a connection's translation turns `before` into `after`, and in which direction. */
export function translates(entry: Conntrack, before: Tuple, after: Tuple): 'original' | 'reply' | undefined {
  // Original direction: arrives as the original tuple, leaves as the mirror of the reply tuple.
  if (sameTuple(entry.orig, before) && sameTuple(mirror(entry.reply), after)) return 'original';
  // Reply direction: arrives as the reply tuple, leaves as the mirror of the original one.
  if (sameTuple(entry.reply, before) && sameTuple(mirror(entry.orig), after)) return 'reply';
  return undefined;
}

export function isTranslated(entry: Conntrack): boolean {
  return !sameTuple(mirror(entry.reply), entry.orig);
}
