// The doctor's vocabulary: what it recorded about the machine (DoctorInputs, plain data that
// gather.ts collects and tests write by hand) and what each check concludes from it (Finding).
import { EXIT } from '../errors.js';
import type { Driver } from '../runtime/driver.js';
import type { SealState } from '../runtime/seal.js';
import type { StandbyWorld } from '../runtime/standby.js';

export type Status = 'ok' | 'warn' | 'fail' | 'unknown';

export interface Finding {
  /** Stable, for tools: "engine", "kernel.conntrack", ... */
  id: string;
  title: string;
  /** fail: no lab can run; warn: labs run, with a limit the detail names; unknown: not observable here. */
  status: Status;
  detail: string;
  /** One sentence saying what to do (also for ok: that nothing needs doing). */
  fix: string;
}

/** A reading that could not be taken carries why instead. */
export type Read<T> = T | { error: string };

export function isError<T>(r: Read<T>): r is { error: string } {
  return typeof r === 'object' && r !== null && 'error' in r && typeof (r as { error: unknown }).error === 'string';
}

export type EngineInfo = Awaited<ReturnType<Driver['info']>>;

/** One iptables backend's filter table as `<binary> -w -S` printed it. */
export interface IptablesListing {
  backend: 'nf_tables' | 'legacy';
  /** The listing; "missing" when the binary is not installed, {error} when it could not run (not root). */
  rules: Read<string> | 'missing';
}

export interface DoctorInputs {
  /** process.platform and process.arch of this machine. */
  platform: string;
  arch: string;
  isRoot: boolean;
  /** DOCKER_HOST, or the default unix socket. */
  dockerHost: string;
  /**
   * Whether the engine's kernel is this machine's (a local socket and the same kernel release):
   * only then do this machine's /proc, routes and firewall describe the labs' host.
   */
  engineLocal: boolean;
  /** `docker --version`. */
  dockerCli: Read<string>;
  /** The engine's unix socket, when DOCKER_HOST is one. */
  socket?: { path: string; exists: boolean; accessible: boolean; mode?: string; group?: string };
  engine: Read<{ version: string; apiVersion: string; info: EngineInfo }>;
  // Everything below is left out by the fast form (only cheap engine checks).
  cgroup?: {
    /** /proc/self/cgroup. */
    procSelf?: string;
    /** /sys/fs/cgroup/cgroup.controllers (v2 only). */
    controllers?: string;
    /** /proc/cgroups (v1: the enabled column). */
    procCgroups?: string;
  };
  iptables?: {
    /** `iptables -V`; "missing" when there is no iptables. */
    version: Read<string> | 'missing';
    listings: IptablesListing[];
  };
  kernel?: {
    release: string;
    /** Each file's text, or undefined where it is not readable. */
    procModules?: string;
    modulesBuiltin?: string;
    modulesDep?: string;
    /** The CONFIG_ lines of /proc/config.gz that the checks look at. */
    config?: string;
    /** Names under /sys/module (built-in modules with parameters show up there too). */
    sysModules?: string[];
    /** /proc/net/ip_tables_matches: the xtables matches the kernel has registered. */
    xtMatches?: string;
    /** /proc/sys/net/ipv4/ip_no_pmtu_disc. */
    noPmtuDisc?: string;
  };
  seal?: Read<SealState>;
  /** HURRYNET_SEAL=0 was set. */
  sealOff?: boolean;
  subnets?: {
    pool: string;
    /** `ip -j route` (json) or /proc/net/route (proc). */
    routes: Read<{ format: 'json' | 'proc'; text: string }>;
    /** Subnets of the engine's networks: Docker's own bridges are not clashes (the allocator skips them). */
    engineSubnets: string[];
  };
  disk?: Read<{ path: string; freeBytes: number }>;
  images?: Read<{ missing: string[]; expected: number; rootPresent: boolean }>;
  standby?: Read<{ enabled: boolean; worlds: StandbyWorld[] }>;
}

export type Check = (inputs: DoctorInputs) => Finding[];

/** Exit 0 only when a lab can run: nothing failed (warn and unknown do not stop a lab). */
export function exitCodeFor(findings: Finding[]): number {
  return findings.some((f) => f.status === 'fail') ? EXIT.failure : EXIT.ok;
}

export const NOTHING_TO_DO = 'Nothing to do.';

export function ok(id: string, title: string, detail: string, fix = NOTHING_TO_DO): Finding {
  return { id, title, status: 'ok', detail, fix };
}

export function finding(id: string, title: string, status: Status, detail: string, fix: string): Finding {
  return { id, title, status, detail, fix };
}

/** Why the engine host's own files say nothing here (Docker Desktop, a remote DOCKER_HOST). */
export function remoteNote(inputs: DoctorInputs): string {
  return `the Docker engine (${inputs.dockerHost}) does not run on this machine's kernel, so its files do not describe the engine's host`;
}

/** A check of the engine host's own files, which say nothing when the engine runs elsewhere. */
export function unknownOnRemote(inputs: DoctorInputs, id: string, title: string, fix: string): Finding {
  return finding(id, title, 'unknown', remoteNote(inputs), fix);
}

export function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}
