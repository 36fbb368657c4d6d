// IPv4 arithmetic and the project's own pool of small Docker subnets. Pure functions.

export interface Cidr {
  address: string;
  length: number;
}

export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${text}`);
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) throw new Error(`not an IPv4 address: ${text}`);
    const octet = Number(part);
    if (octet > 255) throw new Error(`not an IPv4 address: ${text}`);
    value = value * 256 + octet;
  }
  return value;
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseCidr(text: string): Cidr {
  const [address, len, extra] = text.split('/');
  const length = Number(len);
  if (extra !== undefined || address === undefined || !Number.isInteger(length) || length < 0 || length > 32) {
    throw new Error(`not an IPv4 prefix: ${text}`);
  }
  parseIp(address);
  return { address, length };
}

function maskOf(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

export function networkOf(cidr: string): string {
  const { address, length } = parseCidr(cidr);
  return `${formatIp((parseIp(address) & maskOf(length)) >>> 0)}/${length}`;
}

export function contains(prefix: string, address: string): boolean {
  const { address: net, length } = parseCidr(prefix);
  const mask = maskOf(length);
  return (parseIp(address) & mask) >>> 0 === (parseIp(net) & mask) >>> 0;
}

export function overlaps(a: string, b: string): boolean {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  const shorter = Math.min(ca.length, cb.length);
  const mask = maskOf(shorter);
  return (parseIp(ca.address) & mask) >>> 0 === (parseIp(cb.address) & mask) >>> 0;
}

/** The first usable host address of a subnet (what Docker makes the gateway). */
export function firstHost(prefix: string): string {
  const { address, length } = parseCidr(prefix);
  return formatIp((((parseIp(address) & maskOf(length)) >>> 0) + 1) >>> 0);
}

export const DEFAULT_POOL = '10.250.0.0/16';
export const SUBNET_LENGTH = 28;

/**
 * Picks `count` free /28 subnets from `pool`, skipping every subnet that overlaps one in `taken`
 * (all networks on the engine, ours or not: Docker refuses overlapping pools).
 */
export function allocateSubnets(
  pool: string,
  taken: string[],
  count: number,
  length = SUBNET_LENGTH,
  start = 0,
): string[] {
  const { address, length: poolLength } = parseCidr(pool);
  if (length < poolLength) throw new Error(`subnet /${length} does not fit in pool ${pool}`);
  const base = (parseIp(address) & maskOf(poolLength)) >>> 0;
  const total = 2 ** (length - poolLength);
  const size = 2 ** (32 - length);
  const picked: string[] = [];
  // `start` spreads concurrent allocators over the pool (they retry from elsewhere after a clash).
  for (let k = 0; k < total && picked.length < count; k++) {
    const i = (k + start) % total;
    const candidate = `${formatIp(base + i * size)}/${length}`;
    if (!taken.some((t) => overlaps(t, candidate)) && !picked.includes(candidate)) picked.push(candidate);
  }
  if (picked.length < count) {
    throw new Error(
      `the subnet pool ${pool} has no room for ${count} more networks (${taken.length} in use). ` +
        'Stop instances you no longer need (hurrynet stop --all, or hurrynet clean), ' +
        'or set HURRYNET_SUBNET_POOL to a larger unused range.',
    );
  }
  return picked;
}
