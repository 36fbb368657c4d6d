import { describe, expect, it } from 'vitest';
import { node, runCli as runHarness } from './cli-harness.js';
import type { Command } from 'commander';
import { buildProgram, describeError, EXIT } from '../../orchestrator/cli/main.js';
import { parseCountOrZero } from '../../orchestrator/cli/options.js';
import { UnknownNodeError } from '../../orchestrator/errors.js';
import { gradingEta } from '../../orchestrator/grading/grade.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import {
  DockerUnavailableError,
  explainDockerError,
  type ContainerInfo,
  type Driver,
} from '../../orchestrator/runtime/driver.js';
import { AbortedError, InstanceExistsError } from '../../orchestrator/runtime/engine.js';
import { LABEL } from '../../orchestrator/runtime/plan.js';
import { graphText } from '../../orchestrator/world/graph.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

/** A program whose output is captured and whose errors throw instead of exiting. */
function program(): { p: Command; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const p = buildProgram(() => {
    throw new Error('no Docker in unit tests');
  });
  const wire = (c: Command) => {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    c.commands.forEach(wire);
  };
  wire(p);
  return { p, out, err };
}

describe('command line', () => {
  it('offers every documented command with help', () => {
    const { p } = program();
    const names = p.commands.map((c) => c.name());
    expect(names).toEqual(
      expect.arrayContaining(['up', 'shell', 'exec', 'status', 'stop', 'clean', 'build', 'graph', 'compose']),
    );
    for (const c of p.commands) expect(c.description().length).toBeGreaterThan(10);
  });
  it('takes --instance on every command that acts on an instance', () => {
    const { p } = program();
    for (const name of ['up', 'shell', 'exec', 'journey', 'status', 'stop', 'graph', 'lab', 'check']) {
      const cmd = p.commands.find((c) => c.name() === name)!;
      expect(
        cmd.options.map((o) => o.long),
        name,
      ).toContain('--instance');
    }
  });
  it('rejects an invalid instance name before touching Docker', async () => {
    const { p, err } = program();
    await expect(p.parseAsync(['node', 'hurrynet', 'up', '--instance', 'Bad Name'])).rejects.toThrow();
    expect(err.join('')).toMatch(/invalid instance name "Bad Name"/);
  });
  it('requires a node and a command for exec', async () => {
    const { p, err } = program();
    await expect(p.parseAsync(['node', 'hurrynet', 'exec', 'alice'])).rejects.toThrow();
    expect(err.join('')).toMatch(/missing required argument 'command'/);
  });
  it('refuses an unknown graph format', async () => {
    const { p, err } = program();
    await expect(p.parseAsync(['node', 'hurrynet', 'graph', '--format', 'png'])).rejects.toThrow();
    expect(err.join('')).toMatch(/Allowed choices are text, svg, mermaid/);
  });
  it('shows help for a command', async () => {
    const { p, out } = program();
    await expect(p.parseAsync(['node', 'hurrynet', 'stop', '--help'])).rejects.toThrow();
    expect(out.join('')).toMatch(/--all/);
  });
});

describe('errors a user can act on', () => {
  it('says how to start Docker when the socket is missing', () => {
    const e = explainDockerError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }));
    expect(e).toBeInstanceOf(DockerUnavailableError);
    expect(e.message).toMatch(/start it/i);
    expect(describeError(e).code).toBe(EXIT.docker);
  });
  it('says how to get permission on the socket', () => {
    expect(explainDockerError(Object.assign(new Error('EACCES'), { code: 'EACCES' })).message).toMatch(/docker group/);
  });
  it('maps an interruption and a name clash to their own exit codes', () => {
    expect(describeError(new AbortedError()).code).toBe(EXIT.interrupted);
    expect(describeError(new InstanceExistsError('x')).code).toBe(EXIT.usage);
  });
});

/** A Docker stand-in that lists these containers and fails on anything else. */
function fakeDriver(containers: ContainerInfo[] = []): Driver {
  const fail = () => Promise.reject(new Error('the fake driver does only listContainers'));
  return { listContainers: async () => containers, exec: fail, interactive: fail } as unknown as Driver;
}

const runCli = (argv: string[], driver: () => Driver = () => fakeDriver()) => runHarness(argv, driver);

describe('option values', () => {
  // Every numeric option, found by its placeholder, so that a new one cannot be forgotten.
  const numeric = buildProgram().commands.flatMap((c) =>
    c.options.filter((o) => /<(n|k|seconds)>/.test(o.flags)).map((o) => [c.name(), o.long as string]),
  );
  it('finds the numeric options', () => {
    expect(numeric).toEqual(
      expect.arrayContaining([
        ['grade', '--timeout'],
        ['grade', '--script-timeout'],
        ['bench', '--grade'],
        ['up', '--timeout'],
      ]),
    );
  });
  it.each(numeric)('%s %s abc is a usage error, not NaN', async (command, option) => {
    const r = await runCli([command, option, 'abc']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.commander).toMatch(new RegExp(`option '[^']*${option} <[a-z]+>' argument 'abc' is invalid. expected`));
    expect(r.ours).toBe(''); // commander printed it: once
  });
  it('refuses empty, negative, fractional and overflowing values', async () => {
    for (const [argv, message] of [
      [['grade', '--timeout', ''], /positive number of seconds/],
      [['up', '--timeout', '-5'], /positive number of seconds/],
      [['up', '--timeout', '100000'], /at most 86400/],
      [['bench', '--worlds', '1.5'], /positive whole number/],
      [['grade', '--jobs', '0'], /"auto" or a whole number from 1 to 32/],
      [['grade', '--shard', '3/2'], /--shard takes I\/N/],
      [['grade', '--hints', '4'], /expected a hint level from 0 to 3/],
      [['check', '--hint', '1.5'], /expected a hint level from 0 to 3/],
    ] as const) {
      const r = await runCli([...argv]);
      expect(r.code, argv.join(' ')).toBe(EXIT.usage);
      expect(r.commander, argv.join(' ')).toMatch(message);
    }
  });
  it('lets bench --grade 0 skip the grading benchmark', () => {
    expect(parseCountOrZero('0')).toBe(0);
    expect(parseCountOrZero('12')).toBe(12);
  });
});

describe('errors thrown by actions', () => {
  it('prints them with their message: grade --lab 3 without a folder', async () => {
    const r = await runCli(['grade', '--lab', '3']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.ours).toMatch(/hurrynet: error: give the submissions folder \(or --merge DIR...\)/);
  });
  it('takes an unknown node as a usage error', async () => {
    expect(describeError(new UnknownNodeError('unknown node "x"')).code).toBe(EXIT.usage);
    const driver = () => fakeDriver([node('t1', 'alice')]);
    for (const argv of [
      ['exec', '-i', 't1', 'nobody', '--', 'true'],
      ['shell', '-i', 't1', 'nobody'],
    ]) {
      const r = await runCli(argv, driver);
      expect(r.code, argv.join(' ')).toBe(EXIT.usage);
      expect(r.ours).toMatch(/unknown node "nobody". The nodes are: alice/);
    }
  });
  it.skipIf(!!process.stdin.isTTY)('shell says it needs a terminal instead of exiting 0', async () => {
    const r = await runCli(['shell', '-i', 't1'], () => fakeDriver([node('t1', 'alice')]));
    expect(r.code).toBe(EXIT.usage);
    expect(r.ours).toMatch(/shell needs a terminal.*npx hurrynet exec alice --instance t1 -- <command>/);
  });
});

describe('graph', () => {
  it('draws the world of the lab an instance runs', async () => {
    const lab = await findLab('5');
    const world = graphText(labWorld(lab, varsFor(lab, 's1')));
    expect(world).not.toBe(graphText(canonicalWorld)); // else this test proves nothing
    const r = await runCli(['graph', '--instance', 'g1'], () =>
      fakeDriver([node('g1', 'alice', { [LABEL.lab]: lab.id, [LABEL.seed]: 's1' })]),
    );
    expect(r.code).toBeUndefined();
    expect(r.out.trimEnd()).toBe(world.trimEnd());
  });
  it('falls back to the free world when no lab runs there, or Docker is away', async () => {
    const free = graphText(canonicalWorld).trimEnd();
    expect((await runCli(['graph', '--instance', 'g2'])).out.trimEnd()).toBe(free);
    const away = () =>
      ({ listContainers: () => Promise.reject(new DockerUnavailableError('no socket')) }) as unknown as Driver;
    expect((await runCli(['graph'], away)).out.trimEnd()).toBe(free);
  });
});

describe('grading ETA', () => {
  it('does not divide by the jobs twice', () => {
    // 4 jobs, 40 s a submission: after 40 s, 4 are graded and the next 4 take another 40 s.
    expect(gradingEta(40_000, 4, 4)).toBe(40);
    expect(gradingEta(60_000, 6, 4)).toBe(40);
    expect(gradingEta(10_000, 0, 5)).toBe(0);
  });
});
