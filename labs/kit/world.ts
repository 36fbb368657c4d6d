// Facts about a lab's world that every lab needs: where a node is, and its address on a link.
// Always read from the lab's own world (overlay and variation applied), never from a copy.
import { findNode, type Node, type World } from '../../orchestrator/world/world.js';

/** An address without its prefix length: "192.168.1.1/24" -> "192.168.1.1". */
export function bare(cidr: string): string {
  return cidr.split('/')[0] as string;
}

/** A node of the world; a lab that names a node its world lacks is a bug, so this throws. */
export function nodeOf(world: World, name: string): Node {
  const node = findNode(world, name);
  if (!node) throw new Error(`the world has no node "${name}" (nodes: ${world.nodes.map((n) => n.name).join(', ')})`);
  return node;
}

/** The node's first address on the link (with its prefix), or on its only link when none is named. */
export function cidrOf(world: World, node: string, link?: string): string {
  const n = nodeOf(world, node);
  const iface = link
    ? n.interfaces.find((i) => i.link === link)
    : n.interfaces.length === 1
      ? n.interfaces[0]
      : undefined;
  const cidr = iface?.addresses[0];
  if (!cidr)
    throw new Error(
      `node "${node}" has no address${link ? ` on link "${link}"` : ' on a single link'} (links: ${n.interfaces.map((i) => i.link).join(', ')})`,
    );
  return cidr;
}

/** The node's first address on the link, without prefix length. */
export function addressOf(world: World, node: string, link?: string): string {
  return bare(cidrOf(world, node, link));
}

/** Every address of the node on the link (a node may carry several, e.g. the edge's public .80). */
export function addressesOf(world: World, node: string, link: string): string[] {
  return (nodeOf(world, node).interfaces.find((i) => i.link === link)?.addresses ?? []).map(bare);
}
