// Moving through the course on one instance, as a learner types it (issue 15): the next lab
// replaces the running one, asking only for answers no check has seen; every suggestion keeps
// the learner's --instance and --seed; graph draws the lab's world; shell needs a terminal.
import { afterAll, describe, expect, it } from 'vitest';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld, runningLab } from '../../orchestrator/labs/labrun.js';
import { CHECKED_PATH } from '../../orchestrator/labs/courseflow.js';
import { stop } from '../../orchestrator/runtime/engine.js';
import { graphText } from '../../orchestrator/world/graph.js';
import { cli, driver, sh } from './helpers.js';
import { submissionFolder } from './lab-harness.js';

const I = 't-flow';

afterAll(async () => {
  await stop(driver, I);
});

const labOn = async () => (await runningLab(driver, I))?.lab.id;

describe('moving from lab to lab on one instance', () => {
  it('starts lab 01 with a chosen variation', async () => {
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--seed', 's1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/npm run check 1 -- --instance t-flow/);
  });

  it('refuses to replace it without a terminal while its answers were never checked, naming --yes', async () => {
    await sh(I, 'alice', 'echo "created_id: 3" > /root/answers.yaml');
    const r = await cli(['lab', '7', '--instance', I]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /lab 01 \(client-server\) on instance t-flow has answers in \/root\/answers.yaml on alice that changed after your last check/,
    );
    expect(r.stderr).toMatch(/grade them first: +npm run check 1 -- --instance t-flow/);
    expect(r.stderr).toMatch(/replace anyway: +npm run lab 7 -- --yes --instance t-flow/);
    expect(await labOn()).toBe('01');
  });

  it('check records what it graded; then the next lab replaces the running one, and --apply shows script output', async () => {
    const check = await cli(['check', '--instance', I]);
    expect(check.code, check.stderr).toBe(1);
    // Hints come one level at a time, and the report says how to ask for the next on this instance.
    expect(check.stdout).toMatch(/hint 1\/3 \(where to look\): /);
    expect(check.stdout).not.toMatch(/hint 2\/3/);
    expect(check.stdout).toMatch(
      /Hints shown: level 1 of 3\. For which tool or file: npm run check 1 -- --hint 2 --instance t-flow/,
    );
    const more = await cli(['check', '--instance', I, '--hint', '3']);
    expect(more.stdout).toMatch(/hint 3\/3 \(the fix\): /);
    expect(more.stdout).toMatch(/Hints shown: level 3 of 3 \(the fix\)/);
    expect((await cli(['check', '--instance', I, '--hint', '4'])).stderr).toMatch(/expected a hint level from 0 to 3/);
    expect((await sh(I, 'alice', `cat ${CHECKED_PATH}`)).stdout).toMatch(/"answers":"[0-9a-f]{64}"/);
    const dir = submissionFolder({ 'alice.sh': 'for i in $(seq 1 9); do echo line $i; done\n' });
    // Without --no-shell and without a terminal: no shell, the next steps instead.
    const r = await cli(['lab', '7', '--instance', I, '--apply', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /lab 01 \(client-server\) is running on instance t-flow: replacing it with lab 07 \(security-groups\)/,
    );
    expect(r.stderr).toMatch(
      /running alice.sh on alice\n {2}alice.sh printed \(last 5 of 9 lines; --verbose shows all\):\n {4}line 5\n/,
    );
    expect(r.stderr).toMatch(/ {4}line 9\n/);
    expect(r.stdout).toMatch(/Next:\n {2}npm run check 7 -- --instance t-flow/);
    // The handout's commands act on this instance too.
    expect(r.stdout).toMatch(/npx hurrynet shell --instance t-flow edge/);
    const running = await runningLab(driver, I);
    expect(running?.lab.id).toBe('07');
    expect(running?.seed).toBe('s1'); // the learner's variation goes on with them
  });

  it('graph --instance draws the running lab world, with the node lab 07 adds', async () => {
    const lab = await findLab('7');
    const r = await cli(['graph', '--instance', I]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toBe(graphText(labWorld(lab, varsFor(lab, 's1'))).trimEnd());
    expect(r.stdout).toMatch(/^ {2}bob +198\.51\.100\./m);
  });

  it('says the same lab is already running, with the commands to open it or start over', async () => {
    const r = await cli(['lab', '7', '--instance', I]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lab 07 \(security-groups\) is already running on instance t-flow/);
    expect(r.stdout).toMatch(/open it: +npx hurrynet shell --instance t-flow/);
    expect(r.stdout).toMatch(/start over: +npm run lab 7 -- --reset --instance t-flow --seed s1/);
  });

  it('check of another lab suggests it on the same instance, with the same variation', async () => {
    const r = await cli(['check', '1', '--instance', I]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Start lab 01 with: npm run lab 1 -- --instance t-flow --seed s1/);
  });

  it('--yes replaces a lab with unsaved answers without asking', async () => {
    await sh(I, 'alice', 'echo "admin_source: 1.2.3.4" > /root/answers.yaml');
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/lab 07 \(security-groups\) is running on instance t-flow: replacing it with lab 01/);
    expect(await labOn()).toBe('01');
  });

  it("writes the task card's hurrynet commands for this instance", async () => {
    const r = await cli(['lab', '5', '--instance', I, '--no-shell', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect((await sh(I, 'alice', 'cat /root/TASK.txt')).stdout).toMatch(
      /npx hurrynet shell --instance t-flow <router>/,
    );
  });

  it('shell without a terminal says it needs one and exits non-zero', async () => {
    const r = await cli(['shell', '--instance', I]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shell needs a terminal.*npx hurrynet exec alice --instance t-flow -- <command>/);
  });
});
