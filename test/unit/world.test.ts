import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/world/addresses.js';
import { worldProblems } from '../../orchestrator/world/validate.js';
import { canonicalWorld, findNode, type World } from '../../orchestrator/world/world.js';

const clone = (): World => structuredClone(canonicalWorld);

describe('the canonical world', () => {
  it('is consistent', () => {
    expect(worldProblems(canonicalWorld)).toEqual([]);
  });
  it('has the story nodes and addresses from DESIGN.md', () => {
    const addr = (n: string) => findNode(canonicalWorld, n)?.interfaces.flatMap((i) => i.addresses);
    expect(addr('alice')).toEqual(['192.168.1.101/24']);
    expect(addr('home')).toEqual(['192.168.1.1/24', '203.0.113.5/24']);
    expect(addr('isp')).toEqual(['203.0.113.1/24', '198.51.100.1/24']);
    expect(addr('dns')).toEqual(['198.51.100.53/24']);
    expect(addr('edge')).toEqual(['198.51.100.2/24', '198.51.100.80/24', '10.0.1.1/24']);
    expect(addr('web')).toEqual(['10.0.1.10/24']);
    expect(addr('ftp')).toEqual(['10.0.1.21/24']);
  });
  it('uses only documentation, private and shared address space, never 192.0.2/24', () => {
    const allowed = [
      '192.168.0.0/16',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '100.64.0.0/10',
    ];
    for (const n of canonicalWorld.nodes) {
      for (const a of n.interfaces.flatMap((i) => i.addresses)) {
        const ip = a.split('/')[0] as string;
        expect(
          allowed.some((p) => contains(p, ip)),
          `${n.name} ${a}`,
        ).toBe(true);
        expect(contains('192.0.2.0/24', ip)).toBe(false);
      }
    }
  });
  it('names only RFC 2606 domains', () => {
    for (const z of canonicalWorld.settings.zones) expect(z.name).toMatch(/\.example$/);
  });
});

describe('world validation', () => {
  it('refuses a link named after a keyword of ip, tcpdump or ifconfig (interfaces carry their link names)', () => {
    const w = clone();
    w.links[0]!.name = 'home';
    for (const n of w.nodes) for (const i of n.interfaces) if (i.link === 'lan') i.link = 'home';
    expect(worldProblems(w).join('\n')).toMatch(/link name "home" is a keyword .*"ip addr show home" would not show/);
    expect(worldProblems(canonicalWorld)).toEqual([]);
  });
  it('finds an address outside its link', () => {
    const w = clone();
    findNode(w, 'alice')!.interfaces[0]!.addresses = ['10.9.9.9/24'];
    expect(worldProblems(w).join('\n')).toMatch(/alice: 10.9.9.9\/24 is outside lan/);
  });
  it('finds an unreachable gateway, a duplicate address and an unknown link', () => {
    const w = clone();
    findNode(w, 'web')!.routes = [{ to: 'default', via: '198.51.100.1' }];
    findNode(w, 'ftp')!.interfaces[0]!.addresses = ['10.0.1.10/24'];
    findNode(w, 'dns')!.interfaces[0]!.link = 'nowhere';
    const text = worldProblems(w).join('\n');
    expect(text).toMatch(/web: gateway 198.51.100.1 of route default is on none of its links/);
    expect(text).toMatch(/address 10.0.1.10 is used by both web and ftp/);
    expect(text).toMatch(/dns is on unknown link nowhere/);
  });
  it('rejects names that cannot be interface names', () => {
    const w = clone();
    w.links[0]!.name = 'Home-Network-Long';
    expect(worldProblems(w).join('\n')).toMatch(/link name "Home-Network-Long"/);
  });
});
