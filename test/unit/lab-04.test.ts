// Lab 04's variation is pure (deterministic per seed, different across seeds, valid for the
// world), and its pcap reader follows connections the way tcpdump shows them.
import { describe, expect, it } from 'vitest';
import lab, { disagreement, MSS_MAX, MSS_MIN, SIZE_MAX, SIZE_MIN, tcpFacts } from '../../labs/04-tcp/lab.js';
import {
  connections,
  describe as line,
  distinctSegments,
  parseTcpdumpText,
  PcapError,
  readPcap,
  serverBytes,
} from '../../labs/04-tcp/pcap.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { canonicalWorld, findNode } from '../../orchestrator/world/world.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const registered = await findLab('4');

describe('lab 04: variation', () => {
  it('is deterministic per seed and draws each variable from its own stream', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
    expect(drawsIndependently(lab.vary)).toBe(true);
  });

  it('differs across seeds: the size to fetch and the MSS Alice announces', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.bytes)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.advmss)).size).toBeGreaterThan(15);
    // The integration test copies answers between these two learners.
    expect(varsFor(lab, 'seed-a').advmss).not.toBe(varsFor(lab, 'seed-b').advmss);
  });

  it('stays in range: sizes that span many segments, MSS values below the link MTU', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      expect(v.bytes).toBeGreaterThanOrEqual(SIZE_MIN);
      expect(v.bytes).toBeLessThanOrEqual(SIZE_MAX);
      expect(v.advmss).toBeGreaterThanOrEqual(MSS_MIN);
      expect(v.advmss).toBeLessThanOrEqual(MSS_MAX);
      expect(v.advmss % 20).toBe(0);
      // At least 14 segments, so counting them means something.
      expect(v.bytes / (v.advmss - 12)).toBeGreaterThan(14);
    }
  });

  it('reads its facts from the world and keeps the world unchanged (no overlay: standby worlds serve it)', () => {
    expect(lab.overlay).toBeUndefined();
    const f = tcpFacts(labWorld(registered, varsFor(lab, 'seed-a')));
    expect(f.alice).toBe(findNode(canonicalWorld, 'alice')?.interfaces[0]?.addresses[0]?.split('/')[0]);
    expect(f).toMatchObject({
      iface: 'lan',
      gateway: '192.168.1.1',
      bob: '198.51.100.80',
      homePublic: '203.0.113.5',
      homeWan: 'access',
      webIface: 'vpc',
    });
  });

  it('sets the MSS on alice, real segments on web and the grader capture on home; the task card names the path', () => {
    const v = varsFor(lab, 'seed-a');
    const faults = lab.faults(v, labWorld(registered, v));
    expect(faults.map((f) => f.node).sort()).toEqual(['alice', 'home', 'web']);
    expect(faults.find((f) => f.node === 'alice')?.script).toBe(
      `ip route change default via 192.168.1.1 dev lan advmss ${v.advmss}`,
    );
    expect(faults.find((f) => f.node === 'web')?.script).toContain('gso_max_segs 1');
    // On the router's side facing the ISP: frames played onto Alice's network never appear there.
    expect(faults.find((f) => f.node === 'home')?.script).toMatch(
      /tcpdump -i access .*-w \S+ 'tcp and host 198\.51\.100\.80 and port 80'/,
    );
    expect(lab.task?.(v).fetch).toBe(`http://web.bob.example/bytes/${v.bytes}`);
    expect(
      labChecks(registered, v)
        .filter((c) => c.required !== false)
        .reduce((s, c) => s + c.points, 0),
    ).toBe(11);
  });
});

// ---- a tiny pcap writer for the reader's tests --------------------------------------------------

interface Seg {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: string; // "S", "S.", ".", "P.", "F."
  mss?: number;
  data?: string | number; // text, or a number of filler bytes
}

function frame(s: Seg): Buffer {
  const payload = typeof s.data === 'number' ? Buffer.alloc(s.data, 0x61) : Buffer.from(s.data ?? '', 'latin1');
  const opts = s.mss !== undefined ? Buffer.from([2, 4, s.mss >> 8, s.mss & 0xff]) : Buffer.alloc(0);
  const tcp = Buffer.alloc(20 + opts.length);
  tcp.writeUInt16BE(s.sport, 0);
  tcp.writeUInt16BE(s.dport, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  tcp[12] = (tcp.length / 4) << 4;
  tcp[13] =
    (s.flags.includes('S') ? 2 : 0) |
    (s.flags.includes('F') ? 1 : 0) |
    (s.flags.includes('P') ? 8 : 0) |
    (s.flags.includes('.') ? 16 : 0);
  opts.copy(tcp, 20);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcp.length + payload.length, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 64;
  ip[9] = 6;
  s.src.split('.').forEach((o, i) => (ip[12 + i] = Number(o)));
  s.dst.split('.').forEach((o, i) => (ip[16 + i] = Number(o)));
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, tcp, payload]);
}

function pcap(segs: Seg[], opts: { bigEndian?: boolean; cut?: number } = {}): Buffer {
  const w32 = (b: Buffer, v: number, o: number) => (opts.bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const head = Buffer.alloc(24);
  w32(head, 0xa1b2c3d4, 0);
  w32(head, 262144, 16);
  w32(head, 1, 20);
  const records = segs.map((s, i) => {
    const f = frame(s);
    const h = Buffer.alloc(16);
    w32(h, 1795605961, 0);
    w32(h, i * 100, 4);
    w32(h, f.length, 8);
    w32(h, f.length, 12);
    return Buffer.concat([h, f]);
  });
  const all = Buffer.concat([head, ...records]);
  return opts.cut ? all.subarray(0, all.length - opts.cut) : all;
}

const A = '192.168.1.101';
const B = '198.51.100.80';
const ISN_A = 4294967000; // wraps during the exchange
const ISN_B = 4294967290;
const exchange: Seg[] = [
  { src: A, dst: B, sport: 40000, dport: 80, seq: ISN_A, flags: 'S', mss: 1200 },
  { src: B, dst: A, sport: 80, dport: 40000, seq: ISN_B, ack: ISN_A + 1, flags: 'S.', mss: 1460 },
  { src: A, dst: B, sport: 40000, dport: 80, seq: ISN_A + 1, ack: ISN_B + 1, flags: '.' },
  {
    src: A,
    dst: B,
    sport: 40000,
    dport: 80,
    seq: ISN_A + 1,
    ack: ISN_B + 1,
    flags: 'P.',
    data: 'GET /bytes/2500 HTTP/1.1\r\nHost: web.bob.example\r\n\r\n',
  },
  { src: B, dst: A, sport: 80, dport: 40000, seq: ISN_B + 1, ack: ISN_A + 51, flags: '.', data: 1188 },
  { src: A, dst: B, sport: 40000, dport: 80, seq: ISN_A + 51, ack: ISN_B + 1189, flags: '.' },
  { src: B, dst: A, sport: 80, dport: 40000, seq: ISN_B + 1189, ack: ISN_A + 51, flags: '.', data: 1188 },
  { src: B, dst: A, sport: 80, dport: 40000, seq: ISN_B + 1189, ack: ISN_A + 51, flags: '.', data: 1188 }, // retransmission
  { src: B, dst: A, sport: 80, dport: 40000, seq: ISN_B + 2377, ack: ISN_A + 51, flags: 'P.', data: 300 },
  { src: A, dst: B, sport: 40000, dport: 80, seq: ISN_A + 51, ack: ISN_B + 2677, flags: 'F.' },
  // someone else's connection, ignored
  { src: '192.168.1.7', dst: B, sport: 40002, dport: 80, seq: 5, flags: 'S' },
];

describe('lab 04: pcap reader', () => {
  it('follows a connection: handshake, request, data segments, bytes (across the 2^32 wrap)', () => {
    for (const bigEndian of [false, true]) {
      const cap = readPcap(pcap(exchange, { bigEndian }));
      expect(cap.frames).toBe(exchange.length);
      expect(cap.truncated).toBe(false);
      const conns = connections(cap.tcp, B, 80).filter((c) => c.client === A);
      expect(conns).toHaveLength(1);
      const c = conns[0] as NonNullable<(typeof conns)[0]>;
      expect(c.clientPort).toBe(40000);
      expect(c.syn.seq).toBe(ISN_A);
      expect(c.syn.mss).toBe(1200);
      expect(c.synAck?.seq).toBe(ISN_B);
      expect(c.synAck?.mss).toBe(1460);
      expect(c.ack?.ack).toBe((ISN_B + 1) >>> 0);
      expect(c.request.split('\r\n')[0]).toBe('GET /bytes/2500 HTTP/1.1');
      expect(c.serverData).toHaveLength(4);
      expect(distinctSegments(c.serverData)).toBe(3);
      expect(serverBytes(c)).toBe(2676);
      expect(line(c.syn)).toContain(`Flags [S], seq ${ISN_A}, options [mss 1200], length 0`);
    }
  });

  it('tolerates a file tcpdump is still writing, and refuses what is not a pcap', () => {
    expect(readPcap(pcap(exchange, { cut: 10 })).truncated).toBe(true);
    expect(() => readPcap(Buffer.from('hello, this is not a capture at all'))).toThrow(PcapError);
    const ng = Buffer.alloc(32);
    ng.writeUInt32LE(0x0a0d0d0a, 0);
    expect(() => readPcap(ng)).toThrow(/pcapng/);
  });

  it('reads the text tcpdump -nn -S -tt prints (the router capture) into the same connections', () => {
    const text = [
      `1795605961.497088 IP ${A}.48228 > ${B}.80: Flags [S], seq 1566328397, win 64800, options [mss 1200,sackOK,TS val 2987350067 ecr 0,nop,wscale 10], length 0`,
      `1795605961.497195 IP ${B}.80 > ${A}.48228: Flags [S.], seq 3630890064, ack 1566328398, win 65160, options [mss 1460,sackOK,TS val 2487130004 ecr 2987350067,nop,wscale 10], length 0`,
      `1795605961.498664 IP ${B}.80 > ${A}.48228: Flags [.], seq 3630890065:3630891253, ack 1566328488, win 64, length 1188: HTTP: HTTP/1.1 200 OK`,
      `1795605961.498737 IP ${B}.80 > ${A}.48228: Flags [P.], seq 3630891253:3630891300, ack 1566328488, win 64, length 47: HTTP`,
    ].join('\n');
    const [c] = connections(parseTcpdumpText(text), B, 80);
    expect(c?.syn.seq).toBe(1566328397);
    expect(c?.syn.mss).toBe(1200);
    expect(c?.synAck?.seq).toBe(3630890064);
    expect(c?.serverData.map((p) => p.length)).toEqual([1188, 47]);
    expect(c && serverBytes(c)).toBe(1235);
  });
});

describe("lab 04: the router's record against the capture", () => {
  const conn = (segs: Seg[]) =>
    connections(readPcap(pcap(segs)).tcp, B, 80).filter((c) => c.client === A)[0] as NonNullable<
      ReturnType<typeof connections>[0]
    >;
  const c = conn(exchange);

  it('agrees with the same connection, and names what differs otherwise', () => {
    expect(disagreement(c, conn(exchange))).toBeUndefined();
    expect(disagreement(c, undefined)).toMatch(/never forwarded a connection from 192\.168\.1\.101 port 40000/);
    const otherMss = exchange.map((x, i) => (i === 0 ? { ...x, mss: 1300 } : x));
    expect(disagreement(c, conn(otherMss))).toMatch(/announce another MSS/);
    const otherIsn = exchange.map((x, i) => (i === 1 ? { ...x, seq: 7 } : x));
    expect(disagreement(c, conn(otherIsn))).toMatch(/other initial sequence numbers/);
    expect(disagreement(c, conn(exchange.filter((_, i) => i !== 8)))).toMatch(/holds more data segments/);
    expect(disagreement(conn(exchange.filter((_, i) => i !== 8)), c)).toMatch(/misses some of Bob's data segments/);
    // As many segments, but one of another length: an edited capture.
    const longer = exchange.map((x, i) => (i === 8 ? { ...x, data: 301 } : x));
    expect(disagreement(c, conn(longer))).toMatch(/not the ones the home router forwarded/);
  });
});
