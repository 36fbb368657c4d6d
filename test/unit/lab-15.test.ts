import { describe, expect, it } from 'vitest';
import lab, {
  AS_RANGES,
  faultySpeaker,
  judgeLeg,
  LINKS,
  parseBirdRoutes,
  ROUTERS,
  asOf,
} from '../../labs/15-bgp/lab.js';
import { parseRouting } from '../../labs/kit/routing.js';
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
      '\tvia 172.16.12.2 on peerwest',
      '\tType: BGP univ',
      '\tBGP.as_path: 64510 64520',
      '203.0.113.0/24       unreachable [own_prefixes 07:00:00.000] * (200)',
      '\tType: static univ',
    ].join('\n');
    expect(parseBirdRoutes(out)).toEqual([
      {
        prefix: '198.51.100.64/27',
        best: true,
        protocol: 'transit',
        source: 'BGP',
        via: '172.16.12.2',
        asPath: [64510, 64520],
      },
      { prefix: '203.0.113.0/24', best: true, protocol: 'own_prefixes', source: 'static', via: '', asPath: [] },
    ]);
  });
  it('draws three different AS numbers per seed, each from its own private range', () => {
    const paths = new Set<string>();
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      for (const r of ROUTERS) {
        const [lo, hi] = AS_RANGES[r];
        expect(asOf(v, r)).toBeGreaterThanOrEqual(lo);
        expect(asOf(v, r)).toBeLessThanOrEqual(hi);
      }
      paths.add(`${v.transitAs} ${v.edgeAs}`);
    }
    // A copied AS path belongs to another world.
    expect(paths.size).toBe(SEEDS.length);
  });
  it('keeps the lab world off the host range 192.0.2.0/24', () => {
    for (const s of SEEDS)
      for (const l of worldOf(s).links) expect(l.prefix.startsWith('192.0.2.'), `${s} ${l.name}`).toBe(false);
  });

  describe('judging one router', () => {
    const block = '198.51.100.80/28';
    const peer = LINKS.west.transit;
    const bird = (lines: string[]) => parseBirdRoutes(['Table master4:', ...lines].join('\n'));
    const learned = bird([
      `${block}  unicast [transit 10:00:00.000] * (100) [AS65300i]`,
      `\tvia ${peer} on peerwest`,
      '\tType: BGP univ',
      '\tBGP.as_path: 65000 65300',
    ]);
    const kernel = (
      route: string,
      rules = '0: from all lookup local\n32766: from all lookup main\n32767: from all lookup default',
    ) =>
      parseRouting(`--- ip -4 rule show\n${rules}\n--- ip -4 route show table all\n${route}\n`, {
        where: 'probe@isp',
        command: '',
        exitCode: 0,
        output: '',
      });
    const view = (route: string, paths = learned, rules?: string) => {
      const r = kernel(route, rules);
      return { bird: '', paths, kernel: r.used, policy: [] as string[], evidence: [] };
    };
    const judge = (v: ReturnType<typeof view>) => judgeLeg(v, 'isp', '198.51.100.80', peer, [65000, 65300], block);

    it('passes a route BIRD learned over BGP and put in the kernel', () => {
      expect(judge(view(`${block} via ${peer} dev peerwest proto bird metric 32`))).toBe('');
    });
    it('fails a kernel route typed in as proto bird with nothing in BIRD behind it', () => {
      expect(judge(view(`${block} via ${peer} dev peerwest proto bird`, []))).toMatch(/BIRD has no best route/);
    });
    it('fails a static route, a longer prefix, and a route BIRD did not learn over BGP', () => {
      expect(judge(view(`${block} via ${peer} dev peerwest`))).toMatch(/not one that BIRD installed/);
      expect(judge(view(`198.51.100.80/30 via ${peer} dev peerwest proto bird`))).toMatch(
        /forwards 198.51.100.80 by 198.51.100.80\/30/,
      );
      const staticInBird = bird([
        `${block}  unicast [transit 10:00:00.000] * (200)`,
        `\tvia ${peer} on peerwest`,
        '\tType: static univ',
        '\tBGP.as_path: 65000 65300',
      ]);
      expect(judge(view(`${block} via ${peer} dev peerwest proto bird`, staticInBird))).toMatch(/static protocol/);
    });
    it('fails the wrong AS path, and a kernel next hop other than the one BIRD learned', () => {
      const other = bird([
        `${block}  unicast [transit 10:00:00.000] * (100) [AS65301i]`,
        `\tvia ${peer} on peerwest`,
        '\tType: BGP univ',
        '\tBGP.as_path: 65000 65301',
      ]);
      expect(judge(view(`${block} via ${peer} dev peerwest proto bird`, other))).toMatch(/AS path "65000 65301"/);
      expect(judge(view(`${block} via 172.16.12.3 dev peerwest proto bird`))).toMatch(/not via 172.16.12.2/);
    });
    it('names an unreadable BIRD and policy rules first', () => {
      expect(judge({ ...view(`${block} via ${peer} proto bird`), bird: 'BIRD is not running' })).toBe(
        'isp: BIRD is not running',
      );
      expect(judge({ ...view(`${block} via ${peer} proto bird`), policy: ['a rule of your own'] })).toBe(
        'a rule of your own',
      );
    });
  });
});
