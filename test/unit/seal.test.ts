import { describe, expect, it } from 'vitest';
import { bridgeName, networkName, planInstance } from '../../orchestrator/runtime/plan.js';
import { inspectScript, parseSealState, sealProblems, sealScript } from '../../orchestrator/runtime/seal.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

const roles = { alice: 'a', router: 'r', bgp: 'g', dns: 'd', web: 'w', ftp: 'f', mail: 'm' };
const subnets = Object.fromEntries(canonicalWorld.links.map((l, i) => [l.name, `10.250.${i}.0/28`]));

// Recorded from a sealed bridge and from one Docker left alone (ip -j link / ip -j addr, iproute2 6.1).
const SEALED = `@rule ipv4 yes
@rule ipv6 yes
@bridge hn-0123456789ab
[{"ifindex":9,"ifname":"hn-0123456789ab","flags":["BROADCAST","MULTICAST","NOARP","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"02:42:3d:f2:da:24"}]
@addr
[{"ifindex":9,"ifname":"hn-0123456789ab","flags":["BROADCAST","MULTICAST","NOARP","UP","LOWER_UP"],"mtu":1500,"addr_info":[]}]
`;
const OPEN = `@rule ipv4 no
@rule ipv6 no
@bridge hn-ba9876543210
[{"ifindex":10,"ifname":"hn-ba9876543210","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500}]
@addr
[{"ifindex":10,"ifname":"hn-ba9876543210","addr_info":[{"family":"inet6","local":"fe80::42:8aff:fe62:e63d","prefixlen":64,"scope":"link"}]}]
@bridge hn-000000000000
[]
@addr
[]
`;

describe('bridge names', () => {
  it('fit the kernel limit, carry the prefix, and differ by network and salt', () => {
    const a = bridgeName(networkName('lab3', 'home'), 's1');
    expect(a).toMatch(/^hn-[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(bridgeName(networkName('lab3', 'home'), 's2')).not.toBe(a);
    expect(bridgeName(networkName('lab3', 'access'), 's1')).not.toBe(a);
    expect(bridgeName(networkName('lab3', 'home'), 's1')).toBe(a);
  });

  it('are planned for every network and given to Docker as the bridge name', () => {
    const plan = planInstance(canonicalWorld, { instance: 'x', subnets, images: roles, bridgeSalt: 'salt' });
    for (const n of plan.networks) {
      expect(n.bridge).toBe(bridgeName(n.name, 'salt'));
      expect(n.options['com.docker.network.bridge.name']).toBe(n.bridge);
    }
    expect(new Set(plan.networks.map((n) => n.bridge)).size).toBe(plan.networks.length);
  });
});

describe('seal scripts', () => {
  it('install each rule only when missing and seal each bridge', () => {
    const s = sealScript(['hn-0123456789ab']);
    expect(s).toContain('iptables -w -C INPUT -i hn-+ -j DROP 2>/dev/null || iptables -w -I INPUT 1 -i hn-+ -j DROP');
    expect(s).toContain('ip6tables -w -C INPUT -i hn-+ -j DROP');
    expect(s).toContain('ip link set dev hn-0123456789ab arp off');
    expect(s).toContain('addrgenmode none');
    expect(s).toContain('ip -6 addr flush dev hn-0123456789ab');
  });

  it('refuse anything that is not a lab bridge name (they are pasted into shell)', () => {
    expect(() => sealScript(['eth0'])).toThrow(/not a lab bridge/);
    expect(() => inspectScript(['hn-1; rm -rf /'])).toThrow(/not a lab bridge/);
  });
});

describe('seal state', () => {
  it('reads a sealed host as sealed', () => {
    const state = parseSealState(SEALED, 'host');
    expect(state).toEqual({
      ipv4Rule: 'yes',
      ipv6Rule: 'yes',
      via: 'host',
      bridges: [{ name: 'hn-0123456789ab', noarp: true, addresses: [] }],
    });
    expect(sealProblems(state)).toEqual([]);
  });

  it('names every hole of an open host, and skips a bridge that is gone', () => {
    const state = parseSealState(OPEN, 'container');
    expect(state.bridges[1]).toMatchObject({ name: 'hn-000000000000', missing: true });
    const problems = sealProblems(state);
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/no "iptables INPUT -i hn-\+ -j DROP"/);
    expect(problems.join('\n')).toMatch(/no "ip6tables/);
    expect(problems.join('\n')).toMatch(/hn-ba9876543210 answers ARP/);
    expect(problems.join('\n')).toMatch(/fe80::42:8aff:fe62:e63d\/64 on bridge hn-ba9876543210/);
  });

  it('accepts a host without IPv6 filtering (no ip6tables) as long as IPv4 is sealed', () => {
    const state = parseSealState('@rule ipv4 yes\n@rule ipv6 n/a\n', 'host');
    expect(sealProblems(state)).toEqual([]);
  });
});
