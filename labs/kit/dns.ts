// Far-end evidence of name resolution: the home router's dnsmasq log (log-queries) and bind's
// query log on the dns node, read on the node itself and parsed here; and dig's output cut to the
// lines a learner reads; and the address a name has in the world's zones. Shared by the labs that
// judge DNS (03 DNS; 07 and 13 read the same logs) and those that need Bob's public address (04, 05).
import { q } from '../../checks/probes.js';
import type { Evidence, Host } from '../../checks/types.js';
import type { World } from '../../orchestrator/world/world.js';

/**
 * The A record of a full name in the world's own zones ("web.bob.example": Bob's public address),
 * read from the lab's world; a lab that names a record the zones lack is a bug, so this throws.
 */
export function zoneAddress(world: World, name: string): string {
  const n = name.toLowerCase();
  for (const zone of world.settings.zones) {
    const label = n === zone.name ? '@' : n.endsWith(`.${zone.name}`) ? n.slice(0, -zone.name.length - 1) : undefined;
    const record = label && zone.records.find((r) => r.name === label && r.type === 'A');
    if (record) return record.value;
  }
  throw new Error(`the world's zones have no A record for ${name}`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface DnsmasqEvent {
  /** Seconds (the log has no year; differences within a lab session are what matter). */
  t: number;
  kind: 'query' | 'forwarded' | 'reply' | 'cached';
  name: string;
  qtype?: string;
  /** Client address (query) or upstream (forwarded). */
  peer?: string;
  /** What the answer is (reply, cached). */
  value?: string;
}

/** Parses dnsmasq's log-queries lines ("Nov 25 11:13:00 dnsmasq[39]: query[A] web.bob.example from 192.168.1.101"). */
export function parseDnsmasqLog(text: string): DnsmasqEvent[] {
  const events: DnsmasqEvent[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w{3})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) dnsmasq\[\d+\]: (.*)$/.exec(line.trim());
    if (!m) continue;
    const month = MONTHS.indexOf(m[1] as string);
    if (month < 0) continue;
    const t = Date.UTC(2001, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
    const msg = m[6] as string;
    let e: RegExpExecArray | null;
    if ((e = /^query\[(\w+)\] (\S+) from (\S+)$/.exec(msg)))
      events.push({ t, kind: 'query', qtype: e[1], name: (e[2] as string).toLowerCase(), peer: e[3] });
    else if ((e = /^forwarded (\S+) to (\S+)$/.exec(msg)))
      events.push({ t, kind: 'forwarded', name: (e[1] as string).toLowerCase(), peer: e[2] });
    else if ((e = /^reply (\S+) is (.+)$/.exec(msg)))
      events.push({ t, kind: 'reply', name: (e[1] as string).toLowerCase(), value: e[2] });
    else if ((e = /^cached (\S+) is (.+)$/.exec(msg)))
      events.push({ t, kind: 'cached', name: (e[1] as string).toLowerCase(), value: e[2] });
  }
  return events;
}

export interface BindQuery {
  t: number;
  client: string;
  name: string;
  qtype: string;
}

/** Parses bind's query log ("25-Nov-2026 11:13:00.888 client @0x.. 203.0.113.5#57141 (x): query: x IN A +E(0)K (198.51.100.53)"). */
export function parseQueryLog(text: string): BindQuery[] {
  const out: BindQuery[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^(\d{2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{3}) client (?:@\S+ )?([\d.]+)#\d+ \([^)]*\): query: (\S+) IN (\S+)/.exec(
        line.trim(),
      );
    if (!m) continue;
    const month = MONTHS.indexOf(m[2] as string);
    const t =
      Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])) / 1000;
    out.push({
      t,
      client: m[8] as string,
      name: (m[9] as string).toLowerCase().replace(/\.$/, ''),
      qtype: m[10] as string,
    });
  }
  return out;
}

/** The last lines of a log on a host that contain any of the needles (case-insensitive, fixed strings). */
export async function grepLog(
  host: Host,
  path: string,
  needle: string | string[],
  lines = 400,
): Promise<{ text: string; evidence: Evidence }> {
  const patterns = (Array.isArray(needle) ? needle : [needle]).map((n) => `-e ${q(n)}`).join(' ');
  const e = await host.run(`grep -i -F ${patterns} ${path} | tail -n ${lines}`, 5000);
  return { text: e.output, evidence: e };
}

/** Evidence that shows only the lines about exactly this name (not, say, the grader's probes below it). */
export function linesAbout(e: Evidence, name: string, keep = 4): Evidence {
  const token = new RegExp(`(^|[\\s(])${name.replace(/\./g, '\\.')}([\\s)]|$)`, 'i');
  return {
    ...e,
    output: e.output
      .split('\n')
      .filter((l) => token.test(l))
      .slice(-keep)
      .join('\n'),
  };
}

/** dig's output cut to what a learner reads: status, flags, answers, the server, or the timeout. */
export function digBrief(e: Evidence): Evidence {
  const keep = /status:|^;; flags:|^[^;\s]\S*\s+\d+\s+IN\s|SERVER:|timed out|no servers|communications error/;
  return {
    ...e,
    output: e.output
      .split('\n')
      .filter((l) => keep.test(l))
      .join('\n'),
  };
}

/** The TTL of the SOA in an NXDOMAIN answer: how long a resolver may remember "no such name". */
export function negativeTtl(digOutput: string): number | undefined {
  const m = /AUTHORITY SECTION:\n\S+\s+(\d+)\s+IN\s+SOA/.exec(digOutput);
  return m ? Number(m[1]) : undefined;
}

/** The first nameserver of a resolv.conf. */
export function firstNameserverIn(resolvConf: string): string | undefined {
  return /^\s*nameserver\s+(\S+)/m.exec(resolvConf)?.[1];
}
