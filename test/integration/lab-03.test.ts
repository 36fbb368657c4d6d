// Lab 03 on a real engine: untouched it fails where its fault is, faking the fix on alice fails,
// copied answers fail, and the reference solution passes for every kind of fault.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { findLab, varsFor } from '../../orchestrator/lab.js';
import { dnsVars, type FaultKind } from '../../labs/03-dns/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab03';
/** One seed per kind of fault (asserted below, so a change in vary() shows up here first). */
const SEEDS: Record<FaultKind, string> = { resolver: 'seed-c', forwarder: 'seed-b', record: 'seed-a' };
const ANSWER_CHECKS = ['answer-fault-node', 'answer-ttl-first', 'answer-ttl-second', 'answer-dns-queries'];

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 03: DNS resolution and caching', () => {
  it('varies the fault with the seed as this test expects', async () => {
    const lab = await findLab('3');
    for (const [fault, seed] of Object.entries(SEEDS)) expect(dnsVars(varsFor(lab, seed)).fault).toBe(fault);
  });

  for (const fault of Object.keys(SEEDS) as FaultKind[]) {
    it(`fails untouched with the ${fault} fault: exactly that check, the lookup on alice, the cache and the answers`, async () => {
      const run = await start('3', I, SEEDS[fault]);
      const report = await grade(run);
      expect(report.passed).toBe(false);
      expect(failedIds(report), explain(report)).toEqual([fault, 'alice-resolves', 'cache', ...ANSWER_CHECKS]);
      expect(report.results.find((r) => r.id === fault)?.hint).toBeTruthy();
    });
  }

  it('fails a faked submission: a hosts-file entry, a replaced dig and answers copied from another seed', async () => {
    const run = await start('3', I, SEEDS.record);
    const v = dnsVars(run.vars);
    const fake = submissionFolder({
      'alice.sh': [
        `echo "198.51.100.80 ${v.mustResolve} ${v.cacheName}" >> /etc/hosts`,
        'cat > /usr/local/bin/dig <<"EOF"',
        '#!/bin/sh',
        'echo ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1"',
        'echo ";; ANSWER SECTION:"',
        'echo "$1.	900	IN	A	198.51.100.80"',
        'EOF',
        'chmod +x /usr/local/bin/dig',
        `dig ${v.mustResolve}`,
        `getent hosts ${v.mustResolve}`,
      ].join('\n'),
      // What a learner with the forwarder fault (seed-b) answered.
      'answers.yaml': 'fault_node: home\nttl_first: 900\nttl_second: 897\ndns_queries: 1\n',
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report)).toEqual(['record', 'alice-resolves', 'cache', ...ANSWER_CHECKS]);
  });

  it('fails a fake DNS server on alice behind an iptables redirect, even with the right resolver setting', async () => {
    const run = await start('3', I, SEEDS.resolver);
    const v = dnsVars(run.vars);
    const fakeServer = [
      'import socket, struct',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      "s.bind(('0.0.0.0', 5353))",
      'while True:',
      '    data, addr = s.recvfrom(4096)',
      '    i = 12',
      '    while data[i] != 0:',
      '        i += data[i] + 1',
      "    header = data[:2] + b'\\x85\\x80\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00'",
      `    answer = b'\\xc0\\x0c\\x00\\x01\\x00\\x01' + struct.pack('>I', ${v.ttl}) + b'\\x00\\x04' + bytes([198, 51, 100, 80])`,
      '    s.sendto(header + data[12:i + 5] + answer, addr)',
    ].join('\n');
    const fake = submissionFolder({
      'alice/root/fakedns.py': fakeServer + '\n',
      'alice.sh': [
        "echo 'nameserver 192.168.1.1' > /etc/resolv.conf",
        'setsid python3 /root/fakedns.py </dev/null >/dev/null 2>&1 &',
        'iptables -t nat -A OUTPUT -p udp -d 192.168.1.1 --dport 53 -j DNAT --to-destination 192.168.1.101:5353',
        `until dig +short ${v.mustResolve} | grep -q 198.51.100.80; do sleep 0.2; done`,
        `dig ${v.cacheName}`,
      ].join('\n'),
      'answers.yaml': `fault_node: alice\nttl_first: ${v.ttl}\nttl_second: ${v.ttl - 3}\ndns_queries: 1\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    // The fix of the resolver setting itself is real; everything that needs the router is not.
    expect(failedIds(report)).toEqual(['alice-resolves', 'cache', 'answer-ttl-second', 'answer-dns-queries']);
    expect(report.results.find((r) => r.id === 'alice-resolves')?.reason).toMatch(/never received alice's query/);
  });

  const answersOf: Partial<Record<FaultKind, string>> = {};
  for (const fault of ['record', 'forwarder', 'resolver'] as FaultKind[]) {
    it(`passes the reference solution with the ${fault} fault`, async () => {
      const run = await start('3', I, SEEDS[fault]);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      answersOf[fault] = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answersOf[fault]).toMatch(new RegExp(`ttl_first: ${dnsVars(run.vars).ttl}\\n`));

      if (fault === 'forwarder' && answersOf.record) {
        // Another learner's correct answers do not fit this world.
        await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${answersOf.record}EOF`);
        const copied = await grade(run);
        expect(copied.passed).toBe(false);
        expect(failedIds(copied)).toEqual(['answer-fault-node', 'answer-ttl-first', 'answer-ttl-second']);
      }
    });
  }

  it('keeps the reference solution free of any one seed', async () => {
    const lab = await findLab('3');
    for (const f of ['alice.sh', 'dns.sh', 'home.sh']) {
      const text = readFileSync(join(lab.dir, 'solution', f), 'utf8');
      expect(text).not.toMatch(/\b(files|media|docs|shop|status|api|photos|store|wiki|news|chat|cdn|mail|maps|music|games)\.bob\.example/);
    }
  });
});
