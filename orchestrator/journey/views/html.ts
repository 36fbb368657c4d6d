// The journey as one self-contained HTML page: a lane per node, an arrow per hop, and for each
// packet (click it) its headers at every hop with the fields a router changed marked. No scripts
// and no external files, so it can be mailed, attached to a report or opened offline.
import type { HopDoc, JourneyDoc, PacketDoc } from '../document.js';

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** Lanes in the order of the story where the nodes exist, other nodes after them. */
const STORY = ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp'];
function lanes(doc: JourneyDoc): string[] {
  const names = doc.nodes.map((n) => n.name);
  return [...STORY.filter((n) => names.includes(n)), ...names.filter((n) => !STORY.includes(n)).sort()];
}

const LANE = 110;
const ROW = 26;

function arrows(p: PacketDoc, x: (node: string) => number): string {
  const parts: string[] = [];
  for (let i = 0; i < p.hops.length; i++) {
    const h = p.hops[i] as HopDoc;
    if (h.dir !== 'out') continue;
    const next = p.hops[i + 1];
    const x1 = x(h.node);
    const x2 = next && next.dir === 'in' ? x(next.node) : x1 + (x1 < LANE * 2 ? 40 : -40);
    const lost = !next || next.dir !== 'in';
    parts.push(
      `<line x1="${x1}" y1="13" x2="${x2}" y2="13" class="${lost ? 'lost' : 'hop'}" marker-end="url(#${lost ? 'x' : 'a'})"><title>${esc(`${h.node} → ${next?.node ?? '?'} on ${h.iface}`)}</title></line>`,
    );
  }
  if (p.fate.kind === 'died' && p.fate.node)
    parts.push(`<text x="${x(p.fate.node) + 6}" y="9" class="lostmark">✗</text>`);
  return parts.join('');
}

const FIELDS: [string, (h: HopDoc) => string][] = [
  ['where', (h) => `${h.dir === 'out' ? 'left' : 'reached'} ${h.node} on ${h.iface}`],
  ['t (s)', (h) => h.t.toFixed(6)],
  ['src MAC', (h) => `${h.eth.src} (${h.eth.srcOwner})`],
  ['dst MAC', (h) => `${h.eth.dst} (${h.eth.dstOwner})`],
  ['src', (h) => `${h.ip.src}${h.sport !== undefined ? `:${h.sport}` : ''}`],
  ['dst', (h) => `${h.ip.dst}${h.dport !== undefined ? `:${h.dport}` : ''}`],
  ['TTL', (h) => String(h.ip.ttl)],
  ['IP ID', (h) => String(h.ip.id)],
  ['DF / frag', (h) => `${h.ip.df ? 'DF' : '-'} ${h.ip.fragOffset}${h.ip.mf ? '+' : ''}`],
  ['length', (h) => String(h.ip.length)],
  [
    'TCP',
    (h) =>
      h.tcp
        ? `[${h.tcp.flags}] seq ${h.tcp.relSeq} ack ${h.tcp.relAck} win ${h.tcp.window}${h.tcp.mss ? ` mss ${h.tcp.mss}` : ''}`
        : '',
  ],
  ['TCP raw', (h) => (h.tcp ? `${h.tcp.seq} / ${h.tcp.ack}` : '')],
  [
    'ICMP',
    (h) =>
      h.icmp
        ? `${h.icmp.name}${h.icmp.mtu ? ` mtu ${h.icmp.mtu}` : ''}${h.icmp.quoted ? ` (about ${h.icmp.quoted})` : ''}`
        : '',
  ],
];

function hopTable(p: PacketDoc): string {
  const rows = FIELDS.filter(([, f]) => p.hops.some((h) => f(h) !== '')).map(([name, f]) => {
    const cells = p.hops.map((h, i) => {
      const prev = p.hops[i - 1];
      // Marked: a field that differs from the hop before it, except where it always does.
      const changed = i > 0 && prev && !['where', 't (s)'].includes(name) && f(prev) !== f(h);
      return `<td${changed ? ' class="changed"' : ''}>${esc(f(h))}</td>`;
    });
    return `<tr><th>${esc(name)}</th>${cells.join('')}</tr>`;
  });
  return `<table class="hops">${rows.join('')}</table>`;
}

export function renderHtml(doc: JourneyDoc): string {
  const names = lanes(doc);
  const x = (node: string) => 60 + LANE * Math.max(0, names.indexOf(node));
  const width = 60 + LANE * names.length;
  const byId = new Map(doc.packets.map((p) => [p.id, p]));
  const flows = doc.flows
    .map((f) => {
      const rows = f.packets
        .map((id) => byId.get(id))
        .filter((p): p is PacketDoc => !!p)
        .map((p) => {
          const fate =
            p.fate.kind === 'died' || p.fate.kind === 'unclaimed'
              ? `<p class="fate">✗ ${esc(p.fate.summary ?? 'lost')}</p>${(p.fate.facts ?? []).map((l) => `<p class="fact">${esc(l)}</p>`).join('')}`
              : '';
          const changes = p.changes
            .filter((c) => !c.field.endsWith('mac'))
            .map((c) => `${c.node}: ${c.field} ${c.from} → ${c.to} (${c.why})`);
          return `<details class="packet${p.isError ? ' error' : ''}"><summary><span class="label">#${p.id} ${esc(p.label)}${p.app ? ` <i>${esc(p.app)}</i>` : ''}</span><svg width="${width}" height="${ROW}">${arrows(p, x)}</svg></summary>${fate}${changes.length ? `<p class="changes">${changes.map(esc).join('<br>')}</p>` : ''}${hopTable(p)}</details>`;
        })
        .join('');
      const related = f.related.map((r) => `<span class="rel">with [${r.flow}]: ${esc(r.why)}</span>`).join(' ');
      return `<section><h2>[${f.id}] ${esc(f.protocol.toUpperCase())} ${esc(f.app?.toUpperCase() ?? '')} ${esc(`${f.client.ip}:${f.client.port} → ${f.server.ip}:${f.server.port}`)} ${related}</h2>${rows}</section>`;
    })
    .join('');
  const head = names.map((n) => `<text x="${x(n)}" y="16" text-anchor="middle">${esc(n)}</text>`).join('');
  const laneLines = names.map((n) => `<div class="lane" style="left:${x(n) + 232}px"></div>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>journey: ${esc(doc.command.join(' '))}</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;position:relative}
h1{font-size:1.2em}h2{font-size:1em;margin:1.2em 0 .3em}
.lane{position:absolute;top:0;bottom:0;width:1px;background:#eee;z-index:-1}
.packet summary{display:flex;align-items:center;cursor:pointer;list-style:none}
.label{display:inline-block;width:220px;font-family:monospace;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.hop{stroke:#3b7dd8;stroke-width:2}.lost{stroke:#c22;stroke-width:2;stroke-dasharray:4 3}.lostmark{fill:#c22;font-weight:bold}
.error .label{color:#c22}.fate{color:#c22;margin:.2em 0 .2em 2em}.fact,.changes{color:#555;margin:.2em 0 .2em 2em;font-family:monospace;font-size:12px}
table.hops{border-collapse:collapse;margin:.3em 0 1em 2em;font:12px monospace}table.hops td,table.hops th{border:1px solid #ddd;padding:2px 6px;text-align:left}
td.changed{background:#fff3b0;font-weight:bold}.rel{font-weight:normal;color:#666;font-size:.9em}.warn{color:#a60}
</style></head><body>
<h1>Journey of <code>${esc(doc.command.join(' '))}</code> on ${esc(doc.from)} (exit ${doc.exitCode})</h1>
<p>${doc.packets.length} packets in ${doc.flows.length} conversations, captured on every interface of ${doc.nodes.length} nodes of instance ${esc(doc.instance)} at ${esc(doc.startedAt)}. Click a packet to see its headers at every hop; changed fields are marked.</p>
${doc.warnings.map((w) => `<p class="warn">warning: ${esc(w)}</p>`).join('')}
${laneLines}<div style="padding-left:232px"><svg width="${width}" height="22">${head}</svg></div>
<svg width="0" height="0"><defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#3b7dd8"/></marker><marker id="x" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#c22"/></marker></defs></svg>
${flows}
</body></html>
`;
}
