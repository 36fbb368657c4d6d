// Bob's web site as Alice's side of the world reaches it, for the labs that judge HTTP and TLS
// (10, 12): its name and public address, Alice's LAN and public address, the grader's fresh laptop
// on that LAN, and the far-end proof in Bob's access log that a request of this run arrived.
import type { CheckContext, Evidence, Host } from '../../checks/types.js';
import type { World } from '../../orchestrator/world/world.js';
import { accessEntriesWith, type AccessEntry } from './logs.js';
import { addressOf, nodeOf } from './world.js';

/** Bob's web site: the record "web" of the zone bob.example. */
export const WEB_HOST = 'web.bob.example';

/** The value of a name's A record in the world's own zones (undefined when the zones have none). */
export function recordOf(world: World, name: string): string | undefined {
  for (const zone of world.settings.zones) {
    const label =
      name === zone.name ? '@' : name.endsWith(`.${zone.name}`) ? name.slice(0, -zone.name.length - 1) : undefined;
    const record = label && zone.records.find((r) => r.name === label && r.type === 'A');
    if (record) return record.value;
  }
  return undefined;
}

/** Bob's public web address, as the world's zone publishes it; a world without it is a lab bug. */
export function webPublic(world: World): string {
  const address = recordOf(world, WEB_HOST);
  if (!address) throw new Error(`the world's zones have no A record for ${WEB_HOST}`);
  return address;
}

/** The link Alice's laptop is on: her home LAN. */
export function aliceLan(world: World): string {
  const [iface, ...more] = nodeOf(world, 'alice').interfaces;
  if (!iface || more.length) throw new Error('alice should sit on exactly one link, her home LAN');
  return iface.link;
}

/** Alice's public address: her home router's on the access link, the client Bob sees after her NAT. */
export function alicePublic(world: World): string {
  return addressOf(world, 'home', 'access');
}

/**
 * The grader's fresh laptop on Alice's LAN: it reaches Bob through her router and NAT like her
 * laptop does, but nothing the learner set on alice (hosts entries, redirects, relays) applies.
 */
export function aliceSide(ctx: CheckContext, world: World): Promise<Host> {
  return ctx.fresh(aliceLan(world));
}

/** Bob's access log entries whose path carries a token: the kit's search (kept under this name for its callers). */
export function loggedRequests(web: Host, token: string): Promise<{ entries: AccessEntry[]; evidence: Evidence }> {
  return accessEntriesWith(web, token);
}
