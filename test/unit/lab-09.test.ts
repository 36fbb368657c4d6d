// Lab 09 without Docker: the per-learner variation, the faults it drives, and the reading of the
// router's captures that the grader relies on.
import { describe, expect, it } from 'vitest';
import { varsFor } from '../../orchestrator/lab.js';
import { canonicalWorld } from '../../orchestrator/world.js';
import lab, { ALICE, BOB, FRAMES_MAX, FRAMES_MIN, LOSS_MAX, LOSS_MIN, PORT, retransmissionTolerance, streamVars, WHY_WORDS } from '../../labs/09-tcp-vs-udp/lab.js';
import { parseTcpWitness, parseUdpWitness } from '../../labs/09-tcp-vs-udp/witness.js';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);

describe('lab 09 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    expect(lab.task?.(varsFor(lab, 'alice-1'))).toEqual(lab.task?.(varsFor(lab, 'alice-1')));
  });

  it('differs across seeds in the frame count and the loss', () => {
    const all = seeds.map((s) => streamVars(varsFor(lab, s)));
    expect(new Set(all.map((v) => v.frames)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.map((v) => v.lossPercent)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(all.map((v) => `${v.frames}/${v.lossPercent}`)).size).toBeGreaterThan(150);
  });

  it('only uses values that make a sensible stream', () => {
    for (const s of seeds) {
      const v = streamVars(varsFor(lab, s));
      expect(v.frames % 10).toBe(0);
      expect(v.frames).toBeGreaterThanOrEqual(FRAMES_MIN);
      expect(v.frames).toBeLessThanOrEqual(FRAMES_MAX);
      expect(v.lossPercent).toBeGreaterThanOrEqual(LOSS_MIN);
      expect(v.lossPercent).toBeLessThanOrEqual(LOSS_MAX);
      expect(v.latePercent).toBeGreaterThan(0);
      expect(v.latePercent).toBeLessThan(10);
    }
    expect(lab.overlay).toBeUndefined();
    expect(ALICE).toBe('192.168.1.101');
    expect(BOB).toBe('198.51.100.80');
    // The stream's port is not one the canonical security group already opens.
    const edge = canonicalWorld.nodes.find((n) => n.name === 'edge');
    expect(JSON.stringify(edge?.firewall)).not.toContain(String(PORT));
  });

  it('injects the loss on the ISP router for the stream only, and opens the port on the edge', () => {
    const vars = varsFor(lab, 'learner-7');
    const v = streamVars(vars);
    const faults = lab.faults(vars);
    expect(faults.map((f) => f.node).sort()).toEqual(['edge', 'home', 'isp', 'web']);
    const isp = faults.find((f) => f.node === 'isp')?.script ?? '';
    expect(isp).toContain(`--probability ${(v.lossPercent / 100).toFixed(2)} -j DROP`);
    for (const line of isp.split('\n')) expect(line).toMatch(new RegExp(`-s ${BOB} -p (udp|tcp) --sport ${PORT} `));
    const edge = faults.find((f) => f.node === 'edge')?.script ?? '';
    expect(edge).toMatch(/-p udp --dport 5004/);
    expect(edge).toMatch(/-p tcp --dport 5004/);
    const web = faults.find((f) => f.node === 'web')?.script ?? '';
    expect(web).toContain(`streamer.js ${PORT} ${v.frames} `);
    expect(web).toContain("dgram.createSocket('udp4')");
  });

  it('gives a task card that names the stream but never the loss', () => {
    for (const s of seeds.slice(0, 50)) {
      const vars = varsFor(lab, s);
      const card = lab.task?.(vars) ?? {};
      expect(card.frames).toBe(String(streamVars(vars).frames));
      expect(card.stream_port).toMatch(/^5004 /);
      expect(JSON.stringify(card)).not.toMatch(/loss|%|drop/i);
    }
  });

  it('has unique check ids, 10 points, and an answer check for every question', () => {
    const checks = lab.checks(varsFor(lab, 'x'));
    expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(10);
    for (const q of lab.questions.filter((x) => x.key !== 'why')) expect(checks.some((c) => c.id === `answer-${q.key.replace(/_/g, '-')}`), q.key).toBe(true);
  });

  it('accepts reasons about timing and not empty words', () => {
    expect(WHY_WORDS.test('late frames are useless, TCP would wait for the retransmission')).toBe(true);
    expect(WHY_WORDS.test('it is faster')).toBe(false);
    expect(retransmissionTolerance(5)).toBe(2);
    expect(retransmissionTolerance(60)).toBe(6);
  });
});

describe('lab 09 capture reading', () => {
  const udp = [
    '11:49:09.455366 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..S.3dP...e.....*..frame 1 of 6 stream 2132 t=11ms',
    '',
    '11:49:09.474970 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..P.3dP...e.....*..frame 3 of 6 stream 2132 t=31ms',
    '',
    // a header byte that happens to be a newline splits the payload over two lines
    '11:49:09.484449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP',
    '...e.....*..frame 2 of 6 stream 2132 t=41ms',
    '',
    '11:49:09.494449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 5 of 6 stream 2132 t=51ms',
    '',
    '11:49:09.504449 IP 198.51.100.80.5004 > 192.168.1.101.38302: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 4 of 6 stream 2132 t=61ms',
    '',
    '11:50:00.000001 IP 198.51.100.80.5004 > 192.168.1.101.41000: UDP, length 34',
    'E..>w.@.=..O.3dP...e.....*..frame 1 of 6 stream 2133 t=10ms',
    '',
  ].join('\n');

  it('counts the frames of each UDP stream and the late ones', () => {
    const s = parseUdpWitness(udp);
    expect(s.map((x) => [x.stream, x.client, x.frames, x.received, x.late])).toEqual([
      [2132, '192.168.1.101:38302', 6, 5, 2],
      [2133, '192.168.1.101:41000', 6, 1, 0],
    ]);
  });

  const H = (t: string, rest: string, port = 55266) => `11:49:${t} IP 198.51.100.80.5004 > 192.168.1.101.${port}: ${rest}`;
  const isn = 4294967000; // close to the wrap, on purpose
  const seg = (a: number, b: number) => `seq ${(isn + a) % 2 ** 32}:${(isn + b) % 2 ** 32}`;
  const tcp = [
    H('15.700000', `Flags [S.], seq ${isn}, ack 2007013693, win 65160, options [mss 1460], length 0`),
    H('15.700100', `Flags [S.], seq ${isn}, ack 2007013693, win 65160, options [mss 1460], length 0`),
    H('15.746313', `Flags [P.], ${seg(1, 35)}, ack 1, win 64, length 34`),
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
    expect(f[0]).toMatchObject({ client: '192.168.1.101:55266', isn, dataSegments: 5, retransmissions: 2, finBytes: 170, complete: true });
    expect(f[1]).toMatchObject({ client: '192.168.1.101:40000', dataSegments: 1, retransmissions: 0, complete: false });
    expect(f[1]?.finBytes).toBeUndefined();
  });

  it('sees a hole that was never filled', () => {
    const holed = tcp.split('\n').filter((l) => !l.includes(seg(103, 137))).join('\n');
    expect(parseTcpWitness(holed)[0]).toMatchObject({ complete: false, finBytes: 170 });
  });
});
