import { describe, expect, it } from 'vitest';
import { firewallCommands, natCommands, nodeFiles, zoneFile } from '../../orchestrator/world/config.js';
import { COMMON_CAPS, LABEL, nodeEnv, planInstance, validateInstanceName } from '../../orchestrator/runtime/plan.js';
import { canonicalWorld, findNode } from '../../orchestrator/world/world.js';

const subnets = { lan: '10.250.0.0/28', access: '10.250.0.16/28', backbone: '10.250.0.32/28', vpc: '10.250.0.48/28' };
const images = {
  alice: 'i/alice',
  router: 'i/router',
  bgp: 'i/bgp',
  dns: 'i/dns',
  web: 'i/web',
  ftp: 'i/ftp',
  mail: 'i/mail',
};

describe('instance plan', () => {
  const plan = planInstance(canonicalWorld, { instance: 'demo', subnets, images });

  it('names and labels every object with project, instance and lab', () => {
    for (const o of [...plan.networks, ...plan.containers]) {
      expect(o.name).toMatch(/^hurrynet-demo-/);
      expect(o.labels[LABEL.project]).toBe('hurrynet');
      expect(o.labels[LABEL.instance]).toBe('demo');
      expect(o.labels[LABEL.lab]).toBe('free');
    }
  });
  it('keeps lab bridges off the host: no host address, no masquerade', () => {
    for (const n of plan.networks) {
      expect(n.options['com.docker.network.bridge.inhibit_ipv4']).toBe('true');
      expect(n.options['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
      expect(n.gateway).toBe(n.subnet.replace(/\.(\d+)\/28$/, (_, d: string) => `.${Number(d) + 1}`));
    }
  });
  it('gives containers limits and only the capabilities they need', () => {
    for (const c of plan.containers) {
      expect(c.memoryBytes).toBeGreaterThan(0);
      expect(c.memoryBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
      expect(c.pidsLimit).toBeGreaterThan(0);
      expect(c.capAdd).not.toContain('SYS_ADMIN');
      expect(c.capAdd).toEqual(expect.arrayContaining(COMMON_CAPS));
      expect(c.sysctls['net.ipv6.conf.all.disable_ipv6']).toBe('1');
    }
    const fwd = (n: string) => plan.containers.find((c) => c.node === n)!.sysctls['net.ipv4.ip_forward'];
    expect(['home', 'isp', 'edge'].map(fwd)).toEqual(['1', '1', '1']);
    expect(['alice', 'web'].map(fwd)).toEqual(['0', '0']);
  });
  it('attaches multi-homed nodes to each of their networks, first one at create', () => {
    const edge = plan.containers.find((c) => c.node === 'edge')!;
    expect(edge.networks).toEqual(['hurrynet-demo-backbone', 'hurrynet-demo-vpc']);
  });
});

describe('node environment for hurrynet-init', () => {
  it('maps each link to its Docker subnet and story addresses', () => {
    const env = nodeEnv(canonicalWorld, findNode(canonicalWorld, 'edge')!, subnets);
    expect(env.HN_LINKS).toBe(
      'backbone|10.250.0.32/28|198.51.100.2/24,198.51.100.80/24 vpc|10.250.0.48/28|10.0.1.1/24',
    );
    expect(env.HN_ROUTES).toBe('default via 198.51.100.1');
    expect(env.HN_SETUP).toContain('DNAT --to-destination 10.0.1.10');
  });
  it('points alice at the home resolver and lists no other hosts', () => {
    const env = nodeEnv(canonicalWorld, findNode(canonicalWorld, 'alice')!, subnets);
    expect(env.HN_NAMESERVER).toBe('192.168.1.1');
    expect(env.HN_HOSTS).toBe('192.168.1.101\talice');
    expect(env.HN_FILES).toBeUndefined();
  });
  it('fails loudly when a link has no subnet', () => {
    expect(() => nodeEnv(canonicalWorld, findNode(canonicalWorld, 'alice')!, {})).toThrow(
      /no Docker subnet planned for link lan/,
    );
  });
});

describe('service configuration from world data', () => {
  it('configures dnsmasq as DHCP server and caching forwarder to the dns node', () => {
    const [conf] = nodeFiles(canonicalWorld, findNode(canonicalWorld, 'home')!);
    expect(conf!.content).toContain('server=198.51.100.53');
    expect(conf!.content).toContain('dhcp-range=192.168.1.100,192.168.1.199,3600');
    expect(conf!.content).toContain('dhcp-option=option:router,192.168.1.1');
  });
  it('writes a zone for bob.example with web and ftp at the public address', () => {
    const zone = zoneFile(canonicalWorld.settings.zones[0]!);
    expect(zone).toMatch(/^web IN A 198\.51\.100\.80$/m);
    expect(zone).toMatch(/^ftp IN A 198\.51\.100\.80$/m);
    expect(zone).toMatch(/^\$TTL 300$/m);
  });
  it('advertises the public address for passive FTP', () => {
    const files = nodeFiles(canonicalWorld, findNode(canonicalWorld, 'ftp')!);
    expect(files[0]!.content).toMatch(/^pasv_address=198\.51\.100\.80$/m);
  });
  it('spells NAT and the stateful security group as iptables rules', () => {
    expect(natCommands([{ kind: 'masquerade', outLink: 'access' }])).toEqual([
      'iptables -t nat -A POSTROUTING -o access -j MASQUERADE',
    ]);
    const fw = firewallCommands({
      guardedLinks: ['backbone'],
      allow: [{ inLink: 'backbone', to: '10.0.1.10', proto: 'tcp', ports: '80' }],
    });
    expect(fw[0]).toContain('ESTABLISHED,RELATED -j ACCEPT');
    expect(fw[1]).toBe(
      'iptables -A FORWARD -i backbone -d 10.0.1.10 -p tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT',
    );
    expect(fw.at(-1)).toBe('iptables -A FORWARD -i backbone -j DROP');
  });
});

describe('instance names', () => {
  it('accepts short lowercase names and explains bad ones', () => {
    expect(validateInstanceName('lab3')).toBe('lab3');
    expect(() => validateInstanceName('Lab 3')).toThrow(/invalid instance name "Lab 3"/);
    expect(() => validateInstanceName('-x')).toThrow(/starting with a letter/);
    expect(() => validateInstanceName('a'.repeat(30))).toThrow(/1-24/);
  });
});

describe('removal order', async () => {
  const { removalOrder } = await import('../../orchestrator/runtime/engine.js');
  it('empties the smallest network first so it can be removed while the rest go', () => {
    const members = new Map([
      ['lan', new Set(['alice', 'home'])],
      ['access', new Set(['home', 'isp'])],
      ['backbone', new Set(['isp', 'dns', 'edge'])],
      ['vpc', new Set(['edge', 'web', 'ftp'])],
    ]);
    const order = removalOrder(
      ['alice', 'home', 'isp', 'dns', 'edge', 'web', 'ftp'].map((id) => ({ id })),
      members,
    ).map((c) => c.id);
    expect(order.slice(0, 2).sort()).toEqual(['alice', 'home']);
    expect(order).toHaveLength(7);
    expect(new Set(order).size).toBe(7);
  });
});
