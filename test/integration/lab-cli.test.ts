// The learner's lab commands as typed, and the bad input they must survive.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { cli, labelledObjects, sh } from './helpers.js';
import { submissionFolder } from './lab-harness.js';
import { driver } from './helpers.js';

const I = 't-labcli';

afterAll(async () => {
  await stop(driver, I);
});

describe('hurrynet list / lab / check', () => {
  it('lists the labs', async () => {
    const r = await cli(['list', '--json']);
    expect(r.code).toBe(0);
    const labs = JSON.parse(r.stdout) as { id: string; slug: string; minutes: number }[];
    expect(labs[0]).toMatchObject({ id: '01', slug: 'client-server' });
  });

  it('refuses an unknown lab and lists the valid ones, starting nothing', async () => {
    const r = await cli(['lab', '99', '--instance', I, '--no-shell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown lab "99". The labs are:\n\s+01\s+client-server/);
    expect(await labelledObjects(I)).toBe(0);
  });

  it('refuses a malformed submission before starting anything', async () => {
    const dir = submissionFolder({ 'bob.sh': 'echo hi', 'web.sh': 'echo hi' });
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--apply', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown node "bob"/);
    expect(r.stderr).toMatch(/does not let you change \(allowed: alice\)/);
    expect(await labelledObjects(I)).toBe(0);
  });

  it('says there is nothing to check when no lab runs', async () => {
    const r = await cli(['check', '--instance', I]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no lab is running in instance "t-labcli". Start one with: npm run lab/);
  });

  it('starts a lab without a shell, prints the handout and task card, and grades it', async () => {
    const r = await cli(['lab', '01', '--instance', I, '--no-shell', '--seed', 'cli-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/## Goal/);
    expect(r.stdout).toMatch(/Your task card/);
    expect(r.stdout).toMatch(/create_title: /);
    expect(r.stdout).toMatch(/npm run check 1 -- --instance t-labcli/);
    const card = await sh(I, 'alice', 'cat /root/TASK.txt');
    expect(card.stdout).toMatch(/^create_title: \S+$/m);
    const check = await cli(['check', '--instance', I]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/FAIL\s+0\/2\s+POST created the note/);
    expect(check.stdout).toMatch(/hint: /);
    const wrong = await cli(['check', 'dns', '--instance', I]);
    expect(wrong.code).toBe(2);
  });

  it('stops a script that never ends, with a clear message', async () => {
    const dir = submissionFolder({ 'alice.sh': 'echo $$ > /tmp/endless.pid; while true; do sleep 1; done\n' });
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--reset', '--apply', dir], { env: { HURRYNET_SCRIPT_TIMEOUT: '2' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/alice.sh did not finish within 2 s and was stopped/);
    expect(r.stderr).toMatch(/The lab is still running/);
    // The script did start, and nothing of it is left running.
    const left = await sh(I, 'alice', 'kill -0 "$(cat /tmp/endless.pid)" 2>/dev/null && echo running || echo gone');
    expect(left.stdout.trim()).toBe('gone');
  });

  it('explains an answers.yaml that is not YAML', async () => {
    const dir = submissionFolder({ 'answers.yaml': 'created_id: [1, 2\n' });
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--reset', '--apply', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/answers.yaml is not valid YAML/);
  });

  it('writes JUnit and JSON reports', async () => {
    const r = await cli(['check', '--instance', I, '--json', '--junit', '/tmp/hurrynet-t-labcli.xml']);
    const report = JSON.parse(r.stdout) as { lab: string; results: unknown[]; passed: boolean };
    expect(report.lab).toBe('01');
    expect(report.passed).toBe(false);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('/tmp/hurrynet-t-labcli.xml', 'utf8')).toMatch(/<testsuite name="hurrynet.lab01"/);
  });
});
