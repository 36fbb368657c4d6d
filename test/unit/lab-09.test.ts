// Lab 09 without Docker: the per-learner variation, the faults it drives, and the reading of the
// router's captures that the grader relies on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labFileTrees, labWorld } from '../../orchestrator/labs/labrun.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import lab, {
  byteRange,
  FRAMES_MAX,
  FRAMES_MIN,
  LATE_MAX,
  LATE_MIN,
  LOSS_MAX,
  LOSS_MIN,
  parseForged,
  PORT,
  SPREAD,
  STREAMER,
  streamId,
  streamWorld,
  WHY_CONCEPTS,
  type StreamVars,
} from '../../labs/09-tcp-vs-udp/lab.js';
import { judgeRubric } from '../../checks/answers.js';
import { parseTcpWitness, parseUdpWitness } from '../../labs/09-tcp-vs-udp/witness.js';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
// The lab as the registry loads it (its folder), and its world facts: the lab has no overlay.
const registered = await findLab('9');
const w = streamWorld(canonicalWorld);
const faultsOf = (vars: StreamVars) => lab.faults(vars, labWorld(registered, vars));

describe('lab 09 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
  });

  it('differs across seeds in the frame count and the loss', () => {
    expect(drawsIndependently(lab.vary)).toBe(true);
    const all = seeds.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.frames)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.map((v) => v.lossPercent)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.map((v) => `${v.frames}/${v.lossPercent}`)).size).toBeGreaterThan(150);
  });

  it('only uses values that make a sensible stream', () => {
    for (const s of seeds) {
      const v = varsFor(lab, s);
      expect(v.frames % 10).toBe(0);
      expect(v.frames).toBeGreaterThanOrEqual(FRAMES_MIN);
      expect(v.frames).toBeLessThanOrEqual(FRAMES_MAX);
      expect(v.lossPercent).toBeGreaterThanOrEqual(LOSS_MIN);
      expect(v.lossPercent).toBeLessThanOrEqual(LOSS_MAX);
      expect(v.latePercent).toBeGreaterThanOrEqual(LATE_MIN);
      expect(v.latePercent).toBeLessThanOrEqual(LATE_MAX);
    }
    expect(lab.overlay).toBeUndefined();
    expect(w).toMatchObject({
      alice: '192.168.1.101',
      iface: 'lan',
      bob: '198.51.100.80',
      homeWan: 'access',
      homePublic: '203.0.113.5',
      edgeOutside: 'backbone',
    });
    // The stream's port is not one the canonical security group already opens.
    const edge = canonicalWorld.nodes.find((n) => n.name === 'edge');
    expect(JSON.stringify(edge?.firewall)).not.toContain(String(PORT));
  });

  it('injects the loss on the ISP router for the stream only, and opens the port on the edge', () => {
    const v = varsFor(lab, 'learner-7');
    const faults = faultsOf(v);
    expect(faults.map((f) => f.node).sort()).toEqual(['edge', 'home', 'isp', 'web']);
    const isp = faults.find((f) => f.node === 'isp')?.script ?? '';
    expect(isp).toContain(`--probability ${(v.lossPercent / 100).toFixed(2)} -j DROP`);
    for (const line of isp.split('\n')) expect(line).toMatch(new RegExp(`-s ${w.bob} -p (udp|tcp) --sport ${PORT} `));
    const edge = faults.find((f) => f.node === 'edge')?.script ?? '';
    expect(edge).toMatch(/-p udp --dport 5004/);
    expect(edge).toMatch(/-p tcp --dport 5004/);
    const web = faults.find((f) => f.node === 'web')?.script ?? '';
    expect(web).toContain(`node ${STREAMER} ${PORT} ${v.frames} ${SPREAD} `);
    expect(web).toContain('listening udp 5004 && listening tcp 5004 && exit 0');
  });

  it("puts Bob's streamer on web as a lab file, where the fault starts it", () => {
    const trees = labFileTrees(registered, canonicalWorld);
    expect(trees.map((t) => t.node)).toEqual(['web']);
    const streamer = readFileSync(join(trees[0]?.path as string, STREAMER), 'utf8');
    expect(streamer).toContain("dgram.createSocket('udp4')");
    // Every run draws its own id and its own length.
    expect(streamer).toContain('crypto.randomInt(-spread, spread + 1)');
  });

  it('records the stream where it comes in from the ISP, and watches the LAN side for forgeries', () => {
    const home = faultsOf(varsFor(lab, 'learner-3')).find((f) => f.node === 'home')?.script ?? '';
    const captures = home.split('\n').filter((l) => l.includes('tcpdump -i'));
    expect(captures).toHaveLength(3);
    for (const c of captures) expect(c).toContain(' -Q in ');
    expect(
      captures.filter((c) => c.includes(`-i ${w.homeWan} `) && c.includes(`dst host ${w.homePublic}`)),
    ).toHaveLength(2);
    expect(captures.filter((c) => c.includes(`-i ${w.homeLan} `) && c.includes('stream-forged'))).toHaveLength(1);
  });

  it('gives a task card that names the stream but predicts no answer: no loss, no frame count', () => {
    const cards = seeds.slice(0, 50).map((s) => lab.task?.(varsFor(lab, s)) ?? {});
    for (const card of cards) {
      expect(card.stream_port).toMatch(/^5004 /);
      expect(JSON.stringify(card)).not.toMatch(/loss|%|drop/i);
      // The only numbers are the port and the pace.
      expect(new Set(Object.values(card).join(' ').match(/\d+/g))).toEqual(new Set(['5004', '10']));
    }
    expect(new Set(cards.map((c) => JSON.stringify(c))).size).toBe(1);
  });

  it('has unique check ids, 10 points, and a check for every question', () => {
    const checks = labChecks(registered, varsFor(lab, 'x'));
    expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(10);
    for (const q of lab.questions)
      expect(
        checks.some((c) => c.title.includes(q.key)),
        q.key,
      ).toBe(true);
    expect(lab.questions.map((q) => q.key)).toEqual([
      'udp_stream',
      'udp_received',
      'udp_late',
      'tcp_stream',
      'tcp_received',
      'tcp_retransmissions',
      'tcp_first_resend',
      'live_stream',
      'why',
    ]);
  });

  it('judges "why" by the ideas it links, not by a keyword', () => {
    const why = (answer: string) => judgeRubric(answer, { concepts: WHY_CONCEPTS, need: 2 });
    const checks = labChecks(registered, varsFor(lab, 'x'));
    expect(checks.find((c) => c.id === 'answer-why')?.points).toBe(1);
    for (const bad of [
      'no idea, latency',
      'latency',
      'not sure, maybe because of the delay and retransmission',
      "I don't know, TCP retransmits and the frames wait",
      'maybe TCP retransmits lost frames and the later ones wait ??',
      'UDP is faster than TCP for video streaming',
      'because it is live and latency matters a lot',
      'UDP has lower latency and less overhead than TCP',
      'TCP is reliable and UDP is not, so UDP is better here',
      'TCP has a handshake and UDP does not, so it starts quicker',
    ])
      expect(why(bad).ok, bad).toBe(false);
    for (const good of [
      // the reference solution's
      'A live stream needs frames on time; a lost frame is simply skipped, while TCP would retransmit it and hold back every later frame until the gap is filled, so the picture stalls and falls behind.',
      'With TCP one lost packet makes everything after it wait for the resend, so the video freezes; with UDP you just lose a frame and keep playing.',
      "UDP doesn't wait for missing data, so old frames never hold up new ones; a frame that comes late is useless in a live broadcast.",
      'Head-of-line blocking: TCP delivers in order, so after a loss the newer frames are stuck until the retransmission arrives.',
      'tcp sends the lost segment again and the stream lags by a few hundred ms each time, udp just drops that frame',
      'Real-time video would rather drop one frame than have every frame behind it wait in the buffer.',
      // a hedge word inside an explanation is not a hedge
      'TCP has no idea a late frame is useless: it retransmits the lost segment and every later frame waits behind it.',
    ])
      expect(why(good), good).toMatchObject({ ok: true });
    expect(why('no idea, latency').why).toMatch(/not sure/);
  });

  it('reads stream ids and byte ranges the way a learner writes them', () => {
    expect(streamId('KQZDMTBW')).toBe('kqzdmtbw');
    expect(streamId(' kqzdmtbw ')).toBe('kqzdmtbw');
    // Vowels, digits and other lengths are never ids the streamer draws.
    for (const bad of ['kqzdmtb', 'kqzdmtbwx', 'kqzdmtba', '12345678', 1234, undefined])
      expect(streamId(bad), String(bad)).toBeUndefined();
    expect(byteRange('383:423')).toEqual([383, 423]);
    expect(byteRange('seq 383:423')).toEqual([383, 423]);
    expect(byteRange(' 383 : 423 ')).toEqual([383, 423]);
    expect(byteRange('383')).toBeUndefined();
  });
});

describe('lab 09 capture reading', () => {
  const udp = [
    '11:49:09.455366 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..S.3dP...e.....*..frame 1 of 6 stream kqzdmtbw t=11ms',
    '',
    '11:49:09.474970 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..P.3dP...e.....*..frame 3 of 6 stream kqzdmtbw t=31ms',
    '',
    // a header byte that happens to be a newline splits the payload over two lines
    '11:49:09.484449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP',
    '...e.....*..frame 2 of 6 stream kqzdmtbw t=41ms',
    '',
    '11:49:09.494449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 5 of 6 stream kqzdmtbw t=51ms',
    '',
    '11:49:09.504449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 4 of 6 stream kqzdmtbw t=61ms',
    '',
    '11:50:00.000001 IP 198.51.100.80.5004 > 192.168.1.101.41000: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 1 of 6 stream xzbbcdfg t=10ms',
    '',
  ].join('\n');

  it('counts the frames of each UDP stream and the late ones', () => {
    const s = parseUdpWitness(udp);
    expect(s.map((x) => [x.stream, x.client, x.frames, x.received, x.late])).toEqual([
      ['kqzdmtbw', '192.168.1.101:38302', 6, 5, 2],
      ['xzbbcdfg', '192.168.1.101:41000', 6, 1, 0],
    ]);
  });

  const H = (t: string, rest: string, port = 55266) =>
    `11:49:${t} IP 198.51.100.80.5004 > 192.168.1.101.${port}: ${rest}`;
  const isn = 4294967000; // close to the wrap, on purpose
  const seg = (a: number, b: number) => `seq ${(isn + a) % 2 ** 32}:${(isn + b) % 2 ** 32}`;
  const tcp = [
    H('15.700000', `Flags [S.], seq ${isn}, ack 2007013693, win 65160, options [mss 1460], length 0`),
    H('15.700100', `Flags [S.], seq ${isn}, ack 2007013693, win 65160, options [mss 1460], length 0`),
    H('15.746313', `Flags [P.], ${seg(1, 35)}, ack 1, win 64, length 34`),
    // tcpdump -A: the first payload bytes after the header name the frame, the length and the id
    'E..V..@.<.....P.....frame 1 of 5 stream kqzdmtbw t=10ms',
    H('15.792062', `Flags [P.], ${seg(69, 103)}, ack 1, win 64, length 34`),
    H('15.792163', `Flags [P.], ${seg(35, 69)}, ack 1, win 64, length 34`),
    H('15.800000', `Flags [P.], ${seg(137, 171)}, ack 1, win 64, length 34`),
    H('15.810000', 'Flags [.], ack 2007013694, win 64, length 0'),
    H('15.820000', `Flags [F.], seq ${(isn + 171) % 2 ** 32}, ack 1, win 64, length 0`),
    H('15.830000', `Flags [P.], ${seg(103, 137)}, ack 1, win 64, length 34`),
    // another connection that never finished
    H('16.000000', 'Flags [S.], seq 1000, ack 5, win 65160, length 0', 40000),
    H('16.010000', 'Flags [P.], seq 1001:1035, ack 1, win 64, length 34', 40000),
  ].join('\n');

  it('follows each TCP connection: retransmissions, the FIN, completeness', () => {
    const f = parseTcpWitness(tcp);
    expect(f).toHaveLength(2);
    expect(f[0]).toMatchObject({
      client: '192.168.1.101:55266',
      isn,
      dataSegments: 5,
      retransmissions: 2,
      finBytes: 170,
      complete: true,
    });
    expect(f[0]).toMatchObject({ stream: 'kqzdmtbw', frames: 5, firstResend: [35, 69] });
    expect(f[1]).toMatchObject({ client: '192.168.1.101:40000', dataSegments: 1, retransmissions: 0, complete: false });
    expect(f[1]?.finBytes).toBeUndefined();
    expect(f[1]?.stream).toBeUndefined();
    expect(f[1]?.firstResend).toBeUndefined();
  });

  it('sees a hole that was never filled', () => {
    const holed = tcp
      .split('\n')
      .filter((l) => !l.includes(seg(103, 137)))
      .join('\n');
    expect(parseTcpWitness(holed)[0]).toMatchObject({ complete: false, finBytes: 170 });
  });

  it("tells packets made on Alice's LAN by the ids they name", () => {
    const lan = [
      '11:52:10.339511 IP 198.51.100.80.5004 > 192.168.1.101.40000: UDP, length 38',
      'E..V..@.<.....frame 1 of 220 stream qqqqwwww t=10ms',
      '11:52:10.339568 IP 198.51.100.80.5004 > 192.168.1.101.40001: Flags [S.], seq 1000, ack 1, win 64, length 0',
      '11:52:10.339570 IP 198.51.100.80.5004 > 192.168.1.101.40001: Flags [P.], seq 1001:1039, ack 1, win 64, length 38',
      'E..V..@.<.....frame 1 of 220 stream zzzzxxxx t=10ms',
    ].join('\n');
    expect(parseForged(lan)).toEqual({ packets: 3, ids: ['qqqqwwww', 'zzzzxxxx'] });
    expect(parseForged('')).toEqual({ packets: 0, ids: [] });
  });
});

describe('lab 09 retransmissions, against a real run of the lab', () => {
  // One TCP run of the lab (seed-a), captured at both ends at once: what Bob's server sent
  // (tcpdump -S on web's vpc side) and what reached Alice's laptop (tcpdump -S on lan).
  const fixture = (name: string) =>
    readFileSync(new URL(`../fixtures/lab-09/${name}`, import.meta.url), 'utf8')
      .trim()
      .split('\n');
  type Seg = { a: number; b: number; ts: number };
  const segments = (lines: string[]): Seg[] => {
    let isn = 0;
    const out: Seg[] = [];
    for (const l of lines) {
      const m = /Flags \[([^\]]*)\], seq (\d+)(?::(\d+))?.*TS val (\d+).*length (\d+)/.exec(l);
      if (!m) continue;
      if (m[1]?.includes('S')) isn = Number(m[2]);
      else if (m[3] !== undefined && Number(m[5]) > 0)
        out.push({ a: Number(m[2]) - isn, b: Number(m[3]) - isn, ts: Number(m[4]) });
    }
    return out;
  };
  const sent = segments(fixture('bob-sent.txt'));
  const got = segments(fixture('alice-got.txt'));
  const overlap = (x: Seg, y: Seg) => x.a < y.b && x.b > y.a;
  // A segment Alice got is a resend when Bob had sent any of its bytes before that transmission
  // (the same bytes and timestamp find the transmission in Bob's capture).
  const resent = got.map((s) => {
    const k = sent.findIndex((x) => x.a === s.a && x.b === s.b && x.ts === s.ts);
    expect(k, `${s.a}:${s.b} is in Bob's capture`).toBeGreaterThanOrEqual(0);
    return sent.slice(0, k).some((x) => overlap(x, s));
  });

  it("counts as a retransmission only what Bob really sent again: this path does not reorder Bob's TCP segments", () => {
    let max = 1;
    const rule = got.map((s) => {
      const back = s.a < max;
      max = Math.max(max, s.b);
      return back;
    });
    // Every segment the handout's rule counts is a real resend.
    for (const [i, s] of got.entries()) if (rule[i]) expect(resent[i], `${s.a}:${s.b}`).toBe(true);
    const flow = parseTcpWitness(fixture('alice-got.txt').join('\n'))[0];
    expect(flow?.retransmissions).toBe(rule.filter(Boolean).length);
    expect(flow?.retransmissions).toBe(19);
    expect(flow?.complete).toBe(true);
    // A resend that arrives in order (its original lost, nothing later arrived yet) looks like
    // new data: no capture on Alice's side can tell it, and neither the rule nor the grader counts it.
    expect(resent.filter(Boolean).length - rule.filter(Boolean).length).toBe(1);
    // A rule of "bytes already seen" would miss almost all: the original of a resend was lost.
    const seenBefore = got.filter((s, i) => got.slice(0, i).some((x) => overlap(x, s))).length;
    expect(seenBefore).toBe(0);
  });
});
