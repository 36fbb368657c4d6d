// Far-end evidence in the services' logs: JSON lines, and Bob's access log in particular.
import { q, readFile } from '../../checks/probes.js';
import type { Evidence, Host } from '../../checks/types.js';
import { FILES } from '../../orchestrator/world/files.js';

/** One request as Bob's web server logged it (images/web/app/server.js): the source address after NAT. */
export interface AccessEntry {
  time: string;
  client: string;
  port?: number;
  method: string;
  path: string;
  status: number;
  ms?: number;
  agent?: string;
}

/** Parses JSON lines, skipping the ones that do not parse (a log can end in a half-written line). */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text.split('\n').flatMap((line) => {
    const t = line.trim();
    if (!t.startsWith('{')) return [];
    try {
      return [JSON.parse(t) as T];
    } catch {
      return [];
    }
  });
}

/** Reads a JSON-lines log on a host; the evidence carries the file as read. */
export async function readJsonLog<T>(
  host: Host,
  path: string,
): Promise<{ entries: T[]; ok: boolean; evidence: Evidence }> {
  const f = await readFile(host, path);
  return { entries: jsonLines<T>(f.text), ok: f.ok, evidence: f.evidence };
}

/** Bob's access log (run it on ctx.node('web')). */
export function readAccessLog(host: Host): Promise<{ entries: AccessEntry[]; ok: boolean; evidence: Evidence }> {
  return readJsonLog<AccessEntry>(host, FILES.webAccessLog);
}

/**
 * Bob's access log entries whose path carries a token (put in the URL by this run), with the
 * evidence cut down to those lines. Searched on the node, not read whole: a node's output is cut
 * at 20,000 characters, and the newest lines of a long log are the ones a check looks for.
 */
export async function accessEntriesWith(
  host: Host,
  token: string,
): Promise<{ entries: AccessEntry[]; evidence: Evidence }> {
  const e = await host.run(`grep -F -- ${q(token)} ${FILES.webAccessLog} | tail -n 20`, 5000);
  const entries = jsonLines<AccessEntry>(e.output).filter((x) => typeof x.path === 'string' && x.path.includes(token));
  return {
    entries,
    evidence: { ...e, output: e.output.trim() || `(no request with ${token} in ${FILES.webAccessLog})` },
  };
}
