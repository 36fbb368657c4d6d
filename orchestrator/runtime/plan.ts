// Turns the world into a plan of Docker objects for one instance: plain data that the driver
// executes and the compose generator prints. Nothing here talks to Docker.
import { createHash } from 'node:crypto';
import { firstHost } from '../world/addresses.js';
import { nodeFiles, setupCommands } from '../world/config.js';
import type { Node, World } from '../world/world.js';

export const PROJECT = 'hurrynet';
export const LABEL = {
  project: 'io.hurrynet.project',
  instance: 'io.hurrynet.instance',
  lab: 'io.hurrynet.lab',
  node: 'io.hurrynet.node',
  link: 'io.hurrynet.link',
  kind: 'io.hurrynet.kind',
  seed: 'io.hurrynet.seed',
} as const;

/** Capabilities every node gets: enough for ip, iptables, tcpdump, conntrack and the services. */
export const COMMON_CAPS = [
  'NET_ADMIN',
  'NET_RAW',
  'NET_BIND_SERVICE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETUID',
  'SETGID',
  'KILL',
];

/** A node's capabilities: the common set and what its services need beyond it. */
export const nodeCaps = (node: Node): string[] => [...COMMON_CAPS, ...(node.extraCaps ?? [])];

export const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,23}$/;

export function validateInstanceName(name: string): string {
  if (!INSTANCE_NAME.test(name)) {
    throw new Error(
      `invalid instance name "${name}": use 1-24 lowercase letters, digits or dashes, starting with a letter (for example "lab3" or "alice-2")`,
    );
  }
  return name;
}

export interface NetworkPlan {
  link: string;
  name: string;
  /** The host's bridge device: hn-<hash>, so that the host seal's one rule covers every lab bridge. */
  bridge: string;
  subnet: string;
  gateway: string;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export interface ContainerPlan {
  node: string;
  name: string;
  hostname: string;
  image: string;
  role: Node['role'];
  /** Networks in attachment order: the first is given at create, the rest connected before start. */
  networks: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  capAdd: string[];
  sysctls: Record<string, string>;
  memoryBytes: number;
  pidsLimit: number;
  /** CPU share in cores (unset: no limit). Batch grading sets it so one submission cannot starve others. */
  cpus?: number;
}

export interface InstancePlan {
  instance: string;
  lab: string;
  networks: NetworkPlan[];
  containers: ContainerPlan[];
}

export const NETWORK_OPTIONS = {
  // The host gets no address on a lab bridge and Docker does not NAT it to the outside:
  // lab traffic stays on the bridge, and instances with identical story addresses never collide.
  'com.docker.network.bridge.inhibit_ipv4': 'true',
  'com.docker.network.bridge.enable_ip_masquerade': 'false',
  'com.docker.network.bridge.enable_icc': 'true',
};

export function networkName(instance: string, link: string): string {
  return `${PROJECT}-${instance}-${link}`;
}

/** Every lab bridge's name starts with this, so one host rule per family covers them all (seal.ts). */
export const BRIDGE_PREFIX = 'hn-';

/**
 * The host's bridge device for a network: unique per network and salt (two engines on one host
 * may each have a network of the same name), within the kernel's 15 characters.
 */
export function bridgeName(network: string, salt = ''): string {
  const hash = createHash('sha256').update(`${salt}\n${network}`).digest('hex');
  return BRIDGE_PREFIX + hash.slice(0, 15 - BRIDGE_PREFIX.length);
}

export function containerName(instance: string, node: string): string {
  return `${PROJECT}-${instance}-${node}`;
}

/**
 * The value of the project label on every container and network. HURRYNET_PROJECT gives a run its
 * own namespace (for example a test of "clean" that must not touch other people's labs on a shared
 * machine): stop, clean and status then see only its objects. Images stay shared.
 */
export function projectLabelValue(): string {
  return process.env.HURRYNET_PROJECT || PROJECT;
}

export function baseLabels(instance: string, lab: string): Record<string, string> {
  return { [LABEL.project]: projectLabelValue(), [LABEL.instance]: instance, [LABEL.lab]: lab };
}

function renderFiles(world: World, node: Node): string {
  return nodeFiles(world, node)
    .map((f) => `>>> ${f.path}\n${f.content.replace(/\n$/, '')}`)
    .join('\n');
}

/** The environment hurrynet-init reads; see images/base/hurrynet-init. */
export function nodeEnv(world: World, node: Node, subnets: Record<string, string>): Record<string, string> {
  const links = node.interfaces.map((i) => {
    const subnet = subnets[i.link];
    if (!subnet) throw new Error(`no Docker subnet planned for link ${i.link}`);
    return `${i.link}|${subnet}|${i.addresses.join(',')}`;
  });
  // Only the node's own name: every other name must come from DNS, as on a real network.
  const own = node.interfaces[0]?.addresses[0]?.split('/')[0];
  const hosts = own ? [`${own}\t${node.name}`] : [];
  const env: Record<string, string> = {
    HN_NODE: node.name,
    HN_LINKS: links.join(' '),
    HN_ROUTES: node.routes.map((r) => `${r.to} via ${r.via}`).join(';'),
    HN_NAMESERVER: node.nameserver,
    HN_HOSTS: hosts.join(';'),
    HN_SERVICES: node.services.join(' '),
  };
  const files = renderFiles(world, node);
  if (files) env.HN_FILES = files;
  const setup = setupCommands(node);
  if (setup.length) env.HN_SETUP = setup.join('\n');
  return env;
}

export interface PlanOptions {
  instance: string;
  lab?: string;
  /** Docker subnet per link, from the project's pool. */
  subnets: Record<string, string>;
  /** Image reference per role. */
  images: Record<Node['role'], string>;
  /** More labels for every object (for example the lab's seed). */
  labels?: Record<string, string>;
  cpus?: number;
  /** How long each node's init waits for its services (default 30 s inside the image). */
  readySeconds?: number;
  /** Makes bridge names unique on the host (two engines may each run an instance of one name). */
  bridgeSalt?: string;
}

export function planInstance(world: World, opts: PlanOptions): InstancePlan {
  const lab = opts.lab ?? 'free';
  const labels = { ...opts.labels, ...baseLabels(opts.instance, lab) };
  const networks = world.links.map((l) => {
    const subnet = opts.subnets[l.name];
    if (!subnet) throw new Error(`no Docker subnet planned for link ${l.name}`);
    const name = networkName(opts.instance, l.name);
    const bridge = bridgeName(name, opts.bridgeSalt);
    return {
      link: l.name,
      name,
      bridge,
      subnet,
      gateway: firstHost(subnet),
      labels: { ...labels, [LABEL.kind]: 'network', [LABEL.link]: l.name },
      options: { ...NETWORK_OPTIONS, 'com.docker.network.bridge.name': bridge },
    };
  });
  const containers = world.nodes.map((node) => ({
    node: node.name,
    name: containerName(opts.instance, node.name),
    hostname: node.name,
    image: opts.images[node.role],
    role: node.role,
    networks: node.interfaces.map((i) => networkName(opts.instance, i.link)),
    env: {
      ...nodeEnv(world, node, opts.subnets),
      ...(opts.readySeconds ? { HN_READY_SECONDS: String(opts.readySeconds) } : {}),
    },
    labels: { ...labels, [LABEL.kind]: 'node', [LABEL.node]: node.name },
    capAdd: nodeCaps(node),
    sysctls: {
      'net.ipv6.conf.all.disable_ipv6': '1',
      'net.ipv6.conf.default.disable_ipv6': '1',
      'net.ipv4.ip_forward': node.router ? '1' : '0',
      // The kernel's default of one ICMP error per second and destination makes traceroute show
      // stars right after a ping. The global budget (icmp_msgs_per_sec) still limits bursts.
      'net.ipv4.icmp_ratelimit': '0',
    },
    memoryBytes: node.memoryMb * 1024 * 1024,
    pidsLimit: 256,
    cpus: opts.cpus,
  }));
  return { instance: opts.instance, lab, networks, containers };
}
