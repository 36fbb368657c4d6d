// The memory, swap, pids and CPU limits hurrynet plans are the ones the kernel enforces: each node
// reads its own cgroup from the inside (v1 or v2, whichever this host has) and the values must
// equal the plan. Docker maps HostConfig.Memory/MemorySwap/PidsLimit/NanoCpus to
// memory.max/memory.swap.max/pids.max/cpu.max on v2 and to their v1 names on v1.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIMITS_SCRIPT,
  MEMORY_SCRIPT,
  parseLimitsOutput,
  parseMemoryOutput,
  type LimitsReading,
} from '../../orchestrator/runtime/cgroup.js';
import { stop, up } from '../../orchestrator/runtime/engine.js';
import { LABEL, projectLabelValue, type InstancePlan } from '../../orchestrator/runtime/plan.js';
import { driver, labelledObjects } from './helpers.js';

const I = 't-limits';
// What batch grading sets per node (grade --jobs): a share of the CPU as well as memory and pids.
const CPUS = 0.5;

let plan: InstancePlan;
const readings = new Map<string, LimitsReading>();

beforeAll(async () => {
  ({ plan } = await up(driver, { instance: I, replace: true, cpus: CPUS }));
  await Promise.all(
    plan.containers.map(async (c) => {
      const r = await driver.exec(c.name, ['sh', '-c', LIMITS_SCRIPT], { timeoutMs: 10000 });
      expect(r.exitCode, r.stderr).toBe(0);
      readings.set(c.node, parseLimitsOutput(r.stdout));
    }),
  );
});

afterAll(async () => {
  await stop(driver, I);
  expect(await labelledObjects(I)).toBe(0);
});

describe('limits seen from inside each node', () => {
  it('memory limit equals the plan, and no swap on top of it', () => {
    for (const c of plan.containers) {
      const r = readings.get(c.node);
      expect(r?.memory, c.node).toBe(c.memoryBytes);
      // MemorySwap = Memory: v2 memory.swap.max 0, v1 memsw = memory (when swap is accounted).
      if (r?.swap !== undefined) expect(r.swap, c.node).toBe(0);
    }
  });

  it('pids limit equals the plan', () => {
    for (const c of plan.containers) expect(readings.get(c.node)?.pids, c.node).toBe(c.pidsLimit);
  });

  it('CPU share equals the one asked for', () => {
    for (const c of plan.containers) {
      expect(c.cpus).toBe(CPUS);
      const cpus = readings.get(c.node)?.cpus;
      // undefined only where the cpu controller is not delegated to the container at all.
      if (cpus !== undefined) expect(cpus, c.node).toBeCloseTo(CPUS, 6);
    }
  });

  it('every node reads the same hierarchy version', () => {
    const versions = new Set([...readings.values()].map((r) => r.version));
    expect(versions.size).toBe(1);
  });
});

// This host boots cgroup v1, so the v2 branch of the in-node scripts is run on a v2 tree the test
// writes: a throw-away container gets it mounted over /sys/fs/cgroup, with the values in the
// container's own cgroup directory (the "0::" line of /proc/self/cgroup).
describe('the in-node scripts on a cgroup v2 tree', () => {
  it('read memory.max, memory.swap.max, pids.max, cpu.max and memory in use from the own cgroup', () => {
    const image = plan.containers.find((c) => c.role === 'router')?.image ?? plan.containers[0]!.image;
    const root = mkdtempSync(join(tmpdir(), 'hurrynet-cgv2-'));
    const name = `hurrynet-${I}-cgv2`;
    const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8', timeout: 30000 });
    try {
      const files = (dir: string, f: Record<string, string>) => {
        mkdirSync(dir, { recursive: true });
        for (const [k, v] of Object.entries(f)) writeFileSync(join(dir, k), v);
      };
      // The root of a v2 hierarchy has no memory.max or pids.max; decoys show a wrong read.
      files(root, { 'cgroup.controllers': 'cpuset cpu io memory pids\n', 'memory.current': '999\n' });
      const id = docker([
        'create',
        '--name',
        name,
        '--label',
        `${LABEL.project}=${projectLabelValue()}`,
        '--label',
        `${LABEL.instance}=${I}`,
        '--network',
        'none',
        '-v',
        `${root}:/sys/fs/cgroup:ro`,
        '--entrypoint',
        'sh',
        image,
        '-c',
        // First start: where is my own cgroup? Second start (the tree is ready): the scripts.
        `if [ -f /sys/fs/cgroup/ready ]; then\n${LIMITS_SCRIPT}\necho ===\n${MEMORY_SCRIPT}\nelse sed -n "s/^0:://p" /proc/self/cgroup; fi`,
      ]).trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      // "/" with a private cgroup namespace (Docker's default on v2); on this v1 host and with
      // default-cgroupns-mode=host, the container's path ("/docker/<id>" with the cgroupfs
      // driver, "/system.slice/docker-<id>.scope" with systemd), which the scripts must find.
      const own = docker(['start', '-a', name]).trim();
      expect(own).toMatch(/^\//);
      files(join(root, own), {
        'memory.max': '67108864\n',
        'memory.swap.max': '0\n',
        'pids.max': '256\n',
        'cpu.max': '50000 100000\n',
        'memory.current': '4841472\n',
        'memory.stat': 'anon 1437696\nfile 2658304\ninactive_anon 1429504\ninactive_file 1052672\n',
      });
      writeFileSync(join(root, 'ready'), '');
      const out = docker(['start', '-a', name]);
      const [limits = '', memory = ''] = out.split('===\n');
      expect(parseLimitsOutput(limits)).toEqual({ version: 2, memory: 67108864, swap: 0, pids: 256, cpus: 0.5 });
      expect(parseMemoryOutput(memory)).toBe(4841472 - 1052672);
    } finally {
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
    }
  });
});
