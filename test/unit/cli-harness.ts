// Runs a command line as main() does, with commander's marks intact, and collects every output:
// commander's own, hurrynet's error line, stdout and stderr.
import type { Command } from 'commander';
import { vi } from 'vitest';
import { buildProgram, run } from '../../orchestrator/cli/main.js';
import type { ContainerInfo, Driver } from '../../orchestrator/runtime/driver.js';
import { containerName, LABEL } from '../../orchestrator/runtime/plan.js';

/** A running node container as listContainers reports it, for a Docker stand-in. */
export function node(instance: string, name: string, labels: Record<string, string> = {}): ContainerInfo {
  return {
    id: name,
    name: containerName(instance, name),
    image: 'x',
    state: 'running',
    networks: [],
    labels: { [LABEL.instance]: instance, [LABEL.node]: name, ...labels },
  };
}

export async function runCli(argv: string[], driver: () => Driver) {
  const p: Command = buildProgram(driver);
  const commander: string[] = [];
  const ours: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const wire = (c: Command) => {
    c.configureOutput({ writeOut: (s) => commander.push(s), writeErr: (s) => commander.push(s) });
    c.commands.forEach(wire);
  };
  wire(p);
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await run(p, ['node', 'hurrynet', ...argv], (s) => ours.push(s));
    return { code, ours: ours.join(''), out: out.join(''), err: err.join(''), commander: commander.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
