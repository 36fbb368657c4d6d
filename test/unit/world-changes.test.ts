// What each lab changes in the world: the sentences `lab` prints, and the README's table of them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLabs, varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import { worldChanges } from '../../orchestrator/world/changes.js';
import { canonicalWorld, findNode } from '../../orchestrator/world/world.js';

const SEEDS = ['a', 'b', 'c'];

describe('worldChanges', () => {
  it('says nothing for the same world', () => {
    expect(worldChanges(canonicalWorld, structuredClone(canonicalWorld))).toEqual([]);
  });
  it('names added nodes and links, moved prefixes and addresses, and removed ones', () => {
    const w = structuredClone(canonicalWorld);
    w.links.push({ name: 'mobile', title: 'a mobile network', prefix: '100.72.0.0/24' });
    w.nodes.push({
      ...structuredClone(findNode(w, 'alice')!),
      name: 'carol',
      title: "Carol's phone",
      interfaces: [{ link: 'mobile', addresses: ['100.72.0.9/24'] }],
    });
    findNode(w, 'alice')!.interfaces[0]!.addresses = [];
    findNode(w, 'home')!.interfaces[1]!.addresses = ['203.0.113.77/24'];
    w.nodes = w.nodes.filter((n) => n.name !== 'ftp');
    expect(worldChanges(canonicalWorld, w)).toEqual([
      'adds the link mobile (a mobile network), 100.72.0.0/24',
      'alice has no address on lan (it had 192.168.1.101/24: see the handout)',
      'home has 203.0.113.77/24 on access (not 203.0.113.5/24)',
      "adds carol (Carol's phone): mobile 100.72.0.9/24",
      'has no ftp',
    ]);
  });
});

describe("the README's table of what labs change", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = new Map(
    [...readme.matchAll(/^\| (\d\d) \| (.+) \|$/gm)]
      .filter((m) => readme.indexOf('| lab | what it changes |') < (m.index ?? 0))
      .map((m) => [m[1] as string, m[2] as string]),
  );
  it('has a row for exactly the labs whose world differs, naming every node and link they add', async () => {
    const changing: string[] = [];
    for (const lab of await loadLabs()) {
      const lines = SEEDS.flatMap((s) => worldChanges(canonicalWorld, labWorld(lab, varsFor(lab, s))));
      if (!lines.length) continue;
      changing.push(lab.id);
      const row = rows.get(lab.id) ?? '';
      for (const added of lines.flatMap((l) => /^adds (?:the link )?(\w+)/.exec(l)?.[1] ?? []))
        expect(row, `lab ${lab.id} adds ${added}`).toContain(`\`${added}\``);
    }
    expect([...rows.keys()]).toEqual(changing);
  });
});
