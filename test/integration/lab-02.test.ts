// Lab 02 on a real engine: every kind of broken start fails its own checks, a static address with
// a faked DHCP client and copied answers fails, and the reference solution passes for two seeds.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { findLab } from '../../orchestrator/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab02';
const ALL = ['address', 'lease', 'route', 'reach', 'whoami', 'answer-private', 'answer-public', 'answer-mac'];

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 02: addresses', () => {
  // One seed per kind of broken start (the unit test pins these kinds).
  const starts = [
    { seed: 'seed-c', kind: 'no-dhcp', failing: ALL },
    { seed: 'seed-k', kind: 'wrong-subnet', failing: ALL },
    { seed: 'seed-d', kind: 'no-route', failing: ALL.filter((id) => id !== 'address') },
    { seed: 'seed-a', kind: 'wrong-gateway', failing: ALL.filter((id) => id !== 'address') },
  ];

  it.each(starts)('fails untouched ($kind, $seed)', async ({ seed, kind, failing }) => {
    const run = await start('2', I, seed);
    expect(run.vars.kind).toBe(kind);
    const state = await sh(I, 'alice', 'ip -4 -br addr show dev home; ip -4 route show default; cat /etc/resolv.conf');
    if (run.vars.staticAddress) expect(state.stdout).toContain(String(run.vars.staticAddress));
    else expect(state.stdout).not.toMatch(/\d+\.\d+\.\d+\.\d+\/\d+/);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(failing);
    expect(report.results.find((r) => r.id === 'lease')?.reason).toMatch(/no lease/);
    expect(report.results.find((r) => r.id === 'lease')?.hint).toMatch(/dhclient -v home/);
  });

  it('fails a static address from the DHCP pool, set by a fake dhclient in /usr/local/bin, with answers copied from another seed', async () => {
    const run = await start('2', I, 'seed-a');
    const other = varsFor(run.lab, 'seed-b');
    expect(other.publicAddress).not.toBe(run.vars.publicAddress);
    const fake = submissionFolder({
      'alice/usr/local/bin/dhclient': [
        '#!/bin/sh',
        '# looks like a lease, is a static address',
        'ip addr flush dev home; ip route flush dev home',
        'ip addr add 192.168.1.150/24 brd + dev home',
        'ip route add default via 192.168.1.1 dev home',
        'echo nameserver 192.168.1.1 > /etc/resolv.conf',
        'echo "DHCPACK of 192.168.1.150 from 192.168.1.1"; echo "bound to 192.168.1.150 -- renewal in 1800 seconds."',
      ].join('\n'),
      'alice.sh': ['set -e', 'chmod +x /usr/local/bin/dhclient', 'dhclient -v home', 'ping -c 1 198.51.100.80', 'curl -sS http://web.bob.example/whoami'].join('\n'),
      'answers.yaml': `private_address: 192.168.1.150\npublic_address: ${String(other.publicAddress)}\nmac_address: 02:42:0a:fa:00:02\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['lease', 'answer-private', 'answer-public', 'answer-mac']);
    expect(report.results.find((r) => r.id === 'lease')?.reason).toMatch(/no lease/);
  });

  it('passes the reference solution for two different learners, and their answers do not transfer', async () => {
    const lab = await findLab('addresses');
    const seen: { seed: string; answers: string; mac: string }[] = [];
    for (const seed of ['seed-c', 'seed-k']) {
      const run = await start('addresses', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(12);
      process.stderr.write(`[lab-02] ${seed}: graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`public_address: ${String(varsFor(lab, seed).publicAddress)}`);
      const mac = (await sh(I, 'alice', 'cat /sys/class/net/home/address')).stdout.trim();
      seen.push({ seed, answers, mac });
    }
    const [first, second] = seen as [(typeof seen)[0], (typeof seen)[0]];
    expect(second.mac).not.toBe(first.mac);
    // The second learner hands in the first learner's (correct) answers.
    await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${first.answers}EOF`);
    const copied = await grade({ lab, instance: I, seed: second.seed, vars: varsFor(lab, second.seed) });
    const failed = failedIds(copied);
    expect(failed).toEqual(expect.arrayContaining(['answer-public', 'answer-mac']));
    expect(failed.filter((id) => !id.startsWith('answer-'))).toEqual([]);
  });
});
