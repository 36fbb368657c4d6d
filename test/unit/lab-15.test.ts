import { describe, expect, it } from 'vitest';
import lab, { faultySpeaker, parseBirdRoutes } from '../../labs/15-bgp/lab.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { birdConf } from '../../orchestrator/world/config.js';

const SEEDS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '1', '2', '3', '4'];
const worldOf = (s: string) => lab.overlay!(structuredClone(canonicalWorld), varsFor(lab, s));

describe('lab 15: bgp', () => {
  it('builds a valid world for every seed, with Bob off the ISP backbone', () => {
    for (const s of SEEDS) expect(worldProblems(worldOf(s)), s).toEqual([]);
  });
  it('draws a hijack longer than Bob block', () => {
    const v = varsFor(lab, 'f');
    expect(v.kind).toBe('hijack');
    expect(Number(v.hijack.split('/')[1])).toBeGreaterThan(Number(v.bobBlock.split('/')[1]));
  });
  it('the fault changes the config in one place', () => {
    const v = varsFor(lab, 'b');
    const w = worldOf('b');
    const edge = w.nodes.find((n) => n.name === 'edge')!;
    expect(birdConf(edge, edge.bgp!)).toContain(`route ${v.bobBlock} unreachable;`);
    expect(birdConf(edge, faultySpeaker(v, w))).not.toContain(`route ${v.bobBlock} unreachable;`);
  });
  it('parses birdc show route all', () => {
    const out = [
      'BIRD 2.0.12 ready.',
      'Table master4:',
      '198.51.100.64/27     unicast [transit 07:00:01.000] * (100) [AS64520i]',
      '\tvia 192.0.2.2 on peerwest',
      '\tType: BGP univ',
      '\tBGP.as_path: 64510 64520',
      '203.0.113.0/24       unreachable [own_prefixes 07:00:00.000] * (200)',
      '\tType: static univ',
    ].join('\n');
    expect(parseBirdRoutes(out)).toEqual([
      { prefix: '198.51.100.64/27', best: true, protocol: 'transit', via: '192.0.2.2', asPath: [64510, 64520] },
      { prefix: '203.0.113.0/24', best: true, protocol: 'own_prefixes', via: '', asPath: [] },
    ]);
  });
});
