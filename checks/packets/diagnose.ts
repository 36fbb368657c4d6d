// Why a packet that arrived at a router never left it, as far as the router can tell, in the
// order the kernel decides (ip_forward): TTL, the forwarding switch, no route, too big with DF
// set, then the FORWARD filter (a dropping rule whose counter rose), a next hop that never
// answered ARP, the reverse-path filter. Pure: the router's answers come in as text.
import { describe as describePacket, icmpName, type Packet } from './decode.js';
import type { Journey } from './match.js';

export type DropReason =
  'ttl' | 'forwarding off' | 'firewall' | 'no route' | 'too big' | 'no neighbour' | 'reverse path' | 'unknown';

export interface Diagnosis {
  node: string;
  reason: DropReason;
  /** One sentence for the learner. */
  summary: string;
  /** What the router said, line by line (the evidence). */
  facts: string[];
}

export interface RouterFacts {
  node: string;
  firewallBefore: string;
  firewallAfter: string;
  interfaces: { iface: string; mtu: number }[];
}

const MARK = '@@hn';
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Commands that ask the router about one packet (run in the router's namespace, by the grader). */
export function diagnosisScript(p: Packet, iface: string): string {
  const ip = p.ip;
  if (!ip) return 'true';
  return [
    `echo '${MARK} route'; ip -4 route get ${q(ip.dst)} from ${q(ip.src)} iif ${q(iface)} 2>&1`,
    `echo '${MARK} back'; ip -4 route get ${q(ip.src)} 2>&1`,
    `echo '${MARK} forward'; cat /proc/sys/net/ipv4/ip_forward`,
    `echo '${MARK} rpf'; cat /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv4/conf/${iface.replace(/[^\w.-]/g, '')}/rp_filter 2>/dev/null`,
    `echo '${MARK} neigh'; ip -4 neigh show`,
  ].join('\n');
}

function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${MARK} (\\w+)$`).exec(line);
    if (m) name = m[1] as string;
    else if (name) out.set(name, `${out.get(name) ?? ''}${line}\n`);
  }
  for (const [k, v] of out) out.set(k, v.trim());
  return out;
}

export interface CounterRule {
  table: string;
  chain: string;
  /** 1-based position in its chain, as `iptables -L --line-numbers` counts. */
  position: number;
  rule: string;
  packets: number;
  policy: boolean;
}

/** Reads `iptables-save -c`: every rule and chain policy with its packet counter. */
export function parseCounters(text: string): CounterRule[] {
  const out: CounterRule[] = [];
  let table = '';
  const positions = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const policy = /^:(\S+) (ACCEPT|DROP) \[(\d+):\d+\]/.exec(line);
    if (policy)
      out.push({
        table,
        chain: policy[1] as string,
        position: 0,
        rule: `policy ${policy[2]}`,
        packets: Number(policy[3]),
        policy: true,
      });
    const rule = /^\[(\d+):\d+\] (-A (\S+) .*)$/.exec(line);
    if (rule) {
      const chain = rule[3] as string;
      const key = `${table}/${chain}`;
      positions.set(key, (positions.get(key) ?? 0) + 1);
      out.push({
        table,
        chain,
        position: positions.get(key) as number,
        rule: rule[2] as string,
        packets: Number(rule[1]),
        policy: false,
      });
    }
  }
  return out;
}

/** Rules and policies that drop or reject and whose counters rose between the two snapshots. */
export function droppingRulesThatRose(before: string, after: string): (CounterRule & { rose: number })[] {
  const earlier = new Map(parseCounters(before).map((r) => [`${r.table}|${r.chain}|${r.rule}`, r.packets]));
  return parseCounters(after)
    .filter((r) => (r.policy ? r.rule === 'policy DROP' : / -j (DROP|REJECT)\b/.test(r.rule)))
    .map((r) => ({ ...r, rose: r.packets - (earlier.get(`${r.table}|${r.chain}|${r.rule}`) ?? 0) }))
    .filter((r) => r.rose > 0);
}

const ruleName = (r: CounterRule) =>
  r.policy ? `the ${r.chain} chain's policy (${r.table} table)` : `${r.table} ${r.chain} rule ${r.position}: ${r.rule}`;

export function diagnose(p: Packet, iface: string, router: RouterFacts, answers: string, journey?: Journey): Diagnosis {
  const ip = p.ip;
  const node = router.node;
  const s = sections(answers);
  const facts: string[] = [];
  const route = s.get('route') ?? '';
  if (route) facts.push(`ip route get ${ip?.dst} from ${ip?.src} iif ${iface}: ${route.replace(/\s+/g, ' ')}`);
  const sent = (type: number, code?: number) =>
    journey?.trips.some(
      (t) =>
        t.origin.generated &&
        t.origin.node === node &&
        t.sightings[0]?.packet.icmp?.type === type &&
        (code === undefined || t.sightings[0]?.packet.icmp?.code === code) &&
        t.sightings[0]?.packet.icmp?.quoted?.ip.id === ip?.id,
    );
  const done = (reason: DropReason, summary: string): Diagnosis => ({ node, reason, summary, facts });
  if (!ip) return done('unknown', `${node} did not send it on (not an IPv4 packet)`);
  if (ip.ttl <= 1)
    return done(
      'ttl',
      `it reached ${node} with TTL ${ip.ttl}: a router discards such a packet${sent(11) ? ' and answered "TTL exceeded"' : ''}`,
    );
  if ((s.get('forward') ?? '1').trim() === '0') {
    facts.push('net.ipv4.ip_forward = 0');
    return done('forwarding off', `${node} does not forward packets at all (net.ipv4.ip_forward = 0)`);
  }
  if (/unreachable|prohibit|blackhole|No route|Network is unreachable/i.test(route) || !route) {
    return done('no route', `${node} has no route to ${ip.dst}${route ? ` ("${route.split('\n')[0]}")` : ''}`);
  }
  const dev = / dev (\S+)/.exec(route)?.[1];
  const via = / via (\S+)/.exec(route)?.[1];
  const mtu = router.interfaces.find((i) => i.iface === dev)?.mtu;
  if (dev && mtu && ip.length > mtu && ip.df) {
    facts.push(`${dev} has MTU ${mtu}; the packet is ${ip.length} bytes with DF set`);
    return done(
      'too big',
      `too big for ${node}'s link ${dev} (MTU ${mtu}): ${ip.length} bytes with "don't fragment" set${sent(3, 4) ? `; ${node} answered "${icmpName({ type: 3, code: 4 })}"` : ''}`,
    );
  }
  const rules = droppingRulesThatRose(router.firewallBefore, router.firewallAfter);
  if (rules.length) {
    facts.push(...rules.map((r) => `${ruleName(r)} (its counter rose by ${r.rose})`));
    const r = rules[0] as CounterRule;
    return done('firewall', `dropped by ${node}'s firewall: ${ruleName(r)}, whose counter rose while it passed`);
  }
  const hop = via ?? ip.dst;
  const neighbour = (s.get('neigh') ?? '')
    .split('\n')
    .find((l) => l.startsWith(`${hop} `) && (!dev || l.includes(`dev ${dev} `)));
  const unanswered = journey?.unansweredArp.find((a) => a.node === node && a.target === hop);
  if ((neighbour && /FAILED|INCOMPLETE/.test(neighbour)) || unanswered) {
    facts.push(
      neighbour
        ? `ip neigh: ${neighbour}`
        : `ARP for ${hop} on ${unanswered?.iface}: ${unanswered?.asked} questions, no answer`,
    );
    return done('no neighbour', `${node} sends it to ${hop} on ${dev ?? '?'}, but nobody there answers ARP for ${hop}`);
  }
  const back = s.get('back') ?? '';
  const backDev = / dev (\S+)/.exec(back)?.[1];
  const rpf = (s.get('rpf') ?? '').split('\n').map(Number);
  if (backDev && backDev !== iface && Math.max(...rpf.filter((n) => !Number.isNaN(n))) === 1) {
    facts.push(`ip route get ${ip.src}: ${back.replace(/\s+/g, ' ')}; rp_filter = 1`);
    return done(
      'reverse path',
      `${node}'s reverse-path filter drops it: it came in on ${iface}, but ${node} would answer ${ip.src} through ${backDev}`,
    );
  }
  return done(
    'unknown',
    `it reached ${node} and never left (${describePacket(p)}); ${node} would route it via ${via ?? 'a direct link'} on ${dev ?? '?'}, and no dropping rule's counter rose`,
  );
}
