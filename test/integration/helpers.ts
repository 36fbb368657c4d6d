// Shared helpers for integration tests against the real Docker engine.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Driver } from '../../orchestrator/runtime/driver.js';
import { containerName, LABEL } from '../../orchestrator/runtime/plan.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';

export const driver = new Driver();

/** Runs a shell command on a node of an instance. */
export async function sh(instance: string, node: string, command: string, timeoutMs = 30000) {
  return driver.exec(containerName(instance, node), ['bash', '-c', command], { timeoutMs });
}

/** Every Docker object (container or network) carrying the instance's label. */
export async function labelledObjects(instance?: string): Promise<number> {
  const labels = Driver.projectLabels(instance ? { [LABEL.instance]: instance } : {});
  const [c, n] = await Promise.all([driver.listContainers(labels), driver.listNetworks(labels)]);
  return c.length + n.length;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/hurrynet.js) as a user would. */
export function cli(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'hurrynet.js'), ...args], {
      cwd: projectRoot(),
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    if (child.pid) opts.onSpawn?.(child.pid);
  });
}

/** Polls until fn returns true or the deadline passes (no fixed sleeps in tests). */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 10000, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return fn();
}
