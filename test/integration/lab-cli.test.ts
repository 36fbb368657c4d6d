// The learner's lab commands as typed, and the bad input they must survive.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stop } from '../../orchestrator/runtime/engine.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { cli, type CliResult, driver, labelledObjects, sh } from './helpers.js';
import { submissionFolder } from './lab-harness.js';

const I = 't-labcli';
const BIN = join(projectRoot(), 'bin', 'hurrynet.js');

/** Runs the CLI through sh, so that its stdin is what a user's shell gives: `< file`, `| pipe`, none. */
function shellCli(line: string, stdin: number | 'ignore' = 'ignore'): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', line.replaceAll('HURRYNET', `"${process.execPath}" "${BIN}"`)], {
      cwd: projectRoot(),
      env: { ...process.env, NO_COLOR: '1' },
      stdio: [stdin, 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

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
    expect(check.stdout).toMatch(/hint 1\/3 \(where to look\): /);
    const wrong = await cli(['check', 'dns', '--instance', I]);
    expect(wrong.code).toBe(2);
  });

  it('exec sends a redirected file as input, and says so when a pipe is not sent', async () => {
    const local = join(tmpdir(), 'hurrynet-t-labcli-input.txt');
    writeFileSync(local, 'line one\nline two\n');
    const fd = openSync(local, 'r');
    const file = await shellCli(`HURRYNET exec --instance ${I} alice -- sh -c 'cat > /tmp/from-file'`, fd).finally(() =>
      closeSync(fd),
    );
    expect(file.code, file.stderr).toBe(0);
    expect(file.stderr).not.toMatch(/not sent/);
    expect((await sh(I, 'alice', 'cat /tmp/from-file')).stdout).toBe('line one\nline two\n');
    // A shell pipe (a FIFO) and Node's pipe (a socket) are not read without --stdin, and say so.
    const fifo = await shellCli(`printf piped | HURRYNET exec --instance ${I} alice -- sh -c 'wc -c'`);
    expect(fifo.stdout.trim()).toBe('0');
    expect(fifo.stderr).toMatch(
      /^hurrynet: note: standard input was not sent to the command \(add --stdin to send it\)$/m,
    );
    const socket = await cli(['exec', '--instance', I, 'alice', '--', 'sh', '-c', 'wc -c'], { input: 'piped' });
    expect(socket.stderr).toMatch(/standard input was not sent/);
    const sent = await shellCli(`printf piped | HURRYNET exec --stdin --instance ${I} alice -- sh -c 'wc -c'`);
    expect(sent.stdout.trim()).toBe('5');
    expect(sent.stderr).not.toMatch(/not sent/);
    // /dev/null (and a terminal) is nothing worth a note.
    const none = await shellCli(`HURRYNET exec --instance ${I} alice -- true`);
    expect(none.code).toBe(0);
    expect(none.stderr).toBe('');
  });

  it('takes an unknown node as a usage error, and shell without a terminal as an error', async () => {
    const exec = await cli(['exec', '--instance', I, 'nobody', '--', 'true']);
    expect(exec.code).toBe(2);
    expect(exec.stderr).toMatch(/unknown node "nobody". The nodes are: alice/);
    const shell = await cli(['shell', 'nobody', '--instance', I]);
    expect(shell.code).toBe(2);
    expect(shell.stderr).toMatch(/unknown node "nobody"/);
    const noTty = await cli(['shell', '--instance', I], { input: 'echo should-not-run\n' });
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/shell needs a terminal \(standard input is not one\)/);
    expect(noTty.stdout).not.toMatch(/should-not-run/);
  });

  it('graph --instance reads the running lab (lab 01 keeps the free world)', async () => {
    const r = await cli(['graph', '--instance', I]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/alice .*home.*isp.*edge.*web/);
  });

  it('stops a script that never ends, with a clear message', async () => {
    const dir = submissionFolder({ 'alice.sh': 'echo $$ > /tmp/endless.pid; while true; do sleep 1; done\n' });
    const r = await cli(['lab', '1', '--instance', I, '--no-shell', '--reset', '--apply', dir], {
      env: { HURRYNET_SCRIPT_TIMEOUT: '2' },
    });
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
