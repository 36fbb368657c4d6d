// cgroups: which version, and whether the memory and pids controllers are there. Without them the
// engine drops each node's memory and process limits (with a warning only): labs run, unbounded.
import { missingControllers, parseControllers, parseProcCgroup, type CgroupVersion } from '../../runtime/cgroup.js';
import { finding, isError, ok, type Check, type DoctorInputs } from '../findings.js';

const NEEDED = ['memory', 'pids'];

/** Enabled v1 controllers from /proc/cgroups ("subsys hierarchy num_cgroups enabled"). */
export function enabledV1Controllers(procCgroups: string): Set<string> {
  const out = new Set<string>();
  for (const line of procCgroups.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , , enabled] = line.trim().split(/\s+/);
    if (name && enabled === '1') out.add(name);
  }
  return out;
}

interface HostView {
  version: CgroupVersion;
  missing: string[] | undefined;
}

function hostView(c: NonNullable<DoctorInputs['cgroup']>): HostView | undefined {
  if (!c.procSelf) return undefined;
  let version: CgroupVersion;
  try {
    version = parseProcCgroup(c.procSelf).version;
  } catch {
    return undefined;
  }
  if (version === 2)
    return {
      version,
      missing: c.controllers ? missingControllers(parseControllers(c.controllers), NEEDED) : undefined,
    };
  return {
    version,
    missing: c.procCgroups ? missingControllers(enabledV1Controllers(c.procCgroups), NEEDED) : undefined,
  };
}

export const cgroup: Check = (inputs) => {
  if (!inputs.cgroup) return [];
  const title = 'cgroups';
  const engine = isError(inputs.engine) ? undefined : inputs.engine.info;
  const host = inputs.engineLocal ? hostView(inputs.cgroup) : undefined;
  // The engine's own view decides what it enforces; this machine's files fill in where it is silent.
  const missing = engine
    ? [...(engine.memoryLimit ? [] : ['memory']), ...(engine.pidsLimit ? [] : ['pids'])]
    : host?.missing;
  const version = engine?.cgroupVersion || (host ? String(host.version) : '');
  const parts = [
    version ? `cgroup v${version}` : 'cgroup version unknown',
    engine?.cgroupDriver ? `${engine.cgroupDriver} driver` : '',
    host && engine?.cgroupVersion && String(host.version) !== engine.cgroupVersion
      ? `this machine: v${host.version}`
      : '',
  ].filter(Boolean);
  const detail = parts.join(', ');
  if (missing === undefined)
    return [
      finding(
        'cgroup',
        title,
        'unknown',
        `${detail}; the controllers could not be read`,
        'Start the engine so that doctor can ask it (docker info shows "Cgroup Version" and any "No memory limit support" warning).',
      ),
    ];
  if (missing.length === 0) return [ok('cgroup', title, `${detail}; the memory and pids controllers are enabled`)];
  return [
    finding(
      'cgroup',
      title,
      'warn',
      `${detail}; no ${missing.join(' or ')} controller: the engine drops each node's ${missing.join(' and ')} limit, so a runaway process in a lab is not contained`,
      version === '2'
        ? `Delegate the controllers to the engine (rootless: systemd's Delegate=memory pids in user@.service; else enable them in the parent's cgroup.subtree_control).`
        : `Enable them on the kernel command line (cgroup_enable=memory swapaccount=1, for example on a Raspberry Pi), then reboot.`,
    ),
  ];
};
