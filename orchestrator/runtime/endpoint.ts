// Where a Docker engine answers: a unix socket, tcp:// (with TLS unless it is this machine's
// loopback), or a docker context by name, read from the docker CLI's own files so that a teacher
// can reuse `docker context create`. `--engines` of `hurrynet serve` lists several of them; each
// may name the subnet pool of its lab links (ENDPOINT=POOL). Parsing is pure; connect() reads the
// certificate files and makes the Driver.
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULT_POOL, overlaps, parseCidr } from '../world/addresses.js';
import { Driver } from './driver.js';

export type Endpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'context'; name: string };

export interface EngineSpec {
  /** As the teacher wrote it: the engine's name in messages, the table and the store. */
  name: string;
  endpoint: Endpoint;
  /** The lab links' subnets on this engine (absent: the default for its place in the list). */
  subnetPool?: string;
}

const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  if (t.startsWith('unix://')) {
    const socketPath = t.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new UsageError(`${t}: a unix socket needs an absolute path (unix:///…)`);
    return { kind: 'unix', socketPath };
  }
  if (t.startsWith('/')) return { kind: 'unix', socketPath: t };
  if (t.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})\/?$/.exec(t);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) throw new UsageError(`${t}: write a tcp engine as tcp://HOST:PORT`);
    return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  }
  if (/^[a-z]+:\/\//.test(t))
    throw new UsageError(
      `${t}: hurrynet reaches engines over unix:// sockets, tcp:// with TLS, or docker contexts ` +
        '(for ssh://, forward the socket: ssh -NL /tmp/e.sock:/var/run/docker.sock HOST, then unix:///tmp/e.sock)',
    );
  if (CONTEXT_NAME.test(t)) return { kind: 'context', name: t };
  throw new UsageError(`${t}: not an engine endpoint (unix:///PATH, tcp://HOST:PORT or a docker context name)`);
}

function checkPool(pool: string, item: string): string {
  let length = -1;
  try {
    length = parseCidr(pool).length;
  } catch {
    /* said below */
  }
  if (length < 8 || length > 20)
    throw new UsageError(`${item}: the subnet pool must be an IPv4 prefix from /8 to /20, such as 10.249.0.0/16`);
  return pool;
}

/** The engines of `--engines a,b=POOL,…`: every item once, each with its own pool when it names one. */
export function parseEngines(list: string): EngineSpec[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!items.length) throw new UsageError('--engines needs at least one engine');
  const specs = items.map((item): EngineSpec => {
    // A pool follows the last '=' (a socket path may hold none; a context name cannot).
    const eq = item.lastIndexOf('=');
    const target = eq > 0 ? item.slice(0, eq) : item;
    const pool = eq > 0 ? checkPool(item.slice(eq + 1), item) : undefined;
    return { name: target, endpoint: parseEndpoint(target), ...(pool ? { subnetPool: pool } : {}) };
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new UsageError(`--engines names ${s.name} twice`);
    seen.add(s.name);
  }
  const pools = specs.map((s, i) => s.subnetPool ?? defaultPool(i) ?? DEFAULT_POOL);
  const clash = pools.find((p, i) => pools.some((q, j) => j < i && overlaps(p, q)));
  if (clash) throw new UsageError(`--engines: two engines would take their lab subnets from ${clash}`);
  return specs;
}

/**
 * The i-th engine's pool unless told: the first keeps hurrynet's default (or HURRYNET_SUBNET_POOL),
 * the next take 10.249/16, 10.248/16, …, so engines of one host never pick the same subnet (each
 * sees only its own networks). scripts/engine2.sh gives the second engine 10.249/16 too.
 */
export function defaultPool(index: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (index === 0) return env.HURRYNET_SUBNET_POOL;
  return `10.${250 - Math.min(index, 200)}.0.0/16`;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readTls(dir: string, what: string): Tls {
  const files = ['ca.pem', 'cert.pem', 'key.pem'].map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new UsageError(`${what}: TLS files missing: ${missing.join(', ')}`);
  const [ca, cert, key] = files.map((f) => readFileSync(f));
  return { ca: ca as Buffer, cert: cert as Buffer, key: key as Buffer };
}

/** Where the docker CLI keeps its contexts (DOCKER_CONFIG, else ~/.docker). */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ?? join(homedir(), '.docker');
}

/** A context's endpoint and TLS directory, from the docker CLI's files (meta/<sha256 of the name>). */
export function readContext(name: string, configDir = dockerConfigDir()): { host: string; tlsDir?: string } {
  if (name === 'default') return { host: 'unix:///var/run/docker.sock' };
  const id = createHash('sha256').update(name).digest('hex');
  const meta = join(configDir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(meta))
    throw new UsageError(`there is no docker context named ${name} (docker context ls lists them; looked in ${meta})`);
  const parsed = JSON.parse(readFileSync(meta, 'utf8')) as { Endpoints?: { docker?: { Host?: string } } };
  const host = parsed.Endpoints?.docker?.Host;
  if (!host) throw new UsageError(`docker context ${name} has no Docker endpoint`);
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  return { host, ...(existsSync(tlsDir) ? { tlsDir } : {}) };
}

/** dockerode's options for an endpoint: TLS files from a context, or DOCKER_CERT_PATH for tcp://. */
export function dockerOptions(spec: EngineSpec, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  let endpoint = spec.endpoint;
  let tlsDir = env.DOCKER_CERT_PATH;
  if (endpoint.kind === 'context') {
    const ctx = readContext(endpoint.name, dockerConfigDir(env));
    endpoint = parseEndpoint(ctx.host);
    if (endpoint.kind === 'context') throw new UsageError(`docker context ${spec.name} points at another context`);
    tlsDir = ctx.tlsDir;
  }
  if (endpoint.kind === 'unix') return { socketPath: endpoint.socketPath };
  if (endpoint.kind !== 'tcp') throw new UsageError(`${spec.name}: not an engine endpoint`);
  if (!tlsDir) {
    // The Docker API is root on its machine: only this machine's loopback may go without TLS.
    if (!LOOPBACK.test(endpoint.host))
      throw new UsageError(
        `${spec.name}: a tcp engine on another machine needs TLS: set DOCKER_CERT_PATH to a directory with ` +
          'ca.pem, cert.pem and key.pem, or use a docker context made with --docker "host=…,ca=…,cert=…,key=…"',
      );
    return { host: endpoint.host, port: endpoint.port, protocol: 'http' };
  }
  return { host: endpoint.host, port: endpoint.port, protocol: 'https', ...readTls(tlsDir, spec.name) };
}

/** The Driver of the index-th engine of a list. */
export function connect(spec: EngineSpec, index: number, env: NodeJS.ProcessEnv = process.env): Driver {
  const pool = spec.subnetPool ?? defaultPool(index, env);
  return new Driver(undefined, {
    connection: dockerOptions(spec, env),
    endpoint: spec.name,
    ...(pool ? { subnetPool: pool } : {}),
  });
}
