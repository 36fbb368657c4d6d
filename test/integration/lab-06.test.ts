// Lab 06 on a real engine: without the home router's translation Alice's requests die while
// Carol's pass the ISP's carrier-grade NAT; making the ISP translate Alice's private network
// instead (with a fake curl on alice and copied answers) fails; the reference passes for two seeds.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab06';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 06: NAT and CGNAT', () => {
  it("fails untouched: the home router forwards Alice's private address untranslated; Carol gets through", async () => {
    const run = await start('6', I, 'seed-a');
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['home-nat', 'alice-web', 'answer-alice-public', 'answer-carol-public', 'answer-home-side']);
    expect(report.results.find((r) => r.id === 'home-nat')?.reason).toMatch(/untranslated/);
    expect(report.results.find((r) => r.id === 'carol-web')?.reason).toContain(`arrive from ${String(run.vars.publicAddress)}`);
  });

  it('fails when the ISP translates and routes Alice\'s private network instead of the home router, with a fake curl and copied answers', async () => {
    const run = await start('6', I, 'seed-a');
    const other = varsFor(run.lab, 'seed-c');
    // What a learner with a shell on the ISP router could do: translate 192.168.1.0/24 there and
    // route it back to the home router. Bob then sees the right public address, but the home router
    // still translates nothing.
    const isp = await sh(I, 'isp', [
      `iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o backbone -j SNAT --to-source ${String(run.vars.publicAddress)}`,
      `ip route add 192.168.1.0/24 via ${String(run.vars.homeAddress)}`,
    ].join(' && '));
    expect(isp.exitCode, isp.stderr).toBe(0);
    const fake = submissionFolder({
      'alice/usr/local/bin/curl': `#!/bin/sh\necho '{"clientAddress":"${String(other.publicAddress)}"}'\n`,
      'alice.sh': 'chmod +x /usr/local/bin/curl\ncurl http://web.bob.example/whoami\n',
      'answers.yaml': `alice_public: ${String(other.publicAddress)}\ncarol_public: ${String(other.publicAddress)}\nhome_isp_side: ${String(other.homeAddress)}\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['home-nat', 'answer-alice-public', 'answer-carol-public', 'answer-home-side']);
    expect(report.results.find((r) => r.id === 'home-nat')?.reason).toMatch(/untranslated/);
    expect(report.results.find((r) => r.id === 'alice-web')?.passed).toBe(true);
  });

  it('passes the reference solution for two learners, whose public and ISP-side addresses differ', async () => {
    const seen: string[] = [];
    for (const seed of ['seed-a', 'seed-c']) {
      const run = await start('nat', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(9);
      process.stderr.write(`[lab-06] ${seed}: graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`alice_public: ${String(run.vars.publicAddress)}`);
      expect(answers).toContain(`carol_public: ${String(run.vars.publicAddress)}`);
      expect(answers).toContain(`home_isp_side: ${String(run.vars.homeAddress)}`);
      // The home router's table shows Alice's connections translated to its ISP-side address.
      const ct = await sh(I, 'home', 'conntrack -L -p tcp --dport 80 2>/dev/null');
      expect(ct.stdout).toContain(`dst=${String(run.vars.homeAddress)}`);
      seen.push(answers);
    }
    expect(seen[0]).not.toBe(seen[1]);
  });
});
