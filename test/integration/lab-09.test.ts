// Lab 09 on a real engine: untouched it fails; streams forged on Alice's LAN, a fake local
// streamer, near-miss guesses and answers copied from another learner fail, each for its own
// reason; the reference solution passes for two learners.
//
// Why a guess cannot pass: every answer names a run by its stream id (8 random letters, drawn by
// Bob's streamer for each run and printed only in that run's frames), and every number must be
// exactly what the grader's record shows for that run. The task card and the handout print no
// frame count (each run draws its own length), so nothing there predicts a count; a made-up or
// copied id is in no record of this world (1 in 19^8 to hit one); and with a real id in hand, a
// count that is off by one (the old window) fails, as does a first retransmission that is not
// exactly the one in the capture.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';
import type { Report } from '../../checks/types.js';

const I = 't-lab09';
const ANSWER_CHECKS = ['answer-udp-received', 'answer-udp-late', 'answer-tcp-received', 'answer-tcp-retransmissions'];
let answersOfA = '';

afterAll(async () => {
  await stop(driver, I);
});

const reason = (r: Report, id: string) => r.results.find((x) => x.id === id)?.reason ?? '';
const value = (answers: string, key: string) => new RegExp(`^${key}: "?([^"\\n]*)"?$`, 'm').exec(answers)?.[1] ?? '';

/**
 * A root learner forges Bob's stream on her own LAN: raw Ethernet frames to the home router that
 * carry "Bob's" packets (source 198.51.100.80:5004) to her address, a perfect UDP stream and a
 * complete TCP connection with resent segments. A capture on the router's LAN side took them for
 * Bob's (this passed udp-stream, tcp-stream and both UDP answers before the record moved to the
 * ISP side).
 */
const FORGE = `
import socket, struct, subprocess
frames = 220
router = subprocess.check_output(['sh', '-c', "ping -c1 -W1 192.168.1.1 >/dev/null; ip neigh show 192.168.1.1 | awk '{print $5}'"]).decode().strip()
mine = open('/sys/class/net/lan/address').read().strip()
mac = lambda m: bytes.fromhex(m.replace(':', ''))
def csum(b):
    s = sum(struct.unpack('!10H', b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def ip(proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 60, proto, 0, socket.inet_aton('198.51.100.80'), socket.inet_aton('192.168.1.101'))
    return mac(router) + mac(mine) + b'\\x08\\x00' + h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('lan', 0))
for n in range(1, frames + 1):
    d = f'frame {n} of {frames} stream qqqqwwww t={n * 10}ms\\n'.encode()
    s.send(ip(17, struct.pack('!HHHH', 5004, 40000, 8 + len(d), 0) + d))
tcp = lambda seq, flags, d=b'': ip(6, struct.pack('!HHIIBBHHH', 5004, 40001, seq, 1, 5 << 4, flags, 64, 0, 0) + d)
s.send(tcp(1000, 0x12))
pos = 1
for n in range(1, frames + 1):
    d = f'frame {n} of {frames} stream zzzzxxxx t={n * 10}ms\\n'.encode()
    s.send(tcp(1000 + pos, 0x18, d))
    if n % 10 == 0: s.send(tcp(1000 + pos, 0x18, d))
    pos += len(d)
s.send(tcp(1000 + pos, 0x11))
`;

const FORGED_ANSWERS = [
  'udp_stream: qqqqwwww',
  'udp_received: 220',
  'udp_late: 0',
  'tcp_stream: zzzzxxxx',
  'tcp_received: 220',
  'tcp_retransmissions: 22',
  'tcp_first_resend: "381:419"',
  'live_stream: udp',
  'why: late frames are useless for live video, TCP would wait for retransmissions',
].join('\n');

describe('lab 09: TCP vs UDP', () => {
  it(
    'fails untouched, streams forged on the LAN, and a fake local streamer behind an iptables redirect',
    { timeout: 300_000 },
    async () => {
      const run = await start('9', I, 'seed-a');
      const untouched = await grade(run);
      expect(untouched.passed).toBe(false);
      expect(failedIds(untouched)).toEqual([
        'udp-stream',
        'tcp-stream',
        ...ANSWER_CHECKS,
        'answer-live-stream',
        'answer-why',
      ]);
      // check shows level 1 of the hints by default: where to look, not the command.
      const hints = untouched.results.find((r) => r.id === 'udp-stream')?.hints ?? [];
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatch(/There is no connection/);
      expect(hints[0]).not.toMatch(/nc -u/);

      await apply(
        run,
        submissionFolder({
          'alice.sh': `set -e\ncat > /tmp/forge.py <<'EOF'\n${FORGE}EOF\npython3 /tmp/forge.py\n`,
          'answers.yaml': `${FORGED_ANSWERS}\n`,
        }),
      );
      const forged = await grade(run);
      expect(failedIds(forged), explain(forged)).toEqual(['udp-stream', 'tcp-stream', ...ANSWER_CHECKS]);
      expect(reason(forged, 'udp-stream')).toMatch(/claim to come from Bob arrived from Alice's own network/);
      expect(reason(forged, 'tcp-stream')).toMatch(/claim to come from Bob arrived from Alice's own network/);
      expect(reason(forged, 'answer-udp-received')).toMatch(
        /^your udp_stream \("qqqqwwww"\) is not the id of a UDP run that Bob's packets brought to Alice's network.*made there/,
      );
      expect(reason(forged, 'answer-tcp-received')).toMatch(
        /^your tcp_stream \("zzzzxxxx"\) is not the id of a TCP run that Bob's packets brought.*made there/,
      );

      // A root learner answers from a perfect stream of her own, behind a redirect of Bob's address.
      const fake = submissionFolder({
        'alice.sh': [
          'set -e',
          'iptables -t nat -A OUTPUT -d 198.51.100.80 -p udp --dport 5004 -j REDIRECT --to-ports 5004',
          'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 5004 -j REDIRECT --to-ports 5004',
          `cat > /tmp/fake.py <<'EOF'`,
          'import socket',
          's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5004))',
          '_, peer = s.recvfrom(100)',
          'for n in range(1, 221): s.sendto(f"frame {n} of 220 stream kkkkmmmm t=0ms\\n".encode(), peer)',
          'EOF',
          'python3 /tmp/fake.py & sleep 0.5',
          'echo go | nc -u -w 1 web.bob.example 5004 > /root/udp.txt',
          'test "$(wc -l < /root/udp.txt)" -eq 220',
          `sed 's/qqqqwwww/kkkkmmmm/' > /root/answers.yaml <<'EOF'\n${FORGED_ANSWERS}\nEOF`,
        ].join('\n'),
      });
      await apply(run, fake);
      const faked = await grade(run);
      expect(faked.passed, explain(faked)).toBe(false);
      expect(failedIds(faked)).toEqual(['udp-stream', 'tcp-stream', ...ANSWER_CHECKS]);
      expect(reason(faked, 'answer-udp-received')).toMatch(
        /your udp_stream \("kkkkmmmm"\) is not the id of a UDP run.*nat table redirects the stream to a program on the laptop/,
      );
      expect(reason(faked, 'udp-stream')).toMatch(/redirects the stream/);
    },
  );

  it(
    'passes the reference solution (seed-a); answers off by one, or a guessed first retransmission, fail',
    { timeout: 300_000 },
    async () => {
      const run = await start('9', I, 'seed-a');
      // The card names the server, the port and the pace, and no count of frames.
      const card = (await sh(I, 'alice', 'cat /root/TASK.txt')).stdout;
      expect(new Set(card.match(/\d+/g))).toEqual(new Set(['5004', '10']));
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      answersOfA = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answersOfA).toMatch(/^udp_stream: [a-z]{8}$/m);

      // The right runs, named by their real ids, but numbers near the truth rather than the truth.
      const near = answersOfA
        .replace(/^udp_received: (\d+)$/m, (_, n: string) => `udp_received: ${Number(n) + 1}`)
        .replace(/^udp_late: (\d+)$/m, (_, n: string) => `udp_late: ${Number(n) + 1}`)
        .replace(
          /^tcp_first_resend: "(\d+):(\d+)"$/m,
          (_, a: string, b: string) => `tcp_first_resend: "${a}:${Number(b) + 1}"`,
        )
        .replace(/^why: .*$/m, 'why: no idea, latency');
      await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${near}EOF`);
      const guessed = await grade(run);
      expect(failedIds(guessed), explain(guessed)).toEqual([
        'answer-udp-received',
        'answer-udp-late',
        'answer-tcp-retransmissions',
        'answer-why',
      ]);
      // The learner's numbers are quoted as hers, and compared with the run she named.
      const received = Number(value(near, 'udp_received'));
      expect(reason(guessed, 'answer-udp-received')).toMatch(
        new RegExp(
          `^your udp_received \\("${received}"\\) is not the number of frames of UDP run ${value(near, 'udp_stream')} that the grader's record shows arriving`,
        ),
      );
      expect(reason(guessed, 'answer-udp-late')).toMatch(
        new RegExp(`^your udp_late \\("${value(near, 'udp_late')}"\\) is not the number of frames of UDP run [a-z]{8}`),
      );
      for (const id of ['answer-udp-received', 'answer-udp-late'])
        expect(reason(guessed, id)).not.toMatch(new RegExp(`\\b${received - 1}\\b`));
      expect(reason(guessed, 'answer-tcp-retransmissions')).toMatch(
        /^your tcp_first_resend \("\d+:\d+"\) is not the seq A:B of the first segment of TCP run [a-z]{8} that starts below data that had already arrived$/,
      );
      expect(reason(guessed, 'answer-why')).toMatch(/^your "why" does not explain it yet: it says you are not sure/);
    },
  );

  it(
    'fails answers copied from another learner even after real runs, and passes the reference solution (seed-b)',
    { timeout: 300_000 },
    async () => {
      expect(answersOfA).not.toBe('');
      const run = await start('tcp-vs-udp', I, 'seed-b');
      // Streams really arrive, but the answers written down are seed-a's.
      await apply(run, solutionDir(run));
      const own = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(value(own, 'udp_stream')).not.toBe(value(answersOfA, 'udp_stream'));
      await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${answersOfA}EOF`);
      const copied = await grade(run);
      expect(copied.passed, explain(copied)).toBe(false);
      expect(failedIds(copied)).toEqual(ANSWER_CHECKS);
      expect(reason(copied, 'answer-udp-received')).toMatch(
        new RegExp(
          `^your udp_stream \\("${value(answersOfA, 'udp_stream')}"\\) is not the id of a UDP run that Bob's packets brought to Alice's network: .* has no run with that id$`,
        ),
      );

      await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${own}EOF`);
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
    },
  );
});
