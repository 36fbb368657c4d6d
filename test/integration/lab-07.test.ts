// Lab 07 on a real engine: the stateless start fails every check; the tempting half-fixes (open
// the way out, keep the "reply" rules; a careful stateless set; a fake admin service on the edge)
// fail the checks they should, and the reference solution passes for an admin on Bob's laptop and
// for an admin at Alice's home.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab07';
const FIREWALL = ['http', 'https', 'admin-allowed', 'admin-denied', 'rest-denied', 'outbound'];
const ANSWERS = ['answer-admin', 'answer-dropped', 'answer-why'];

afterAll(async () => {
  await stop(driver, I);
});

/** An edge script that starts from the lab's own stateless set and adds what the learner tried. */
const edgeScript = (lines: string[]) => ['set -e', ...lines].join('\n');

describe('lab 07: security groups', () => {
  let run: LabRun;

  it('fails untouched: the stateless rules drop the replies, so nothing works and nothing can be judged', async () => {
    run = await start('7', I, 'seed-a');
    expect(run.vars.adminKind).toBe('laptop');
    const rules = await sh(I, 'edge', 'iptables -S FORWARD');
    expect(rules.stdout).toContain('-P FORWARD DROP');
    expect(rules.stdout).not.toContain('conntrack');
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([...FIREWALL, ...ANSWERS]);
    const reason = (id: string) => report.results.find((r) => r.id === id)?.reason ?? '';
    expect(reason('http')).toMatch(/timed out/);
    expect(reason('admin-denied')).toMatch(/nothing can be judged/);
    expect(report.results.find((r) => r.id === 'http')?.hint).toMatch(/SYN-ACK/);
  });

  it('fails the half-fixes: replies let out but "reply" holes kept, a careful stateless set, a fake admin service on the edge', async () => {
    const other = varsFor(run.lab, 'seed-b');
    expect(other.adminAddress).not.toBe(run.vars.adminAddress);
    const laptop = String(run.vars.laptopAddress);
    const port = Number(run.vars.adminPort);

    // 1. Let everything out of the VPC and keep the intern's inbound rules; answers copied from
    //    another learner, and a curl on alice that always "works".
    await apply(
      run,
      submissionFolder({
        'edge.sh': edgeScript(['iptables -A FORWARD -i vpc -j ACCEPT']),
        'alice.sh': 'printf "#!/bin/sh\\necho HTTP/1.1 200 OK\\n" > /usr/local/bin/curl; chmod +x /usr/local/bin/curl',
        'answers.yaml': `admin_source: ${String(other.adminAddress)}\ndropped_packet: SYN-ACK\nwhy_stateless: the replies were dropped because the filter keeps no state\n`,
      }),
    );
    let report = await grade(run);
    // The UDP answer from Bob's laptop comes from a port no stateless rule named, so it is dropped.
    expect(failedIds(report), explain(report)).toEqual(['admin-denied', 'rest-denied', 'outbound', 'answer-admin']);
    expect(report.results.find((r) => r.id === 'outbound')?.reason).toMatch(/UDP to Bob's laptop/);

    // 2. A careful stateless set: exact reply rules by source port, the DNS server's answers,
    //    "not a SYN" for TCP replies and the kernel's client-port range for UDP replies.
    await apply(
      run,
      submissionFolder({
        'edge.sh': edgeScript([
          'iptables -F FORWARD',
          'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp -m multiport --dports 80,443 -j ACCEPT',
          'iptables -A FORWARD -i vpc -s 10.0.1.10 -p tcp -m multiport --sports 80,443 -j ACCEPT',
          `iptables -A FORWARD -i backbone -s ${laptop} -d 10.0.1.10 -p tcp --dport ${port} -j ACCEPT`,
          `iptables -A FORWARD -i vpc -s 10.0.1.10 -d ${laptop} -p tcp --sport ${port} -j ACCEPT`,
          'iptables -A FORWARD -i vpc -s 10.0.1.10 -o backbone -j ACCEPT',
          'iptables -A FORWARD -i backbone -s 198.51.100.53 -d 10.0.1.10 -p udp --sport 53 -j ACCEPT',
          'iptables -A FORWARD -i backbone -s 198.51.100.53 -d 10.0.1.10 -p tcp --sport 53 -j ACCEPT',
          'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp ! --syn -j ACCEPT',
          'iptables -A FORWARD -i backbone -d 10.0.1.10 -p udp --dport 32768:60999 -j ACCEPT',
        ]),
        'answers.yaml': `admin_source: ${laptop}\ndropped_packet: SYN-ACK\nwhy_stateless: the replies were dropped because the filter keeps no state\n`,
      }),
    );
    report = await grade(run);
    expect(failedIds(report), explain(report)).toEqual(['rest-denied']);
    expect(report.results.find((r) => r.id === 'rest-denied')?.reason).toMatch(/udp \d+ from/);

    // 3. The right stateful set, except that the admin port is answered by a fake SSH banner on
    //    the edge itself (a REDIRECT to a local listener) instead of Bob's admin service.
    await apply(
      run,
      submissionFolder({
        'edge.sh': edgeScript([
          'iptables -F FORWARD',
          'iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
          'iptables -A FORWARD -i vpc -o backbone -j ACCEPT',
          'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp -m multiport --dports 80,443 -j ACCEPT',
          `iptables -t nat -I PREROUTING -s ${laptop} -p tcp --dport ${port} -j REDIRECT --to-ports 4022`,
          `(while :; do echo SSH-2.0-BobAdmin_1.0 | nc -l -n -N -p 4022 >/dev/null 2>&1; done) >/dev/null 2>&1 </dev/null &`,
          'conntrack -F 2>/dev/null || true',
          'for i in $(seq 1 50); do ss -Hltn "sport = :4022" | grep -q . && exit 0; sleep 0.1; done; exit 1',
        ]),
      }),
    );
    report = await grade(run);
    expect(failedIds(report), explain(report)).toEqual(['admin-allowed']);
    expect(report.results.find((r) => r.id === 'admin-allowed')?.reason).toMatch(/not Bob's admin service/);
  });

  it('passes the reference solution, for an admin on Bob\'s laptop and for an admin at Alice\'s home', async () => {
    for (const seed of ['seed-a', 'seed-b']) {
      const r = await start('security-groups', I, seed);
      await apply(r, solutionDir(r));
      const report = await grade(r);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(14);
      process.stderr.write(`[lab-07] ${seed} (admin: ${String(r.vars.adminKind)}): graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`admin_source: ${String(r.vars.adminAddress)}`);
    }
  });
});
