// Consistency rules for a world (the canonical one or a lab's overlay). Pure: returns problems.
import { contains, parseCidr } from './addresses.js';
import type { World } from './world.js';

const NAME = /^[a-z][a-z0-9]{0,11}$/; // also a Linux interface name (at most 15 characters)

/**
 * Words that iproute2, tcpdump or ifconfig read as something other than an interface name when a
 * learner types the plain form (`ip addr show home` filters for IPv6 home addresses and prints
 * nothing). Interfaces are named after their links, so no link may be called any of these.
 */
export const INTERFACE_KEYWORDS: ReadonlySet<string> = new Set([
  // ip address show: address flags and selectors
  'permanent',
  'dynamic',
  'secondary',
  'primary',
  'tentative',
  'deprecated',
  'dadfailed',
  'temporary',
  'home',
  'nodad',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'optimistic',
  'to',
  'scope',
  'up',
  'label',
  'dev',
  'master',
  'nomaster',
  'vrf',
  'type',
  'group',
  'help',
  'all',
  'protodown',
  // ip link show, ip route, tcpdump -i and ifconfig
  'alias',
  'any',
  'default',
  'local',
  'broadcast',
  'lo',
  'table',
  'via',
  'src',
  'proto',
  'metric',
  'down',
  'netmask',
  'add',
  'del',
  'mtu',
]);

export function worldProblems(world: World): string[] {
  const problems: string[] = [];
  const links = new Map(world.links.map((l) => [l.name, l]));
  const seen = new Set<string>();
  for (const l of world.links) {
    if (!NAME.test(l.name)) problems.push(`link name "${l.name}" must be 1-12 lowercase letters or digits`);
    if (INTERFACE_KEYWORDS.has(l.name))
      problems.push(
        `link name "${l.name}" is a keyword of ip, tcpdump or ifconfig: "ip addr show ${l.name}" would not show the interface`,
      );
    try {
      parseCidr(l.prefix);
    } catch (err) {
      problems.push(`link ${l.name}: ${(err as Error).message}`);
    }
  }
  const owners = new Map<string, string>();
  for (const n of world.nodes) {
    if (!NAME.test(n.name)) problems.push(`node name "${n.name}" must be 1-12 lowercase letters or digits`);
    if (seen.has(n.name)) problems.push(`node ${n.name} is declared twice`);
    seen.add(n.name);
    if (!n.interfaces.length) problems.push(`node ${n.name} is on no link`);
    for (const i of n.interfaces) {
      const link = links.get(i.link);
      if (!link) {
        problems.push(`node ${n.name} is on unknown link ${i.link}`);
        continue;
      }
      for (const a of i.addresses) {
        const address = a.split('/')[0] as string;
        if (!contains(link.prefix, address)) problems.push(`node ${n.name}: ${a} is outside ${i.link} ${link.prefix}`);
        const owner = owners.get(address);
        if (owner && owner !== n.name) problems.push(`address ${address} is used by both ${owner} and ${n.name}`);
        owners.set(address, n.name);
      }
    }
    for (const r of n.routes) {
      const onLink = n.interfaces.some((i) => {
        const link = links.get(i.link);
        return link && contains(link.prefix, r.via);
      });
      if (!onLink) problems.push(`node ${n.name}: gateway ${r.via} of route ${r.to} is on none of its links`);
    }
  }
  return problems;
}
