import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram, describeError, EXIT } from '../../orchestrator/cli.js';
import { DockerUnavailableError, explainDockerError } from '../../orchestrator/driver.js';
import { AbortedError, InstanceExistsError } from '../../orchestrator/engine.js';

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
    expect(names).toEqual(expect.arrayContaining(['up', 'shell', 'exec', 'status', 'stop', 'clean', 'build', 'graph', 'compose']));
    for (const c of p.commands) expect(c.description().length).toBeGreaterThan(10);
  });
  it('takes --instance on every command that acts on an instance', () => {
    const { p } = program();
    for (const name of ['up', 'shell', 'exec', 'status', 'stop']) {
      const cmd = p.commands.find((c) => c.name() === name)!;
      expect(cmd.options.map((o) => o.long), name).toContain('--instance');
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
