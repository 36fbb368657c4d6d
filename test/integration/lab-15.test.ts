// Lab 15 on a real engine: untouched, Bob's block is never announced and nothing reaches him;
// routes typed into the kernel as "proto bird" and a policy rule make the ping work but fail the
// BGP check, answers copied from another seed fail; a fake birdc and a program of the learner's own
// on BIRD's control socket are seen through (the grader asks with its own birdc and checks who
// answers); a hijack undone only halfway (the blackhole gone, the announcement still there) fails
// by longest prefix match; the reference solution passes for two seeds with different faults.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { LINKS } from '../../labs/15-bgp/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab15';
const BOB = '198.51.100.80';
const LONG = 300_000;

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 15: BGP', () => {
  it(
    'fails untouched, and fails kernel routes typed as BIRD, a policy rule, copied answers and a fake BIRD',
    async () => {
      const run = await start('15', I, 'seed-e');
      expect(run.vars).toMatchObject({ kind: 'no-network', router: 'edge' });
      const block = String(run.vars.bobBlock);
      const untouched = await grade(run);
      expect(failedIds(untouched), explain(untouched)).toEqual(['ping', 'bgp', 'answer-as-path', 'answer-router']);

      // Bob's block typed in by hand: on isp as a kernel route that claims to be BIRD's, on transit
      // behind a policy rule; the answers come from another learner's world.
      const other = varsFor(run.lab, 'seed-a');
      await apply(
        run,
        submissionFolder({
          'isp.sh': `ip route add ${block} via ${LINKS.west.transit} proto bird\n`,
          'transit.sh': `ip route add ${block} via ${LINKS.east.edge} table 100\nip rule add to ${block} lookup 100 pref 100\n`,
          'answers.yaml': `as_path: ${String(other.transitAs)} ${String(other.edgeAs)}\nrouter: ${String(other.router)}\n`,
        }),
      );
      const ping = await sh(I, 'alice', `ping -n -c 2 -W 2 ${BOB}`);
      expect(ping.exitCode, ping.stdout).toBe(0);
      const typed = await grade(run);
      expect(failedIds(typed), explain(typed)).toEqual(['bgp', 'answer-as-path', 'answer-router']);
      const why = typed.results.find((r) => r.id === 'bgp')?.reason ?? '';
      expect(why).toMatch(new RegExp(`isp's BIRD has no best route for ${block.replace(/[./]/g, '\\$&')}`));
      expect(why).toMatch(/transit.*(rule|table 100)/);

      // A birdc of the learner's own that prints a perfect table, and on transit a program of their
      // own answering on BIRD's control socket in place of BIRD.
      const fakeBirdc = [
        "cat > /usr/sbin/birdc <<'FAKE'",
        '#!/bin/sh',
        'echo "BIRD 2.0.12 ready."',
        'echo "Table master4:"',
        `echo "${block}  unicast [transit 10:00:00.000] * (100) [AS${String(run.vars.edgeAs)}i]"`,
        `echo "  via ${LINKS.west.transit} on peerwest"`,
        'echo "  Type: BGP univ"',
        `echo "  BGP.as_path: ${String(run.vars.transitAs)} ${String(run.vars.edgeAs)}"`,
        'FAKE',
        'chmod +x /usr/sbin/birdc',
      ].join('\n');
      await apply(
        run,
        submissionFolder({
          'isp.sh': fakeBirdc + '\n',
          'transit.sh': [
            'ip rule del pref 100',
            'pkill -x bird; sleep 1; rm -f /run/bird/bird.ctl',
            'setsid nc -lkU /run/bird/bird.ctl < /dev/null > /dev/null 2>&1 &',
            'for _ in $(seq 1 20); do [ -S /run/bird/bird.ctl ] && break; sleep 0.1; done',
          ].join('\n'),
        }),
      );
      const faked = await grade(run);
      expect(failedIds(faked), explain(faked)).toContain('bgp');
      const fakedWhy = faked.results.find((r) => r.id === 'bgp')?.reason ?? '';
      expect(fakedWhy).toMatch(/isp's BIRD has no best route/);
      expect(fakedWhy).toMatch(/transit: the program on BIRD's control socket .* is not the image's BIRD/);
    },
    LONG,
  );

  it(
    'fails a hijack undone halfway, then passes with the reference solution (hijack)',
    async () => {
      const run = await start('15', I, 'seed-c');
      expect(run.vars).toMatchObject({ kind: 'hijack', router: 'transit' });
      const hijack = String(run.vars.hijack);
      // The blackhole goes, the announcement stays: packets flow, but isp forwards Bob by the
      // hijacker's longer prefix.
      await apply(run, submissionFolder({ 'transit.sh': `ip route del blackhole ${hijack}\n` }));
      const half = await grade(run);
      expect(failedIds(half), explain(half)).toEqual(['bgp', 'answer-as-path', 'answer-router']);
      expect(half.results.find((r) => r.id === 'bgp')?.reason).toContain(`isp forwards ${BOB} by ${hijack}`);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
    },
    LONG,
  );

  it(
    'passes with the reference solution (a wrong neighbour AS on the ISP)',
    async () => {
      const run = await start('15', I, 'seed-a');
      expect(run.vars).toMatchObject({ kind: 'wrong-as', router: 'isp' });
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
    },
    LONG,
  );
});
