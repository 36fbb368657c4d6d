import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { graphMermaid, graphSvg, graphText } from '../../orchestrator/world/graph.js';
import { canonicalWorld, type Node, type World } from '../../orchestrator/world/world.js';

const bare = (cidr: string): string => cidr.split('/')[0] ?? cidr;
const allAddresses = (world: World): string[] =>
  world.nodes.flatMap((node) => node.interfaces.flatMap((iface) => iface.addresses.map(bare)));

function withProbe(world: World, title = 'Probe host on the backbone'): World {
  const probe: Node = {
    name: 'probe',
    title,
    role: 'alice',
    interfaces: [
      { link: 'backbone', addresses: ['198.51.100.99/24'] },
      { link: 'lab', addresses: ['172.31.0.1/24'] },
    ],
    routes: [{ to: 'default', via: '198.51.100.1' }],
    nameserver: '198.51.100.53',
    router: true,
    services: [],
    memoryMb: 64,
  };
  const sensor: Node = {
    ...probe,
    name: 'sensor',
    title: 'Sensor',
    router: false,
    interfaces: [{ link: 'lab', addresses: ['172.31.0.2/24'] }],
  };
  return {
    ...world,
    links: [...world.links, { name: 'lab', title: 'A lab-only segment', prefix: '172.31.0.0/24' }],
    nodes: [...world.nodes, probe, sensor],
  };
}

describe('graphText', () => {
  const text = graphText(canonicalWorld);

  it('names every node, link prefix and address', () => {
    for (const node of canonicalWorld.nodes) expect(text).toContain(node.name);
    for (const link of canonicalWorld.links) {
      expect(text).toContain(link.name);
      expect(text).toContain(link.prefix);
      expect(text).toContain(link.title);
    }
    for (const address of allAddresses(canonicalWorld)) expect(text).toContain(address);
  });

  it('starts with the path from alice to the servers', () => {
    const path = text.split('\n')[0] ?? '';
    expect(path).toBe('alice ─[lan]─ home ─[access]─ isp ─[backbone]─ edge ─[vpc]─ web, ftp');
    const positions = ['alice ', ' home ', ' isp ', ' edge ', ' web'].map((word) => path.indexOf(word));
    for (const position of positions) expect(position).toBeGreaterThanOrEqual(0);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('shows the side branch to dns', () => {
    expect(text.split('\n')[1]).toBe('  (also on backbone: dns)');
  });

  it('has one aligned block per link', () => {
    const lines = text.split('\n');
    const header = lines.find((line) => line.startsWith('backbone'));
    expect(header).toMatch(/^backbone\s+198\.51\.100\.0\/24\s+The backbone \(public addresses\)$/);
    const edgeRow = lines.find((line) => line.startsWith('  edge') && line.includes('198.51.100.2'));
    expect(edgeRow).toContain('198.51.100.2, 198.51.100.80');
    // The address and title columns start at the same offset in every row.
    const blockLines = lines.filter((line) => /^( {2})?\S+\s+\d+\.\d+\.\d+\.\d+/.test(line));
    const addressColumns = new Set(blockLines.map((line) => line.search(/\d+\.\d+\.\d+\.\d+/)));
    expect(addressColumns.size).toBe(1);
    const titleOf = (line: string, title: string): number => line.indexOf(title);
    expect(titleOf(header ?? '', 'The backbone')).toBe(titleOf(edgeRow ?? '', "Bob's cloud edge"));
  });

  it('contains no ANSI escapes', () => {
    expect(text).not.toContain('\u001b');
  });

  it('renders a world with an extra node and link', () => {
    const world = withProbe(canonicalWorld);
    const extra = graphText(world);
    expect(extra).toContain('probe');
    expect(extra).toContain('sensor');
    expect(extra).toContain('172.31.0.0/24');
    expect(extra).toContain('198.51.100.99');
    expect(extra).toContain('(also on backbone: dns)');
    expect(extra).toContain('(also on backbone: probe ─[lab]─ sensor)');
    expect(extra.split('\n')[0]).toContain('─[vpc]─ web, ftp');
  });

  it('mentions nodes that are not connected to the first node', () => {
    const island: Node = {
      ...(canonicalWorld.nodes[0] as Node),
      name: 'island',
      interfaces: [{ link: 'moat', addresses: [] }],
    };
    const world: World = { ...canonicalWorld, nodes: [...canonicalWorld.nodes, island] };
    const extra = graphText(world);
    expect(extra).toContain('(not connected to alice: island)');
    expect(extra).toContain('moat');
  });

  it('copes with an empty world', () => {
    expect(graphText({ ...canonicalWorld, nodes: [], links: [] })).toContain('(no nodes)');
  });
});

describe('graphMermaid', () => {
  const mermaid = graphMermaid(canonicalWorld);
  const lines = mermaid.split('\n');

  it('is a left-to-right flowchart', () => {
    expect(lines[0]).toBe('flowchart LR');
  });

  it('has one vertex per node and per link', () => {
    const nodeVertices = lines.filter((line) => /^\s*n_\w+\["/.test(line));
    const linkVertices = lines.filter((line) => /^\s*l_\w+\(\["/.test(line));
    expect(nodeVertices).toHaveLength(canonicalWorld.nodes.length);
    expect(linkVertices).toHaveLength(canonicalWorld.links.length);
    expect(mermaid).toContain('l_backbone(["backbone<br/>198.51.100.0/24"])');
    for (const node of canonicalWorld.nodes) expect(mermaid).toContain(`n_${node.name}["${node.name}<br/>`);
  });

  it('has one edge per interface, labeled with its addresses', () => {
    const edges = lines.filter((line) => /^\s*n_\w+ ---/.test(line));
    const interfaces = canonicalWorld.nodes.reduce((sum, node) => sum + node.interfaces.length, 0);
    expect(edges).toHaveLength(interfaces);
    expect(mermaid).toContain('n_alice ---|"192.168.1.101"| l_lan');
    expect(mermaid).toContain('n_edge ---|"198.51.100.2, 198.51.100.80"| l_backbone');
  });

  it('sanitizes identifiers and escapes quotes in labels', () => {
    const odd: Node = {
      ...(canonicalWorld.nodes[0] as Node),
      name: 'odd-one.x',
      title: 'Says "hi" <b>&</b>',
      interfaces: [{ link: 'lan', addresses: ['192.168.1.7/24'] }],
    };
    const extra = graphMermaid({ ...canonicalWorld, nodes: [...canonicalWorld.nodes, odd] });
    expect(extra).toContain('n_odd_one_x["odd-one.x<br/>Says #quot;hi#quot; #lt;b#gt;#amp;#lt;/b#gt;"]');
    expect(extra).toContain('n_odd_one_x ---|"192.168.1.7"| l_lan');
    for (const line of extra.split('\n').slice(1)) {
      const label = /\["(.*)"\]/.exec(line)?.[1];
      if (label !== undefined) expect(label).not.toContain('"');
    }
  });

  it('includes an added node and link', () => {
    const extra = graphMermaid(withProbe(canonicalWorld));
    expect(extra).toContain('n_probe["probe<br/>');
    expect(extra).toContain('l_lab(["lab<br/>172.31.0.0/24"])');
    expect(extra).toContain('n_probe ---|"198.51.100.99"| l_backbone');
    expect(extra).toContain('n_sensor ---|"172.31.0.2"| l_lab');
  });
});

describe('graphSvg', () => {
  const svg = graphSvg(canonicalWorld);
  const count = (text: string, pattern: RegExp): number => (text.match(pattern) ?? []).length;

  it('is a self-contained svg document', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/<title[^>]*>The Alice &amp; Bob internet<\/title>/);
    expect(svg).not.toMatch(/<script|@import|url\(|href=/);
    expect(count(svg, /<g[\s>]/g)).toBe(count(svg, /<\/g>/g));
    expect(count(svg, /<text[\s>]/g)).toBe(count(svg, /<\/text>/g));
    expect(count(svg, /<svg[\s>]/g)).toBe(1);
  });

  it('has a size computed from the layout', () => {
    const width = Number(/width="(\d+)"/.exec(svg)?.[1]);
    const height = Number(/height="(\d+)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThan(500);
    expect(height).toBeGreaterThan(100);
    expect(svg).toContain(`viewBox="0 0 ${width} ${height}"`);
    for (const match of svg.matchAll(/\bx="(-?[\d.]+)"/g)) expect(Number(match[1])).toBeLessThanOrEqual(width);
    for (const match of svg.matchAll(/\by="(-?[\d.]+)"/g)) expect(Number(match[1])).toBeLessThanOrEqual(height);
  });

  it('shows every node, link prefix and address', () => {
    for (const node of canonicalWorld.nodes) expect(svg).toContain(`>${node.name}</text>`);
    for (const link of canonicalWorld.links) expect(svg).toContain(`>${link.prefix}</text>`);
    for (const address of allAddresses(canonicalWorld)) expect(svg).toContain(`>${address}</text>`);
  });

  it('draws one line per interface and lays columns out by depth', () => {
    const interfaces = canonicalWorld.nodes.reduce((sum, node) => sum + node.interfaces.length, 0);
    expect(count(svg, /<line /g)).toBe(interfaces);
    const xOf = (name: string): number => Number(new RegExp(`<text x="([\\d.]+)"[^>]*>${name}</text>`).exec(svg)?.[1]);
    const columns = ['alice', '192.168.1.0/24', 'isp', '198.51.100.0/24', 'edge', '10.0.1.0/24', 'web'].map(xOf);
    expect([...columns].sort((a, b) => a - b)).toEqual(columns);
    expect(xOf('dns')).toBe(xOf('edge'));
    expect(xOf('web')).toBe(xOf('ftp'));
  });

  it('escapes XML special characters in text', () => {
    const world = withProbe(canonicalWorld, 'Probe <script>&"x"</script>');
    const extra = graphSvg(world);
    expect(extra).not.toContain('<script>');
    expect(extra).toContain('&lt;script&gt;&amp;');
    expect(extra).toContain('>probe</text>');
    expect(extra).toContain('>sensor</text>');
    expect(extra).toContain('>172.31.0.0/24</text>');
    expect(count(extra, /<g[\s>]/g)).toBe(count(extra, /<\/g>/g));
    // Every '&' starts an entity.
    expect(extra).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
  });

  it('is the picture in docs/topology.svg, byte for byte', () => {
    // The docs picture is generated from the canonical world: a layout change must regenerate it
    // (node bin/hurrynet.js graph -f svg -o docs/topology.svg).
    expect(svg).toBe(readFileSync(new URL('../../docs/topology.svg', import.meta.url), 'utf8'));
  });

  it('copes with an empty world', () => {
    const empty = graphSvg({ ...canonicalWorld, nodes: [], links: [] });
    expect(empty.startsWith('<svg')).toBe(true);
    expect(empty).toContain('</svg>');
  });
});
