// Probe primitives: small observations made with the project's own binaries. Each returns what it
// saw plus the evidence; checks turn observations into verdicts.
import type { Evidence, Host } from './types.js';

/** Quotes a value for a POSIX shell. */
export function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface PingResult {
  ok: boolean;
  sent: number;
  received: number;
  evidence: Evidence;
}

export async function ping(host: Host, target: string, count = 2): Promise<PingResult> {
  const e = await host.run(`ping -n -c ${count} -i 0.2 -W 1 ${q(target)}`, 10000);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(e.output);
  const sent = Number(m?.[1] ?? 0);
  const received = Number(m?.[2] ?? 0);
  return { ok: received > 0, sent, received, evidence: e };
}

export interface DnsRecord {
  name: string;
  ttl: number;
  type: string;
  value: string;
}

export interface DigResult {
  status: string;
  /** The server that answered, as dig reports it (e.g. 192.168.1.1). */
  server: string;
  answers: DnsRecord[];
  evidence: Evidence;
}

/** Parses the ANSWER SECTION and header of `dig` output. */
export function parseDig(output: string): { status: string; server: string; answers: DnsRecord[] } {
  const status = /status: ([A-Z]+)/.exec(output)?.[1] ?? (/connection timed out|no servers could be reached/.test(output) ? 'TIMEOUT' : 'UNKNOWN');
  const server = /;; SERVER: ([\d.]+)#/.exec(output)?.[1] ?? '';
  const answers: DnsRecord[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(output)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.+)$/.exec(line.trim());
    if (m) answers.push({ name: m[1] as string, ttl: Number(m[2]), type: m[3] as string, value: (m[4] as string).trim() });
  }
  return { status, server, answers };
}

export async function dig(host: Host, name: string, opts: { server?: string; type?: string } = {}): Promise<DigResult> {
  const server = opts.server ? ` @${opts.server}` : '';
  const e = await host.run(`dig +time=1 +tries=2 +nocookie${server} ${q(name)} ${opts.type ?? 'A'}`, 8000);
  return { ...parseDig(e.output), evidence: e };
}

export interface HttpResult {
  status: number;
  body: string;
  evidence: Evidence;
}

export interface HttpRequest {
  method?: string;
  url: string;
  json?: unknown;
  /** Resolve the URL's host to this address instead of asking the system resolver. */
  resolveTo?: string;
  timeoutSeconds?: number;
}

/** An HTTP request with curl; the status code is printed on the last line. */
export async function http(host: Host, req: HttpRequest): Promise<HttpResult> {
  const url = new URL(req.url);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const parts = ['curl', '-sS', '-m', String(req.timeoutSeconds ?? 5), '-X', req.method ?? 'GET', '-w', q('\n%{http_code}')];
  if (req.resolveTo) parts.push('--resolve', q(`${url.hostname}:${port}:${req.resolveTo}`));
  if (req.json !== undefined) parts.push('-H', q('Content-Type: application/json'), '--data-binary', q(JSON.stringify(req.json)));
  parts.push(q(req.url));
  const e = await host.run(parts.join(' '), (req.timeoutSeconds ?? 5) * 1000 + 3000);
  const lines = e.output.replace(/\n$/, '').split('\n');
  const status = e.exitCode === 0 ? Number(lines.at(-1)) : 0;
  return { status, body: e.exitCode === 0 ? lines.slice(0, -1).join('\n') : '', evidence: e };
}

/** Resolves a name through a given DNS server with a clean dig (never the node's hosts file). */
export async function resolveWith(host: Host, name: string, server: string): Promise<{ address?: string; result: DigResult }> {
  const result = await dig(host, name, { server });
  const a = result.answers.find((r) => r.type === 'A');
  return { address: a?.value, result };
}

export async function readFile(host: Host, path: string): Promise<{ ok: boolean; text: string; evidence: Evidence }> {
  const e = await host.run(`cat -- ${q(path)}`, 5000);
  return { ok: e.exitCode === 0, text: e.exitCode === 0 ? e.output : '', evidence: e };
}
