// Lab 13 on a real engine: each world starts with three faults that fail the checks they break, a
// laptop-only cover-up (hosts entries, a local fake web server behind an iptables redirect, copied
// answers; a fake DNS server behind a redirect and Bob's addresses on lo) fails, a laptop fixed with
// policy routing passes, and the reference solution passes for two seeds whose answers do not
// transfer.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';
import type { Report } from '../../checks/types.js';

const I = 't-lab13';
const ANSWERS = ['answer-laptop', 'answer-names', 'answer-network'];
const I_ANSWERS =
  'laptop_fault: alice-address\nlaptop_tool: ip\nnames_fault: alice-resolver\nnames_tool: dig\nnetwork_fault: edge-http\nnetwork_tool: curl\n';
const S_ANSWERS =
  'laptop_fault: alice-gateway\nlaptop_tool: ip\nnames_fault: dns-record\nnames_tool: dig\nnetwork_fault: home-nat\nnetwork_tool: traceroute\n';

/** Applies a faked submission and grades it: it must fail. */
async function gradeFake(run: LabRun, files: Record<string, string>): Promise<Report> {
  await apply(run, submissionFolder(files));
  const report = await grade(run);
  expect(report.passed, explain(report)).toBe(false);
  return report;
}

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 13: troubleshooting', () => {
  it(
    'fails untouched (no address, a dead resolver, HTTP blocked), then fails a cover-up on the laptop',
    { timeout: 300_000 },
    async () => {
      const run = await start('13', I, 'seed-i');
      const untouched = await grade(run);
      expect(untouched.passed).toBe(false);
      // Bob's names are judged from a fresh machine on the LAN: they work there (this seed's names
      // fault is alice's resolver, which the resolver check catches).
      expect(failedIds(untouched), explain(untouched)).toEqual([
        'laptop',
        'resolver',
        'ping',
        'http',
        'ftp',
        ...ANSWERS,
      ]);
      expect(untouched.results.find((r) => r.id === 'laptop')?.reason).toMatch(/no IPv4 address/);
      expect(untouched.results.find((r) => r.id === 'ping')?.reason).toMatch(/problem is on her laptop/);
      expect(untouched.results.find((r) => r.id === 'http')?.reason).toMatch(
        /^from a fresh machine on Alice's LAN: curl got no answer/,
      );

      // Fix the laptop's address, but paper over the rest: names from /etc/hosts, a local web server
      // that answers for Bob through an iptables redirect, and the answers of another learner.
      const report = await gradeFake(run, {
        'alice.sh': [
          'ip addr add 192.168.1.101/24 dev lan',
          'ip route replace default via 192.168.1.1 dev lan',
          "printf '198.51.100.80 web.bob.example ftp.bob.example\\n' >> /etc/hosts",
          'mkdir -p /tmp/fake && echo "Hello from Bob (honest)" > /tmp/fake/index.html',
          'cd /tmp/fake && setsid nohup python3 -m http.server 8080 >/dev/null 2>&1 </dev/null &',
          'iptables -t nat -A OUTPUT -p tcp -d 198.51.100.80 --dport 80 -j REDIRECT --to-ports 8080',
          'for i in $(seq 50); do curl -s -o /dev/null http://web.bob.example/ && break; sleep 0.1; done',
          'curl -sS http://web.bob.example/',
        ].join('\n'),
        'answers.yaml': S_ANSWERS,
      });
      expect(failedIds(report), explain(report)).toEqual(['resolver', 'http', ...ANSWERS]);
      expect(report.results.find((r) => r.id === 'http')?.reason).toMatch(/access log has no request/);
    },
  );

  it(
    'judges the laptop by where its packets go (policy routing), and the network from a fresh machine, not from a covered-up laptop',
    { timeout: 300_000 },
    async () => {
      const run = await start('13', I, 'seed-s');
      // seed-s: alice-gateway, dns-record, home-nat. The laptop's fix is real but unusual: the wrong
      // default stays in the main table and a rule sends everything to table 100. The rest is a
      // cover-up on alice: a fake DNS server behind a redirect of port 53, and Bob's and his DNS
      // server's addresses on lo so that ping answers.
      const fakeDns = [
        'import socket',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        "s.bind(('0.0.0.0', 5353))",
        'while True:',
        '    data, addr = s.recvfrom(4096)',
        '    i = 12',
        '    while data[i] != 0:',
        '        i += data[i] + 1',
        "    header = data[:2] + b'\\x85\\x80\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00'",
        "    answer = b'\\xc0\\x0c\\x00\\x01\\x00\\x01\\x00\\x00\\x01\\x2c\\x00\\x04' + bytes([198, 51, 100, 80])",
        '    s.sendto(header + data[12:i + 5] + answer, addr)',
      ].join('\n');
      const report = await gradeFake(run, {
        'alice/root/fakedns.py': fakeDns + '\n',
        'alice.sh': [
          'ip route add 192.168.1.0/24 dev lan table 100',
          'ip route add default via 192.168.1.1 dev lan table 100',
          'ip rule add pref 100 lookup 100',
          'setsid python3 /root/fakedns.py </dev/null >/dev/null 2>&1 &',
          'iptables -t nat -A OUTPUT -p udp --dport 53 -j DNAT --to-destination 192.168.1.101:5353',
          'ip addr add 198.51.100.80/32 dev lo',
          'ip addr add 198.51.100.53/32 dev lo',
          'for i in $(seq 20); do dig +short +time=1 +tries=1 ftp.bob.example | grep -q 198.51.100.80 && break; sleep 0.2; done',
          'ping -c 1 198.51.100.80',
        ].join('\n'),
        'answers.yaml': I_ANSWERS,
      });
      expect(failedIds(report), explain(report)).toEqual(['resolver', 'names', 'ping', 'http', 'ftp', ...ANSWERS]);
      const result = (id: string) => report.results.find((r) => r.id === id);
      expect(result('laptop')?.reason, explain(report)).toMatch(/table 100/);
      expect(result('resolver')?.reason, explain(report)).toMatch(/never received alice's query/);
      expect(result('names')?.reason, explain(report)).toMatch(/fresh machine on Alice's LAN.*NXDOMAIN/);
      expect(result('ping')?.reason, explain(report)).toMatch(/fresh machine on Alice's LAN gets no reply/);
      expect(result('ping')?.reason).toMatch(/yet alice gets replies/);
    },
  );

  it('passes the reference solution (no address, a dead resolver, HTTP blocked)', { timeout: 300_000 }, async () => {
    const run = await start('troubleshooting', I, 'seed-i');
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(18);
    expect((await sh(I, 'alice', 'cat /root/answers.yaml')).stdout).toBe(I_ANSWERS);
    process.stderr.write(`[lab-13] seed-i: graded a passing world in ${report.ms} ms\n`);
  });

  it(
    'fails untouched (a wrong gateway, a missing record, no NAT), passes the reference solution, and its answers do not transfer',
    { timeout: 480_000 },
    async () => {
      const run = await start('13', I, 'seed-s');
      const untouched = await grade(run);
      expect(failedIds(untouched), explain(untouched)).toEqual(['laptop', 'names', 'ping', 'http', 'ftp', ...ANSWERS]);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(18);
      expect((await sh(I, 'alice', 'cat /root/answers.yaml')).stdout).toBe(S_ANSWERS);
      process.stderr.write(`[lab-13] seed-s: graded a passing world in ${report.ms} ms\n`);
      await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${I_ANSWERS}EOF`);
      expect(failedIds(await grade(run))).toEqual(ANSWERS);
    },
  );
});
