// Lab 02 on a real engine: every kind of broken start fails its own checks, a static address with
// a faked DHCP client and copied answers fails, a default route hidden in another routing table and
// pings that alice answers herself fail, and the reference solution passes for two seeds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import addresses from '../../labs/02-addresses/lab.js';
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
    { seed: 'seed-p', kind: 'no-dhcp', failing: ALL },
    { seed: 'seed-b', kind: 'wrong-subnet', failing: ALL },
    { seed: 'seed-g', kind: 'no-route', failing: ALL.filter((id) => id !== 'address') },
    { seed: 'seed-a', kind: 'wrong-gateway', failing: ALL.filter((id) => id !== 'address') },
  ];

  it.each(starts)('fails untouched ($kind, $seed)', { timeout: 300_000 }, async ({ seed, kind, failing }) => {
    const run = await start('2', I, seed);
    const v = varsFor(addresses, seed);
    expect(run.vars).toEqual(v);
    expect(v.kind).toBe(kind);
    const state = await sh(I, 'alice', 'ip -4 -br addr show dev lan; ip -4 route show default; cat /etc/resolv.conf');
    if (v.staticAddress) expect(state.stdout).toContain(v.staticAddress);
    else expect(state.stdout).not.toMatch(/\d+\.\d+\.\d+\.\d+\/\d+/);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(failing);
    expect(report.results.find((r) => r.id === 'lease')?.reason).toMatch(/no lease/);
    // check shows level 1 by default: where to look (the router's list of leases), not the command.
    const hints = report.results.find((r) => r.id === 'lease')?.hints ?? [];
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/lent/);
    expect(hints[0]).not.toMatch(/dhclient/);
  });

  it(
    'fails a static address from the DHCP pool, set by a fake dhclient in /usr/local/bin, with answers copied from another seed',
    { timeout: 300_000 },
    async () => {
      const run = await start('2', I, 'seed-a');
      const other = varsFor(addresses, 'seed-b');
      expect(other.publicAddress).not.toBe(varsFor(addresses, run.seed).publicAddress);
      const fake = submissionFolder({
        'alice/usr/local/bin/dhclient': [
          '#!/bin/sh',
          '# looks like a lease, is a static address',
          'ip addr flush dev lan; ip route flush dev lan',
          'ip addr add 192.168.1.150/24 brd + dev lan',
          'ip route add default via 192.168.1.1 dev lan',
          'echo nameserver 192.168.1.1 > /etc/resolv.conf',
          'echo "DHCPACK of 192.168.1.150 from 192.168.1.1"; echo "bound to 192.168.1.150 -- renewal in 1800 seconds."',
        ].join('\n'),
        'alice.sh': [
          'set -e',
          'chmod +x /usr/local/bin/dhclient',
          'dhclient -v lan',
          'ping -c 1 198.51.100.80',
          'curl -sS http://web.bob.example/whoami',
        ].join('\n'),
        'answers.yaml': `private_address: 192.168.1.150\npublic_address: ${other.publicAddress}\nmac_address: 02:42:0a:fa:00:02\n`,
      });
      await apply(run, fake);
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(false);
      expect(failedIds(report), explain(report)).toEqual(['lease', 'answer-private', 'answer-public', 'answer-mac']);
      expect(report.results.find((r) => r.id === 'lease')?.reason).toMatch(/no lease/);
    },
  );

  it(
    'fails a wrong default hidden in table 100 behind an ip rule, and pings alice answers herself; a sole default in table 100 is fine',
    { timeout: 300_000 },
    async () => {
      const run = await start('2', I, 'seed-a');
      const { staticGateway } = varsFor(addresses, run.seed);
      expect(staticGateway).not.toBe('');
      const reason = (r: Awaited<ReturnType<typeof grade>>, id: string) =>
        r.results.find((x) => x.id === id)?.reason ?? '';
      // The honest repair, then two tricks a root learner can play on her own laptop: the old wrong
      // gateway kept as a default in table 100 for marked traffic (the main table looks right), and
      // Bob's address on lo, so that her pings to him are answered without leaving the laptop. Both
      // passed before: "route" read only the main table, "reach" only counted replies.
      const solution = readFileSync(join(solutionDir(run), 'alice.sh'), 'utf8');
      await apply(
        run,
        submissionFolder({
          'alice.sh': [
            solution,
            `ip rule add pref 100 fwmark 7 lookup 100`,
            `ip route add default via ${staticGateway} dev lan onlink table 100`,
            'ip addr add 198.51.100.80/32 dev lo',
          ].join('\n'),
        }),
      );
      const tricked = await grade(run);
      expect(failedIds(tricked), explain(tricked)).toEqual(['route', 'reach']);
      expect(reason(tricked, 'route')).toMatch(
        new RegExp(
          `^table 100 \\(selected by ip rule 100 "from all fwmark 0x7 lookup 100"\\) has "default via ${staticGateway.replace(/\./g, '\\.')} `,
        ),
      );
      expect(reason(tricked, 'reach')).toMatch(
        /not from the network: .*198\.51\.100\.80 is an address on alice herself \(dev lo\)/,
      );

      // Unusual but right: the only default route lives in table 100, selected for all traffic.
      await sh(
        I,
        'alice',
        'ip addr del 198.51.100.80/32 dev lo; ip rule del pref 100; ip route flush table 100; ip route del default; ip route add default via 192.168.1.1 dev lan table 100; ip rule add pref 100 lookup 100',
      );
      const unusual = await grade(run);
      expect(unusual.passed, explain(unusual)).toBe(true);
      expect(reason(unusual, 'route')).toMatch(/\(in table 100\)/);

      // A nat rule on the laptop that answers Bob's pings locally is named as such.
      await sh(I, 'alice', 'iptables -t nat -A OUTPUT -p icmp -d 198.51.100.80 -j DNAT --to-destination 127.0.0.1');
      const natted = await grade(run);
      expect(failedIds(natted), explain(natted)).toEqual(['reach']);
      expect(reason(natted, 'reach')).toMatch(
        /nat table rewrites where packets go: -A OUTPUT -d 198\.51\.100\.80\/32 -p icmp -j DNAT/,
      );
    },
  );

  it(
    'passes the reference solution for two different learners, and their answers do not transfer',
    { timeout: 480_000 },
    async () => {
      const lab = await findLab('addresses');
      const seen: { seed: string; answers: string; mac: string }[] = [];
      for (const seed of ['seed-p', 'seed-b']) {
        const run = await start('addresses', I, seed);
        await apply(run, solutionDir(run));
        const report = await grade(run);
        expect(report.passed, explain(report)).toBe(true);
        expect(report.score).toBe(report.maxScore);
        expect(report.maxScore).toBe(12);
        process.stderr.write(`[lab-02] ${seed}: graded a passing world in ${report.ms} ms\n`);
        const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
        expect(answers).toContain(`public_address: ${varsFor(addresses, seed).publicAddress}`);
        const mac = (await sh(I, 'alice', 'cat /sys/class/net/lan/address')).stdout.trim();
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
    },
  );
});
