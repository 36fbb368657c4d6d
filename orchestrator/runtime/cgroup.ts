// Reading cgroup files, v1 and v2. The shell scripts run inside a node (through driver.exec) and
// print what they read; everything that interprets cgroup contents is a pure function of those
// contents, so that both hierarchies are tested on recorded files (test/unit/cgroup.test.ts).
// The one function that touches the host's files, engineMemoryBytes, takes the root as a
// parameter for the same reason.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

/**
 * The directory of the calling process's own cgroup on v2, from /proc/self/cgroup: "/" inside a
 * private cgroup namespace (Docker's default on v2), the full path when the engine shares the
 * host's namespace (default-cgroupns-mode=host), where /sys/fs/cgroup itself is the host's root.
 */
const V2_DIR = [
  'p=$(sed -n "s/^0:://p" /proc/self/cgroup)',
  'd=/sys/fs/cgroup${p%/}',
  '[ -f "$d/memory.current" ] || d=/sys/fs/cgroup',
].join('; ');

/** Prints "v2", memory.current and memory.stat's inactive_file, or "v1" and their v1 names. */
export const MEMORY_SCRIPT = [
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then',
  `  ${V2_DIR}`,
  '  echo v2; cat "$d/memory.current"; grep "^inactive_file " "$d/memory.stat"',
  'else',
  '  echo v1; cat /sys/fs/cgroup/memory/memory.usage_in_bytes; grep "^total_inactive_file " /sys/fs/cgroup/memory/memory.stat',
  'fi',
].join('\n');

/** Prints "v1" or "v2" and one "key value" line per limit; a missing file prints "none". */
export const LIMITS_SCRIPT = [
  'r() { cat "$1" 2>/dev/null || echo none; }',
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then',
  `  ${V2_DIR}`,
  '  echo v2',
  '  echo "memory $(r "$d/memory.max")"',
  '  echo "swap $(r "$d/memory.swap.max")"',
  '  echo "pids $(r "$d/pids.max")"',
  '  echo "cpu $(r "$d/cpu.max")"',
  'else',
  '  echo v1',
  '  echo "memory $(r /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
  '  echo "memsw $(r /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes)"',
  '  echo "pids $(r /sys/fs/cgroup/pids/pids.max)"',
  '  echo "cpu $(r /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(r /sys/fs/cgroup/cpu/cpu.cfs_period_us)"',
  'fi',
].join('\n');

/** A number from a cgroup file: "max" (v2) or v1's page-rounded 2^63 is no limit (null). */
export function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'max') return null;
  if (!/^-?\d+$/.test(t)) throw new Error(`not a cgroup limit: "${t}"`);
  const n = Number(t);
  // v1 writes "unlimited" as the largest page multiple below 2^63 (9223372036854771712).
  if (n < 0 || n >= 2 ** 62) return null;
  return n;
}

/** One value from a flat-keyed file such as memory.stat ("inactive_file 4096"). */
export function statValue(stat: string, key: string): number | undefined {
  for (const line of stat.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/**
 * Memory in use, as `docker stats` counts it: usage minus the inactive file cache the kernel
 * reclaims first. v2: memory.current and memory.stat's inactive_file; v1: memory.usage_in_bytes
 * and the hierarchical total_inactive_file.
 */
export function memoryInUse(version: CgroupVersion, usage: string, stat: string): number {
  const used = Number(usage.trim());
  const idle = statValue(stat, version === 2 ? 'inactive_file' : 'total_inactive_file');
  if (!/^\d+$/.test(usage.trim()) || idle === undefined)
    throw new Error(`cannot read cgroup v${version} memory from:\n${usage}\n${stat}`);
  return Math.max(0, used - idle);
}

/** What MEMORY_SCRIPT printed, as bytes in use. */
export function parseMemoryOutput(text: string): number {
  const [tag, usage = '', ...stat] = text.trim().split('\n');
  if (tag !== 'v1' && tag !== 'v2') throw new Error(`cannot read cgroup memory from:\n${text}`);
  return memoryInUse(tag === 'v2' ? 2 : 1, usage, stat.join('\n'));
}

export interface PidsReading {
  max: number | null;
  current: number;
}

export function parsePids(max: string, current: string): PidsReading {
  const c = current.trim();
  if (!/^\d+$/.test(c)) throw new Error(`not a pids.current value: "${c}"`);
  return { max: parseLimit(max), current: Number(c) };
}

/** Controllers enabled in a v2 cgroup (cgroup.controllers, or cgroup.subtree_control). */
export function parseControllers(text: string): Set<string> {
  return new Set(text.trim().split(/\s+/).filter(Boolean));
}

/** Whether the limits hurrynet sets can be enforced in a v2 cgroup with these controllers. */
export function missingControllers(controllers: Set<string>, needed = ['memory', 'pids']): string[] {
  return needed.filter((c) => !controllers.has(c));
}

export interface ProcCgroup {
  /** 2 when the only hierarchy is the unified one; 1 when v1 controllers exist (also hybrid). */
  version: CgroupVersion;
  /** v1 controller (or "name=systemd") to path; "" is the unified hierarchy's path. */
  paths: Map<string, string>;
}

/** /proc/<pid>/cgroup: "N:memory:/docker/<id>" lines on v1, a single "0::/path" on v2. */
export function parseProcCgroup(text: string): ProcCgroup {
  const paths = new Map<string, string>();
  let v1 = false;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers = '', path = ''] = m;
    if (id === '0' && controllers === '') {
      paths.set('', path);
      continue;
    }
    for (const c of controllers.split(',')) {
      paths.set(c, path);
      if (!c.startsWith('name=')) v1 = true;
    }
  }
  if (paths.size === 0) throw new Error('no cgroup lines in /proc/self/cgroup');
  return { version: v1 ? 1 : 2, paths };
}

/** The container id in a cgroup path (…/docker/<id>, …/docker-<id>.scope), if there is one. */
export function containerIdOf(path: string): string | undefined {
  return /(?:^|\/)(?:docker[-/])?([0-9a-f]{64})(?:\.scope)?$/.exec(path)?.[1];
}

export interface LimitsReading {
  version: CgroupVersion;
  /** Bytes; null is no limit. */
  memory: number | null;
  /** Swap allowed on top of memory (v2 memory.swap.max; v1 memsw minus memory); undefined if not accounted. */
  swap?: number | null;
  pids: number | null;
  /** CPUs (quota / period); null is no limit; undefined if the controller is not there. */
  cpus?: number | null;
}

function cpuQuota(quota: string, period: string): number | null | undefined {
  if (quota === 'none' || period === 'none') return undefined;
  const q = parseLimit(quota);
  const p = Number(period);
  if (q === null) return null;
  if (!Number.isFinite(p) || p <= 0) throw new Error(`not a cpu period: "${period}"`);
  return q / p;
}

/** What LIMITS_SCRIPT printed. */
export function parseLimitsOutput(text: string): LimitsReading {
  const [tag, ...lines] = text.trim().split('\n');
  if (tag !== 'v1' && tag !== 'v2') throw new Error(`cannot read cgroup limits from:\n${text}`);
  const kv = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf(' ');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const need = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined || v === 'none') throw new Error(`no cgroup ${k} limit in:\n${text}`);
    return v;
  };
  const memory = parseLimit(need('memory'));
  const pids = parseLimit(need('pids'));
  const [quota = 'none', period = 'none'] = (kv.get('cpu') ?? 'none').split(/\s+/);
  if (tag === 'v2') {
    const swap = kv.get('swap');
    return {
      version: 2,
      memory,
      pids,
      swap: swap === undefined || swap === 'none' ? undefined : parseLimit(swap),
      // v2 cpu.max is "QUOTA PERIOD" with QUOTA "max" when unlimited.
      cpus: cpuQuota(quota, period),
    };
  }
  const memsw = kv.get('memsw');
  const total = memsw === undefined || memsw === 'none' ? undefined : parseLimit(memsw);
  return {
    version: 1,
    memory,
    pids,
    swap: total === undefined ? undefined : total === null || memory === null ? null : total - memory,
    cpus: cpuQuota(quota, period),
  };
}

function readNumber(file: string): number | undefined {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

function sumScopes(dir: string, file: string): number | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  let total: number | undefined;
  for (const name of names) {
    if (!/^docker-[0-9a-f]{64}\.scope$/.test(name)) continue;
    const n = readNumber(join(dir, name, file));
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}

/**
 * Memory charged to all of the engine's containers, in bytes (0 when nothing is readable).
 * cgroupfs driver: the shared parent (v1 memory/docker, v2 docker). systemd driver: one
 * docker-<id>.scope per container under system.slice and no shared parent, so the scopes are
 * summed (v1 memory/system.slice, v2 system.slice). The first layout found wins.
 */
export function engineMemoryBytes(root = '/sys/fs/cgroup'): number {
  return (
    readNumber(join(root, 'memory', 'docker', 'memory.usage_in_bytes')) ??
    readNumber(join(root, 'docker', 'memory.current')) ??
    sumScopes(join(root, 'system.slice'), 'memory.current') ??
    sumScopes(join(root, 'memory', 'system.slice'), 'memory.usage_in_bytes') ??
    0
  );
}
