// A node's whole routing policy and firewall, as the kernel uses them, not only the main table
// and the nft half of iptables: `ip rule` decides which tables a packet consults (the standard
// rules select local, main and default; any other rule may select a numbered table), and a route
// in any of those tables forwards packets just as well as one in main. Likewise iptables-legacy
// rules act next to the nft ones, yet `iptables -S` does not show them. Checks that judge routes
// or rules read both in full with these helpers, and name the table or the rule they found.
// Shared by the labs that judge routes (02 addresses, 05 routing, 08 MTU, 13 troubleshooting).
import { contains } from '../../orchestrator/world/addresses.js';
import { setupCommands } from '../../orchestrator/world/config.js';
import type { Node, World } from '../../orchestrator/world/world.js';
import { fail, pass, type Check, type Evidence, type Host } from '../../checks/types.js';
import { nodeOf } from './world.js';

// ---- ip rule ----------------------------------------------------------------------------------

export interface PolicyRule {
  pref: number;
  /** The rule as `ip rule` prints it after the preference, e.g. "from all fwmark 0x7 lookup 100". */
  text: string;
  /** The table a `lookup` rule selects. */
  table?: string;
}

/** The three rules every Linux namespace starts with. */
export const STANDARD_RULES: readonly PolicyRule[] = [
  { pref: 0, text: 'from all lookup local', table: 'local' },
  { pref: 32766, text: 'from all lookup main', table: 'main' },
  { pref: 32767, text: 'from all lookup default', table: 'default' },
];

/** Parses `ip -4 rule show`. */
export function parseRules(text: string): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):\s+(.*\S)\s*$/.exec(line);
    if (!m) continue;
    const rest = (m[2] as string).replace(/\s+/g, ' ');
    rules.push({ pref: Number(m[1]), text: rest, table: /\b(?:lookup|table) (\S+)/.exec(rest)?.[1] });
  }
  return rules;
}

const sameRule = (a: PolicyRule, b: PolicyRule) => a.pref === b.pref && a.text === b.text;
/** Rules beyond the standard three (anything a learner added). */
export const unusualRules = (rules: PolicyRule[]) => rules.filter((r) => !STANDARD_RULES.some((s) => sameRule(s, r)));
/** Standard rules that were deleted. */
export const missingRules = (rules: PolicyRule[]) => STANDARD_RULES.filter((s) => !rules.some((r) => sameRule(s, r)));
export const ruleText = (r: PolicyRule) => `${r.pref}: ${r.text}`;

// ---- ip route show table all ------------------------------------------------------------------

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'anycast',
  'unreachable',
  'blackhole',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
]);

export interface Route {
  table: string;
  /** unicast, or local, broadcast, blackhole, unreachable, throw... */
  type: string;
  /** The destination, always with a length: "0.0.0.0/0" for default. */
  prefix: string;
  length: number;
  /** Next hops (several for a multipath route). */
  vias: string[];
  dev?: string;
  /** A per-route MTU (`mtu N` or `mtu lock N`) and MSS (`advmss N`). */
  mtu?: number;
  advmss?: number;
  /** The route as printed (continuation lines of a multipath route joined). */
  line: string;
}

/** Parses `ip -4 route show table all` (routes of main carry no "table" word). */
export function parseRoutes(text: string): Route[] {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    if (/^\s/.test(raw) && lines.length) lines[lines.length - 1] += ` ${raw.trim()}`;
    else lines.push(raw.trim());
  }
  const routes: Route[] = [];
  for (const line of lines) {
    const t = line.split(/\s+/);
    let i = 0;
    const type = ROUTE_TYPES.has(t[0] as string) ? (t[i++] as string) : 'unicast';
    const dest = t[i] ?? '';
    if (!/^(default|\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?)$/.test(dest)) continue;
    const prefix = dest === 'default' ? '0.0.0.0/0' : dest.includes('/') ? dest : `${dest}/32`;
    const after = (word: string) => {
      const k = t.indexOf(word, i + 1);
      return k > 0 ? t[k + 1] : undefined;
    };
    const mtu = /\bmtu (?:lock )?(\d+)/.exec(line)?.[1];
    const advmss = /\badvmss (\d+)/.exec(line)?.[1];
    routes.push({
      table: after('table') ?? 'main',
      type,
      prefix,
      length: Number(prefix.split('/')[1]),
      vias: [...line.matchAll(/\bvia (?:inet )?(\d{1,3}(?:\.\d{1,3}){3})/g)].map((m) => m[1] as string),
      dev: after('dev'),
      mtu: mtu ? Number(mtu) : undefined,
      advmss: advmss ? Number(advmss) : undefined,
      line,
    });
  }
  return routes;
}

/** A route as the learner would type it, with the table it lives in. */
export function routeText(r: Route): string {
  return `${r.line.replace(/\s+table \S+/, '').replace(/\s+proto kernel/, '')} (table ${r.table})`;
}

/** Routes that forward packets (not the local table's own addresses and broadcasts). */
export const forwarding = (r: Route) => r.type === 'unicast';
/** Routes that carry a destination address. */
export const containing = (routes: Route[], address: string) =>
  routes.filter((r) => forwarding(r) && contains(r.prefix, address));

export interface Routing {
  rules: PolicyRule[];
  /** Every route of every table. */
  routes: Route[];
  /** The routes in tables some rule selects: the ones the kernel may use. */
  used: Route[];
  unusual: PolicyRule[];
  missing: PolicyRule[];
  evidence: Evidence;
}

export const ROUTING_COMMAND =
  "echo '--- ip -4 rule show'; ip -4 rule show; echo '--- ip -4 route show table all'; ip -4 route show table all";

/** Splits command output at its "--- title" lines. */
export function sections(output: string): Map<string, string> {
  const out = new Map<string, string>();
  let title = '';
  for (const line of output.split('\n')) {
    if (line.startsWith('--- ')) {
      title = line.slice(4).trim();
      out.set(title, '');
    } else if (title) out.set(title, `${out.get(title) ?? ''}${line}\n`);
  }
  return out;
}

/** Parses the output of ROUTING_COMMAND (possibly with more sections). */
export function parseRouting(output: string, evidence: Evidence): Routing {
  const parts = sections(output);
  const rules = parseRules(parts.get('ip -4 rule show') ?? '');
  const routes = parseRoutes(parts.get('ip -4 route show table all') ?? '');
  const tables = new Set(rules.map((r) => r.table).filter((t): t is string => !!t));
  return {
    rules,
    routes,
    used: routes.filter((r) => tables.has(r.table)),
    unusual: unusualRules(rules),
    missing: missingRules(rules),
    evidence,
  };
}

/** Reads a node's rules and every table through a probe (clean binaries in its namespace). */
export async function readRouting(host: Host): Promise<Routing> {
  const e = await host.run(ROUTING_COMMAND, 5000);
  return parseRouting(e.output, e);
}

/**
 * What the learner's own policy rules do, in words: each unusual rule with the routes of the table
 * it selects, and each standard rule that was deleted. Empty when the policy is the standard one.
 */
export function policyFindings(node: string, routing: Routing): string[] {
  const found: string[] = [];
  for (const r of routing.unusual) {
    const held = r.table ? routing.routes.filter((x) => x.table === r.table) : [];
    const what = r.table
      ? held.length
        ? `table ${r.table}: ${held.map((x) => x.line.replace(/\s+table \S+/, '')).join('; ')}`
        : `table ${r.table}, which is empty`
      : 'no table';
    found.push(`${node} has the policy rule "${ruleText(r)}" (${what})`);
  }
  for (const r of routing.missing) found.push(`${node} lost the standard rule "${ruleText(r)}"`);
  return found;
}

// ---- iptables, nft and legacy -----------------------------------------------------------------

export interface FirewallRule {
  table: string;
  /** "-A CHAIN ...", as iptables-save prints it. */
  rule: string;
  /** Set when the rule lives in the legacy (x_tables) half, which `iptables -S` does not show. */
  legacy: boolean;
}

/**
 * Both halves of iptables: the nft one that `iptables` manages, and the legacy one, read only when
 * this namespace has legacy tables (reading them otherwise would create them). The file in /proc
 * reports size 0 whatever it holds, so its content is tested, not its size.
 */
export const FIREWALL_COMMAND =
  "echo '--- iptables-save'; iptables-save 2>/dev/null | grep -E '^(\\*|-A )'; " +
  "if grep -q . /proc/net/ip_tables_names 2>/dev/null; then echo '--- iptables-legacy-save'; iptables-legacy-save 2>/dev/null | grep -E '^(\\*|-A )'; fi; true";

/** Parses the output of FIREWALL_COMMAND. */
export function parseFirewall(output: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  let legacy = false;
  let table = 'filter';
  for (const line of output.split('\n')) {
    if (line.startsWith('--- ')) legacy = line.includes('legacy');
    else if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith('-A ')) rules.push({ table, rule: line.trim(), legacy });
  }
  return rules;
}

export const firewallText = (r: FirewallRule) => `${r.table}${r.legacy ? ' (iptables-legacy)' : ''}: ${r.rule}`;

export async function readFirewall(host: Host): Promise<{ rules: FirewallRule[]; evidence: Evidence }> {
  const e = await host.run(FIREWALL_COMMAND, 8000);
  return { rules: parseFirewall(e.output), evidence: e };
}

export const FIREWALL_TABLES = ['nat', 'filter', 'mangle', 'raw'] as const;
export type FirewallTable = (typeof FIREWALL_TABLES)[number];

/** A rule's identity, independent of the order iptables prints its options in. */
export function ruleSignature(rule: string): string {
  const t = rule.trim().split(/\s+/);
  const val = (flag: string) => {
    const i = t.indexOf(flag);
    return i >= 0 ? (t[i + 1] ?? '') : '';
  };
  const addrs = [...rule.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g)]
    .map((m) => m[0].replace(/\/32$/, ''))
    .sort();
  const ports = ['--dport', '--dports', '--sport', '--sports', '--to-ports'].map(val).filter(Boolean);
  const states = val('--ctstate').split(',').filter(Boolean).sort();
  return [
    val('-A'),
    val('-j'),
    val('-p'),
    val('-i'),
    val('-o'),
    addrs.join(','),
    ports.join(','),
    states.join(','),
    val('--helper'),
  ].join('|');
}

/** The world's own iptables rules for a node, per table, as iptables -S would list them. */
export function expectedRules(node: Node): Record<FirewallTable, string[]> {
  const out: Record<FirewallTable, string[]> = { nat: [], filter: [], mangle: [], raw: [] };
  for (const cmd of setupCommands(node)) {
    const m = /^iptables(?:\s+-t\s+(\S+))?\s+(-A\s.*)$/.exec(cmd);
    if (!m) continue;
    const table = (m[1] ?? 'filter') as FirewallTable;
    if (table in out) out[table].push(m[2] as string);
  }
  return out;
}

/** Rules present but not expected, and expected but missing (compared by signature). */
export function ruleDiff(actual: string[], expected: string[]): { extra: string[]; missing: string[] } {
  const left = expected.map(ruleSignature);
  const extra: string[] = [];
  for (const r of actual) {
    const i = left.indexOf(ruleSignature(r));
    if (i >= 0) left.splice(i, 1);
    else extra.push(r);
  }
  const missing = expected.filter((r) => left.includes(ruleSignature(r)));
  return { extra, missing };
}

/**
 * Rules beyond the world's own in every table, nft and legacy halves together (a legacy copy of
 * a world rule is an extra rule: the world has it once), and world rules that are gone.
 */
export function firewallDiff(
  node: Node,
  rules: FirewallRule[],
): { extra: FirewallRule[]; missing: { table: FirewallTable; rule: string }[] } {
  const want = expectedRules(node);
  const extra: FirewallRule[] = [];
  const missing: { table: FirewallTable; rule: string }[] = [];
  for (const table of FIREWALL_TABLES) {
    const nft = rules.filter((r) => r.table === table && !r.legacy);
    const d = ruleDiff(
      nft.map((r) => r.rule),
      want[table],
    );
    extra.push(...d.extra.map((rule) => ({ table, rule, legacy: false })));
    missing.push(...d.missing.map((rule) => ({ table, rule })));
    extra.push(...rules.filter((r) => r.table === table && r.legacy));
  }
  extra.push(...rules.filter((r) => !(FIREWALL_TABLES as readonly string[]).includes(r.table)));
  return { extra, missing };
}

// ---- ip route get: the route the kernel really chooses ------------------------------------------

/** One question to the kernel: where a packet to `to` (sent from `from`, when given) goes. */
export interface RouteQuery {
  to: string;
  from?: string;
}

/**
 * What `ip -4 route get` answered: the route the kernel chose with every rule and table considered,
 * the table it came from, and the policy rules that send lookups to that table.
 */
export interface ChosenRoute extends RouteQuery {
  /** The answer's first line as printed, or the error ("RTNETLINK answers: Network is unreachable"). */
  line: string;
  /** unicast, local, broadcast...; "error" when the kernel found no usable route. */
  type: string;
  via?: string;
  dev?: string;
  src?: string;
  /** The table the route came from ("main" when ip names none). */
  table: string;
  /** The rules whose lookup selects that table. */
  rules: PolicyRule[];
  /** The destination is an address of this node itself: nothing leaves it. */
  local: boolean;
  /** No route forwards the packet (an error, or an unreachable, prohibit or blackhole route). */
  unreachable: boolean;
}

/** The command as run, which is also the "--- title" of its section in routeGetCommand output. */
const routeGetText = (q: RouteQuery) => `ip -4 route get ${q.to}${q.from ? ` from ${q.from}` : ''}`;

/** A section of output with what the kernel answers for one query (errors included). */
export const routeGetCommand = (q: RouteQuery) => `echo '--- ${routeGetText(q)}'; ${routeGetText(q)} 2>&1`;

/** Reads `ip -4 route get` output, given the rules that `ip -4 rule show` printed. */
export function parseRouteGet(output: string, rules: PolicyRule[], query: RouteQuery = { to: '' }): ChosenRoute {
  const line =
    output
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? '';
  const first = line.split(/\s+/)[0] ?? '';
  const error = !/^\d/.test(first) && !ROUTE_TYPES.has(first);
  const type = error ? 'error' : ROUTE_TYPES.has(first) ? first : 'unicast';
  const word = (w: string) => (error ? undefined : new RegExp(`\\b${w} (\\S+)`).exec(line)?.[1]);
  const table = word('table') ?? 'main';
  return {
    ...query,
    line,
    type,
    via: word('via'),
    dev: word('dev'),
    src: word('src'),
    table,
    rules: rules.filter((r) => r.table === table),
    local: type === 'local',
    unreachable: error || ['unreachable', 'prohibit', 'blackhole'].includes(type),
  };
}

/** The queries' answers in command output made of routeGetCommand sections (other sections ignored). */
export function chosenRoutes(output: string, queries: RouteQuery[], rules: PolicyRule[] = []): ChosenRoute[] {
  const parts = sections(output);
  return queries.map((q) => parseRouteGet(parts.get(routeGetText(q)) ?? '', rules, q));
}

/** " (table 100, chosen by ip rule '100: from all lookup 100')", or '' for a route of the main table. */
export function tableNote(c: ChosenRoute): string {
  if (c.table === 'main') return '';
  return ` (table ${c.table}${c.rules.length ? `, chosen by ip rule '${c.rules.map(ruleText).join("', '")}'` : ''})`;
}

export interface RoutesTo extends Routing {
  /** What the kernel chose, one per query, in order. */
  chosen: ChosenRoute[];
}

/** Parses ROUTING_COMMAND output followed by routeGetCommand sections. */
export function parseRoutesTo(output: string, evidence: Evidence, queries: RouteQuery[]): RoutesTo {
  const routing = parseRouting(output, evidence);
  return { ...routing, chosen: chosenRoutes(output, queries, routing.rules) };
}

/**
 * A node's rules, every table, and the route the kernel chooses for each query, in one command
 * through a probe: which route, from which table, chosen by which rule.
 */
export async function readRoutesTo(host: Host, queries: RouteQuery[]): Promise<RoutesTo> {
  const e = await host.run([ROUTING_COMMAND, ...queries.map(routeGetCommand)].join('; '), 5000);
  return parseRoutesTo(e.output, e, queries);
}

// ---- stand-ins: what answers on a node in place of far-away addresses -------------------------

export interface StandIns {
  /** The targets the kernel treats as addresses of the node itself (`ip route get`: local). */
  local: ChosenRoute[];
  /** nat rules that send packets elsewhere (DNAT, REDIRECT), from both halves of iptables. */
  redirects: FirewallRule[];
  evidence: Evidence;
}

/**
 * Why a node may get answers from targets without the network: some are its own addresses, or its
 * nat table redirects packets to a program of its own. For reasons, once a far-end check failed.
 */
export async function readStandIns(host: Host, targets: string[]): Promise<StandIns> {
  const queries = targets.map((to) => ({ to }));
  const e = await host.run([...queries.map(routeGetCommand), FIREWALL_COMMAND].join('; '), 8000);
  return {
    local: chosenRoutes(e.output, queries).filter((c) => c.local),
    // The route sections come first and hold no "*table" or "-A" lines, so the firewall reader skips them.
    redirects: parseFirewall(e.output).filter((r) => r.table === 'nat' && /\s-j (?:DNAT|REDIRECT)\b/.test(r.rule)),
    evidence: e,
  };
}

/**
 * The check that a lab fixed with routes left the routers' nat, filter, mangle and raw tables as
 * the world made them: every rule added (a NAT or filter trick) or removed is named.
 */
export function tablesCheck(
  world: World,
  routers: readonly string[],
  text: Pick<Check, 'title' | 'hint' | 'deadlineMs'>,
): Check {
  return {
    id: 'tables',
    points: 1,
    ...text,
    async run(ctx) {
      const evidence: Evidence[] = [];
      const problems: string[] = [];
      await Promise.all(
        routers.map(async (name) => {
          const fw = await readFirewall(await ctx.probe(name));
          evidence.push(fw.evidence);
          if (fw.evidence.exitCode !== 0) {
            problems.push(`${name}: the tables could not be read`);
            return;
          }
          const d = firewallDiff(nodeOf(world, name), fw.rules);
          for (const r of d.extra)
            problems.push(`${name} ${r.table}${r.legacy ? ' (iptables-legacy)' : ''} has an extra rule: ${r.rule}`);
          for (const r of d.missing) problems.push(`${name} ${r.table} lost a rule: ${r.rule}`);
        }),
      );
      evidence.sort((a, b) => a.where.localeCompare(b.where));
      const names = `${routers.slice(0, -1).join(', ')} and ${routers[routers.length - 1] ?? ''}`;
      return problems.length
        ? fail(problems.join('; '), ...evidence)
        : pass(`the nat, filter, mangle and raw tables of ${names} are the world's own`, ...evidence);
    },
  };
}
