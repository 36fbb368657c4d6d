// Lab 09 on a real engine: untouched it fails, a fake local streamer and copied answers fail, the
// reference solution passes for two learners.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab09';
const ANSWER_CHECKS = ['answer-udp-received', 'answer-udp-late', 'answer-tcp-received', 'answer-tcp-retransmissions'];
// Seeds far apart: seed-a streams 220 frames at 21 % loss, seed-b 360 frames at 10 % loss.
let answersOfA = '';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 09: TCP vs UDP', () => {
  it('fails untouched, then fails a fake local streamer behind an iptables redirect', async () => {
    const run = await start('9', I, 'seed-a');
    const untouched = await grade(run);
    expect(untouched.passed).toBe(false);
    expect(failedIds(untouched)).toEqual(['udp-stream', 'tcp-stream', ...ANSWER_CHECKS, 'answer-live-stream']);
    expect(untouched.results.find((r) => r.id === 'udp-stream')?.hint).toMatch(/nc -u/);

    // A root learner answers from a perfect stream of her own: every frame, nothing late.
    const frames = Number(run.vars.frames);
    const fake = submissionFolder({
      'alice.sh': [
        'set -e',
        'iptables -t nat -A OUTPUT -d 198.51.100.80 -p udp --dport 5004 -j REDIRECT --to-ports 5004',
        'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 5004 -j REDIRECT --to-ports 5004',
        `cat > /tmp/fake.py <<'EOF'`,
        'import socket',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5004))',
        '_, peer = s.recvfrom(100)',
        `for n in range(1, ${frames + 1}): s.sendto(f"frame {n} of ${frames} stream 1 t=0ms\\n".encode(), peer)`,
        'EOF',
        'python3 /tmp/fake.py & sleep 0.5',
        'echo go | nc -u -w 1 web.bob.example 5004 > /root/udp.txt',
        'test "$(wc -l < /root/udp.txt)" -eq ' + frames,
        `printf 'udp_received: %s\\nudp_late: 0\\ntcp_received: ${frames}\\ntcp_retransmissions: 9\\nlive_stream: udp\\nwhy: late frames are useless for live video, TCP would wait for retransmissions\\n' "$(wc -l < /root/udp.txt)" > /root/answers.yaml`,
      ].join('\n'),
    });
    await apply(run, fake);
    const faked = await grade(run);
    expect(faked.passed, explain(faked)).toBe(false);
    expect(failedIds(faked)).toEqual(['udp-stream', 'tcp-stream', ...ANSWER_CHECKS]);
  });

  it('passes the reference solution (seed-a)', async () => {
    const run = await start('9', I, 'seed-a');
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    const r = await sh(I, 'alice', 'cat /root/answers.yaml');
    answersOfA = r.stdout;
    expect(answersOfA).toMatch(/^udp_received: \d+$/m);
  });

  it('fails answers copied from another learner even after real runs, and passes the reference solution (seed-b)', async () => {
    expect(answersOfA).not.toBe('');
    const run = await start('tcp-vs-udp', I, 'seed-b');
    // Streams really arrive, but the numbers written down are seed-a's.
    await apply(run, solutionDir(run));
    await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${answersOfA}EOF`);
    const copied = await grade(run);
    expect(copied.passed, explain(copied)).toBe(false);
    expect(failedIds(copied)).toEqual(expect.arrayContaining(['answer-udp-received', 'answer-udp-late', 'answer-tcp-received']));
    expect(failedIds(copied)).not.toContain('udp-stream');

    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
  });
});
