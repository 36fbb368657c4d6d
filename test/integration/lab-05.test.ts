// Lab 05 on a real engine: a broken route fails the path checks, also when alice's own rules fake
// the trace and the ping; policy rules and tables other than main that carry the packets fail the
// route check with what they are; a NAT trick on the ISP that makes the trace look right (plus a
// fake traceroute on alice and copied answers) still fails; the reference solution passes for two
// learners with different broken routers, and a default route hidden in table default does not.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import lab, { type RoutingVars } from '../../labs/05-routing/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab05';
/** The seeds of the cases, by the kind of broken route (pinned in the unit test). */
const SEEDS = { ispWrong: 'seed-c', edgeMissing: 'seed-b', homeWrong: 'seed-a', ispMissing: 'seed-p' };
const varsOf = (run: LabRun): RoutingVars => varsFor(lab, run.seed);
const BOB = '198.51.100.80';
const EDGE = '198.51.100.2';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 05: routing', () => {
  it('fails untouched (isp-wrong): the trace stops after the ISP, and the checks do not name the broken router', async () => {
    const run = await start('5', I, SEEDS.ispWrong);
    expect(varsOf(run).kind).toBe('isp-wrong');
    const before = await sh(I, 'isp', 'ip -4 route');
    expect(before.stdout).toContain(`${varsOf(run).bobBlock} via 198.51.100.53`);
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([
      'path',
      'ping',
      'web',
      'route',
      'answer-stopped',
      'answer-router',
    ]);
    const route = report.results.find((r) => r.id === 'route');
    expect(route?.reason).toMatch(/do not yet carry .* one link of the chain/);
    expect(route?.reason).not.toMatch(/198\.51\.100\.53|Bob's block/);
    expect(report.results.find((r) => r.id === 'path')?.reason).toMatch(/stops after hop 2/);
    // The failed ping says where the grader's own ping stopped (a trace under its captures).
    expect(
      report.results
        .find((r) => r.id === 'ping')
        ?.evidence.map((e) => e.output)
        .join('\n'),
    ).toMatch(/reached \S+ on \S+ and never left: /);

    // Alice's own rules answer the third probe and the pings locally (translated back to look like
    // Bob): her trace and ping look healed, the network is not, and the grader asks the network.
    await apply(
      run,
      submissionFolder({
        'alice.sh': [
          `iptables -t nat -A OUTPUT -p udp -d ${BOB} -m ttl --ttl-gt 2 -j DNAT --to-destination 127.0.0.1`,
          `iptables -t nat -A OUTPUT -p icmp -d ${BOB} -j DNAT --to-destination 127.0.0.1`,
        ].join('\n'),
      }),
    );
    const faked = await sh(I, 'alice', `traceroute -n -q 1 -w 1 -m 3 ${BOB}; ping -n -c 1 -W 1 ${BOB}`);
    expect(faked.stdout).toMatch(/ 3 {2}198\.51\.100\.80 /);
    expect(faked.stdout).toContain('1 received');
    const fooled = await grade(run);
    expect(failedIds(fooled), explain(fooled)).toEqual([
      'path',
      'ping',
      'web',
      'route',
      'answer-stopped',
      'answer-router',
    ]);
    expect(fooled.results.find((r) => r.id === 'path')?.reason).toMatch(/stops after hop 2/);
    expect(fooled.results.find((r) => r.id === 'ping')?.reason).toMatch(/no reply/);
    expect(fooled.results.find((r) => r.id === 'path')?.evidence[0]?.where).toBe('fresh@lan');

    // Now the ISP routes Bob by policy instead of fixing its table: a rule for Bob's address with a
    // table of its own, and a mark (set by a legacy mangle rule) that selects a table with a
    // default route. The network works; the route check says how, and the firewall check sees
    // the legacy rule.
    await apply(
      run,
      submissionFolder({
        'isp.sh': [
          `ip route add ${BOB} via ${EDGE} dev backbone table 100`,
          `ip rule add to ${BOB} lookup 100 pref 100`,
          `iptables-legacy -t mangle -A PREROUTING -d ${BOB} -j MARK --set-mark 7`,
          `ip route add default via ${EDGE} dev backbone table 101`,
          'ip rule add fwmark 7 lookup 101 pref 101',
        ].join('\n'),
      }),
    );
    const routed = await grade(run);
    expect(failedIds(routed), explain(routed)).toEqual(['route', 'tables', 'answer-stopped', 'answer-router']);
    const why = routed.results.find((r) => r.id === 'route')?.reason ?? '';
    expect(why).toMatch(/^policy rules, not the routing tables, decide/);
    expect(why).toContain(
      `isp has the policy rule "100: from all to ${BOB} lookup 100" (table 100: ${BOB} via ${EDGE} dev backbone)`,
    );
    expect(why).toContain(
      `isp has the policy rule "101: from all fwmark 0x7 lookup 101" (table 101: default via ${EDGE} dev backbone)`,
    );
    expect(why).not.toMatch(/do not yet carry/);
    expect(routed.results.find((r) => r.id === 'tables')?.reason).toMatch(
      /isp mangle \(iptables-legacy\) has an extra rule: -A PREROUTING -d 198\.51\.100\.80\/32 -j MARK --set-xmark 0x7/,
    );
  }, 300_000);

  it('fails a NAT trick on the ISP that hides the missing route back, with a fake traceroute on alice and copied answers', async () => {
    const run = await start('5', I, SEEDS.edgeMissing);
    expect(varsOf(run).kind).toBe('edge-missing');
    const other = varsFor(lab, SEEDS.homeWrong);
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
    expect(report.results.find((r) => r.id === 'web')?.reason).toMatch(
      /from 198\.51\.100\.1, not from Alice's public address/,
    );
    expect(report.results.find((r) => r.id === 'tables')?.reason).toMatch(
      /isp nat has an extra rule: -A POSTROUTING -o backbone -j MASQUERADE/,
    );
  });

  /** Starts the seed's world, applies the reference solution and grades it; returns the run. */
  async function solved(seed: string): Promise<LabRun> {
    const run = await start('routing', I, seed);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    expect(report.maxScore).toBe(12);
    process.stderr.write(`[lab-05] ${seed} (${varsOf(run).kind}): graded a passing world in ${report.ms} ms\n`);
    const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
    expect(answers).toContain(`router: ${varsOf(run).router}`);
    return run;
  }

  it('passes the reference solution for two learners whose broken routers differ, and fails a default route hidden in table default', async () => {
    const run = await solved(SEEDS.ispMissing);
    expect(varsOf(run).kind).toBe('isp-missing');
    // The standard rule 32767 consults table default after main: a default route there is a
    // default route of the ISP's all the same, though "ip route" does not list it.
    await apply(run, submissionFolder({ 'isp.sh': `ip route add default via ${EDGE} dev backbone table default` }));
    const hidden = await grade(run);
    expect(failedIds(hidden), explain(hidden)).toEqual(['route']);
    expect(hidden.results.find((r) => r.id === 'route')?.reason).toBe(
      `the ISP router has a default route (default via ${EDGE} dev backbone (table default)); it sits at the top of this small internet and routes Bob's block specifically`,
    );
    expect(varsOf(await solved(SEEDS.homeWrong)).router).toBe('home');
  }, 300_000);
});
