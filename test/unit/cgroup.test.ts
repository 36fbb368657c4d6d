// cgroup v1 and v2 readers on recorded file contents. The v1 recordings are from a container on
// this machine (Docker 20.10, cgroupfs driver, hybrid host: v1 controllers plus an empty unified
// hierarchy); the v2 ones follow the kernel's documented formats (Documentation/admin-guide/
// cgroup-v2.rst) as Docker 26+ lays them out with the systemd and the cgroupfs driver.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  containerIdOf,
  engineMemoryBytes,
  memoryInUse,
  missingControllers,
  parseControllers,
  parseLimit,
  parseLimitsOutput,
  parseMemoryOutput,
  parsePids,
  parseProcCgroup,
  statValue,
} from '../../orchestrator/runtime/cgroup.js';

const ID = '601c57d5ee93beb5b96b07ab22bde2b9f2d5bb6970b07de6d6f965f346547ac6';
const ID2 = 'b3f0e1a2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f';

// Recorded: /sys/fs/cgroup/memory/memory.stat of a container limited to 64 MiB (abridged).
const V1_STAT = `cache 69632
rss 393216
rss_huge 0
shmem 0
mapped_file 45056
inactive_anon 299008
active_anon 8192
inactive_file 20480
active_file 24576
unevictable 0
hierarchical_memory_limit 67108864
hierarchical_memsw_limit 67108864
total_cache 69632
total_rss 393216
total_inactive_anon 299008
total_active_anon 8192
total_inactive_file 20480
total_active_file 24576
`;

// cgroup v2 memory.stat of a container (the first lines of the kernel's format).
const V2_STAT = `anon 1437696
file 2658304
kernel 569344
kernel_stack 49152
pagetables 110592
sock 0
shmem 0
file_mapped 1609728
file_dirty 0
file_writeback 0
swapcached 0
anon_thp 0
inactive_anon 1429504
active_anon 8192
inactive_file 1052672
active_file 1605632
unevictable 0
`;

// Recorded: /proc/self/cgroup in a container on this (hybrid v1) host.
const PROC_V1 = `9:name=systemd:/docker/${ID}
8:pids:/docker/${ID}
7:blkio:/docker/${ID}
6:freezer:/docker/${ID}
5:devices:/docker/${ID}
4:memory:/docker/${ID}
3:cpuset:/docker/${ID}
2:cpuacct:/docker/${ID}
1:cpu:/docker/${ID}
0::/docker/${ID}
`;

describe('cgroup: single values', () => {
  it('reads limits: numbers, "max" and v1\'s page-rounded 2^63 as no limit', () => {
    expect(parseLimit('268435456\n')).toBe(268435456);
    expect(parseLimit('max\n')).toBeNull();
    expect(parseLimit('9223372036854771712\n')).toBeNull();
    expect(parseLimit('-1')).toBeNull(); // v1 cpu.cfs_quota_us
    expect(() => parseLimit('cat: no such file')).toThrow(/cgroup limit/);
  });

  it('finds a key of memory.stat exactly (inactive_file is not total_inactive_file)', () => {
    expect(statValue(V1_STAT, 'inactive_file')).toBe(20480);
    expect(statValue(V1_STAT, 'total_inactive_file')).toBe(20480);
    expect(statValue(V2_STAT, 'inactive_file')).toBe(1052672);
    expect(statValue(V2_STAT, 'total_inactive_file')).toBeUndefined();
  });

  it('reads pids.max and pids.current', () => {
    expect(parsePids('256\n', '2\n')).toEqual({ max: 256, current: 2 });
    expect(parsePids('max\n', '17\n')).toEqual({ max: null, current: 17 });
    expect(() => parsePids('256', '')).toThrow(/pids.current/);
  });
});

describe('cgroup: memory in use', () => {
  it('v1: memory.usage_in_bytes minus total_inactive_file', () => {
    expect(memoryInUse(1, '1269760\n', V1_STAT)).toBe(1269760 - 20480);
  });

  it('v2: memory.current minus inactive_file', () => {
    expect(memoryInUse(2, '4841472\n', V2_STAT)).toBe(4841472 - 1052672);
  });

  it('v2 stat read as v1 is an error, not a silent zero', () => {
    expect(() => memoryInUse(1, '4841472', V2_STAT)).toThrow(/cgroup v1 memory/);
  });

  it('parses what the in-node script prints on either hierarchy', () => {
    expect(parseMemoryOutput('v1\n1269760\ntotal_inactive_file 20480\n')).toBe(1249280);
    expect(parseMemoryOutput('v2\n4841472\ninactive_file 1052672\n')).toBe(3788800);
    expect(parseMemoryOutput('v2\n100\ninactive_file 500\n')).toBe(0);
    expect(() => parseMemoryOutput('v1\ncat: no such file\n')).toThrow(/cgroup/);
    expect(() => parseMemoryOutput('sh: 1: syntax error')).toThrow(/cgroup/);
  });
});

describe('cgroup: controllers and /proc/self/cgroup', () => {
  it('lists the controllers a v2 cgroup has, and which of memory and pids are missing', () => {
    const full = parseControllers('cpuset cpu io memory hugetlb pids rdma misc\n');
    expect(missingControllers(full)).toEqual([]);
    // A rootless engine without systemd delegation often gets only these.
    const partial = parseControllers('cpuset cpu io\n');
    expect(missingControllers(partial)).toEqual(['memory', 'pids']);
    expect(missingControllers(parseControllers(''))).toEqual(['memory', 'pids']);
  });

  it('v1 (hybrid host): controller lines and the empty unified line', () => {
    const c = parseProcCgroup(PROC_V1);
    expect(c.version).toBe(1);
    expect(c.paths.get('memory')).toBe(`/docker/${ID}`);
    expect(c.paths.get('pids')).toBe(`/docker/${ID}`);
    expect(c.paths.get('name=systemd')).toBe(`/docker/${ID}`);
    expect(containerIdOf(c.paths.get('memory') ?? '')).toBe(ID);
  });

  it('v2 with a private cgroup namespace: "0::/"', () => {
    const c = parseProcCgroup('0::/\n');
    expect(c.version).toBe(2);
    expect(c.paths.get('')).toBe('/');
    expect(containerIdOf('/')).toBeUndefined();
  });

  it('v2 sharing the host namespace: the scope (systemd) or the docker parent (cgroupfs)', () => {
    const systemd = parseProcCgroup(`0::/system.slice/docker-${ID}.scope\n`);
    expect(systemd.version).toBe(2);
    expect(containerIdOf(systemd.paths.get('') ?? '')).toBe(ID);
    const cgroupfs = parseProcCgroup(`0::/docker/${ID}\n`);
    expect(containerIdOf(cgroupfs.paths.get('') ?? '')).toBe(ID);
  });

  it('a named hierarchy beside the unified one, with no v1 controller, is still v2', () => {
    expect(parseProcCgroup('1:name=systemd:/\n0::/\n').version).toBe(2);
    expect(() => parseProcCgroup('')).toThrow(/cgroup lines/);
  });
});

describe('cgroup: limits read from inside a node', () => {
  it('v1: memory, memsw (swap is memsw minus memory), pids and the CFS quota', () => {
    const r = parseLimitsOutput('v1\nmemory 67108864\nmemsw 67108864\npids 256\ncpu 50000 100000\n');
    expect(r).toEqual({ version: 1, memory: 67108864, swap: 0, pids: 256, cpus: 0.5 });
  });

  it('v1 without swap accounting and without a CPU limit', () => {
    const r = parseLimitsOutput('v1\nmemory 67108864\nmemsw none\npids 256\ncpu -1 100000\n');
    expect(r).toEqual({ version: 1, memory: 67108864, swap: undefined, pids: 256, cpus: null });
  });

  it('v2: memory.max, memory.swap.max, pids.max and cpu.max', () => {
    const r = parseLimitsOutput('v2\nmemory 67108864\nswap 0\npids 256\ncpu 100000 100000\n');
    expect(r).toEqual({ version: 2, memory: 67108864, swap: 0, pids: 256, cpus: 1 });
  });

  it('v2 unlimited: "max" everywhere, cpu.max "max 100000"', () => {
    const r = parseLimitsOutput('v2\nmemory max\nswap max\npids max\ncpu max 100000\n');
    expect(r).toEqual({ version: 2, memory: null, swap: null, pids: null, cpus: null });
  });

  it('v2 without the pids controller delegated is an error, not "unlimited"', () => {
    expect(() => parseLimitsOutput('v2\nmemory 67108864\nswap 0\npids none\ncpu none none\n')).toThrow(/pids limit/);
  });
});

describe('cgroup: memory charged to all containers of the engine', () => {
  const roots: string[] = [];
  const tree = (files: Record<string, string>): string => {
    const root = mkdtempSync(join(tmpdir(), 'hurrynet-cgroup-'));
    roots.push(root);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  };
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  it('v1 cgroupfs: the shared docker parent', () => {
    const root = tree({
      'memory/docker/memory.usage_in_bytes': '52428800\n',
      [`memory/docker/${ID}/memory.usage_in_bytes`]: '1269760\n',
    });
    expect(engineMemoryBytes(root)).toBe(52428800);
  });

  it('v2 cgroupfs: /sys/fs/cgroup/docker', () => {
    const root = tree({
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      'docker/memory.current': '73400320\n',
      [`docker/${ID}/memory.current`]: '4841472\n',
    });
    expect(engineMemoryBytes(root)).toBe(73400320);
  });

  it('v2 systemd: no shared parent, one docker-<id>.scope per container, summed', () => {
    const root = tree({
      'cgroup.controllers': 'cpuset cpu io memory pids\n',
      'system.slice/memory.current': '999999999\n',
      'system.slice/docker.service/memory.current': '88000000\n', // the daemon, not a container
      'system.slice/containerd.service/memory.current': '30000000\n',
      [`system.slice/docker-${ID}.scope/memory.current`]: '4841472\n',
      [`system.slice/docker-${ID2}.scope/memory.current`]: '1000000\n',
      'system.slice/docker-notanid.scope/memory.current': '5\n',
    });
    expect(engineMemoryBytes(root)).toBe(4841472 + 1000000);
  });

  it('v1 systemd driver: the scopes under memory/system.slice', () => {
    const root = tree({
      [`memory/system.slice/docker-${ID}.scope/memory.usage_in_bytes`]: '2000\n',
      [`memory/system.slice/docker-${ID2}.scope/memory.usage_in_bytes`]: '3000\n',
    });
    expect(engineMemoryBytes(root)).toBe(5000);
  });

  it('nothing readable (Docker Desktop: the cgroups are in its VM) is 0', () => {
    expect(engineMemoryBytes(tree({ 'system.slice/cron.service/memory.current': '1\n' }))).toBe(0);
    expect(engineMemoryBytes(join(tmpdir(), 'hurrynet-no-such-cgroup-root'))).toBe(0);
  });
});
