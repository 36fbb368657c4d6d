// Collects the doctor's inputs from this machine: the only doctor module that reads files, runs
// commands or talks to Docker (through the Driver). Every reading is recorded as it was found, or
// as the reason it could not be taken; nothing here judges (that is checks/).
import { execFile } from 'node:child_process';
import { constants, accessSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { DEFAULT_POOL } from '../world/addresses.js';
import { Driver } from '../runtime/driver.js';
import { imageSet, rootImageRef } from '../runtime/images.js';
import { inspectSeal } from '../runtime/seal.js';
import { listStandby, standbyEnabled } from '../runtime/standby.js';
import { FEATURES } from './checks/kernel.js';
import type { DoctorInputs, IptablesListing, Read } from './findings.js';

const ENGINE_TIMEOUT_MS = 5000;

function why(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}

async function read<T>(fn: () => Promise<T> | T): Promise<Read<T>> {
  try {
    return await fn();
  } catch (err) {
    return { error: why(err) };
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** An engine that does not answer must not hang the doctor (a tcp DOCKER_HOST that drops packets). */
function withTimeout<T>(p: Promise<T>, what: string, ms = ENGINE_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

function run(
  cmd: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === 'string')
        reject(e); // ENOENT: no such command
      else resolve({ code: typeof e?.code === 'number' ? e.code : e ? 1 : 0, stdout, stderr });
    });
  });
}

/** The unix socket DOCKER_HOST names (or the default one); undefined for tcp:// and ssh://. */
export function socketPath(dockerHost: string): string | undefined {
  if (dockerHost.startsWith('unix://')) return dockerHost.slice('unix://'.length);
  if (dockerHost.startsWith('/')) return dockerHost;
  return undefined;
}

function socketFacts(path: string): NonNullable<DoctorInputs['socket']> {
  if (!existsSync(path)) return { path, exists: false, accessible: false };
  const st = statSync(path);
  let accessible = true;
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    accessible = false;
  }
  // The group's name is what the fix names (usermod -aG <group>); its number says little.
  const group =
    (readText('/etc/group') ?? '')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === String(st.gid))?.[0] ?? String(st.gid);
  return { path, exists: true, accessible, mode: (st.mode & 0o777).toString(8).padStart(4, '0'), group };
}

async function dockerCliVersion(): Promise<Read<string>> {
  return read(async () => {
    const r = await run('docker', ['--version'], 5000);
    if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
    return r.stdout.trim();
  });
}

async function iptablesFacts(isRoot: boolean): Promise<NonNullable<DoctorInputs['iptables']>> {
  const version: Read<string> | 'missing' = await run('iptables', ['-V'], 5000).then(
    (r) => (r.code === 0 ? r.stdout.trim() || r.stderr.trim() : { error: r.stderr.trim() || `exit ${r.code}` }),
    () => 'missing' as const,
  );
  const listing = async (backend: IptablesListing['backend'], bin: string): Promise<IptablesListing> => {
    // Listing the legacy tables as root would load ip_tables when it is not loaded: the doctor
    // changes nothing, so an absent legacy filter table is simply recorded as empty.
    if (backend === 'legacy' && !(readText('/proc/net/ip_tables_names') ?? '').split('\n').includes('filter'))
      return { backend, rules: '' };
    if (!isRoot) return { backend, rules: { error: 'reading the firewall needs root' } };
    try {
      const r = await run(bin, ['-w', '5', '-S'], 10_000);
      return { backend, rules: r.code === 0 ? r.stdout : { error: r.stderr.trim() || `exit ${r.code}` } };
    } catch {
      return { backend, rules: 'missing' };
    }
  };
  return {
    version,
    listings: await Promise.all([listing('nf_tables', 'iptables-nft'), listing('legacy', 'iptables-legacy')]),
  };
}

function kernelFacts(): NonNullable<DoctorInputs['kernel']> {
  const rel = release();
  const lib = `/lib/modules/${rel}`;
  let config: string | undefined;
  try {
    const keys = FEATURES.map((f) => f.config);
    // Only the lines the checks read: the whole config is thousands of lines.
    config = gunzipSync(readFileSync('/proc/config.gz'))
      .toString('utf8')
      .split('\n')
      .filter((l) => keys.some((k) => l.startsWith(`${k}=`) || l.startsWith(`# ${k} `)))
      .join('\n');
  } catch {
    config = readText(`/boot/config-${rel}`);
  }
  let sysModules: string[] | undefined;
  try {
    sysModules = readdirSync('/sys/module');
  } catch {
    sysModules = undefined;
  }
  return {
    release: rel,
    procModules: readText('/proc/modules'),
    modulesBuiltin: readText(`${lib}/modules.builtin`),
    modulesDep: readText(`${lib}/modules.dep`),
    config,
    sysModules,
    xtMatches: readText('/proc/net/ip_tables_matches'),
    noPmtuDisc: readText('/proc/sys/net/ipv4/ip_no_pmtu_disc'),
  };
}

async function routeFacts(): Promise<Read<{ format: 'json' | 'proc'; text: string }>> {
  try {
    const r = await run('ip', ['-j', '-4', 'route', 'show'], 5000);
    if (r.code === 0 && r.stdout.trim().startsWith('[')) return { format: 'json', text: r.stdout };
  } catch {
    /* no ip command (or no JSON support): the kernel's table below */
  }
  const text = readText('/proc/net/route');
  return text !== undefined ? { format: 'proc', text } : { error: 'neither ip -j route nor /proc/net/route works' };
}

async function sealFacts(driver: Driver): Promise<Read<Awaited<ReturnType<typeof inspectSeal>>>> {
  return read(async () => {
    const nets = await driver.listNetworks(Driver.projectLabels());
    const bridges = (await Promise.all(nets.map((n) => driver.bridgeOf(n.id)))).filter(
      (b): b is string => !!b && /^hn-[0-9a-f]{1,12}$/.test(b),
    );
    return inspectSeal(driver, [...new Set(bridges)]);
  });
}

export interface GatherOptions {
  /** Only the cheap engine readings (the CLI's error path): no firewall, kernel, seal or standby. */
  fast?: boolean;
}

export async function gather(driver: Driver, opts: GatherOptions = {}): Promise<DoctorInputs> {
  const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const path = socketPath(dockerHost);
  const isRoot = process.getuid?.() === 0;
  const [dockerCli, engine] = await Promise.all([
    dockerCliVersion(),
    read(() =>
      withTimeout(
        Promise.all([driver.version(), driver.info()]).then(([v, info]) => ({ ...v, info })),
        'the Docker engine',
      ),
    ),
  ]);
  const engineInfo = 'error' in engine ? undefined : engine.info;
  // Docker Desktop also serves a local socket, but its engine runs in a VM with a kernel of its own.
  const engineLocal =
    process.platform === 'linux' &&
    !!path &&
    (!engineInfo || !engineInfo.kernelVersion || engineInfo.kernelVersion === release());
  const up = !!engineInfo;
  const inputs: DoctorInputs = {
    platform: process.platform,
    arch: process.arch,
    isRoot,
    dockerHost,
    engineLocal,
    dockerCli,
    socket: path ? socketFacts(path) : undefined,
    engine,
  };
  if (engineLocal) {
    const root = engineInfo?.dockerRootDir || '/var/lib/docker';
    inputs.disk = await read(async () => {
      const s = await statfs(root);
      return { path: root, freeBytes: s.bavail * s.bsize };
    });
  } else inputs.disk = { error: 'the engine is not on this machine' };
  if (opts.fast) return inputs;

  const engineDown = { error: 'the Docker engine does not answer' };
  const [iptables, routes, seal, images, standby, networks] = await Promise.all([
    engineLocal ? iptablesFacts(isRoot) : Promise.resolve({ version: 'missing' as const, listings: [] }),
    routeFacts(),
    up ? sealFacts(driver) : Promise.resolve(engineDown),
    up
      ? read(async () => {
          const set = imageSet();
          const all = [set.base, ...Object.values(set.roles)];
          const present = await Promise.all(all.map((t) => driver.imageExists(t)));
          return {
            missing: all.filter((_, i) => !present[i]),
            expected: all.length,
            rootPresent: await driver.imageExists(rootImageRef()),
          };
        })
      : Promise.resolve(engineDown),
    up
      ? read(async () => ({ enabled: standbyEnabled(), worlds: await listStandby(driver) }))
      : Promise.resolve(engineDown),
    up ? driver.listNetworks().catch(() => []) : Promise.resolve([]),
  ]);
  inputs.cgroup = {
    procSelf: readText('/proc/self/cgroup'),
    controllers: readText('/sys/fs/cgroup/cgroup.controllers'),
    procCgroups: readText('/proc/cgroups'),
  };
  inputs.iptables = iptables;
  inputs.kernel = kernelFacts();
  inputs.seal = seal;
  inputs.sealOff = process.env.HURRYNET_SEAL === '0';
  inputs.subnets = {
    pool: process.env.HURRYNET_SUBNET_POOL ?? DEFAULT_POOL,
    routes,
    engineSubnets: networks.flatMap((n) => n.subnets),
  };
  inputs.images = images;
  inputs.standby = standby;
  return inputs;
}
