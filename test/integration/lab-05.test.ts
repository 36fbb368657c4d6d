// Lab 05 on a real engine: a broken route fails the path checks, a NAT trick on the ISP that makes
// the trace look right (plus a fake traceroute on alice and copied answers) still fails, and the
// reference solution passes for two learners with different broken routers.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { sh } from './helpers.js';
import { driver } from './helpers.js';

const I = 't-lab05';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 05: routing', () => {
  it('fails untouched (isp-wrong): the trace stops after the ISP, and the checks do not name the broken router', async () => {
    const run = await start('5', I, 'seed-c');
    expect(run.vars.kind).toBe('isp-wrong');
    const before = await sh(I, 'isp', 'ip -4 route');
    expect(before.stdout).toContain(`${String(run.vars.bobBlock)} via 198.51.100.53`);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['path', 'ping', 'web', 'route', 'answer-stopped', 'answer-router']);
    const route = report.results.find((r) => r.id === 'route');
    expect(route?.reason).toMatch(/do not yet carry .* one link of the chain/);
    expect(route?.reason).not.toMatch(/198\.51\.100\.53|Bob's block/);
    expect(report.results.find((r) => r.id === 'path')?.reason).toMatch(/stops after hop 2/);
  });

  it('fails a NAT trick on the ISP that hides the missing route back, with a fake traceroute on alice and copied answers', async () => {
    const run = await start('5', I, 'seed-a');
    expect(run.vars.kind).toBe('edge-missing');
    const other = varsFor(run.lab, 'seed-b');
    expect(other.router).toBe('home');
    const fake = submissionFolder({
      // Translating everything towards the backbone to the ISP's own address makes Bob's replies
      // come back without a route on the edge: the trace and ping look fine from alice.
      'isp.sh': 'iptables -t nat -A POSTROUTING -o backbone -j MASQUERADE\n',
      'alice/usr/local/bin/traceroute': [
        '#!/bin/sh',
        'echo "traceroute to 198.51.100.80 (198.51.100.80), 30 hops max, 60 byte packets"',
        'echo " 1  192.168.1.1  0.1 ms"; echo " 2  203.0.113.1  0.2 ms"; echo " 3  198.51.100.80  0.3 ms"',
      ].join('\n'),
      'alice.sh': 'chmod +x /usr/local/bin/traceroute\ntraceroute -n 198.51.100.80\n',
      'answers.yaml': 'stopped_at: 192.168.1.1\nrouter: home\n',
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['web', 'route', 'tables', 'answer-stopped', 'answer-router']);
    expect(report.results.find((r) => r.id === 'web')?.reason).toMatch(/from 198\.51\.100\.1, not from Alice's public address/);
    expect(report.results.find((r) => r.id === 'tables')?.reason).toMatch(/isp nat has an extra rule: -A POSTROUTING -o backbone -j MASQUERADE/);
  });

  it('passes the reference solution for two learners whose broken routers differ', async () => {
    for (const seed of ['seed-f', 'seed-b']) {
      const run = await start('routing', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(12);
      process.stderr.write(`[lab-05] ${seed} (${String(run.vars.kind)}): graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`router: ${String(run.vars.router)}`);
    }
  });
});
