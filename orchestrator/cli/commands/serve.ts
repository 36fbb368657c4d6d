import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { isLoopback } from '../../ui/auth.js';
import { connect, parseEngines, type EngineSpec } from '../../runtime/endpoint.js';
import type { Driver } from '../../runtime/driver.js';
import type { ClassEngine } from '../../classroom/server.js';
import type { Cli } from '../context.js';
import { bold, dim } from '../ui.js';
import { parseHost, parsePort } from './ui.js';

export interface ServeOptions {
  class: string;
  listen: { host: string; port: number };
  data: string;
  cert?: string;
  key?: string;
  behindProxy: boolean;
  publicUrl?: string;
  memory?: number;
  cpus?: number;
  idle: number;
  engines?: EngineSpec[];
  addLearner: string[];
  revoke: string[];
}

export const DEFAULT_LISTEN = '127.0.0.1:8800';

export function parseListen(v: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected HOST:PORT, such as 127.0.0.1:8800 or 0.0.0.0:443');
  return { host: parseHost(m[1] as string), port: parsePort(m[2] as string) };
}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of ${what}`);
  return n;
};
const collect = (v: string, all: string[]) => [...all, v];

/**
 * The room a class's worlds may take on an engine: --memory/--cpus when given, else most of the
 * engine machine's memory, and 8 CPUs a core (idle worlds share them). A machine that does not say
 * (docker info without MemTotal or NCPU) counts as this one.
 */
export function engineBudget(
  info: { memTotal: number; ncpu: number },
  o: Pick<ServeOptions, 'memory' | 'cpus'>,
): { memoryMb: number; cpus: number } {
  const memTotal = info.memTotal > 0 ? info.memTotal : totalmem();
  const ncpu = info.ncpu > 0 ? info.ncpu : Math.max(1, cpus().length);
  return { memoryMb: o.memory ?? Math.floor((memTotal / 1024 / 1024) * 0.8), cpus: o.cpus ?? ncpu * 8 };
}

/** Each engine of --engines answers and has the lab images (built there now if not), or serve stops. */
async function connectEngines(specs: EngineSpec[], o: ServeOptions): Promise<ClassEngine[]> {
  const { getImages } = await import('../../runtime/engine.js');
  return Promise.all(
    specs.map(async (spec, i) => {
      const driver: Driver = connect(spec, i);
      const info = await driver.info().catch((err: Error) => {
        throw new UsageError(`engine ${spec.name} does not answer: ${err.message}`);
      });
      await getImages(driver, (line) => process.stderr.write(`${dim(`[${spec.name}]`)} ${line}\n`));
      return { name: spec.name, driver, budget: engineBudget(info, o) };
    }),
  );
}

/** Refuses a listener that would send links and cookies in the clear over a network. */
export function checkListen(o: Pick<ServeOptions, 'listen' | 'cert' | 'key' | 'behindProxy'>): void {
  if (!!o.cert !== !!o.key) throw new UsageError('--cert and --key go together: give both, or neither');
  if (o.cert && o.behindProxy) throw new UsageError('--cert/--key and --behind-proxy exclude each other');
  if (!isLoopback(o.listen.host) && !o.cert && !o.behindProxy)
    throw new UsageError(
      `--listen ${o.listen.host} is reachable from the network: give --cert FILE --key FILE for https, or --behind-proxy ` +
        `when a reverse proxy in front serves https (docs/classroom.md)`,
    );
}

async function serve(cli: Cli, o: ServeOptions): Promise<void> {
  const { loadClassFile } = await import('../../classroom/class-file.js');
  const spec = await loadClassFile(o.class);
  checkListen(o);
  mkdirSync(o.data, { recursive: true, mode: 0o700 });
  // Loaded only here: the other commands never load the SQLite module.
  const { Store } = await import('../../classroom/store.js');
  const roster = await import('../../classroom/roster.js');
  const store = new Store(join(o.data, 'class.db'));
  const csv = join(o.data, 'learners.csv');
  const scheme = o.cert || o.behindProxy ? 'https' : 'http';
  const shownHost = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  const publicUrl = (port: number) => o.publicUrl ?? `${scheme}://${shownHost}:${port}`;
  try {
    // --add-learner / --revoke change the class and stop: a running server sees the change at once.
    if (o.addLearner.length || o.revoke.length) {
      const { learnerIdProblem } = await import('../../classroom/class-file.js');
      const issued = [];
      for (const entry of o.addLearner) {
        const [id = '', ...name] = entry.split(':');
        const problem = learnerIdProblem(id);
        if (problem) throw new UsageError(problem);
        store.upsertLearner({ id, name: name.join(':') || id });
        const token = store.issueToken({ role: 'learner', learnerId: id }, { revokeOthers: true });
        issued.push({ learnerId: id, name: name.join(':') || id, url: roster.linkOf(publicUrl(o.listen.port), token) });
        store.audit('teacher', 'added a learner', id);
      }
      if (issued.length) roster.appendLinks(csv, issued, new Date());
      for (const id of o.revoke) {
        if (!store.learner(id)) throw new UsageError(`there is no learner "${id}" in ${o.data}`);
        store.revokeLearner(id);
        store.audit('teacher', 'revoked a learner', id);
      }
      process.stdout.write(
        [
          ...issued.map((l) => `added ${bold(l.learnerId)}: ${l.url}`),
          ...o.revoke.map((id) => `revoked ${bold(id)}: their link and sessions no longer work`),
          issued.length ? dim(`the new links are also in ${csv}`) : '',
        ]
          .filter(Boolean)
          .join('\n') + '\n',
      );
      return;
    }
    const engines = o.engines ? await connectEngines(o.engines, o) : undefined;
    const driver = engines?.[0]?.driver ?? cli.driver();
    await driver.ping();
    const { startClassServer } = await import('../../classroom/server.js');
    const server = await startClassServer({
      driver,
      ...(engines ? { engines } : {}),
      spec,
      store,
      host: o.listen.host,
      port: o.listen.port,
      ...(o.cert && o.key ? { tls: { cert: readFileSync(o.cert), key: readFileSync(o.key) } } : {}),
      behindProxy: o.behindProxy,
      budget: engineBudget({ memTotal: totalmem(), ncpu: cpus().length }, o),
      idleMs: o.idle * 60_000,
      log: (line) => process.stderr.write(`${dim(new Date().toLocaleTimeString())} ${line}\n`),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        throw new UsageError(`port ${o.listen.port} is in use: choose another with --listen`);
      if (err.code === 'EADDRNOTAVAIL')
        throw new UsageError(`cannot listen on ${o.listen.host}: not an address of this machine`);
      throw err;
    });
    const url = publicUrl(server.port);
    const issued = roster.syncRoster(store, spec, url);
    if (issued.length) roster.appendLinks(csv, issued, new Date());
    const teacher = roster.teacherLink(store, url);
    store.audit('server', 'started', `${spec.learners.length} learners, labs ${spec.labs.join(' ')}`);
    process.stdout.write(
      `${bold('hurrynet serve')}: class ${bold(spec.name)} on ${server.origin}\n` +
        `  teacher: ${teacher}\n` +
        `  learners' links: ${csv}${issued.length ? ` (${issued.length} new)` : ''}\n` +
        (engines && engines.length > 1
          ? `  engines: ${engines.map((e) => `${e.name} (${Math.round(e.budget.memoryMb / 1024)} GB for worlds)`).join(', ')}\n`
          : '') +
        dim(`Ctrl-C stops the server; the learners' worlds keep running, and the next start finds them again.\n`),
    );
    await new Promise<void>((done) => {
      const stopNow = () => {
        process.off('SIGINT', stopNow);
        process.off('SIGTERM', stopNow);
        done();
      };
      process.on('SIGINT', stopNow);
      process.on('SIGTERM', stopNow);
    });
    await server.close();
    store.audit('server', 'stopped');
    process.stderr.write("\nhurrynet serve stopped; the learners' worlds keep running.\n");
  } finally {
    store.close();
  }
}

export function register(program: Command, cli: Cli): void {
  program
    .command('serve')
    .description('a class on one server: every learner in the browser with their own world, the teacher watching')
    .requiredOption('--class <file>', 'class.yaml: the learners and the labs open to them')
    .addOption(
      new Option('--listen <host:port>', 'where to listen')
        .default(parseListen(DEFAULT_LISTEN), DEFAULT_LISTEN)
        .argParser(parseListen),
    )
    .option('--data <dir>', 'where the class keeps its state (SQLite) and learners.csv', 'hurrynet-class')
    .option('--cert <file>', 'serve https with this certificate (PEM)')
    .option('--key <file>', "the certificate's private key (PEM)")
    .option('--behind-proxy', 'a reverse proxy in front serves https and checks the Host', false)
    .option('--public-url <url>', "the address learners open (the proxy's), for the links")
    .addOption(
      new Option('--memory <mb>', "memory the learners' worlds may take (default: 80% of this machine's)").argParser(
        positive('MB'),
      ),
    )
    .addOption(
      new Option('--cpus <n>', 'CPU budget of the worlds (default: 8 per core; idle worlds share)').argParser(
        positive('CPUs'),
      ),
    )
    .addOption(
      new Option(
        '--idle <minutes>',
        "stop a learner's world nobody looked at for this long (0: never); it starts again at their next visit",
      )
        .default(45)
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of minutes (0: never)');
          return n;
        }),
    )
    .addOption(
      new Option(
        '--engines <list>',
        "Docker engines for the learners' worlds, comma-separated: unix:///PATH, tcp://HOST:PORT (TLS from " +
          'DOCKER_CERT_PATH) or docker context names, each optionally =POOL (its lab subnets). Each learner is ' +
          'placed on the least loaded engine and stays there',
      ).argParser((v) => {
        try {
          return parseEngines(v);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      }),
    )
    .option('--add-learner <id[:name]>', 'add a learner (or give one a new link) and stop', collect, [])
    .option('--revoke <id>', "revoke a learner's link and sessions and stop", collect, [])
    .addHelpText(
      'after',
      `
Each learner's personal link is written to <data>/learners.csv (readable only by you); the teacher's
link is printed at every start. Examples:
  hurrynet serve --class class.yaml
  hurrynet serve --class class.yaml --listen 0.0.0.0:8443 --cert cert.pem --key key.pem
  hurrynet serve --class class.yaml --engines unix:///var/run/docker.sock,lab-server-2
  hurrynet serve --class class.yaml --add-learner grace:"Grace Hopper"
  hurrynet serve --class class.yaml --revoke ada`,
    )
    .action(async (raw: ServeOptions) => {
      if (!existsSync(raw.class)) throw new UsageError(`there is no class file ${raw.class}`);
      await serve(cli, { ...raw, class: resolve(raw.class), data: resolve(raw.data) });
    });
}
