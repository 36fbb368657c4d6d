// What a lab changes in the world, in one line each: the nodes and links it adds or removes, the
// prefixes and addresses it moves. `lab` prints them under the map, so a learner knows which parts
// of the README's world table do not hold in this lab. Pure: two worlds in, sentences out.
import type { Interface, Node, World } from './world.js';

function addresses(n: Node): string {
  const on = n.interfaces.map((i) => `${i.link} ${i.addresses.length ? i.addresses.join(', ') : '(no address)'}`);
  return on.join('; ');
}

function interfaceChange(node: string, before: Interface | undefined, after: Interface): string | undefined {
  const was = before?.addresses ?? [];
  const now = after.addresses;
  if (before && was.join() === now.join()) return undefined;
  if (!before) return `${node} joins ${after.link}: ${now.join(', ') || '(no address)'}`;
  if (!now.length) return `${node} has no address on ${after.link} (it had ${was.join(', ')}: see the handout)`;
  if (!was.length) return `${node} has ${now.join(', ')} on ${after.link}`;
  return `${node} has ${now.join(', ')} on ${after.link} (not ${was.join(', ')})`;
}

/** The ways `world` differs from `base` that a learner can see with ip and dig. */
export function worldChanges(base: World, world: World): string[] {
  const out: string[] = [];
  const baseLinks = new Map(base.links.map((l) => [l.name, l]));
  for (const l of world.links) {
    const was = baseLinks.get(l.name);
    if (!was) out.push(`adds the link ${l.name} (${l.title}), ${l.prefix}`);
    else if (was.prefix !== l.prefix) out.push(`${l.name} is ${l.prefix} (not ${was.prefix})`);
  }
  for (const l of base.links) if (!world.links.some((x) => x.name === l.name)) out.push(`has no link ${l.name}`);
  const baseNodes = new Map(base.nodes.map((n) => [n.name, n]));
  for (const n of world.nodes) {
    const was = baseNodes.get(n.name);
    if (!was) {
      out.push(`adds ${n.name} (${n.title}): ${addresses(n)}`);
      continue;
    }
    for (const i of n.interfaces) {
      const line = interfaceChange(
        n.name,
        was.interfaces.find((x) => x.link === i.link),
        i,
      );
      if (line) out.push(line);
    }
    for (const i of was.interfaces)
      if (!n.interfaces.some((x) => x.link === i.link)) out.push(`${n.name} is not on ${i.link}`);
  }
  for (const n of base.nodes) if (!world.nodes.some((x) => x.name === n.name)) out.push(`has no ${n.name}`);
  return out;
}
