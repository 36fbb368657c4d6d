// The subnet pool hurrynet carves lab links from, against this machine's routes: a VPN or a LAN
// in the same range makes the host (and the engine's isolation rules) mistake one for the other.
import { formatIp, overlaps, parseCidr } from '../../world/addresses.js';
import { finding, isError, ok, unknownOnRemote, type Check } from '../findings.js';

export interface Route {
  dst: string;
  dev: string;
}

/** `ip -j route` → routes with a CIDR destination ("default" is 0.0.0.0/0, a bare address a /32). */
export function parseIpJsonRoutes(text: string): Route[] {
  const list = JSON.parse(text) as { dst?: string; dev?: string }[];
  return list.map((r) => {
    const dst = r.dst === 'default' || !r.dst ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    return { dst, dev: r.dev ?? '' };
  });
}

/** /proc/net/route: destination and mask are little-endian hex ("0000F60A" is 10.246.0.0). */
export function parseProcRoutes(text: string): Route[] {
  const hex = (h: string) => {
    const n = parseInt(h, 16);
    // Multiplications, not shifts: a shift into the top bit would turn the address negative.
    return (n & 0xff) * 2 ** 24 + ((n >>> 8) & 0xff) * 2 ** 16 + ((n >>> 16) & 0xff) * 2 ** 8 + ((n >>> 24) & 0xff);
  };
  const out: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [dev, dest, , , , , , mask] = cols;
    if (!dev || !dest || !mask || !/^[0-9A-Fa-f]{8}$/.test(dest)) continue;
    const bits = hex(mask).toString(2).replace(/0/g, '').length;
    out.push({ dst: `${formatIp(hex(dest))}/${bits}`, dev });
  }
  return out;
}

/** Pools to suggest instead, first free one wins. */
const ALTERNATIVES = [
  '10.251.0.0/16',
  '10.252.0.0/16',
  '10.253.0.0/16',
  '10.254.0.0/16',
  '172.30.0.0/16',
  '100.127.0.0/16',
];

export const subnets: Check = (inputs) => {
  const s = inputs.subnets;
  if (!s) return [];
  const id = 'subnets';
  const title = 'subnet pool';
  try {
    parseCidr(s.pool);
  } catch {
    return [
      finding(
        id,
        title,
        'fail',
        `HURRYNET_SUBNET_POOL=${s.pool} is not an IPv4 prefix`,
        'Set HURRYNET_SUBNET_POOL to a prefix such as 10.250.0.0/16, or unset it.',
      ),
    ];
  }
  if (!inputs.engineLocal)
    return [
      unknownOnRemote(
        inputs,
        id,
        title,
        'Nothing to do on Docker Desktop; elsewhere, make sure no route on the engine host covers the pool.',
      ),
    ];
  if (isError(s.routes))
    return [
      finding(
        id,
        title,
        'unknown',
        `this machine's routes could not be read: ${s.routes.error}`,
        `Check by hand that ip route shows nothing inside ${s.pool}.`,
      ),
    ];
  let routes: Route[];
  try {
    routes = s.routes.format === 'json' ? parseIpJsonRoutes(s.routes.text) : parseProcRoutes(s.routes.text);
  } catch (err) {
    return [
      finding(id, title, 'unknown', `the routes could not be parsed: ${(err as Error).message}`, 'Run ip route.'),
    ];
  }
  // The default route covers everything, and Docker's own bridges are skipped by the allocator.
  const clashes = routes.filter(
    (r) =>
      parseCidr(r.dst).length > 0 &&
      !r.dev.startsWith('hn-') &&
      !s.engineSubnets.includes(r.dst) &&
      overlaps(r.dst, s.pool),
  );
  if (!clashes.length) return [ok(id, title, `${s.pool}: no route of this machine overlaps it`)];
  const free = ALTERNATIVES.find((p) => !routes.some((r) => parseCidr(r.dst).length > 0 && overlaps(r.dst, p)));
  return [
    finding(
      id,
      title,
      'warn',
      `${s.pool} overlaps ${clashes.map((r) => `${r.dst} (${r.dev})`).join(', ')}: lab links would take addresses this machine already routes elsewhere`,
      `Set HURRYNET_SUBNET_POOL to a range no route covers${free ? `, for example HURRYNET_SUBNET_POOL=${free}` : ''}.`,
    ),
  ];
};
