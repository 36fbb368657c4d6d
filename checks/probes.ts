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
  const status =
    /status: ([A-Z]+)/.exec(output)?.[1] ??
    (/connection timed out|no servers could be reached/.test(output) ? 'TIMEOUT' : 'UNKNOWN');
  const server = /;; SERVER: ([\d.]+)#/.exec(output)?.[1] ?? '';
  const answers: DnsRecord[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(output)?.[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.+)$/.exec(line.trim());
    if (m)
      answers.push({ name: m[1] as string, ttl: Number(m[2]), type: m[3] as string, value: (m[4] as string).trim() });
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
  const parts = [
    'curl',
    '-sS',
    '-m',
    String(req.timeoutSeconds ?? 5),
    '-X',
    req.method ?? 'GET',
    '-w',
    q('\n%{http_code}'),
  ];
  if (req.resolveTo) parts.push('--resolve', q(`${url.hostname}:${port}:${req.resolveTo}`));
  if (req.json !== undefined)
    parts.push('-H', q('Content-Type: application/json'), '--data-binary', q(JSON.stringify(req.json)));
  parts.push(q(req.url));
  const e = await host.run(parts.join(' '), (req.timeoutSeconds ?? 5) * 1000 + 3000);
  const lines = e.output.replace(/\n$/, '').split('\n');
  const status = e.exitCode === 0 ? Number(lines.at(-1)) : 0;
  return { status, body: e.exitCode === 0 ? lines.slice(0, -1).join('\n') : '', evidence: e };
}

/** Resolves a name through a given DNS server with a clean dig (never the node's hosts file). */
export async function resolveWith(
  host: Host,
  name: string,
  server: string,
): Promise<{ address?: string; result: DigResult }> {
  const result = await dig(host, name, { server });
  const a = result.answers.find((r) => r.type === 'A');
  return { address: a?.value, result };
}

export async function readFile(host: Host, path: string): Promise<{ ok: boolean; text: string; evidence: Evidence }> {
  const e = await host.run(`cat -- ${q(path)}`, 5000);
  return { ok: e.exitCode === 0, text: e.exitCode === 0 ? e.output : '', evidence: e };
}

// ---- hand-made packets (hping3) and captures (tcpdump) ------------------------------------------

/** A SYN, a bare ACK (no SYN) or a UDP datagram, as a firewall sees it: ports and flags are chosen. */
export interface RawPacket {
  kind: 'syn' | 'ack' | 'udp';
  sport: number;
  dport: number;
  /** A source address of the host's own (so that answers come back); default: the route's. */
  source?: string;
  /** TCP numbers (random when absent): they tell this packet apart in a capture at the far end. */
  seq?: number;
  ack?: number;
  /** UDP payload: letters, digits, '-', '_' and '.' only. */
  data?: string;
  /** IP TTL (default 64) and TCP window (default 64240, as Linux): vary them so no rule can single the grader out. */
  ttl?: number;
  window?: number;
  /** A name for the evidence, e.g. "agent 41234/tcp". */
  label?: string;
}

export interface RawAnswer {
  proto: 'tcp' | 'udp' | 'icmp';
  /** TCP flags as hping3 writes them: "sa" (SYN-ACK), "r", "ra". */
  flags?: string;
  ttl: number;
  /** UDP payload, decoded. */
  data?: string;
  icmp?: { type: number; code: number };
}

export interface RawResult {
  packet: Required<Omit<RawPacket, 'data' | 'label' | 'ttl' | 'window'>> &
    Pick<RawPacket, 'data' | 'label' | 'ttl' | 'window'>;
  answers: RawAnswer[];
}

const RAW_DATA = /^[\w.-]*$/;
const u32 = () => Math.floor(Math.random() * 0xfffffffe) + 1;

type Layer = { name: string; fields: Record<string, string> };

/** Splits one packet as hping3's Tcl API prints it, "ip(k=v,...)+tcp(k=v,...)+data(str=...)", into layers. */
export function parseHpingPacket(text: string): Layer[] {
  const layers: Layer[] = [];
  for (const m of text.matchAll(/([a-z][\w.]*)\(([^)]*)\)/g)) {
    const fields: Record<string, string> = {};
    for (const kv of (m[2] as string).split(',')) {
      const i = kv.indexOf('=');
      if (i > 0) fields[kv.slice(0, i)] = kv.slice(i + 1);
    }
    layers.push({ name: m[1] as string, fields });
  }
  return layers;
}

/** hping3 writes bytes outside [A-Za-z0-9] of a payload as \xx (hex). */
const unescapeHping = (s: string) =>
  s.replace(/\\([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** The answers among hping3's received packets that belong to one sent packet (pure, for tests). */
export function answersFor(packet: RawResult['packet'], target: string, received: Layer[][]): RawAnswer[] {
  const out: RawAnswer[] = [];
  const proto = packet.kind === 'udp' ? 'udp' : 'tcp';
  for (const layers of received) {
    const [ip, l4, inner, innerL4] = layers;
    if (ip?.name !== 'ip' || ip.fields.daddr !== packet.source) continue;
    const ttl = Number(ip.fields.ttl);
    if (
      l4?.name === proto &&
      ip.fields.saddr === target &&
      Number(l4.fields.sport) === packet.dport &&
      Number(l4.fields.dport) === packet.sport
    ) {
      const data = layers.find((l) => l.name === 'data')?.fields.str;
      out.push({
        proto,
        ttl,
        ...(proto === 'tcp' ? { flags: l4.fields.flags } : { data: data === undefined ? '' : unescapeHping(data) }),
      });
    } else if (
      l4?.name === 'icmp' &&
      inner?.name === 'ip' &&
      inner.fields.saddr === packet.source &&
      innerL4?.name === proto &&
      Number(innerL4.fields.sport) === packet.sport &&
      Number(innerL4.fields.dport) === packet.dport
    ) {
      out.push({ proto: 'icmp', ttl, icmp: { type: Number(l4.fields.type), code: Number(l4.fields.code) } });
    }
  }
  return out;
}

/** An answer in a few words: "SYN-ACK (ttl 63)", "RST (ttl 64)", "UDP 'BOB-...' (ttl 63)", "ICMP 3/3". */
export function describeAnswer(a: RawAnswer): string {
  if (a.proto === 'icmp')
    return `ICMP ${a.icmp?.type}/${a.icmp?.code}${a.icmp?.type === 3 && a.icmp.code === 3 ? ' (port unreachable)' : ''} (ttl ${a.ttl})`;
  if (a.proto === 'udp') return `UDP "${(a.data ?? '').trim().slice(0, 60)}" (ttl ${a.ttl})`;
  const names: Record<string, string> = { sa: 'SYN-ACK', r: 'RST', ra: 'RST-ACK', a: 'ACK' };
  return `${names[a.flags ?? ''] ?? `flags ${a.flags}`} (ttl ${a.ttl})`;
}

/**
 * Sends hand-made packets with hping3 (one process, all at once) and collects what comes back
 * within listenMs: the grader's way to test a firewall with "reply-shaped" traffic, i.e. a chosen
 * source port (53, 80, 123, 443) or a TCP segment without SYN. Runs in a sidecar or a fresh machine.
 */
export async function rawPackets(
  host: Host,
  target: string,
  packets: RawPacket[],
  opts: { listenMs?: number } = {},
): Promise<{ results: RawResult[]; evidence: Evidence }> {
  const listenMs = opts.listenMs ?? 1500;
  const full = packets.map((p) => {
    if (p.data !== undefined && !RAW_DATA.test(p.data))
      throw new Error(`rawPackets: payload ${JSON.stringify(p.data)} has characters hping3 cannot take`);
    return { ...p, source: p.source ?? '', seq: p.seq ?? u32(), ack: p.kind === 'ack' ? (p.ack ?? u32()) : 0 };
  });
  const spec = (p: (typeof full)[number]) => {
    const ip = `ip(saddr=${p.source || '$src'},daddr=${target},ttl=${p.ttl ?? 64})`;
    if (p.kind === 'udp') return `${ip}+udp(sport=${p.sport},dport=${p.dport})${p.data ? `+data(str=${p.data})` : ''}`;
    return `${ip}+tcp(sport=${p.sport},dport=${p.dport},flags=${p.kind === 'syn' ? 's' : 'a'},seq=${p.seq},ack=${p.ack},win=${p.window ?? 64240})`;
  };
  const sources = [...new Set(full.map((p) => p.source).filter(Boolean))];
  const tcl = [
    'set ifa [lindex $argv 0]',
    'set src [lindex $argv 1]',
    // Only what others send: our own packets would show up in the capture too.
    `hping setfilter $ifa "ip and not src host $src${sources.map((s) => ` and not src host ${s}`).join('')}"`,
    ...full.map((p) => `hping send "${spec(p)}"`),
    `foreach p [hping recv $ifa ${listenMs} 0] { puts "got $p" }`,
  ].join('\n');
  const script = [
    `route=$(ip -o -4 route get ${q(target)})`,
    `dev=$(sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' <<<"$route"); src=$(sed -n 's/.* src \\([^ ]*\\).*/\\1/p' <<<"$route")`,
    '[ -n "$dev" ] && [ -n "$src" ] || { echo "no route to the target: $route"; exit 2; }',
    'f=$(mktemp)',
    `cat > "$f" <<'HN_TCL'\n${tcl}\nHN_TCL`,
    `echo "src $src"; timeout ${Math.ceil(listenMs / 1000) + 6} hping3 exec "$f" "$dev" "$src" 2>&1; rc=$?; rm -f "$f"; exit $rc`,
  ].join('\n');
  const e = await host.run(script, listenMs + 10000);
  const defaultSource = /^src (\S+)$/m.exec(e.output)?.[1] ?? '';
  const received = [...e.output.matchAll(/^got (.*)$/gm)].map((m) => parseHpingPacket(m[1] as string));
  const results = full.map((p) => {
    const packet = { ...p, source: p.source || defaultSource };
    return { packet, answers: answersFor(packet, target, received) };
  });
  const word = { syn: 'SYN', ack: 'ACK', udp: 'UDP' } as const;
  const lines = results.map(({ packet: p, answers }) => {
    const what = `${word[p.kind]} ${p.source}:${p.sport} > ${target}:${p.dport}${p.kind === 'ack' ? ` ack ${p.ack}` : p.kind === 'syn' ? ` seq ${p.seq}` : ''}`;
    return `${what}${p.label ? ` (${p.label})` : ''}: ${answers.length ? answers.map(describeAnswer).join(', ') : 'no answer'}`;
  });
  const shown = `hping3: ${packets.length} hand-made packets to ${target} (SYN = -S, ACK = -A, UDP = -2; -s <source port> -k), then ${listenMs} ms of listening`;
  const ok = e.exitCode === 0;
  return {
    results,
    evidence: { ...e, command: shown, output: ok ? lines.join('\n') : `${lines.join('\n')}\n${e.output}`.trim() },
  };
}

export interface CapturedPacket {
  line: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** tcpdump's TCP flags: "S", ".", "S.", "R", "R.", "P.", ... (absent for UDP and others). */
  flags?: string;
  seq?: number;
  ack?: number;
}

/** One line of `tcpdump -nn -S` (any interface), or undefined when it is not an IPv4 TCP/UDP packet. */
export function parseTcpdumpLine(line: string): CapturedPacket | undefined {
  const m = /\bIP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$/.exec(line);
  if (!m) return undefined;
  const rest = m[5] as string;
  const flags = /^Flags \[([^\]]*)\]/.exec(rest)?.[1];
  const seq = /(?:^|, )seq (\d+)/.exec(rest)?.[1];
  const ack = /(?:^|, )ack (\d+)/.exec(rest)?.[1];
  return {
    line,
    src: m[1] as string,
    sport: Number(m[2]),
    dst: m[3] as string,
    dport: Number(m[4]),
    ...(flags !== undefined ? { flags } : {}),
    ...(seq ? { seq: Number(seq) } : {}),
    ...(ack ? { ack: Number(ack) } : {}),
  };
}

export interface Capture {
  /** The capture listens (when not, evidence carries a graderError and says why). */
  ok: boolean;
  evidence: Evidence;
  /** Ends the capture and returns what it saw, only the lines containing one of `keep` when given. */
  stop(keep?: string[]): Promise<{ packets: CapturedPacket[]; evidence: Evidence }>;
}

/**
 * Starts tcpdump on every interface of a host, in the background, and returns once it listens.
 * It is the far end's own witness: a packet it sees arrived, whatever came back. tcpdump must be
 * able to keep root (-Z root needs CAP_SETGID): run it on a node (ctx.node), not in a sidecar.
 * It ends by itself after maxSeconds if stop() is never called.
 */
export async function startCapture(host: Host, filter: string, opts: { maxSeconds?: number } = {}): Promise<Capture> {
  const f = `/tmp/hurrynet-capture-${Math.random().toString(16).slice(2, 10)}`;
  const start = await host.run(
    [
      // Not --immediate-mode: with it libpcap's ring is so small that a burst of packets is dropped.
      `setsid nohup timeout ${opts.maxSeconds ?? 30} tcpdump -Z root -nn -S -l -B 4096 -i any ${q(filter)} >${f}.txt 2>${f}.err </dev/null &`,
      `echo $! >${f}.pid`,
      `for i in $(seq 1 50); do grep -q 'listening on' ${f}.err && exit 0; kill -0 $! 2>/dev/null || break; sleep 0.1; done`,
      `cat ${f}.err; exit 1`,
    ].join('\n'),
    10000,
  );
  const shown = { ...start, command: `tcpdump -nn -S -i any '${filter}' (in the background)` };
  const ok = start.exitCode === 0 && !start.graderError;
  return {
    ok,
    evidence: ok
      ? shown
      : {
          ...shown,
          graderError:
            shown.graderError ??
            `the grader's capture on ${host.where} did not start: ${start.output.trim().split('\n').slice(-1)[0] ?? ''}`,
        },
    async stop(keep?: string[]) {
      const pick = keep?.length ? ` | grep -F ${keep.map((k) => `-e ${q(k)}`).join(' ')}` : '';
      // Stop first and wait until tcpdump has exited: only then is every packet it saw written out.
      const e = await host.run(
        [
          // A capture that ended before now (its own time limit) may have missed packets: say so.
          `pid=$(cat ${f}.pid 2>/dev/null); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; else echo 'HN_CAPTURE_ENDED_EARLY'; fi`,
          `for i in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done`,
          `cat ${f}.txt${pick}; grep -E 'packets? (captured|received by filter|dropped by kernel)' ${f}.err; rm -f ${f}.txt ${f}.err ${f}.pid; true`,
        ].join('\n'),
        10000,
      );
      const packets = e.output.split('\n').flatMap((l) => parseTcpdumpLine(l) ?? []);
      // A capture that missed packets proves nothing about the packets it does not show.
      const count = (what: string) => Number(new RegExp(`^(\\d+) packets? ${what}`, 'm').exec(e.output)?.[1] ?? NaN);
      const [captured, received, dropped] = [
        count('captured'),
        count('received by filter'),
        count('dropped by kernel'),
      ];
      const missed = Number.isNaN(captured)
        ? 'it did not report what it saw'
        : dropped > 0 || captured < received - dropped
          ? `it missed ${Math.max(dropped, received - captured)} packets`
          : undefined;
      const problem = e.output.includes('HN_CAPTURE_ENDED_EARLY')
        ? 'it ended before it was read (its time limit)'
        : missed;
      const evidence: Evidence = {
        ...e,
        command: `the packets tcpdump saw arrive on ${host.where} ('${filter}')${keep?.length ? ", only the grader's" : ''}`,
        output: e.output.replace('HN_CAPTURE_ENDED_EARLY\n', ''),
        ...(problem && !e.graderError
          ? { graderError: `the grader's capture on ${host.where} is not complete: ${problem}` }
          : {}),
      };
      return { packets, evidence };
    },
  };
}
