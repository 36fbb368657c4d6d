// Pictures of a World's topology: a terminal text view, a Mermaid flowchart and a standalone SVG.
// Pure functions of the World data; they work for any world (labs may add nodes and links).

import type { Link, Node, World } from './world.js';

// ---------------------------------------------------------------------------------------------
// The shared model: a bipartite graph of nodes and links, explored breadth-first.

type Key = string; // 'n:<node>' or 'l:<link>'

interface Attachment {
  node: Node;
  link: Link;
  /** Story addresses (CIDR) of the node on the link, in declaration order. */
  addresses: string[];
}

interface Topology {
  nodes: Node[];
  /** Declared links, then any link a node names but the world does not declare. */
  links: Link[];
  attachments: Attachment[];
  /** Neighbours of every vertex, in declaration order. */
  adjacent: Map<Key, Key[]>;
  nodeByKey: Map<Key, Node>;
  linkByKey: Map<Key, Link>;
}

interface Exploration {
  /** Vertices in visiting order. */
  order: Key[];
  depth: Map<Key, number>;
  parent: Map<Key, Key>;
  /** Vertices reachable from the first node. */
  main: Set<Key>;
}

const nodeKey = (name: string): Key => `n:${name}`;
const linkKey = (name: string): Key => `l:${name}`;

function topologyOf(world: World): Topology {
  const links: Link[] = [...world.links];
  const linkByKey = new Map<Key, Link>();
  for (const link of links) if (!linkByKey.has(linkKey(link.name))) linkByKey.set(linkKey(link.name), link);
  const nodeByKey = new Map<Key, Node>();
  for (const node of world.nodes) if (!nodeByKey.has(nodeKey(node.name))) nodeByKey.set(nodeKey(node.name), node);

  const attachments: Attachment[] = [];
  const adjacent = new Map<Key, Key[]>();
  for (const key of [...nodeByKey.keys(), ...linkByKey.keys()]) adjacent.set(key, []);

  for (const node of nodeByKey.values()) {
    const byLink = new Map<string, Attachment>();
    for (const iface of node.interfaces) {
      let link = linkByKey.get(linkKey(iface.link));
      if (link === undefined) {
        link = { name: iface.link, title: '(link not declared in this world)', prefix: '?' };
        links.push(link);
        linkByKey.set(linkKey(link.name), link);
        adjacent.set(linkKey(link.name), []);
      }
      const existing = byLink.get(iface.link);
      if (existing !== undefined) {
        existing.addresses.push(...iface.addresses);
        continue;
      }
      const attachment: Attachment = { node, link, addresses: [...iface.addresses] };
      byLink.set(iface.link, attachment);
      attachments.push(attachment);
      adjacent.get(nodeKey(node.name))?.push(linkKey(link.name));
    }
  }
  // Links list their nodes in the world's node order, whatever the interface order.
  for (const node of nodeByKey.values()) {
    for (const attachment of attachments) {
      if (attachment.node === node) adjacent.get(linkKey(attachment.link.name))?.push(nodeKey(node.name));
    }
  }
  return {
    nodes: [...nodeByKey.values()],
    links: [...linkByKey.values()],
    attachments,
    adjacent,
    nodeByKey,
    linkByKey,
  };
}

/**
 * Breadth-first search over the bipartite node-link graph from the first node. Parts of the
 * world that it does not reach are explored afterwards, each from its first node (depth 0) or,
 * for a link without nodes, at depth 1, so nodes always sit at even and links at odd depths.
 */
function explore(topology: Topology): Exploration {
  const order: Key[] = [];
  const depth = new Map<Key, number>();
  const parent = new Map<Key, Key>();
  let main = new Set<Key>();

  const run = (start: Key, startDepth: number): void => {
    depth.set(start, startDepth);
    const queue: Key[] = [start];
    for (let head = 0; head < queue.length; head++) {
      const current = queue[head] as Key;
      order.push(current);
      const d = depth.get(current) ?? 0;
      for (const next of topology.adjacent.get(current) ?? []) {
        if (depth.has(next)) continue;
        depth.set(next, d + 1);
        parent.set(next, current);
        queue.push(next);
      }
    }
  };

  const first = topology.nodes[0];
  if (first !== undefined) {
    run(nodeKey(first.name), 0);
    main = new Set(order);
  }
  for (const node of topology.nodes) if (!depth.has(nodeKey(node.name))) run(nodeKey(node.name), 0);
  for (const link of topology.links) if (!depth.has(linkKey(link.name))) run(linkKey(link.name), 1);
  return { order, depth, parent, main };
}

function nameOf(topology: Topology, key: Key): string {
  return topology.nodeByKey.get(key)?.name ?? topology.linkByKey.get(key)?.name ?? key.slice(2);
}

function bareAddress(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}

// ---------------------------------------------------------------------------------------------
// Text

interface Trail {
  parts: string[];
  sides: { label: string; trail: Trail }[];
}

/** The breadth-first tree, walked along its longest branch, with the other branches aside. */
function trailFrom(topology: Topology, exploration: Exploration, start: Key): Trail {
  const children = new Map<Key, Key[]>();
  for (const key of exploration.order) {
    const parent = exploration.parent.get(key);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(key);
    children.set(parent, list);
  }
  const heights = new Map<Key, number>();
  const height = (key: Key): number => {
    const known = heights.get(key);
    if (known !== undefined) return known;
    const value = Math.max(0, ...(children.get(key) ?? []).map((child) => height(child) + 1));
    heights.set(key, value);
    return value;
  };
  const tallest = (keys: Key[]): Key | undefined =>
    keys.reduce<Key | undefined>(
      (best, key) => (best === undefined || height(key) > height(best) ? key : best),
      undefined,
    );
  const name = (key: Key): string => nameOf(topology, key);

  const walkNode = (key: Key, trail: Trail): void => {
    trail.parts.push(name(key));
    const links = children.get(key) ?? [];
    const main = tallest(links);
    if (main === undefined) return;
    for (const other of links) {
      if (other === main) continue;
      const side: Trail = { parts: [], sides: [] };
      walkLink(other, side);
      trail.sides.push({ label: `also from ${name(key)}`, trail: side });
    }
    walkLink(main, trail);
  };

  const walkLink = (key: Key, trail: Trail): void => {
    const nodes = children.get(key) ?? [];
    const main = tallest(nodes);
    if (main === undefined) {
      trail.parts.push(`─[${name(key)}]`);
      return;
    }
    trail.parts.push(`─[${name(key)}]─`);
    if (height(main) === 0) {
      trail.parts.push(nodes.map(name).join(', '));
      return;
    }
    const leaves = nodes.filter((node) => node !== main && height(node) === 0);
    if (leaves.length > 0) {
      trail.sides.push({ label: `also on ${name(key)}`, trail: { parts: [leaves.map(name).join(', ')], sides: [] } });
    }
    for (const other of nodes) {
      if (other === main || height(other) === 0) continue;
      const side: Trail = { parts: [], sides: [] };
      walkNode(other, side);
      trail.sides.push({ label: `also on ${name(key)}`, trail: side });
    }
    walkNode(main, trail);
  };

  const trail: Trail = { parts: [], sides: [] };
  walkNode(start, trail);
  return trail;
}

function trailLines(trail: Trail, indent: string, label?: string): string[] {
  const path = trail.parts.join(' ');
  const lines = [label === undefined ? `${indent}${path}` : `${indent}(${label}: ${path})`];
  const inner = label === undefined ? `${indent}  ` : `${indent}    `;
  for (const side of trail.sides) lines.push(...trailLines(side.trail, inner, side.label));
  return lines;
}

/** Addresses of an attachment, without the prefix length when it is the link's own. */
function shownAddresses(attachment: Attachment): string {
  if (attachment.addresses.length === 0) return '-';
  const linkLength = attachment.link.prefix.split('/')[1];
  return attachment.addresses
    .map((cidr) => {
      const [address, length] = cidr.split('/');
      return length === undefined || length === linkLength ? (address ?? cidr) : cidr;
    })
    .join(', ');
}

/**
 * A terminal picture of the topology: the path from the first node to the farthest ones
 * (side branches below it), then one block per link listing its nodes and their addresses.
 */
export function graphText(world: World): string {
  const topology = topologyOf(world);
  const exploration = explore(topology);
  const lines: string[] = [];

  const first = topology.nodes[0];
  if (first === undefined) {
    lines.push('(no nodes)');
  } else {
    lines.push(...trailLines(trailFrom(topology, exploration, nodeKey(first.name)), ''));
    const unreached = topology.nodes
      .filter((node) => !exploration.main.has(nodeKey(node.name)))
      .map((node) => node.name);
    if (unreached.length > 0) lines.push(`  (not connected to ${first.name}: ${unreached.join(', ')})`);
  }

  const rowsOf = (link: Link): Attachment[] => topology.attachments.filter((a) => a.link === link);
  let nameWidth = 0;
  let addressWidth = 0;
  for (const link of topology.links) {
    nameWidth = Math.max(nameWidth, link.name.length);
    addressWidth = Math.max(addressWidth, link.prefix.length);
    for (const row of rowsOf(link)) {
      nameWidth = Math.max(nameWidth, row.node.name.length + 2);
      addressWidth = Math.max(addressWidth, shownAddresses(row).length);
    }
  }
  const line = (first: string, second: string, third: string): string =>
    `${first.padEnd(nameWidth)}  ${second.padEnd(addressWidth)}  ${third}`.trimEnd();

  for (const link of topology.links) {
    lines.push('');
    lines.push(line(link.name, link.prefix, link.title));
    const rows = rowsOf(link);
    if (rows.length === 0) lines.push('  (no nodes)');
    for (const row of rows) lines.push(line(`  ${row.node.name}`, shownAddresses(row), row.node.title));
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/** Text for a quoted Mermaid label: quotes and markup characters become entity codes. */
function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[\r\n]+/g, ' ');
}

/**
 * A Mermaid `flowchart LR`: every node and every link is a vertex (links as stadiums), and
 * every attachment of a node to a link is an edge labeled with the node's addresses there.
 */
export function graphMermaid(world: World): string {
  const topology = topologyOf(world);
  const ids = new Map<Key, string>();
  const used = new Set<string>();
  const idFor = (key: Key, prefix: string, name: string): string => {
    const base = `${prefix}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(key, id);
    return id;
  };

  const lines = ['flowchart LR', `  %% ${world.title.replace(/[\r\n]+/g, ' ')}`];
  const hosts: string[] = [];
  const routers: string[] = [];
  for (const node of topology.nodes) {
    const id = idFor(nodeKey(node.name), 'n_', node.name);
    lines.push(`  ${id}["${mermaidText(node.name)}<br/>${mermaidText(node.title)}"]`);
    (node.router ? routers : hosts).push(id);
  }
  const nets: string[] = [];
  for (const link of topology.links) {
    const id = idFor(linkKey(link.name), 'l_', link.name);
    lines.push(`  ${id}(["${mermaidText(link.name)}<br/>${mermaidText(link.prefix)}"])`);
    nets.push(id);
  }
  for (const attachment of topology.attachments) {
    const from = ids.get(nodeKey(attachment.node.name));
    const to = ids.get(linkKey(attachment.link.name));
    const label = attachment.addresses.map(bareAddress).join(', ');
    lines.push(label === '' ? `  ${from} --- ${to}` : `  ${from} ---|"${mermaidText(label)}"| ${to}`);
  }
  lines.push('  classDef host fill:#e0f2fe,stroke:#0369a1,color:#0f172a');
  lines.push('  classDef router fill:#fef3c7,stroke:#b45309,color:#0f172a');
  lines.push('  classDef net fill:#dcfce7,stroke:#15803d,color:#0f172a');
  if (hosts.length > 0) lines.push(`  class ${hosts.join(',')} host`);
  if (routers.length > 0) lines.push(`  class ${routers.join(',')} router`);
  if (nets.length > 0) lines.push(`  class ${nets.join(',')} net`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// SVG

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const COLORS = {
  background: '#ffffff',
  heading: '#0f172a',
  text: '#0f172a',
  subtle: '#334155',
  line: '#64748b',
  address: '#1e3a8a',
  host: { fill: '#e0f2fe', stroke: '#0369a1' },
  router: { fill: '#fef3c7', stroke: '#b45309' },
  link: { fill: '#dcfce7', stroke: '#15803d' },
};
const MARGIN = 24;
const HEADING = 40;
const LEGEND = 40;
const LEGEND_WIDTH = 330;
const BOX_HEIGHT = 48;
const ROW_GAP = 30;
const TITLE_WRAP = 26;
const TITLE_LINE = 15;
const MIN_COLUMN_GAP = 56;
const ADDRESS_SIZE = 11;
const ADDRESS_LINE = 13;

function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A generous estimate of rendered text width (no font metrics in a pure function). */
function textWidth(text: string, size: number, bold = false): number {
  return Array.from(text).length * size * (bold ? 0.62 : 0.56);
}

function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Greedy word wrap; a word longer than the limit keeps a line of its own. */
function wrap(text: string, limit: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (current === '') current = word;
    else if (current.length + 1 + word.length <= limit) current += ` ${word}`;
    else {
      lines.push(current);
      current = word;
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  return lines;
}

interface Box {
  key: Key;
  column: number;
  width: number;
  height: number;
  /** Second-line text: a node's wrapped title or a link's prefix. */
  detail: string[];
  x: number;
  y: number;
}

interface Layout {
  /** Every box, in breadth-first order (which is also the drawing order). */
  boxes: Map<Key, Box>;
  width: number;
  height: number;
  /** Bottom of the tallest column; the legend sits below it. */
  bodyBottom: number;
}

/** A vertex's box, sized for its text but not yet placed. */
function sizedBox(topology: Topology, key: Key, column: number): Box {
  const node = topology.nodeByKey.get(key);
  const link = topology.linkByKey.get(key);
  const detail = node ? wrap(node.title, TITLE_WRAP) : [link?.prefix ?? ''];
  const width = node
    ? Math.max(96, textWidth(node.name, 14, true), ...detail.map((line) => textWidth(line, 12))) + 28
    : Math.max(64, textWidth(link?.name ?? '', 13, true), textWidth(detail[0] ?? '', 11)) + 32;
  const height = BOX_HEIGHT + (detail.length - 1) * TITLE_LINE;
  return { key, column, width, height, detail, x: 0, y: 0 };
}

const addressLines = (attachment: Attachment): string[] => attachment.addresses.map(bareAddress);

/** Gap after each column: room for the widest address label drawn in it. */
function columnGaps(topology: Topology, boxes: Map<Key, Box>, columnCount: number): number[] {
  const columnOf = (key: Key): number => boxes.get(key)?.column ?? 0;
  const gaps = Array.from({ length: columnCount }, () => MIN_COLUMN_GAP);
  for (const attachment of topology.attachments) {
    const gap = Math.min(columnOf(nodeKey(attachment.node.name)), columnOf(linkKey(attachment.link.name)));
    const widest = Math.max(0, ...addressLines(attachment).map((text) => textWidth(text, ADDRESS_SIZE)));
    gaps[gap] = Math.max(gaps[gap] ?? MIN_COLUMN_GAP, widest + 32);
  }
  return gaps;
}

function columnHeight(column: Box[]): number {
  return column.reduce((sum, box) => sum + box.height, 0) + Math.max(0, column.length - 1) * ROW_GAP;
}

/**
 * Columns by breadth-first depth, each centred vertically on the tallest one, boxes centred in
 * their column; the picture is wide enough for the heading and the legend too.
 */
function layout(world: World, topology: Topology, exploration: Exploration): Layout {
  const boxes = new Map<Key, Box>();
  const columns: Box[][] = [];
  for (const key of exploration.order) {
    const box = sizedBox(topology, key, exploration.depth.get(key) ?? 0);
    boxes.set(key, box);
    while (columns.length <= box.column) columns.push([]);
    columns[box.column]?.push(box);
  }
  const gaps = columnGaps(topology, boxes, columns.length);
  const bodyHeight = Math.max(BOX_HEIGHT, ...columns.map(columnHeight));
  const top = MARGIN + HEADING;
  let x = MARGIN;
  columns.forEach((column, index) => {
    const columnWidth = Math.max(0, ...column.map((box) => box.width));
    let y = top + (bodyHeight - columnHeight(column)) / 2;
    for (const box of column) {
      box.x = x + (columnWidth - box.width) / 2;
      box.y = y;
      y += box.height + ROW_GAP;
    }
    x += columnWidth + (index < columns.length - 1 ? (gaps[index] ?? MIN_COLUMN_GAP) : 0);
  });
  const headingWidth = textWidth(world.title, 16, true);
  return {
    boxes,
    width: Math.ceil(Math.max(x, MARGIN + LEGEND_WIDTH, MARGIN + headingWidth) + MARGIN),
    height: Math.ceil(top + bodyHeight + 16 + LEGEND + MARGIN),
    bodyBottom: top + bodyHeight,
  };
}

/**
 * One line per attachment, from the facing sides of its two boxes (centre to centre within a
 * column), and its address labels stacked above the midpoint. Labels come back apart because
 * they are drawn last, over the boxes.
 */
function attachmentLines(topology: Topology, boxes: Map<Key, Box>): { lines: string[]; labels: string[] } {
  const lines: string[] = [];
  const labels: string[] = [];
  for (const attachment of topology.attachments) {
    const a = boxes.get(nodeKey(attachment.node.name));
    const b = boxes.get(linkKey(attachment.link.name));
    if (a === undefined || b === undefined) continue;
    const [left, right] = a.column <= b.column ? [a, b] : [b, a];
    const x1 = left.column === right.column ? left.x + left.width / 2 : left.x + left.width;
    const x2 = left.column === right.column ? right.x + right.width / 2 : right.x;
    const y1 = left.y + left.height / 2;
    const y2 = right.y + right.height / 2;
    lines.push(`<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}"/>`);
    const texts = addressLines(attachment);
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2 - 5 - (texts.length - 1) * ADDRESS_LINE;
    texts.forEach((text, i) => {
      labels.push(`<text x="${num(mx)}" y="${num(my + i * ADDRESS_LINE)}">${xml(text)}</text>`);
    });
  }
  return { lines, labels };
}

/** A node: a rounded box with its name and wrapped title. */
function nodeBox(node: Node, box: Box, marked: boolean): string[] {
  const palette = node.router ? COLORS.router : COLORS.host;
  const cx = box.x + box.width / 2;
  return [
    marked ? `<g class="node" data-node="${xml(node.name)}">` : `<g>`,
    `<title>${xml(`${node.name}: ${node.title}`)}</title>`,
    `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.width)}" height="${box.height}" rx="8" ` +
      `fill="${palette.fill}" stroke="${palette.stroke}" stroke-width="1.5"/>`,
    `<text x="${num(cx)}" y="${num(box.y + 20)}" text-anchor="middle" font-size="14" font-weight="700" fill="${COLORS.text}">${xml(node.name)}</text>`,
    ...box.detail.map(
      (line, i) =>
        `<text x="${num(cx)}" y="${num(box.y + 37 + i * TITLE_LINE)}" text-anchor="middle" font-size="12" fill="${COLORS.subtle}">${xml(line)}</text>`,
    ),
    '</g>',
  ];
}

/** A link: a pill with its name and prefix. */
function linkBox(link: Link, box: Box, marked: boolean): string[] {
  const cx = box.x + box.width / 2;
  return [
    marked ? `<g class="link" data-link="${xml(link.name)}">` : `<g>`,
    `<title>${xml(`${link.name} ${link.prefix}: ${link.title}`)}</title>`,
    `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.width)}" height="${BOX_HEIGHT}" rx="${BOX_HEIGHT / 2}" ` +
      `fill="${COLORS.link.fill}" stroke="${COLORS.link.stroke}" stroke-width="1.5"/>`,
    `<text x="${num(cx)}" y="${num(box.y + 20)}" text-anchor="middle" font-size="13" font-weight="700" fill="${COLORS.text}">${xml(link.name)}</text>`,
    `<text x="${num(cx)}" y="${num(box.y + 36)}" text-anchor="middle" font-size="11" fill="${COLORS.subtle}">${xml(link.prefix)}</text>`,
    '</g>',
  ];
}

function vertexBoxes(topology: Topology, boxes: Map<Key, Box>, marked: boolean): string[] {
  return [...boxes.values()].flatMap((box) => {
    const node = topology.nodeByKey.get(box.key);
    if (node !== undefined) return nodeBox(node, box, marked);
    const link = topology.linkByKey.get(box.key);
    return link === undefined ? [] : linkBox(link, box, marked);
  });
}

/** The address labels, haloed in the background colour so they stay legible over lines. */
function addressLabels(labels: string[]): string[] {
  return [
    `<g font-size="${ADDRESS_SIZE}" text-anchor="middle" fill="${COLORS.address}" stroke="${COLORS.background}" ` +
      `stroke-width="4" stroke-linejoin="round" paint-order="stroke">`,
    ...labels,
    '</g>',
  ];
}

function legend(bodyBottom: number): string[] {
  const ly = bodyBottom + 16 + 8;
  const swatch = (sx: number, fill: string, stroke: string, rx: number, label: string): string =>
    `<rect x="${sx}" y="${num(ly)}" width="28" height="16" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="1.5"/>` +
    `<text x="${sx + 36}" y="${num(ly + 12)}">${xml(label)}</text>`;
  return [
    `<g font-size="12" fill="${COLORS.subtle}">`,
    swatch(MARGIN, COLORS.host.fill, COLORS.host.stroke, 4, 'host'),
    swatch(MARGIN + 90, COLORS.router.fill, COLORS.router.stroke, 4, 'router'),
    swatch(MARGIN + 190, COLORS.link.fill, COLORS.link.stroke, 8, 'link (prefix)'),
    '</g>',
  ];
}

/** The document around the picture: size, accessible title and description, background, heading. */
function svgFrame(world: World, topology: Topology, width: number, height: number, body: string[]): string {
  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" aria-labelledby="graph-title" font-family="${xml(FONT)}">`,
    `<title id="graph-title">${xml(world.title)}</title>`,
    `<desc>${xml(`${topology.nodes.length} nodes on ${topology.links.length} links (world ${world.name})`)}</desc>`,
    `<rect width="100%" height="100%" fill="${COLORS.background}"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 16}" font-size="16" font-weight="700" fill="${COLORS.heading}">${xml(world.title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n')}\n`;
}

/**
 * A self-contained SVG of the topology, laid out left to right: the column of a node or link is
 * its breadth-first depth from the first node in the node-link graph. Nodes are rounded boxes
 * (name and title), links are pills (name and prefix), and each attachment is a line labeled
 * with the node's addresses on that link. `marked` adds data-node / data-link attributes to each
 * box's group, for a page that makes them clickable (the browser UI).
 */
export function graphSvg(world: World, opts: { marked?: boolean } = {}): string {
  const topology = topologyOf(world);
  const { boxes, width, height, bodyBottom } = layout(world, topology, explore(topology));
  const { lines, labels } = attachmentLines(topology, boxes);
  // Lines first, then boxes over their ends, then address labels over everything.
  return svgFrame(world, topology, width, height, [
    `<g stroke="${COLORS.line}" stroke-width="1.5" fill="none">`,
    ...lines,
    '</g>',
    ...vertexBoxes(topology, boxes, !!opts.marked),
    ...addressLabels(labels),
    ...legend(bodyBottom),
  ]);
}
