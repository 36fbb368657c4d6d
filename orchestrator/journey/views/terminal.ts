// The journey in the terminal: one block per conversation, one line per packet with the path it
// took, and under it what each router changed. Changes repeat for every packet of a connection,
// so they are shown for the first packet each way and again only where they differ.
import { bold, cyan, dim, green, red, visibleLength, yellow } from '../../cli/ui.js';
import type { FlowDoc, HopDoc, JourneyDoc, PacketDoc } from '../document.js';

export interface TerminalOptions {
  width: number;
  verbose: boolean;
  /** Packets shown at most (the rest are counted). */
  max: number;
}

const WHY: Record<string, string> = {
  snat: 'source NAT',
  dnat: 'destination NAT',
  'reverse nat': 'NAT undone for the answer',
  'mss clamping': 'MSS clamped',
  fragmentation: 'fragmented',
};

const endpoint = (e: FlowDoc['client']) => `${e.ip}${e.port ? `:${e.port}` : ''}${e.node ? dim(` (${e.node})`) : ''}`;

/** "home: src 192.168.1.101:41000 → 203.0.113.5:41000 (source NAT)  TTL 64→63" */
function changeLines(p: PacketDoc, verbose: boolean): string[] {
  const byNode = new Map<string, PacketDoc['changes']>();
  for (const c of p.changes) byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
  const lines: string[] = [];
  for (const [node, changes] of byNode) {
    const parts: string[] = [];
    const get = (field: string) => changes.find((c) => c.field === field);
    for (const side of ['src', 'dst'] as const) {
      const ip = get(`${side} ip`);
      const port = get(`${side} port`) ?? (side === 'src' ? get('echo id') : undefined);
      if (!ip && !port) continue;
      const why = (ip ?? port)?.why ?? '';
      const hop = p.hops.find((h) => h.node === node && h.dir === 'in');
      const fromIp = ip?.from ?? (side === 'src' ? hop?.ip.src : hop?.ip.dst) ?? '';
      const toIp = ip?.to ?? fromIp;
      const fromPort = port?.from ?? String((side === 'src' ? hop?.sport : hop?.dport) ?? '');
      const toPort = port?.to ?? fromPort;
      const fmt = (a: string, b: string) => (b && b !== '0' ? `${a}:${b}` : a);
      parts.push(`${side} ${fmt(fromIp, fromPort)} → ${yellow(fmt(toIp, toPort))} ${dim(`(${WHY[why] ?? why})`)}`);
    }
    const mss = get('mss');
    if (mss) parts.push(`MSS ${mss.from} → ${yellow(mss.to)} ${dim('(clamped)')}`);
    if (get('fragments')) parts.push(yellow('fragmented'));
    const payload = get('payload');
    if (payload)
      parts.push(`payload "${payload.from}" → ${yellow(`"${payload.to}"`)} ${dim('(rewritten by the NAT helper)')}`);
    const ttl = get('ttl');
    if (ttl) parts.push(`TTL ${ttl.from}→${ttl.to}`);
    if (verbose) {
      const smac = get('src mac');
      const dmac = get('dst mac');
      if (smac || dmac) parts.push(dim('new MACs'));
    }
    if (parts.length) lines.push(`${bold(node.padEnd(6))} ${parts.join('   ')}`);
  }
  return lines;
}

function verboseLines(h: HopDoc): string {
  const t = h.tcp
    ? ` seq ${h.tcp.relSeq} ack ${h.tcp.relAck} win ${h.tcp.window}${h.tcp.mss ? ` mss ${h.tcp.mss}` : ''} (raw ${h.tcp.seq}/${h.tcp.ack})`
    : '';
  const ports = h.sport !== undefined ? `:${h.sport} → ${h.ip.dst}:${h.dport}` : ` → ${h.ip.dst}`;
  const frag = h.ip.fragOffset || h.ip.mf ? ` frag ${h.ip.fragOffset}${h.ip.mf ? '+' : ''}` : '';
  return dim(
    `${h.dir === 'out' ? 'left' : 'reached'} ${h.node} on ${h.iface}  ${h.eth.src} (${h.eth.srcOwner}) → ${h.eth.dst} (${h.eth.dstOwner})  ${h.ip.src}${ports}  ttl ${h.ip.ttl} id ${h.ip.id}${h.ip.df ? ' DF' : ''}${frag} len ${h.ip.length}${t}`,
  );
}

function pathText(p: PacketDoc): string {
  const parts: string[] = [];
  for (let i = 0; i < p.hops.length; i++) {
    const h = p.hops[i] as HopDoc;
    if (i === 0) parts.push(h.node);
    if (h.dir === 'out') {
      const next = p.hops[i + 1];
      if (next && next.dir === 'in') parts.push(`─${h.iface}→`, next.node);
      else parts.push(`─${h.iface}→`, red('✗'));
    }
  }
  return parts.join(' ');
}

function fateLine(p: PacketDoc): string | undefined {
  if (p.fate.kind === 'died') return red(`✗ lost at ${p.fate.node}: ${p.fate.summary ?? 'it arrived and never left'}`);
  if (p.fate.kind === 'unclaimed') return red(`✗ ${p.fate.summary ?? 'nobody took it'}`);
  return undefined;
}

/** A signature of what routers did, to show a change list only when it is news. */
const changeKey = (p: PacketDoc) =>
  `${p.direction}|${p.path.join('>')}|${p.changes
    .filter((c) => !c.field.includes('mac'))
    .map((c) => `${c.node}:${c.field}:${c.from}>${c.to}`)
    .join(',')}`;

function wrapTo(text: string, width: number, indent: string): string {
  if (visibleLength(text) <= width) return text;
  const lead = /^ */.exec(text)?.[0] ?? '';
  const words = text.slice(lead.length).split(' ');
  const lines: string[] = [];
  let line = lead;
  for (const w of words) {
    if (line.trim() && visibleLength(line) + 1 + visibleLength(w) > width) {
      lines.push(line);
      line = indent + w;
    } else line = line.trim() ? `${line} ${w}` : `${line}${w}`;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export function renderTerminal(doc: JourneyDoc, opts: TerminalOptions): string {
  const width = Math.max(60, opts.width);
  const out: string[] = [];
  const exit = doc.timedOut
    ? red('stopped at its time limit')
    : doc.exitCode === 0
      ? green('exit 0')
      : red(`exit ${doc.exitCode}`);
  out.push(
    `${bold('journey')} of ${cyan(doc.command.join(' '))} on ${bold(doc.from)} (${exit}, ${doc.seconds.command.toFixed(1)} s)`,
  );
  const seen = doc.captures.reduce((n, c) => n + c.packets, 0);
  out.push(
    dim(
      `captured on ${doc.nodes.length} nodes and ${doc.captures.length} interfaces: ${seen} frames, ${doc.packets.length} packets in ${doc.flows.length} conversations`,
    ),
  );
  for (const w of doc.warnings) out.push(yellow(`warning: ${w}`));
  const byId = new Map(doc.packets.map((p) => [p.id, p]));
  let shown = 0;
  for (const f of doc.flows) {
    const app = f.app ? ` ${f.app.toUpperCase()}` : '';
    out.push('', bold(`[${f.id}] ${f.protocol.toUpperCase()}${app}  ${endpoint(f.client)} → ${endpoint(f.server)}`));
    for (const r of f.related) out.push(dim(`    ↳ with [${r.flow}]: ${r.why}`));
    if (f.note) out.push(green(`    ↳ ${f.note}`));
    const keys = new Set<string>();
    for (const id of f.packets) {
      const p = byId.get(id);
      if (!p) continue;
      if (shown >= opts.max) continue;
      shown++;
      const label = `${p.label}${p.app ? `  ${cyan(p.app)}` : ''}`;
      const head = `  #${String(p.id).padEnd(4)}${p.isError ? red(label) : label}`;
      const path = pathText(p);
      const line =
        visibleLength(head) + 3 + visibleLength(path) <= width
          ? `${head}   ${dim(path)}`
          : `${head}\n         ${dim(path)}`;
      out.push(line);
      const key = changeKey(p);
      if (opts.verbose || !keys.has(key))
        for (const c of changeLines(p, opts.verbose)) out.push(wrapTo(`         ${c}`, width, '                '));
      keys.add(key);
      if (opts.verbose)
        for (const h of p.hops) out.push(wrapTo(`           ${verboseLines(h)}`, width, '             '));
      const fate = fateLine(p);
      if (fate) {
        out.push(wrapTo(`         ${fate}`, width, '           '));
        if (p.fate.facts?.length)
          for (const fact of p.fate.facts) out.push(wrapTo(dim(`           ${fact}`), width, '             '));
      }
    }
  }
  const hidden = doc.packets.length - shown;
  if (hidden > 0) out.push('', dim(`${hidden} more packets not shown (--max ${doc.packets.length} shows them all)`));
  const lost = doc.packets.filter((p) => p.fate.kind === 'died' || p.fate.kind === 'unclaimed');
  if (lost.length) {
    const where = [...new Set(lost.map((p) => p.fate.node))].join(', ');
    out.push('', red(`${lost.length} packet${lost.length === 1 ? ' was' : 's were'} lost, at ${where}`));
  }
  return out.join('\n') + '\n';
}
