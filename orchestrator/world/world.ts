// The canonical "Alice & Bob internet" as plain data. This is the single source of truth:
// the driver, the generated docker-compose.yml, the graph and the docs all read it.
// Labs overlay it (a lab's overlay() returns a changed copy) but never copy it.

import { contains, formatIp, networkOf, parseCidr, parseIp } from './addresses.js';

export type Role = 'alice' | 'router' | 'bgp' | 'dns' | 'web' | 'ftp' | 'mail';

/** A layer-2 segment (one Docker bridge network per instance). */
export interface Link {
  name: string;
  title: string;
  /** The story prefix carried on this link, e.g. 192.168.1.0/24. */
  prefix: string;
}

/** A node's attachment to a link, with its story addresses (CIDR). */
export interface Interface {
  link: string;
  addresses: string[];
}

export interface Route {
  /** Destination prefix or "default". */
  to: string;
  via: string;
}

/** Address translation on a router, as the story describes it (not as iptables spells it). */
export type NatRule =
  | { kind: 'masquerade'; outLink: string }
  | { kind: 'dnat'; publicAddress: string; privateAddress: string; proto?: 'tcp' | 'udp'; ports?: string }
  | { kind: 'snat'; privateAddress: string; publicAddress: string; outLink: string }
  | { kind: 'ftp-helper'; inLink: string };

/** A stateful "security group" rule: allow new flows arriving on inLink to a destination. */
export interface AllowRule {
  inLink: string;
  to: string;
  proto: 'tcp' | 'udp' | 'icmp';
  ports?: string;
  from?: string;
}

export interface Firewall {
  /** Links whose inbound new flows are filtered (return traffic is always allowed). */
  guardedLinks: string[];
  allow: AllowRule[];
}

export interface DnsRecord {
  name: string;
  type: 'A' | 'CNAME' | 'TXT' | 'NS' | 'MX';
  value: string;
}

export interface Zone {
  name: string;
  ttl: number;
  records: DnsRecord[];
}

export interface Node {
  name: string;
  title: string;
  role: Role;
  interfaces: Interface[];
  routes: Route[];
  nameserver: string;
  /** Forwards packets between its links (sets net.ipv4.ip_forward=1). */
  router: boolean;
  services: string[];
  nat?: NatRule[];
  firewall?: Firewall;
  /** Extra capabilities beyond the common set (for example SYS_CHROOT for vsftpd). */
  extraCaps?: string[];
  memoryMb: number;
  /** The node's BGP speaker (service bird): its autonomous system, what it announces, its peers. */
  bgp?: BgpSpeaker;
}

export interface BgpNeighbor {
  /** The peer's name (BIRD's protocol name, as birdc shows it). */
  name: string;
  address: string;
  asn: number;
  /** Prefixes refused from this peer (with everything more specific): a filter. */
  deny?: string[];
}

export interface BgpSpeaker {
  asn: number;
  routerId: string;
  /** Prefixes this AS originates (BIRD static routes exported to BGP). */
  networks: string[];
  neighbors: BgpNeighbor[];
}

/** Settings of the services that need world facts (addresses, ranges) in their config. */
export interface ServiceSettings {
  dhcp: { link: string; rangeStart: string; rangeEnd: string; leaseSeconds: number; router: string; dns: string };
  resolver: { upstream: string; cacheSize: number };
  zones: Zone[];
  ftp: { pasvAddress: string; pasvMinPort: number; pasvMaxPort: number };
}

export interface World {
  name: string;
  title: string;
  links: Link[];
  nodes: Node[];
  settings: ServiceSettings;
}

const PASV_MIN = 30000;
const PASV_MAX = 30009;

export const canonicalWorld: World = {
  name: 'alice-and-bob',
  title: 'The Alice & Bob internet',
  links: [
    { name: 'lan', title: "Alice's home network (private)", prefix: '192.168.1.0/24' },
    { name: 'access', title: "The ISP's access network (Alice's public side)", prefix: '203.0.113.0/24' },
    { name: 'backbone', title: 'The backbone (public addresses)', prefix: '198.51.100.0/24' },
    { name: 'vpc', title: "Bob's cloud network (private)", prefix: '10.0.1.0/24' },
  ],
  nodes: [
    {
      name: 'alice',
      title: "Alice's laptop",
      role: 'alice',
      interfaces: [{ link: 'lan', addresses: ['192.168.1.101/24'] }],
      routes: [{ to: 'default', via: '192.168.1.1' }],
      nameserver: '192.168.1.1',
      router: false,
      services: [],
      memoryMb: 256,
    },
    {
      name: 'home',
      title: "Alice's home router (NAT, DHCP, caching DNS)",
      role: 'router',
      interfaces: [
        { link: 'lan', addresses: ['192.168.1.1/24'] },
        { link: 'access', addresses: ['203.0.113.5/24'] },
      ],
      routes: [{ to: 'default', via: '203.0.113.1' }],
      nameserver: '127.0.0.1',
      router: true,
      services: ['dnsmasq'],
      nat: [
        { kind: 'masquerade', outLink: 'access' },
        { kind: 'ftp-helper', inLink: 'lan' },
      ],
      memoryMb: 64,
    },
    {
      name: 'isp',
      title: 'ISP router (stateless, routes by destination prefix)',
      role: 'router',
      interfaces: [
        { link: 'access', addresses: ['203.0.113.1/24'] },
        { link: 'backbone', addresses: ['198.51.100.1/24'] },
      ],
      routes: [],
      nameserver: '198.51.100.53',
      router: true,
      services: [],
      memoryMb: 64,
    },
    {
      name: 'dns',
      title: 'Authoritative DNS server (bind9)',
      role: 'dns',
      interfaces: [{ link: 'backbone', addresses: ['198.51.100.53/24'] }],
      routes: [{ to: 'default', via: '198.51.100.1' }],
      nameserver: '127.0.0.1',
      router: false,
      services: ['bind'],
      memoryMb: 128,
    },
    {
      name: 'edge',
      title: "Bob's cloud edge (security group, 1:1 NAT)",
      role: 'router',
      interfaces: [
        { link: 'backbone', addresses: ['198.51.100.2/24', '198.51.100.80/24'] },
        { link: 'vpc', addresses: ['10.0.1.1/24'] },
      ],
      routes: [{ to: 'default', via: '198.51.100.1' }],
      nameserver: '198.51.100.53',
      router: true,
      services: [],
      nat: [
        {
          kind: 'dnat',
          publicAddress: '198.51.100.80',
          privateAddress: '10.0.1.21',
          proto: 'tcp',
          ports: `21,${PASV_MIN}:${PASV_MAX}`,
        },
        { kind: 'dnat', publicAddress: '198.51.100.80', privateAddress: '10.0.1.10' },
        { kind: 'snat', privateAddress: '10.0.1.10', publicAddress: '198.51.100.80', outLink: 'backbone' },
        { kind: 'snat', privateAddress: '10.0.1.21', publicAddress: '198.51.100.80', outLink: 'backbone' },
      ],
      firewall: {
        guardedLinks: ['backbone'],
        allow: [
          { inLink: 'backbone', to: '10.0.1.10', proto: 'tcp', ports: '80,443' },
          { inLink: 'backbone', to: '10.0.1.10', proto: 'icmp' },
          // traceroute's default UDP probes, so that a trace ends at the server instead of timing out
          { inLink: 'backbone', to: '10.0.1.10', proto: 'udp', ports: '33434:33534' },
          { inLink: 'backbone', to: '10.0.1.21', proto: 'tcp', ports: `21,${PASV_MIN}:${PASV_MAX}` },
        ],
      },
      memoryMb: 64,
    },
    {
      name: 'web',
      title: "Bob's web server (express)",
      role: 'web',
      interfaces: [{ link: 'vpc', addresses: ['10.0.1.10/24'] }],
      routes: [{ to: 'default', via: '10.0.1.1' }],
      nameserver: '198.51.100.53',
      router: false,
      services: ['web'],
      memoryMb: 256,
    },
    {
      name: 'ftp',
      title: "Bob's file store (vsftpd)",
      role: 'ftp',
      interfaces: [{ link: 'vpc', addresses: ['10.0.1.21/24'] }],
      routes: [{ to: 'default', via: '10.0.1.1' }],
      nameserver: '198.51.100.53',
      router: false,
      services: ['vsftpd'],
      extraCaps: ['SYS_CHROOT'],
      memoryMb: 64,
    },
  ],
  settings: {
    dhcp: {
      link: 'lan',
      rangeStart: '192.168.1.100',
      rangeEnd: '192.168.1.199',
      leaseSeconds: 3600,
      router: '192.168.1.1',
      dns: '192.168.1.1',
    },
    resolver: { upstream: '198.51.100.53', cacheSize: 500 },
    zones: [
      {
        name: 'bob.example',
        ttl: 300,
        records: [
          { name: '@', type: 'NS', value: 'ns.bob.example.' },
          { name: 'ns', type: 'A', value: '198.51.100.53' },
          { name: 'web', type: 'A', value: '198.51.100.80' },
          { name: 'www', type: 'CNAME', value: 'web.bob.example.' },
          { name: 'ftp', type: 'A', value: '198.51.100.80' },
        ],
      },
      {
        name: 'isp.example',
        ttl: 300,
        records: [
          { name: '@', type: 'NS', value: 'ns.bob.example.' },
          { name: 'gw', type: 'A', value: '203.0.113.1' },
          { name: 'core', type: 'A', value: '198.51.100.1' },
        ],
      },
    ],
    ftp: { pasvAddress: '198.51.100.80', pasvMinPort: PASV_MIN, pasvMaxPort: PASV_MAX },
  },
};

export function findNode(world: World, name: string): Node | undefined {
  return world.nodes.find((n) => n.name === name);
}

export function nodeNames(world: World): string[] {
  return world.nodes.map((n) => n.name);
}

/** Where a fresh machine the grader attaches to a link sits (see CheckContext.fresh). */
export interface Seat {
  /** A spare address on the link, with its prefix length (highest free one, outside DHCP). */
  cidr: string;
  gateway?: string;
  nameserver: string;
}

/**
 * A seat on a link for the grader's own fresh machine. The gateway is the link's upstream router:
 * one whose own default route does not lead back over this link (home on Alice's LAN, the ISP on
 * the access and backbone links, the edge in the VPC).
 */
export function freshSeat(world: World, linkName: string, gateway?: string): Seat {
  const link = world.links.find((l) => l.name === linkName);
  if (!link)
    throw new Error(`no link "${linkName}" in this world (links: ${world.links.map((l) => l.name).join(', ')})`);
  const { address, length } = parseCidr(link.prefix);
  const onLink = world.nodes.flatMap((n) =>
    n.interfaces
      .filter((i) => i.link === linkName)
      .map((i) => ({ node: n, addresses: i.addresses.map((a) => a.split('/')[0] as string) })),
  );
  const used = new Set(onLink.flatMap((x) => x.addresses));
  const dhcp = world.settings.dhcp.link === linkName ? world.settings.dhcp : undefined;
  const inDhcp = (ip: number) => !!dhcp && ip >= parseIp(dhcp.rangeStart) && ip <= parseIp(dhcp.rangeEnd);
  const base = parseIp(networkOf(`${address}/${length}`).split('/')[0] as string);
  let spare: string | undefined;
  for (let ip = base + 2 ** (32 - length) - 2; ip > base; ip--) {
    if (!used.has(formatIp(ip)) && !inDhcp(ip)) {
      spare = formatIp(ip);
      break;
    }
  }
  if (!spare) throw new Error(`link "${linkName}" has no spare address for the grader's probe`);
  const upstream = onLink.find(
    ({ node }) => node.router && !node.routes.some((r) => r.to === 'default' && contains(link.prefix, r.via)),
  );
  const gw = gateway ?? dhcp?.router ?? upstream?.addresses[0];
  const gwNode = onLink.find((x) => gw !== undefined && x.addresses.includes(gw))?.node;
  const nameserver =
    dhcp?.dns ?? (gwNode && gwNode.nameserver !== '127.0.0.1' ? gwNode.nameserver : world.settings.resolver.upstream);
  return { cidr: `${spare}/${length}`, gateway: gw, nameserver };
}
