// Lab 13 on a real engine: each world starts with three faults that fail the checks they break, a
// laptop-only cover-up (hosts entries, a local fake web server behind an iptables redirect, copied
// answers) fails, and the reference solution passes for two seeds whose answers do not transfer.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab13';
const ANSWERS = ['answer-laptop', 'answer-names', 'answer-network'];
const K_ANSWERS = 'laptop_fault: alice-address\nlaptop_tool: ip\nnames_fault: alice-resolver\nnames_tool: dig\nnetwork_fault: edge-http\nnetwork_tool: curl\n';
const B_ANSWERS = 'laptop_fault: alice-gateway\nlaptop_tool: ip\nnames_fault: dns-record\nnames_tool: dig\nnetwork_fault: home-nat\nnetwork_tool: traceroute\n';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 13: troubleshooting', () => {
  it('fails untouched (no address, a dead resolver, HTTP blocked), then fails a cover-up on the laptop', async () => {
    const run = await start('13', I, 'seed-k');
    const untouched = await grade(run);
    expect(untouched.passed).toBe(false);
    expect(failedIds(untouched), explain(untouched)).toEqual(['laptop', 'resolver', 'names', 'ping', 'http', 'ftp', ...ANSWERS]);
    expect(untouched.results.find((r) => r.id === 'laptop')?.reason).toMatch(/no IPv4 address/);

    // Fix the laptop's address, but paper over the rest: names from /etc/hosts, a local web server
    // that answers for Bob through an iptables redirect, and the answers of another learner.
    const fake = submissionFolder({
      'alice.sh': [
        'ip addr add 192.168.1.101/24 dev home',
        'ip route replace default via 192.168.1.1 dev home',
        "printf '198.51.100.80 web.bob.example ftp.bob.example\\n' >> /etc/hosts",
        'mkdir -p /tmp/fake && echo "Hello from Bob (honest)" > /tmp/fake/index.html',
        'cd /tmp/fake && setsid nohup python3 -m http.server 8080 >/dev/null 2>&1 </dev/null &',
        'iptables -t nat -A OUTPUT -p tcp -d 198.51.100.80 --dport 80 -j REDIRECT --to-ports 8080',
        'for i in $(seq 50); do curl -s -o /dev/null http://web.bob.example/ && break; sleep 0.1; done',
        'curl -sS http://web.bob.example/',
      ].join('\n'),
      'answers.yaml': B_ANSWERS,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['resolver', 'http', ...ANSWERS]);
    expect(report.results.find((r) => r.id === 'http')?.reason).toMatch(/access log has no request/);
  });

  it('passes the reference solution (no address, a dead resolver, HTTP blocked)', async () => {
    const run = await start('troubleshooting', I, 'seed-k');
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(18);
    expect((await sh(I, 'alice', 'cat /root/answers.yaml')).stdout).toBe(K_ANSWERS);
    process.stderr.write(`[lab-13] seed-k: graded a passing world in ${report.ms} ms\n`);
  });

  it('fails untouched (a wrong gateway, a missing record, no NAT), passes the reference solution, and its answers do not transfer', async () => {
    const run = await start('13', I, 'seed-b');
    const untouched = await grade(run);
    expect(failedIds(untouched), explain(untouched)).toEqual(['laptop', 'names', 'ping', 'http', 'ftp', ...ANSWERS]);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(18);
    expect((await sh(I, 'alice', 'cat /root/answers.yaml')).stdout).toBe(B_ANSWERS);
    process.stderr.write(`[lab-13] seed-b: graded a passing world in ${report.ms} ms\n`);
    await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${K_ANSWERS}EOF`);
    expect(failedIds(await grade(run))).toEqual(ANSWERS);
  });
});
