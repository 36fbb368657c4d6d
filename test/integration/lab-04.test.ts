// Lab 04 on a real engine: untouched it fails; a genuine capture from another world (with answers
// that match it) fails the router's cross-check and earns no answer; the reference passes for two
// seeds; the learner's own capture with the MSS edited to suit her answer fails the same way.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import lab, { CAPTURE, type TcpVars } from '../../labs/04-tcp/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab04';
const varsOf = (run: LabRun): TcpVars => varsFor(lab, run.seed);
const ALL = [
  'capture',
  'witnessed',
  'served',
  'answer-port',
  'answer-client-isn',
  'answer-server-isn',
  'answer-mss',
  'answer-segments',
  'answer-bytes',
];

afterAll(async () => {
  await stop(driver, I);
});

let saved: { pcap: Buffer; answers: string } | undefined;

/** alice.sh: capture while playing another capture's frames back onto the wire, and fetch PATH for real. */
const REPLAY = `rm -f /root/handshake.pcap
tcpdump -i lan -U -w /root/handshake.pcap 'host 198.51.100.80 and tcp port 80' 2>/tmp/td.err &
pid=$!
for _ in $(seq 1 100); do grep -q listening /tmp/td.err && break; sleep 0.1; done
python3 - <<'PY'
import socket, struct, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('lan', 0))
data = open('/root/classmate.pcap', 'rb').read()
fmt = '<IIII' if struct.unpack('<I', data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else '>IIII'
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(fmt, data[off:off + 16])[2]
    frame = bytearray(data[off + 16:off + 16 + incl])
    off += 16 + incl
    frame[0:6] = b'\\xff' * 6
    s.send(bytes(frame))
    time.sleep(0.002)
PY
curl -sS -o /dev/null http://web.bob.example/PATH
sleep 1
kill -INT "$pid"; wait "$pid" || true
`;

describe('lab 04: TCP', () => {
  it('fails untouched: no capture, no request at Bob, no answers', async () => {
    const run = await start('4', I, 'seed-a');
    const route = await sh(I, 'alice', 'ip route show default');
    expect(route.stdout).toContain(`advmss ${varsOf(run).advmss}`);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(ALL);
    expect(report.results.find((r) => r.id === 'capture')?.reason).toMatch(/no \/root\/handshake.pcap/);
  });

  it('passes the reference solution (seed-a), with segments as large as the MSS allows', async () => {
    const run = await start('tcp', I, 'seed-a');
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    expect(report.maxScore).toBe(12);
    process.stderr.write(`[lab-04] seed-a: graded a passing world in ${report.ms} ms\n`);
    const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
    // Kept first, so a later assertion here does not spoil the tests that replay this capture.
    const pcap = (await sh(I, 'alice', `base64 -w0 ${CAPTURE}`)).stdout;
    saved = { pcap: Buffer.from(pcap, 'base64'), answers };
    expect(answers).toContain(`mss: ${varsOf(run).advmss}`);
    // Full segments carry MSS - 12 bytes (the timestamp option), so the count follows from the size.
    // The server may send its headers in a segment of their own before the body (a matter of timing
    // on a busy machine), so one more segment than the minimum is also a full-size transfer.
    const bytes = Number(/server_bytes: (\d+)/.exec(answers)?.[1]);
    const segments = Number(/data_segments: (\d+)/.exec(answers)?.[1]);
    const fewest = Math.ceil(bytes / (varsOf(run).advmss - 12));
    expect(bytes).toBeGreaterThan(varsOf(run).bytes);
    expect(segments).toBeGreaterThanOrEqual(fewest);
    expect(segments).toBeLessThanOrEqual(fewest + 1);
  });

  it('fails a genuine capture taken in another world, handed in with a real fetch and matching answers', async () => {
    expect(saved).toBeDefined();
    const run = await start('4', I, 'seed-a');
    const dir = submissionFolder({
      'alice.sh': `curl -sS -o /dev/null http://web.bob.example/bytes/${varsOf(run).bytes}`,
      'answers.yaml': saved?.answers ?? '',
    });
    mkdirSync(join(dir, 'alice', 'root'), { recursive: true });
    writeFileSync(join(dir, 'alice', CAPTURE), saved?.pcap ?? Buffer.alloc(0));
    await apply(run, dir);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    // The capture itself is well formed and its answers agree with it: only the router can tell,
    // and answers are judged against the connection the router confirmed, so none counts.
    expect(report.results.find((r) => r.id === 'capture')?.passed, explain(report)).toBe(true);
    expect(failedIds(report), explain(report)).toEqual(ALL.filter((id) => id !== 'capture'));
    const witnessed = report.results.find((r) => r.id === 'witnessed');
    expect(witnessed?.reason).toMatch(/never forwarded a connection from 192\.168\.1\.101 port \d+/);
    expect(witnessed?.evidence.map((e) => e.output).join('\n')).toContain('(not shown');
    expect(report.results.find((r) => r.id === 'answer-client-isn')?.reason).toMatch(/cannot be judged yet/);

    // The same capture played back onto Alice's network (broadcast frames, which the home router
    // hears but does not forward) while she captures and really fetches: her capture and a
    // capture on the router's side facing her now hold the same conversation, but the router's
    // record is kept on its side facing the ISP, where nothing Alice sends carries Bob's address.
    const replay = submissionFolder({
      'alice.sh': REPLAY.replace('PATH', `/bytes/${varsOf(run).bytes}`),
      'answers.yaml': saved?.answers ?? '',
    });
    mkdirSync(join(replay, 'alice', 'root'), { recursive: true });
    writeFileSync(join(replay, 'alice', 'root', 'classmate.pcap'), saved?.pcap ?? Buffer.alloc(0));
    await apply(run, replay);
    const played = await grade(run);
    // (Whether Bob's log matches the played-back connection in time depends on the machine's speed.)
    expect(failedIds(played), explain(played)).toEqual(
      expect.arrayContaining(ALL.filter((id) => !['capture', 'served'].includes(id))),
    );
    expect(played.results.find((r) => r.id === 'capture')?.passed, explain(played)).toBe(true);
    expect(played.results.find((r) => r.id === 'witnessed')?.reason).toMatch(
      /never forwarded a connection from 192\.168\.1\.101 port \d+/,
    );
  }, 300_000);

  it('passes the reference solution for another learner (seed-b), whose answers do not transfer, nor do answers from an edited capture', async () => {
    const run = await start('tcp', I, 'seed-b');
    expect(varsOf(run).advmss).not.toBe(varsFor(lab, 'seed-a').advmss);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    // seed-a's answers, copied into this world next to this learner's own genuine capture.
    await apply(run, submissionFolder({ 'answers.yaml': saved?.answers ?? '' }));
    const copied = await grade(run);
    expect(copied.passed, explain(copied)).toBe(false);
    expect(failedIds(copied), explain(copied)).toEqual(
      expect.arrayContaining(['answer-client-isn', 'answer-server-isn', 'answer-mss', 'answer-segments']),
    );

    // Her own capture, with the MSS in her SYN rewritten, and answers that follow the file.
    const own = Buffer.from((await sh(I, 'alice', `base64 -w0 ${CAPTURE}`)).stdout, 'base64');
    const mine = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
    const mss = Number(/mss: (\d+)/.exec(mine)?.[1]);
    const edited = submissionFolder({ 'answers.yaml': mine.replace(/mss: \d+/, `mss: ${mss - 100}`) });
    mkdirSync(join(edited, 'alice', 'root'), { recursive: true });
    writeFileSync(join(edited, 'alice', CAPTURE), withSynMss(own, mss - 100));
    await apply(run, edited);
    const forged = await grade(run);
    expect(failedIds(forged), explain(forged)).toEqual(ALL.filter((id) => !['capture', 'served'].includes(id)));
    expect(forged.results.find((r) => r.id === 'witnessed')?.reason).toMatch(
      /announce another MSS than the capture shows/,
    );
  }, 300_000);
});

/** A copy of a pcap (Ethernet, either byte order) whose first SYN announces another MSS. */
function withSynMss(pcap: Buffer, mss: number): Buffer {
  const out = Buffer.from(pcap);
  const le = out.readUInt32LE(0) === 0xa1b2c3d4 || out.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? out.readUInt32LE(o) : out.readUInt32BE(o));
  for (let off = 24; off + 16 <= out.length; off += 16 + u32(off + 8)) {
    const ip = off + 16 + 14;
    const tcp = ip + ((out[ip] as number) & 0x0f) * 4;
    if (out[ip + 9] !== 6 || ((out[tcp + 13] as number) & 0x12) !== 0x02) continue;
    for (
      let o = tcp + 20;
      o < tcp + ((out[tcp + 12] as number) >> 4) * 4;
      o += out[o] === 1 ? 1 : (out[o + 1] as number)
    ) {
      if (out[o] === 2) {
        out.writeUInt16BE(mss, o + 2);
        return out;
      }
    }
  }
  throw new Error('no SYN with an MSS option in the capture');
}
