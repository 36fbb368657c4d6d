// Lab 07 on a real engine: the stateless start fails every check; the tempting half-fixes (open
// the way out, keep the "reply" rules; a careful stateless set; a stateless set whose reply rules
// only trust source ports and missing SYNs, with an extra admin address hidden on alice; a fake
// admin service on the edge) fail the checks they should, for the right reason, and the reference
// solution passes for an admin on Bob's laptop and for an admin at Alice's home.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab07';
const FIREWALL = ['http', 'https', 'admin-allowed', 'admin-denied', 'rest-denied', 'replies-denied', 'outbound'];
// Several grades in one test, on a machine other tests load too.
const LONG = 480_000;
const ANSWERS = ['answer-admin', 'answer-dropped', 'answer-why'];

afterAll(async () => {
  await stop(driver, I);
});

/** An edge script that starts from the lab's own stateless set and adds what the learner tried. */
const edgeScript = (lines: string[]) => ['set -e', ...lines].join('\n');

describe('lab 07: security groups', () => {
  let run: LabRun;

  it(
    'fails untouched: the stateless rules drop the replies, so nothing works and nothing can be judged',
    async () => {
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
      // By default the report shows level 1, where to look, without the answer to dropped_packet.
      const hints = report.results.find((r) => r.id === 'http')?.hints ?? [];
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatch(/edge.*one side of the edge with what leaves on the other/);
      expect(hints.join('\n')).not.toMatch(/SYN-ACK|\[S\.\]/);
      // The intern's "answers come back to a high port" rule lets a bare ACK reach the agent.
      expect(reason('replies-denied')).toMatch(/reply-shaped packets .*monitoring agent \d+\/tcp \(.*ACK without SYN/);
    },
    LONG,
  );

  it(
    'fails the half-fixes: replies let out but "reply" holes kept, a careful stateless set, a fake admin service on the edge',
    async () => {
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
          'alice.sh':
            'printf "#!/bin/sh\\necho HTTP/1.1 200 OK\\n" > /usr/local/bin/curl; chmod +x /usr/local/bin/curl',
          'answers.yaml': `admin_source: ${String(other.adminAddress)}\ndropped_packet: SYN-ACK\nwhy_stateless: the replies were dropped because the filter keeps no state\n`,
        }),
      );
      let report = await grade(run);
      // The UDP answer from Bob's laptop comes from a port no stateless rule named, so it is dropped.
      expect(failedIds(report), explain(report)).toEqual([
        'admin-denied',
        'rest-denied',
        'replies-denied',
        'outbound',
        'answer-admin',
      ]);
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
      expect(failedIds(report), explain(report)).toEqual(['rest-denied', 'replies-denied']);
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
    },
    LONG,
  );

  it(
    'fails a stateless set that only trusts "reply" source ports and missing SYNs, and an admin address hidden on alice',
    async () => {
      const laptop = String(run.vars.laptopAddress);
      const port = Number(run.vars.adminPort);
      const agent = Number(run.vars.agentPort);
      // Every check of the first grader passed this set: the plain probes come from random (client)
      // ports with a SYN, the outbound answers match the reply rules, the internal service sits below
      // the client-port range. The admin port is also open to Alice's home, which alice hides from
      // herself with an OUTPUT drop.
      await apply(
        run,
        submissionFolder({
          'edge.sh': edgeScript([
            // the previous test's fake admin service goes
            `iptables -t nat -D PREROUTING -s ${laptop} -p tcp --dport ${port} -j REDIRECT --to-ports 4022 2>/dev/null || true`,
            'iptables -F FORWARD',
            'iptables -A FORWARD -i vpc -o backbone -j ACCEPT',
            'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp -m multiport --dports 80,443 -j ACCEPT',
            `iptables -A FORWARD -i backbone -s ${laptop} -d 10.0.1.10 -p tcp --dport ${port} -j ACCEPT`,
            `iptables -A FORWARD -i backbone -s 203.0.113.5 -d 10.0.1.10 -p tcp --dport ${port} -j ACCEPT`,
            // "replies": TCP that opens nothing, answers of web servers, DNS and NTP to the client ports
            'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp ! --syn -j ACCEPT',
            'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp --dport 32768:60999 -m multiport --sports 53,80,123,443 -j ACCEPT',
            'iptables -A FORWARD -i backbone -d 10.0.1.10 -p udp --dport 32768:60999 -m multiport --sports 53,123 -j ACCEPT',
            'iptables -A FORWARD -i backbone -d 10.0.1.10 -p udp --sport 1024:32767 --dport 32768:60999 -j ACCEPT',
            'conntrack -F 2>/dev/null || true',
          ]),
          'alice.sh': `iptables -A OUTPUT -p tcp --dport ${port} -j DROP`,
          'answers.yaml': `admin_source: ${laptop}\ndropped_packet: SYN-ACK\nwhy_stateless: the replies were dropped because the filter keeps no state\n`,
        }),
      );
      const report = await grade(run);
      expect(failedIds(report), explain(report)).toEqual(['admin-denied', 'replies-denied']);
      const reason = (id: string) => report.results.find((r) => r.id === id)?.reason ?? '';
      expect(reason('admin-denied')).toMatch(/answered a fresh laptop on Alice's home network/);
      expect(reason('replies-denied')).toMatch(/^reply-shaped packets from a stranger on the backbone got in/);
      expect(reason('replies-denied')).toContain(
        `the monitoring agent ${agent}/tcp (a SYN from source port 53, 80, 123 and 443 got through, and a TCP ACK without SYN from source port 53, 80, 123, 443 and`,
      );
      expect(reason('replies-denied')).toMatch(
        new RegExp(`the monitoring agent ${agent}/udp \\(UDP from source port 53, 123 and \\d+ was answered by web\\)`),
      );
      expect(reason('replies-denied')).toContain(`the admin port ${port}/tcp (a TCP ACK without SYN from source port`);
      // FTP goes to another address, which none of the "reply" rules names.
      expect(reason('replies-denied')).not.toContain('FTP');
    },
    LONG,
  );

  it(
    "passes the reference solution, for an admin on Bob's laptop and for an admin at Alice's home",
    async () => {
      for (const seed of ['seed-a', 'seed-b']) {
        const r = await start('security-groups', I, seed);
        await apply(r, solutionDir(r));
        const report = await grade(r);
        expect(report.passed, explain(report)).toBe(true);
        expect(report.score).toBe(report.maxScore);
        expect(report.maxScore).toBe(16);
        process.stderr.write(
          `[lab-07] ${seed} (admin: ${String(r.vars.adminKind)}): graded a passing world in ${report.ms} ms\n`,
        );
        const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
        expect(answers).toContain(`admin_source: ${String(r.vars.adminAddress)}`);
      }
    },
    LONG,
  );
});
