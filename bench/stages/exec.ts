// Measurement 4: one command's round trip on the running warm world, through driver.exec and
// through a whole `hurrynet exec` process, each against the docker CLI.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AbortedError } from '../../orchestrator/runtime/engine.js';
import { containerName } from '../../orchestrator/runtime/plan.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { median, round, type StageContext } from './context.js';

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a program in its own process group and times it; an abort kills the whole group and
 * still waits for it to exit, so nothing keeps creating objects behind our back.
 */
function runTimed(cmd: string, args: string[], signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<ChildResult> {
  if (signal?.aborted) return Promise.reject(new AbortedError());
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ?? process.env,
      cwd: projectRoot(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    signal?.addEventListener('abort', onAbort);
    child.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new AbortedError());
      else resolvePromise({ code, stdout, stderr, ms });
    });
  });
}

/**
 * Times one short command that must succeed. Its stdin is /dev/null, as at a terminal that
 * types nothing (a pipe left open would make `hurrynet exec` wait for input forever).
 */
async function execOnce(cmd: string, args: string[], signal?: AbortSignal, timeoutMs = 30000): Promise<number> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const r = await runTimed(cmd, args, both, { ...process.env, NO_COLOR: '1' });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  } catch (err) {
    if (err instanceof AbortedError && !signal?.aborted)
      throw new Error(`${cmd} ${args.join(' ')} took over ${timeoutMs / 1000} s`);
    throw err;
  }
}

/** Times `count` runs of a command, after one untimed run that warms it up. */
async function timedRuns(count: number, run: () => Promise<number>): Promise<number[]> {
  await run();
  const ms: number[] = [];
  for (let i = 0; i < count; i++) ms.push(await run());
  return ms;
}

export async function execStage(ctx: StageContext): Promise<void> {
  const { driver, signal } = ctx;
  const alice = containerName(ctx.warm, 'alice');
  await driver.exec(alice, ['true']);
  const apiMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    ctx.check();
    const t0 = performance.now();
    const r = await driver.exec(alice, ['true'], { timeoutMs: 10000 });
    apiMs.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`exec true on alice returned ${r.exitCode}`);
  }
  const cliMs = await timedRuns(10, () => execOnce('docker', ['exec', alice, 'true'], signal));
  const hnArgs = [join(projectRoot(), 'bin', 'hurrynet.js'), 'exec', '--instance', ctx.warm, 'alice', '--', 'true'];
  // The untimed first run also compiles, if sources changed.
  const procMs = await timedRuns(Math.max(3, ctx.settings.repeat), () => execOnce(process.execPath, hnArgs, signal));
  const cliMedian = round(median(cliMs), 1);
  ctx.add({
    name: 'exec round trip (driver.exec)',
    value: round(median(apiMs), 1),
    unit: 'ms',
    baseline: cliMedian,
    baselineName: 'docker exec CLI',
    target: 100,
    targetOn: 'value',
    samples: apiMs.map((v) => round(v, 1)),
  });
  ctx.add({
    name: 'hurrynet exec process',
    value: round(median(procMs), 1),
    unit: 'ms',
    baseline: cliMedian,
    baselineName: 'docker exec CLI',
    samples: procMs.map((v) => round(v, 1)),
  });
  ctx.check();
}
