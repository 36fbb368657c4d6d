// Instance lifecycle: a world plan becomes running containers (and goes away again) through the
// driver. Creation runs in parallel; readiness is each node's own "ready" line, with a deadline.
import { userInfo } from 'node:os';
import { allocateSubnets, DEFAULT_POOL, SUBNET_LENGTH } from '../world/addresses.js';
import { AbortedError, InstanceExistsError, NodeStartError, NoSuchInstanceError, UnknownNodeError } from '../errors.js';
import { loadScale } from './load.js';
import { Driver, NodeDiedError, type ContainerInfo, type NetworkInfo } from './driver.js';
import { ensureImages, imagesReady, type ImageSet, type Progress } from './images.js';
import { LABEL, planInstance, PROJECT, validateInstanceName, type InstancePlan } from './plan.js';
import { newBridgeSalt, sealBridges, type SealOutcome } from './seal.js';
import { canonicalWorld, type World } from '../world/world.js';

export const READY_MARKER = 'hurrynet: ready';

export function defaultInstance(): string {
  const fromEnv = process.env.HURRYNET_INSTANCE;
  if (fromEnv) return fromEnv;
  let name = 'root';
  try {
    name = userInfo().username;
  } catch {
    /* no passwd entry: keep the fallback */
  }
  name = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 24);
  return /^[a-z]/.test(name) ? name : `u${name}`.slice(0, 24);
}

/** The --instance option to repeat in a suggested command, or nothing for the default instance. */
function instanceArg(instance: string): string {
  return instance === defaultInstance() ? '' : ` --instance ${instance}`;
}

export { AbortedError, InstanceExistsError, NodeStartError, NoSuchInstanceError, UnknownNodeError } from '../errors.js';

export interface UpOptions {
  instance: string;
  lab?: string;
  world?: World;
  progress?: Progress;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  /** Remove a running instance of the same name first instead of failing. */
  replace?: boolean;
  /** More labels for every object (for example the lab's seed). */
  labels?: Record<string, string>;
  /** CPU limit per container, in cores. */
  cpus?: number;
}

export interface UpResult {
  plan: InstancePlan;
  seconds: number;
  leftoversRemoved: number;
  fromStandby?: boolean;
  /** Whether the host was sealed from this world's bridges (docs/seal.md). */
  seal?: SealOutcome;
}

// Parallel `up`s in one process must not pick the same subnets before Docker has seen them.
let allocationQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = allocationQueue.then(fn, fn);
  allocationQueue = next.catch(() => undefined);
  return next;
}

function subnetPool(driver: Driver): string {
  return driver.subnetPool ?? process.env.HURRYNET_SUBNET_POOL ?? DEFAULT_POOL;
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortedError();
}

/** Settles every promise, then throws the first failure: nothing is still being created after. */
async function allOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export async function getImages(driver: Driver, progress: Progress): Promise<ImageSet> {
  return (await imagesReady(driver)) ?? (await ensureImages(driver, progress)).images;
}

export async function up(driver: Driver, opts: UpOptions): Promise<UpResult> {
  const started = Date.now();
  const instance = validateInstanceName(opts.instance);
  const world = opts.world ?? canonicalWorld;
  const progress = opts.progress ?? (() => undefined);
  await driver.ping();

  const leftoversRemoved = await clearLeftovers(driver, instance, !!opts.replace);
  const images = await getImages(driver, progress);
  checkAborted(opts.signal);

  let plan: InstancePlan | undefined;
  try {
    // A busy machine gets proportionally longer to bring services up before a node counts as broken.
    const scale = loadScale();
    plan = await createObjects(
      driver,
      world,
      instance,
      opts.lab,
      images,
      opts.signal,
      opts.labels,
      opts.cpus,
      scale > 1 ? Math.round(30 * scale) : undefined,
    );
    checkAborted(opts.signal);
    // Before any node starts, so that not one frame of the lab reaches the host's own stack.
    const seal = await sealBridges(
      driver,
      plan.networks.map((n) => n.bridge),
      { image: images.base, labels: { [LABEL.instance]: instance } },
    );
    checkAborted(opts.signal);
    progress(`starting ${plan.containers.length} nodes...`);
    const timeout = opts.readyTimeoutMs ?? Math.round(60000 * scale);
    // Nodes whose services take longest to answer (the web app, bind) are started first.
    const weight = (c: InstancePlan['containers'][number]) =>
      c.role === 'web' ? 3 : c.role === 'dns' ? 2 : (c.env.HN_SERVICES ?? '') ? 1 : 0;
    const order = [...plan.containers].sort((a, b) => weight(b) - weight(a));
    await allOrThrow(
      order.map(async (c) => {
        await driver.start(c.name);
        try {
          await driver.waitForLine(c.name, READY_MARKER, timeout, opts.signal);
        } catch (err) {
          if (err instanceof NodeDiedError) throw new NodeStartError(c.node, err.message, err.lastLines);
          throw err;
        }
      }),
    );
    checkAborted(opts.signal);
    return { plan, seconds: (Date.now() - started) / 1000, leftoversRemoved, seal };
  } catch (err) {
    // Never leave half a world behind: Ctrl-C, a dead node or a Docker error all end here.
    await stop(driver, instance).catch(() => undefined);
    if (opts.signal?.aborted) throw new AbortedError();
    throw err;
  }
}

async function createObjects(
  driver: Driver,
  world: World,
  instance: string,
  lab: string | undefined,
  images: ImageSet,
  signal?: AbortSignal,
  labels?: Record<string, string>,
  cpus?: number,
  readySeconds?: number,
): Promise<InstancePlan> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await serialized(async () => {
        const taken = (await driver.listNetworks()).flatMap((n) => n.subnets);
        // First try the start of the pool; after a clash with another process, a random place.
        const start = attempt === 0 ? 0 : Math.floor(Math.random() * 4096);
        const chosen = allocateSubnets(subnetPool(driver), taken, world.links.length, SUBNET_LENGTH, start);
        const subnets = Object.fromEntries(world.links.map((l, i) => [l.name, chosen[i] as string]));
        const plan = planInstance(world, {
          instance,
          lab,
          subnets,
          images: images.roles,
          labels,
          cpus,
          readySeconds,
          bridgeSalt: newBridgeSalt(),
        });
        checkAborted(signal);
        await allOrThrow(plan.networks.map((n) => driver.createNetwork(n)));
        return plan;
      }).then(async (plan) => {
        checkAborted(signal);
        await allOrThrow(plan.containers.map((c) => driver.createContainer(c)));
        await allOrThrow(plan.containers.flatMap((c) => c.networks.slice(1).map((n) => driver.connect(n, c.name))));
        return plan;
      });
    } catch (err) {
      // Another process may have taken the same subnets between our look and our create; or
      // another engine on this host was rewriting the same iptables chains at that moment.
      const message = (err as Error).message;
      const overlap = /overlap/i.test(message);
      const iptablesRace =
        /unable to (remove|add|insert) jump|DOCKER-ISOLATION|xtables lock|iptables.*(temporarily|exit status 4)/i.test(
          message,
        );
      if (!(overlap || iptablesRace) || attempt >= 8) throw err;
      await stop(driver, instance);
    }
  }
}

/**
 * Seals the host against the bridges of a running instance (a claimed standby world was sealed
 * when it was made; this confirms it and mends what changed since).
 */
export async function sealInstance(driver: Driver, instance: string): Promise<SealOutcome> {
  const { containers } = await instanceObjects(driver, instance);
  const networks = [...new Set(containers.flatMap((c) => c.networks))];
  const bridges = (await Promise.all(networks.map((n) => driver.bridgeOf(n)))).filter((b): b is string => !!b);
  return sealBridges(driver, bridges, { labels: { [LABEL.instance]: instance } });
}

/**
 * Leftovers of an instance with this name: a healthy running instance is an error (unless
 * replacing it); anything half-made from a crash or Ctrl-C is removed.
 */
export async function clearLeftovers(driver: Driver, instance: string, replace: boolean): Promise<number> {
  const { containers, networks } = await instanceObjects(driver, instance);
  if (!containers.length && !networks.length) return 0;
  const nodes = containers.filter((c) => c.labels[LABEL.kind] !== 'probe');
  const healthy = nodes.length > 0 && nodes.every((c) => c.state === 'running');
  if (healthy && !replace) {
    throw new InstanceExistsError(
      `instance "${instance}" is already running. Open it with "npx hurrynet shell${instanceArg(instance)}", ` +
        `stop it with "npx hurrynet stop${instanceArg(instance)}", or pick another name with --instance.`,
    );
  }
  await stop(driver, instance);
  return containers.length + networks.length;
}

export interface StopResult {
  containers: number;
  networks: number;
  seconds: number;
}

/**
 * The instance a container belongs to. Its name says so: a standby world is created under its own
 * name and renamed when a lab claims it (labels cannot change), so labels name the world it was
 * created as, and names the instance it serves.
 */
export function instanceOf(c: ContainerInfo): string | undefined {
  const node = c.labels[LABEL.node];
  const prefix = `${PROJECT}-`;
  if (c.labels[LABEL.kind] === 'probe' || !node || !c.name.startsWith(prefix) || !c.name.endsWith(`-${node}`)) {
    return c.labels[LABEL.instance];
  }
  return c.name.slice(prefix.length, c.name.length - node.length - 1);
}

/** Containers of an instance (nodes and probes) and the networks of the worlds they came from. */
export async function instanceObjects(
  driver: Driver,
  instance: string,
): Promise<{ containers: ContainerInfo[]; networks: NetworkInfo[] }> {
  const [all, nets] = await Promise.all([
    driver.listContainers(Driver.projectLabels()),
    driver.listNetworks(Driver.projectLabels()),
  ]);
  const containers = all.filter((c) => instanceOf(c) === instance);
  const worlds = new Set([instance, ...containers.map((c) => c.labels[LABEL.instance])]);
  return { containers, networks: nets.filter((n) => worlds.has(n.labels[LABEL.instance])) };
}

/** Removes an instance's containers, then its networks. "Already gone" counts as success. */
export async function stop(driver: Driver, instance: string): Promise<StopResult> {
  const started = Date.now();
  const { containers, networks } = await instanceObjects(driver, instance);
  await removeAll(driver, containers, networks);
  return { containers: containers.length, networks: networks.length, seconds: (Date.now() - started) / 1000 };
}

/**
 * Removes containers and networks, each network as soon as the containers attached to it are
 * gone: network removal (slow: the daemon rewrites host firewall rules) overlaps the rest.
 */
async function removeAll(driver: Driver, containers: ContainerInfo[], networks: NetworkInfo[]): Promise<void> {
  // Measured on Docker 20.10: removing containers one at a time is faster than all at once (the
  // daemon serializes them and contends), and each network can go as soon as its last container
  // has, overlapping the slow network removals (host firewall rules) with the rest.
  const remaining = new Map(
    networks.map((n) => [n.name, new Set(containers.filter((c) => c.networks.includes(n.name)).map((c) => c.id))]),
  );
  const byId = new Map(networks.map((n) => [n.name, n.id]));
  const netRemovals: Promise<void>[] = [];
  const releaseFreed = () => {
    for (const [name, left] of remaining) {
      if (left.size === 0) {
        remaining.delete(name);
        netRemovals.push(handled(driver.removeNetwork(byId.get(name) as string)));
      }
    }
  };
  releaseFreed();
  const order = removalOrder(containers, remaining);
  let failure: unknown;
  for (const c of order) {
    try {
      await driver.removeContainer(c.id);
    } catch (err) {
      failure ??= err;
    }
    for (const left of remaining.values()) left.delete(c.id);
    releaseFreed();
  }
  // A network whose container could not be removed is attempted anyway and reports its own error.
  for (const [name] of remaining) netRemovals.push(driver.removeNetwork(byId.get(name) as string));
  await allOrThrow(netRemovals);
  if (failure) throw failure;
}

/**
 * The same promise, marked as handled now: it is awaited only after other work, and a rejection
 * meanwhile must not count as unhandled (that ends a Node process). allOrThrow still sees it.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Containers ordered so that networks empty as early as possible (the smallest network first). */
export function removalOrder<C extends { id: string }>(containers: C[], members: Map<string, Set<string>>): C[] {
  const left = new Map([...members].map(([k, v]) => [k, new Set(v)]));
  const todo = new Map(containers.map((c) => [c.id, c]));
  const out: C[] = [];
  while (todo.size) {
    const smallest = [...left.values()].filter((s) => s.size > 0).sort((a, b) => a.size - b.size)[0];
    const nextIds = smallest ? [...smallest] : [...todo.keys()];
    for (const id of nextIds) {
      const c = todo.get(id);
      if (!c) continue;
      out.push(c);
      todo.delete(id);
      for (const s of left.values()) s.delete(id);
    }
  }
  return out;
}

/** Removes every container and network hurrynet made, across all instances. */
export async function clean(driver: Driver): Promise<StopResult> {
  const started = Date.now();
  const labels = Driver.projectLabels();
  const [containers, networks] = await Promise.all([driver.listContainers(labels), driver.listNetworks(labels)]);
  await removeAll(driver, containers, networks);
  return { containers: containers.length, networks: networks.length, seconds: (Date.now() - started) / 1000 };
}

export interface NodeStatus {
  node: string;
  container: string;
  state: string;
  ready: boolean;
  addresses: { link: string; address: string }[];
}

export interface InstanceStatus {
  instance: string;
  lab: string;
  healthy: boolean;
  nodes: NodeStatus[];
}

export async function listInstances(driver: Driver): Promise<Map<string, ContainerInfo[]>> {
  const containers = await driver.listContainers(Driver.projectLabels());
  const byInstance = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    // Probe sidecars of a check run are not part of the world.
    if (c.labels[LABEL.kind] === 'probe') continue;
    const name = instanceOf(c) ?? '?';
    byInstance.set(name, [...(byInstance.get(name) ?? []), c]);
  }
  return byInstance;
}

/** Parses `ip -o -4 addr show` lines into link/address pairs (loopback left out). */
export function parseAddresses(text: string): { link: string; address: string }[] {
  const out: { link: string; address: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (m && m[1] !== 'lo') out.push({ link: (m[1] as string).replace(/@.*/, ''), address: m[2] as string });
  }
  return out;
}

/** A node's addresses in the order its world lists its links: the kernel's order differs between engines. */
function inWorldOrder(node: string, addresses: { link: string; address: string }[]) {
  const links = canonicalWorld.nodes.find((n) => n.name === node)?.interfaces.map((i) => i.link) ?? [];
  const rank = (link: string) => (links.includes(link) ? links.indexOf(link) : links.length);
  return [...addresses].sort((a, b) => rank(a.link) - rank(b.link));
}

export async function status(driver: Driver, only?: string): Promise<InstanceStatus[]> {
  const byInstance = await listInstances(driver);
  const result: InstanceStatus[] = [];
  for (const [instance, containers] of [...byInstance.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (only && instance !== only) continue;
    const nodes = await Promise.all(
      containers.map(async (c): Promise<NodeStatus> => {
        const node = c.labels[LABEL.node] ?? c.name;
        if (c.state !== 'running') return { node, container: c.name, state: c.state, ready: false, addresses: [] };
        const r = await driver
          .exec(c.id, ['sh', '-c', 'test -f /run/hurrynet/ready && echo READY; ip -o -4 addr show'], {
            timeoutMs: 5000,
          })
          .catch(() => undefined);
        return {
          node,
          container: c.name,
          state: c.state,
          ready: !!r?.stdout.includes('READY'),
          addresses: r ? inWorldOrder(node, parseAddresses(r.stdout)) : [],
        };
      }),
    );
    const order = canonicalWorld.nodes.map((n) => n.name);
    nodes.sort((a, b) => order.indexOf(a.node) - order.indexOf(b.node));
    result.push({
      instance,
      lab: containers[0]?.labels[LABEL.lab] ?? 'free',
      healthy: nodes.every((n) => n.ready),
      nodes,
    });
  }
  return result;
}

/** The container of a node in an instance, with a helpful error when either does not exist. */
export async function nodeContainer(driver: Driver, instance: string, node: string): Promise<string> {
  const containers = (await listInstances(driver)).get(instance) ?? [];
  if (!containers.length) {
    const others = [...(await listInstances(driver)).keys()];
    throw new NoSuchInstanceError(
      `no instance "${instance}" is running.` +
        (others.length
          ? ` Running instances: ${others.join(', ')} (choose one with --instance).`
          : ` Start one with "npx hurrynet up${instanceArg(instance)}" or "npm run lab N${instanceArg(instance) ? ` --${instanceArg(instance)}` : ''}".`),
    );
  }
  // The nodes are whatever this instance runs: a lab may add nodes to the canonical world.
  const c = containers.find((x) => x.labels[LABEL.node] === node);
  if (!c) {
    const order = canonicalWorld.nodes.map((n) => n.name);
    const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
    const names = containers
      .map((x) => x.labels[LABEL.node] ?? '?')
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    throw new UnknownNodeError(`unknown node "${node}". The nodes are: ${names.join(', ')}`);
  }
  if (c.state !== 'running')
    throw new Error(
      `node ${node} of instance "${instance}" is ${c.state}; restart the instance with "npx hurrynet up --replace${instanceArg(instance)}"`,
    );
  return c.name;
}
