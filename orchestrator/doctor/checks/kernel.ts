// The kernel features the world needs, from whatever this machine lets us read: loaded modules,
// built-in ones, loadable ones, the kernel's config, /sys/module and the registered xt matches.
// A container cannot load modules itself, but the kernel loads a netfilter module on first use
// (request_module runs the host's modprobe), so "loadable" is as good as loaded.
import { finding, ok, remoteNote, type Check, type DoctorInputs, type Finding, type Status } from '../findings.js';

interface Feature {
  id: string;
  title: string;
  module: string;
  config: string;
  /** The xtables match name in /proc/net/ip_tables_matches, for matches. */
  match?: string;
  /** How bad its absence is, and why. */
  missing: Status;
  needs: string;
}

export const FEATURES: Feature[] = [
  {
    id: 'kernel.conntrack',
    title: 'connection tracking',
    module: 'nf_conntrack',
    config: 'CONFIG_NF_CONNTRACK',
    match: 'conntrack',
    missing: 'fail',
    needs: "every router's stateful firewall and NAT",
  },
  {
    id: 'kernel.nat',
    title: 'NAT',
    module: 'nf_nat',
    config: 'CONFIG_NF_NAT',
    missing: 'fail',
    needs: "the home router's masquerade and the edge's 1:1 NAT",
  },
  {
    id: 'kernel.ftp-helper',
    title: 'FTP conntrack helper',
    module: 'nf_conntrack_ftp',
    config: 'CONFIG_NF_CONNTRACK_FTP',
    missing: 'fail',
    needs: "the home router's CT --helper ftp rule, which every world has",
  },
  {
    id: 'kernel.nat-ftp',
    title: 'FTP NAT helper',
    module: 'nf_nat_ftp',
    config: 'CONFIG_NF_NAT_FTP',
    missing: 'warn',
    needs: 'active-mode FTP through NAT (labs 11 and 12)',
  },
  {
    id: 'kernel.statistic',
    title: 'statistic match',
    module: 'xt_statistic',
    config: 'CONFIG_NETFILTER_XT_MATCH_STATISTIC',
    match: 'statistic',
    missing: 'warn',
    needs: "lab 09's lossy path (-m statistic)",
  },
];

const norm = (name: string) => name.replace(/-/g, '_');

/** Module names from modules.builtin or modules.dep paths ("kernel/net/netfilter/nf_nat.ko.xz: ..."). */
export function modulesIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /([^/\s:]+)\.ko(?:\.\w+)?:?(?:\s|$)/.exec(line);
    if (m?.[1]) out.add(norm(m[1]));
  }
  return out;
}

/** Loaded modules: the first column of /proc/modules. */
export function loadedModules(procModules: string): Set<string> {
  return new Set(
    procModules
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter((n): n is string => !!n)
      .map(norm),
  );
}

/** CONFIG_X=y|m from the kernel's config; "n" for "# CONFIG_X is not set"; undefined if absent. */
export function configValue(config: string, key: string): 'y' | 'm' | 'n' | undefined {
  for (const line of config.split('\n')) {
    const set = new RegExp(`^${key}=(y|m)\\s*$`).exec(line);
    if (set) return set[1] as 'y' | 'm';
    if (line.startsWith(`# ${key} is not set`)) return 'n';
  }
  return undefined;
}

type Presence = 'loaded' | 'builtin' | 'present' | 'loadable' | 'absent' | 'unknown';

function presence(k: NonNullable<DoctorInputs['kernel']>, f: Feature): Presence {
  const name = norm(f.module);
  if (k.procModules !== undefined && loadedModules(k.procModules).has(name)) return 'loaded';
  if (k.modulesBuiltin !== undefined && modulesIn(k.modulesBuiltin).has(name)) return 'builtin';
  if (k.sysModules?.map(norm).includes(name)) return 'present';
  if (f.match && k.xtMatches?.split('\n').some((l) => l.trim() === f.match)) return 'present';
  const config = k.config !== undefined ? configValue(k.config, f.config) : undefined;
  if (config === 'y') return 'builtin';
  if (k.modulesDep !== undefined && modulesIn(k.modulesDep).has(name)) return 'loadable';
  if (config === 'm') return 'loadable';
  // Absent only when the evidence is complete: the config says so, or every module list was read.
  if (config === 'n') return 'absent';
  if (k.procModules !== undefined && k.modulesBuiltin !== undefined && k.modulesDep !== undefined) return 'absent';
  return 'unknown';
}

function featureFinding(inputs: DoctorInputs, f: Feature): Finding {
  const k = inputs.kernel;
  const load = `sudo modprobe ${f.module}`;
  if (!k || !inputs.engineLocal)
    return finding(
      f.id,
      f.title,
      'unknown',
      `${remoteNote(inputs)} (needed for ${f.needs})`,
      `Docker Desktop's VM kernel has ${f.module}; on another engine host, run hurrynet doctor there.`,
    );
  const p = presence(k, f);
  const where: Record<Presence, string> = {
    loaded: `${f.module} is loaded`,
    builtin: `${f.module} is built into the kernel`,
    present: `${f.module} is in the running kernel`,
    loadable: `${f.module} is a loadable module (the kernel loads it when a lab first needs it)`,
    absent: `this kernel (${k.release}) has no ${f.module}`,
    unknown: `whether this kernel (${k.release}) has ${f.module} could not be read (no /proc/modules, modules.builtin or kernel config)`,
  };
  if (p === 'loaded' || p === 'builtin' || p === 'present') return ok(f.id, f.title, where[p]);
  if (p === 'loadable') return ok(f.id, f.title, where[p], `Nothing to do; if a lab reports it missing: ${load}.`);
  if (p === 'unknown')
    return finding(f.id, f.title, 'unknown', `${where[p]}; needed for ${f.needs}`, `Load it to be sure: ${load}.`);
  return finding(
    f.id,
    f.title,
    f.missing,
    `${where[p]}, needed for ${f.needs}`,
    `Install your distribution's full kernel (with its modules package, for example linux-modules-extra-$(uname -r) on Ubuntu) and run ${load}.`,
  );
}

function pmtuFinding(inputs: DoctorInputs): Finding {
  const id = 'kernel.pmtu';
  const title = 'path-MTU discovery';
  const value = inputs.kernel?.noPmtuDisc?.trim();
  if (!inputs.engineLocal || value === undefined)
    return finding(
      id,
      title,
      'unknown',
      inputs.engineLocal ? '/proc/sys/net/ipv4/ip_no_pmtu_disc is not readable' : remoteNote(inputs),
      'Nothing to do: each lab node has its own network namespace, which starts with path-MTU discovery on.',
    );
  if (value === '0') return ok(id, title, 'on (net.ipv4.ip_no_pmtu_disc = 0)');
  return finding(
    id,
    title,
    'warn',
    `off on the host (net.ipv4.ip_no_pmtu_disc = ${value}); lab nodes have their own namespace (on by default), so lab 08 still works, but this machine's own connections ignore "fragmentation needed"`,
    'Unless you meant it: sudo sysctl -w net.ipv4.ip_no_pmtu_disc=0 (and remove it from /etc/sysctl.d/).',
  );
}

export const kernel: Check = (inputs) => {
  if (!inputs.kernel) return [];
  return [...FEATURES.map((f) => featureFinding(inputs, f)), pmtuFinding(inputs)];
};
