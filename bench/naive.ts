// The naive baseline a careful teacher would script by hand, written with zx: the same plan as
// `up`, applied with one docker CLI call after another, then each node's log polled in turn for
// the ready line. The commands are plain argv lists (pure, tested); zx runs them in sequence.
import { $, type ProcessPromise } from 'zx';
import { READY_MARKER } from '../orchestrator/runtime/engine.js';
import type { InstancePlan } from '../orchestrator/runtime/plan.js';

/** The docker CLI calls of a naive `up`, in order (without the wait for ready). */
export function naiveUpCommands(plan: InstancePlan): string[][] {
  const cmds: string[][] = [];
  for (const n of plan.networks) {
    const args = ['docker', 'network', 'create', '--driver', 'bridge', '--subnet', n.subnet, '--gateway', n.gateway];
    for (const [k, v] of Object.entries(n.labels)) args.push('--label', `${k}=${v}`);
    for (const [k, v] of Object.entries(n.options)) args.push('--opt', `${k}=${v}`);
    cmds.push([...args, n.name]);
  }
  for (const c of plan.containers) {
    const args = ['docker', 'create', '--name', c.name, '--hostname', c.hostname, '--network', c.networks[0] as string];
    for (const [k, v] of Object.entries(c.env)) args.push('-e', `${k}=${v}`);
    for (const [k, v] of Object.entries(c.labels)) args.push('--label', `${k}=${v}`);
    args.push('--cap-drop', 'ALL');
    for (const cap of c.capAdd) args.push('--cap-add', cap);
    for (const [k, v] of Object.entries(c.sysctls)) args.push('--sysctl', `${k}=${v}`);
    args.push(
      '--memory',
      `${c.memoryBytes}b`,
      '--memory-swap',
      `${c.memoryBytes}b`,
      '--pids-limit',
      String(c.pidsLimit),
    );
    if (c.cpus) args.push('--cpus', String(c.cpus));
    args.push('--security-opt', 'no-new-privileges', '--restart', 'no');
    args.push('--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=1');
    cmds.push([...args, c.image]);
  }
  for (const c of plan.containers)
    for (const n of c.networks.slice(1)) cmds.push(['docker', 'network', 'connect', n, c.name]);
  for (const c of plan.containers) cmds.push(['docker', 'start', c.name]);
  return cmds;
}

/** The naive `stop`: remove each container, then each network, one CLI call at a time. */
export function naiveStopCommands(plan: InstancePlan): string[][] {
  return [
    ...plan.containers.map((c) => ['docker', 'rm', '-f', c.name]),
    ...plan.networks.map((n) => ['docker', 'network', 'rm', n.name]),
  ];
}

/** Runs argv lists one after another (zx quotes every word); an abort kills the one running. */
export async function runInSequence(
  cmds: string[][],
  signal?: AbortSignal,
  opts: { nothrow?: boolean } = {},
): Promise<void> {
  const sh = $({ quiet: true, signal, nothrow: opts.nothrow ?? false });
  for (const argv of cmds) {
    const p: ProcessPromise = sh`${argv}`;
    await p;
  }
}

/** Polls each node's log in turn until it shows the ready line (what `docker logs | grep` does). */
export async function waitReadyInTurn(plan: InstancePlan, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const sh = $({ quiet: true, signal, nothrow: true });
  for (const c of plan.containers) {
    for (;;) {
      const logs = await sh`docker logs ${c.name}`;
      if (`${logs.stdout}${logs.stderr}`.includes(READY_MARKER)) break;
      if (Date.now() >= deadline)
        throw new Error(`naive: ${c.name} is not ready after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
