// Moving through the course (issue 15): suggestions that keep the learner's flags, `lab N` over a
// running lab (replace, ask only for unsaved answers), and what `lab --apply` shows of its scripts.
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../orchestrator/cli/main.js';
import { node, runCli as runHarness } from './cli-harness.js';
import { flagArgs, shellWord, suggest, withLearnerFlags } from '../../orchestrator/cli/options.js';
import {
  alreadyRunningMessage,
  answersDigest,
  askYesNo,
  CHECKED_PATH,
  decideStart,
  hasUnsavedAnswers,
  isYes,
  labName,
  replaceQuestion,
  replacingMessage,
  scriptOutputSummary,
  unsavedRefusal,
  type StartSituation,
} from '../../orchestrator/labs/courseflow.js';
import { userSeed } from '../../orchestrator/labs/labrun.js';
import type { Driver } from '../../orchestrator/runtime/driver.js';
import { defaultInstance } from '../../orchestrator/runtime/engine.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';

// startLab is the slow part (Docker); the tests see how the command calls it.
const startLab = vi.hoisted(() => vi.fn());
vi.mock('../../orchestrator/labs/labrun.js', async (original) => ({
  ...(await original<typeof import('../../orchestrator/labs/labrun.js')>()),
  startLab,
}));
vi.mock('../../orchestrator/runtime/standby.js', async (original) => ({
  ...(await original<typeof import('../../orchestrator/runtime/standby.js')>()),
  ensureStandbyInBackground: vi.fn(),
}));

describe('suggested commands keep the learner flags', () => {
  it('puts options after "--" for npm and leaves out the default instance', () => {
    expect(suggest('lab', ['3', '--reset'], { instance: 'la' })).toBe('npm run lab 3 -- --reset --instance la');
    expect(suggest('check', ['3'], { instance: 'la' })).toBe('npm run check 3 -- --instance la');
    expect(suggest('check', ['3'], { instance: defaultInstance() })).toBe('npm run check 3');
    expect(suggest('lab', ['3'], {})).toBe('npm run lab 3');
    expect(suggest('lab', ['3'], { instance: 'la' }, 'npx')).toBe('npx hurrynet lab 3 --instance la');
  });
  it('repeats --seed only for the commands that take it', () => {
    const flags = { instance: 'la', seed: 's1' };
    expect(flagArgs('lab', flags)).toEqual(['--instance', 'la', '--seed', 's1']);
    expect(suggest('lab', ['9'], flags)).toBe('npm run lab 9 -- --instance la --seed s1');
    expect(suggest('check', ['9'], flags)).toBe('npm run check 9 -- --instance la');
    expect(suggest('shell', ['home'], flags)).toBe('npx hurrynet shell home --instance la');
  });
  it('puts the flags before the "--" that starts a command line on a node', () => {
    expect(suggest('exec', ['web', '--', 'tail', '/var/log/web/access.log'], { instance: 'la' })).toBe(
      'npx hurrynet exec web --instance la -- tail /var/log/web/access.log',
    );
    expect(suggest('exec', ['alice', '--', '<command>'], { instance: 'la' })).toBe(
      'npx hurrynet exec alice --instance la -- <command>',
    );
  });
  it('quotes what a shell would split', () => {
    expect(shellWord("it's mine")).toBe(`'it'\\''s mine'`);
    expect(suggest('lab', ['1'], { seed: 'a b' })).toBe("npm run lab 1 -- --seed 'a b'");
  });
  it('adds --instance to the hurrynet commands a hint or handout names', () => {
    const hint = 'Open a router with: npx hurrynet shell home|isp|edge, or npx hurrynet exec web -- tail x.';
    expect(withLearnerFlags(hint, { instance: 'la' })).toBe(
      'Open a router with: npx hurrynet shell --instance la home|isp|edge, or npx hurrynet exec --instance la web -- tail x.',
    );
    expect(withLearnerFlags(hint, { instance: defaultInstance() })).toBe(hint);
  });
});

describe('unsaved work', () => {
  it('is answers that differ from what the last check recorded', () => {
    const text = 'created_id: 3\n';
    expect(hasUnsavedAnswers(undefined, undefined)).toBe(false); // no file
    expect(hasUnsavedAnswers('  \n', undefined)).toBe(false); // nothing written
    expect(hasUnsavedAnswers(text, undefined)).toBe(true); // never checked
    expect(hasUnsavedAnswers(text, answersDigest(text))).toBe(false); // checked as it is
    expect(hasUnsavedAnswers(text + 'status_post: 201\n', answersDigest(text))).toBe(true); // changed since
    expect(CHECKED_PATH).toMatch(/^\/run\/hurrynet\//);
  });
  it('decides: start, same, replace, ask or refuse', () => {
    const base: StartSituation = {
      running: { lab: '08', seed: 's' },
      wanted: { lab: '09' },
      reset: false,
      yes: false,
      tty: false,
      unsaved: false,
    };
    const d = (over: Partial<StartSituation>) => decideStart({ ...base, ...over });
    expect(d({ running: undefined })).toBe('start');
    expect(d({})).toBe('replace');
    expect(d({ running: { seed: 's' } })).toBe('replace'); // the free world
    expect(d({ unsaved: true })).toBe('refuse');
    expect(d({ unsaved: true, tty: true })).toBe('ask');
    expect(d({ unsaved: true, yes: true })).toBe('replace');
    expect(d({ wanted: { lab: '08' } })).toBe('same');
    expect(d({ wanted: { lab: '08', seed: 's' } })).toBe('same');
    expect(d({ wanted: { lab: '08', seed: 'other' } })).toBe('replace');
    expect(d({ wanted: { lab: '08' }, reset: true, unsaved: true })).toBe('replace');
    expect(d({ reset: true, unsaved: true })).toBe('refuse'); // --reset is not --yes for another lab
  });
  it('says which lab it replaces, and what the question is about', () => {
    const from = labName({ id: '08', slug: 'mtu' });
    const to = labName({ id: '09', slug: 'tcp-vs-udp' });
    expect(replacingMessage(from, to, 'lb')).toBe(
      'lab 08 (mtu) is running on instance lb: replacing it with lab 09 (tcp-vs-udp)',
    );
    expect(labName(undefined)).toBe('the free world');
    expect(replaceQuestion(from, to, 'lb')).toMatch(
      /^lab 08 \(mtu\) on instance lb has answers in \/root\/answers.yaml on alice that changed after your last check; .*\[y\/N\] $/,
    );
    const refusal = unsavedRefusal(from, to, 'lb', { check: 'C', save: 'S', replace: 'npm run lab 9 -- --yes' });
    expect(refusal).toMatch(/would remove them/);
    expect(refusal).toMatch(/replace anyway: +npm run lab 9 -- --yes/);
    expect(alreadyRunningMessage(from, 'lb', { shell: 'SH', reset: 'RS' })).toMatch(
      /^lab 08 \(mtu\) is already running on instance lb\.\n {2}open it: +SH\n {2}start over: +RS\n$/,
    );
  });
  it('asks y/N and takes only a yes as yes', async () => {
    expect(['y', 'Y', 'yes', ' YES '].every(isYes)).toBe(true);
    expect(['', 'n', 'no', 'yy', 'sure'].some(isYes)).toBe(false);
    const ask = async (reply: string) => {
      const input = new PassThrough();
      const output = new PassThrough();
      let asked = '';
      output.on('data', (b: Buffer) => (asked += b.toString()));
      const answer = askYesNo('Replace it? [y/N] ', input, output);
      input.end(reply);
      return { answer: await answer, asked };
    };
    expect(await ask('y\n')).toEqual({ answer: true, asked: 'Replace it? [y/N] ' });
    expect((await ask('\n')).answer).toBe(false);
  });
});

describe('lab --apply shows what each script printed', () => {
  it('shows the last lines, indented, or all of them with --verbose', () => {
    const output = Array.from({ length: 9 }, (_, i) => `line ${i + 1}`).join('\n');
    expect(scriptOutputSummary('web', output, false)).toBe(
      '  web.sh printed (last 5 of 9 lines; --verbose shows all):\n    line 5\n    line 6\n    line 7\n    line 8\n    line 9',
    );
    expect(scriptOutputSummary('web', output, true).split('\n')).toHaveLength(10);
    expect(scriptOutputSummary('web', 'ok\n', false)).toBe('  web.sh printed:\n    ok');
    expect(scriptOutputSummary('web', '', false)).toBe('  web.sh printed nothing');
  });
});

// ---- the lab and check commands against a Docker stand-in -------------------------------------------

/** An instance running a lab; files on alice are what exec's cat reads. */
function fakeDriver(instance: string, lab: string, seed: string, files: Record<string, string> = {}) {
  const containers = ['alice', 'home', 'isp'].map((n) => node(instance, n, { [LABEL.lab]: lab, [LABEL.seed]: seed }));
  const writes: { cmd: string[]; stdin?: string }[] = [];
  const driver = {
    listContainers: async () => containers,
    exec: async (_c: string, cmd: string[], opts: { stdin?: string } = {}) => {
      if (cmd[0] === 'cat' && cmd[1] && cmd[1] in files)
        return { exitCode: 0, stdout: files[cmd[1]] as string, stderr: '' };
      if (cmd[0] === 'cat') return { exitCode: 1, stdout: '', stderr: 'No such file' };
      writes.push({ cmd, stdin: opts.stdin });
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  } as unknown as Driver;
  return { driver, writes };
}

const runCli = (argv: string[], driver: Driver) => runHarness(argv, () => driver);

describe('lab N while another lab runs', () => {
  const env = { ...process.env };
  beforeEach(() => {
    startLab.mockReset();
    startLab.mockImplementation(async (_d, lab, opts: { seed: string }) => ({
      plan: { containers: [] },
      seconds: 1,
      leftoversRemoved: 0,
      lab,
      vars: (await import('../../orchestrator/labs/lab.js')).varsFor(lab, opts.seed),
    }));
    process.env.HURRYNET_STANDBY = '1';
    process.exitCode = undefined;
  });
  afterEach(() => {
    process.env = { ...env };
    process.exitCode = undefined;
  });

  it('replaces it, says so, and still claims the standby world', async () => {
    const { driver } = fakeDriver('lb', '08', 's8');
    const r = await runCli(['lab', '9', '--instance', 'lb', '--no-shell'], driver);
    expect(r.code, r.ours).toBeUndefined();
    expect(r.err).toMatch(/lab 08 \(mtu\) is running on instance lb: replacing it with lab 09 \(tcp-vs-udp\)/);
    expect(startLab).toHaveBeenCalledOnce();
    // replace: the running world goes; standby: a ready standby world is claimed instead of starting one.
    expect(startLab.mock.calls[0]?.[2]).toMatchObject({ instance: 'lb', replace: true, standby: true, seed: 's8' });
    // The next commands carry the instance (and the learner's variation where it applies).
    expect(r.out).toMatch(/npm run check 9 -- --instance lb/);
    expect(r.out).toMatch(/npx hurrynet stop --instance lb/);
  });

  it('refuses without a terminal when answers changed after the last check, naming --yes', async () => {
    const { driver } = fakeDriver('lb', '08', userSeed(), { '/root/answers.yaml': 'path_mtu: 1400\n' });
    const r = await runCli(['lab', '9', '--instance', 'lb', '--no-shell'], driver);
    expect(r.code).toBe(EXIT.usage);
    expect(r.ours).toMatch(/lab 08 \(mtu\) on instance lb has answers in \/root\/answers.yaml/);
    expect(r.ours).toMatch(/npm run check 8 -- --instance lb/);
    expect(r.ours).toMatch(/npm run lab 9 -- --yes --instance lb/);
    expect(startLab).not.toHaveBeenCalled();
    // --yes replaces without the question.
    const yes = await runCli(['lab', '9', '--instance', 'lb', '--no-shell', '--yes'], driver);
    expect(yes.code, yes.ours).toBeUndefined();
    expect(startLab).toHaveBeenCalledOnce();
  });

  it('replaces without asking when the last check saw these answers', async () => {
    const text = 'path_mtu: 1400\n';
    const checked = JSON.stringify({ answers: answersDigest(text) });
    const { driver } = fakeDriver('lb', '08', 's8', { '/root/answers.yaml': text, [CHECKED_PATH]: checked });
    const r = await runCli(['lab', '9', '--instance', 'lb', '--no-shell'], driver);
    expect(r.code, r.ours).toBeUndefined();
    expect(startLab).toHaveBeenCalledOnce();
  });

  it('says the same lab is already running, and how to open it or start over', async () => {
    const { driver } = fakeDriver('lb', '08', 's8');
    const r = await runCli(['lab', '8', '--instance', 'lb', '--no-shell'], driver);
    expect(r.code, r.ours).toBeUndefined();
    expect(r.out).toMatch(/lab 08 \(mtu\) is already running on instance lb/);
    expect(r.out).toMatch(/npx hurrynet shell --instance lb/);
    expect(r.out).toMatch(/npm run lab 8 -- --reset --instance lb --seed s8/);
    expect(startLab).not.toHaveBeenCalled();
    // --reset starts it over (the same variation), even with unsaved answers: that is what it means.
    const reset = await runCli(['lab', '8', '--instance', 'lb', '--no-shell', '--reset'], driver);
    expect(reset.code, reset.ours).toBeUndefined();
    expect(startLab.mock.calls[0]?.[2]).toMatchObject({ replace: true, seed: 's8' });
  });
});

describe('check keeps the learner flags and records what it graded', () => {
  it('suggests starting the asked-for lab on the same instance, with the variation', async () => {
    const { driver } = fakeDriver('la', '03', 's3');
    const r = await runCli(['check', '9', '--instance', 'la'], driver);
    expect(r.code).toBe(EXIT.usage);
    expect(r.ours).toMatch(
      /runs lab 03 \(dns\), not lab 09. Start lab 09 with: npm run lab 9 -- --instance la --seed s3/,
    );
    const none = await runCli(['check', '3', '--instance', 'nothing'], driver);
    expect(none.ours).toMatch(/Start one with: npm run lab 3 -- --instance nothing/);
  });
});
