// Lab 13's variation is pure: deterministic per seed, different across seeds, one fault per group,
// values valid for the world, and fault scripts that touch only the submission nodes.
import { describe, expect, it } from 'vitest';
import lab, { BAD_GATEWAYS, BAD_RESOLVERS, FTP_RULE, GROUPS, GROUP_NAMES, HOME_PREFIX, HTTP_RULE, OTHER_NETS, ROUTER, TOOLS, faultScript, faultsOf, labVars, type FaultId } from '../../labs/13-troubleshooting/lab.js';
import { contains } from '../../orchestrator/addresses.js';
import { varsFor } from '../../orchestrator/lab.js';
import { canonicalWorld } from '../../orchestrator/world.js';
import type { CheckContext, Evidence } from '../../checks/types.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const ALL: FaultId[] = Object.values(GROUPS).flat();

describe('lab 13: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('picks one fault per group, and every combination occurs', () => {
    const combos = new Set<string>();
    for (const s of SEEDS) {
      const v = labVars(varsFor(lab, s));
      for (const g of GROUP_NAMES) expect(GROUPS[g] as readonly string[]).toContain(v[g]);
      combos.add(faultsOf(v).join(' '));
    }
    expect(combos.size).toBe(GROUPS.laptop.length * GROUPS.names.length * GROUPS.network.length);
  });

  it('gives valid details: wrong addresses off the home network, gateways and resolvers where nothing answers', () => {
    const used = new Set(canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0]))));
    for (const s of SEEDS) {
      const v = labVars(varsFor(lab, s));
      if (v.wrongAddress !== 'none') {
        const [address] = v.wrongAddress.split('/') as [string];
        expect(contains(HOME_PREFIX, address)).toBe(false);
        expect(OTHER_NETS.some((n) => address.startsWith(`${n}.`))).toBe(true);
        expect(contains(`${address}/24`, v.wrongGateway)).toBe(true);
      } else expect(v.wrongGateway).toBe('');
      expect(BAD_GATEWAYS).toContain(v.badGateway);
      expect(contains(HOME_PREFIX, v.badGateway)).toBe(true);
      expect(BAD_RESOLVERS).toContain(v.badResolver);
      for (const a of [v.badGateway, v.badResolver]) expect(used.has(a), a).toBe(false);
      expect(['web', 'ftp']).toContain(v.missingRecord);
    }
  });

  it('pins the faults of the seeds the integration test uses', () => {
    const pinned = Object.fromEntries(['seed-b', 'seed-k'].map((s) => [s, faultsOf(labVars(varsFor(lab, s))).join(' ')]));
    expect(pinned).toEqual({ 'seed-b': 'alice-gateway dns-record home-nat', 'seed-k': 'alice-address alice-resolver edge-http' });
    expect(labVars(varsFor(lab, 'seed-k')).wrongAddress).toBe('none');
  });
});

describe('lab 13: fault scripts', () => {
  const v = labVars(varsFor(lab, 'seed-3'));

  it('touches only the submission nodes, with the commands each fault names', () => {
    const expected: Record<FaultId, [string, RegExp]> = {
      'alice-address': ['alice', /ip -4 addr flush dev home/],
      'alice-gateway': ['alice', new RegExp(`ip route replace default via ${v.badGateway.replace(/\./g, '\\.')}`)],
      'alice-resolver': ['alice', new RegExp(`nameserver %s\\\\n' '${v.badResolver.replace(/\./g, '\\.')}' > /etc/resolv.conf`)],
      'dns-record': ['dns', new RegExp(`sed -i '/\\^${v.missingRecord} IN A /d' /etc/bind/zones/db.bob.example`)],
      'home-nat': ['home', /iptables -t nat -D POSTROUTING -o access -j MASQUERADE/],
      'edge-route': ['edge', /ip route del default/],
      'edge-http': ['edge', /iptables -D FORWARD -i backbone -d 10\.0\.1\.10 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT/],
      'edge-ftp': ['edge', /iptables -D FORWARD -i backbone -d 10\.0\.1\.21 -p tcp -m multiport --dports 21,30000:30009 -m conntrack --ctstate NEW -j ACCEPT/],
    };
    for (const id of ALL) {
      const f = faultScript(id, v);
      expect(f.node, id).toBe(expected[id][0]);
      expect(f.script, id).toMatch(expected[id][1]);
      expect(lab.submissionNodes).toContain(f.node);
    }
    expect(HTTP_RULE).toContain('--dports 80,443');
    expect(FTP_RULE).toContain('--dports 21,30000:30009');
  });

  it('gives the address fault its two forms', () => {
    expect(faultScript('alice-address', { ...v, wrongAddress: 'none', wrongGateway: '' }).script).toBe('ip -4 addr flush dev home');
    const wrong = faultScript('alice-address', { ...v, wrongAddress: '192.168.20.150/24', wrongGateway: '192.168.20.1' }).script;
    expect(wrong).toContain('ip addr add 192.168.20.150/24 brd + dev home');
    expect(wrong).toContain('ip route add default via 192.168.20.1 dev home');
  });

  it('runs faults on the same node in one script, and never reveals them on the task card', () => {
    for (const s of SEEDS.slice(0, 40)) {
      const vars = varsFor(lab, s);
      const faults = lab.faults(vars);
      expect(new Set(faults.map((f) => f.node)).size).toBe(faults.length);
      const card = JSON.stringify(lab.task?.(vars));
      for (const id of ALL) expect(card).not.toContain(id);
    }
    expect(new Set(SEEDS.slice(0, 40).map((s) => JSON.stringify(lab.task?.(varsFor(lab, s))))).size).toBe(1);
  });
});

describe('lab 13: answers', () => {
  const evidence: Evidence = { where: 'alice', command: 'x', exitCode: 0, output: '' };
  const ctxWith = (raw: string, seed: string): CheckContext => {
    const values = Object.fromEntries(raw.split('\n').filter(Boolean).map((l) => l.split(/:\s*/, 2) as [string, string]));
    return {
      instance: 't',
      vars: varsFor(lab, seed),
      answers: async () => ({ ok: true, values, raw }),
      probe: async () => ({ where: 'p', run: async () => evidence }),
      node: () => ({ where: 'n', run: async () => evidence }),
    };
  };
  const grade = async (raw: string, seed: string) => {
    const answerChecks = lab.checks(varsFor(lab, seed)).filter((c) => c.id.startsWith('answer-'));
    const ctx = ctxWith(raw, seed);
    return Object.fromEntries(await Promise.all(answerChecks.map(async (c) => [c.id, (await c.run(ctx)).passed] as const)));
  };

  it('accepts the right fault with any tool that shows it, in the spellings learners use', async () => {
    // seed-b: alice-gateway, dns-record, home-nat
    const ok = 'laptop_fault: alice-gateway\nlaptop_tool: ip route\nnames_fault: DNS record\nnames_tool: nslookup\nnetwork_fault: home_nat\nnetwork_tool: traceroute -n 198.51.100.80\n';
    expect(await grade(ok, 'seed-b')).toEqual({ 'answer-laptop': true, 'answer-names': true, 'answer-network': true });
    const wrongTools = 'laptop_fault: alice-gateway\nlaptop_tool: dig\nnames_fault: dns-record\nnames_tool: traceroute\nnetwork_fault: home-nat\nnetwork_tool: ping\n';
    expect(await grade(wrongTools, 'seed-b')).toEqual({ 'answer-laptop': false, 'answer-names': false, 'answer-network': false });
  });

  it('fails answers copied from a seed with other faults', async () => {
    const fromK = 'laptop_fault: alice-address\nlaptop_tool: ip\nnames_fault: alice-resolver\nnames_tool: dig\nnetwork_fault: edge-http\nnetwork_tool: curl\n';
    expect(await grade(fromK, 'seed-k')).toEqual({ 'answer-laptop': true, 'answer-names': true, 'answer-network': true });
    expect(await grade(fromK, 'seed-b')).toEqual({ 'answer-laptop': false, 'answer-names': false, 'answer-network': false });
  });

  it('knows a tool for every fault, and asks two questions per group', () => {
    for (const id of ALL) expect(TOOLS[id].length).toBeGreaterThan(0);
    expect(lab.questions.map((q) => q.key)).toEqual(['laptop_fault', 'laptop_tool', 'names_fault', 'names_tool', 'network_fault', 'network_tool']);
    expect(ROUTER).toBe('192.168.1.1');
  });
});
