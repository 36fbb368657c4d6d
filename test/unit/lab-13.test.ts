// Lab 13's variation is pure: deterministic per seed, different across seeds, one fault per group,
// values valid for the world, and fault scripts that touch only the submission nodes.
import { describe, expect, it } from 'vitest';
import lab, {
  BAD_GATEWAYS,
  BAD_RESOLVERS,
  GROUPS,
  GROUP_NAMES,
  NAMES,
  OTHER_NETS,
  TOOLS,
  faultScript,
  faultsOf,
  firstHop,
  troubleFacts,
  type FaultId,
} from '../../labs/13-troubleshooting/lab.js';
import {
  chosenRoutes,
  parseRouteGet,
  parseRoutesTo,
  parseRules,
  readStandIns,
  routeGetCommand,
  tableNote,
} from '../../labs/kit/routing.js';
import { contains } from '../../orchestrator/world/addresses.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import type { CheckContext, Evidence, Host } from '../../checks/types.js';

const registered = await findLab('13');
const SEEDS = Array.from({ length: 300 }, (_, i) => `seed-${i}`);
const ALL: FaultId[] = Object.values(GROUPS).flat();
const facts = troubleFacts(canonicalWorld);
const { homePrefix: HOME_PREFIX, freshLan: FRESH_LAN, router: ROUTER } = facts;

describe('lab 13: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('picks one fault per group, and every combination occurs', () => {
    const combos = new Set<string>();
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      for (const g of GROUP_NAMES) expect(GROUPS[g] as readonly string[]).toContain(v[g]);
      combos.add(faultsOf(v).join(' '));
    }
    expect(combos.size).toBe(GROUPS.laptop.length * GROUPS.names.length * GROUPS.network.length);
  });

  it('gives valid details: wrong addresses off the home network, gateways and resolvers where nothing answers', () => {
    const used = new Set(
      canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0]))),
    );
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
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
      // The grader's fresh machine is alive on the LAN while it grades: never a "dead" address.
      for (const a of [v.badGateway, v.badResolver]) expect(a).not.toBe(FRESH_LAN);
      expect(NAMES).toContain(v.missingRecord);
    }
  });

  it('pins the faults of the seeds the integration test uses', () => {
    const pinned = Object.fromEntries(['seed-s', 'seed-i'].map((s) => [s, faultsOf(varsFor(lab, s)).join(' ')]));
    expect(pinned).toEqual({
      'seed-s': 'alice-gateway dns-record home-nat',
      'seed-i': 'alice-address alice-resolver edge-http',
    });
    expect(varsFor(lab, 'seed-i').wrongAddress).toBe('none');
  });
});

describe('lab 13: fault scripts', () => {
  const v = varsFor(lab, 'seed-3');

  it('touches only the submission nodes, with the commands each fault names', () => {
    const expected: Record<FaultId, [string, RegExp]> = {
      'alice-address': ['alice', /ip -4 addr flush dev lan/],
      'alice-gateway': ['alice', new RegExp(`ip route replace default via ${v.badGateway.replace(/\./g, '\\.')}`)],
      'alice-resolver': [
        'alice',
        new RegExp(
          `cat > '/etc/resolv.conf' <<'HURRYNET_EOF'\\n# written by hurrynet for the lab world\\nnameserver ${v.badResolver.replace(/\./g, '\\.')}\\nHURRYNET_EOF`,
        ),
      ],
      'dns-record': ['dns', new RegExp(`sed -i '/\\^${v.missingRecord} IN A /d' /etc/bind/zones/db.bob.example`)],
      'home-nat': ['home', /iptables -t nat -D POSTROUTING -o access -j MASQUERADE/],
      'edge-route': ['edge', /ip route del default/],
      'edge-http': [
        'edge',
        /iptables -D FORWARD -i backbone -d 10\.0\.1\.10 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT/,
      ],
      'edge-ftp': [
        'edge',
        /iptables -D FORWARD -i backbone -d 10\.0\.1\.21 -p tcp -m multiport --dports 21,30000:30009 -m conntrack --ctstate NEW -j ACCEPT/,
      ],
    };
    for (const id of ALL) {
      const f = faultScript(id, v, facts);
      expect(f.node, id).toBe(expected[id][0]);
      expect(f.script, id).toMatch(expected[id][1]);
      expect(lab.submissionNodes).toContain(f.node);
    }
    expect(facts.httpRule).toContain('--dports 80,443');
    expect(facts.ftpRule).toContain('--dports 21,30000:30009');
  });

  it('gives the address fault its two forms', () => {
    expect(faultScript('alice-address', { ...v, wrongAddress: 'none', wrongGateway: '' }, facts).script).toBe(
      'ip -4 addr flush dev lan',
    );
    const wrong = faultScript(
      'alice-address',
      { ...v, wrongAddress: '192.168.20.150/24', wrongGateway: '192.168.20.1' },
      facts,
    ).script;
    expect(wrong).toContain('ip addr add 192.168.20.150/24 brd + dev lan');
    expect(wrong).toContain('ip route add default via 192.168.20.1 dev lan');
  });

  it('runs faults on the same node in one script, and never reveals them on the task card', () => {
    for (const s of SEEDS.slice(0, 40)) {
      const vars = varsFor(lab, s);
      const faults = lab.faults(vars, labWorld(registered, vars));
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
    const values = Object.fromEntries(
      raw
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/:\s*/, 2) as [string, string]),
    );
    return {
      instance: 't',
      timeScale: 1,
      fresh: async () => {
        throw new Error('no fresh machines in unit tests');
      },
      vars: varsFor(lab, seed),
      answers: async () => ({ ok: true, values, raw }),
      probe: async () => ({ where: 'p', run: async () => evidence }),
      inspect: async () => ({ where: 'i', run: async () => evidence }),
      witness: async () => undefined,
      node: () => ({ where: 'n', run: async () => evidence }),
    };
  };
  const grade = async (raw: string, seed: string) => {
    const answerChecks = labChecks(registered, varsFor(registered, seed)).filter((c) => c.id.startsWith('answer-'));
    const ctx = ctxWith(raw, seed);
    return Object.fromEntries(
      await Promise.all(answerChecks.map(async (c) => [c.id, (await c.run(ctx)).passed] as const)),
    );
  };

  it('accepts the right fault with any tool that shows it, in the spellings learners use', async () => {
    // seed-s: alice-gateway, dns-record, home-nat
    const ok =
      'laptop_fault: alice-gateway\nlaptop_tool: ip route\nnames_fault: DNS record\nnames_tool: nslookup\nnetwork_fault: home_nat\nnetwork_tool: traceroute -n 198.51.100.80\n';
    expect(await grade(ok, 'seed-s')).toEqual({ 'answer-laptop': true, 'answer-names': true, 'answer-network': true });
    const wrongTools =
      'laptop_fault: alice-gateway\nlaptop_tool: dig\nnames_fault: dns-record\nnames_tool: traceroute\nnetwork_fault: home-nat\nnetwork_tool: ping\n';
    expect(await grade(wrongTools, 'seed-s')).toEqual({
      'answer-laptop': false,
      'answer-names': false,
      'answer-network': false,
    });
  });

  it('fails answers copied from a seed with other faults', async () => {
    const fromI =
      'laptop_fault: alice-address\nlaptop_tool: ip\nnames_fault: alice-resolver\nnames_tool: dig\nnetwork_fault: edge-http\nnetwork_tool: curl\n';
    expect(await grade(fromI, 'seed-i')).toEqual({
      'answer-laptop': true,
      'answer-names': true,
      'answer-network': true,
    });
    expect(await grade(fromI, 'seed-s')).toEqual({
      'answer-laptop': false,
      'answer-names': false,
      'answer-network': false,
    });
  });

  it('knows a tool for every fault, and asks two questions per group', () => {
    for (const id of ALL) expect(TOOLS[id].length).toBeGreaterThan(0);
    expect(lab.questions.map((q) => q.key)).toEqual([
      'laptop_fault',
      'laptop_tool',
      'names_fault',
      'names_tool',
      'network_fault',
      'network_tool',
    ]);
    expect(ROUTER).toBe('192.168.1.1');
  });
});

describe("the kit's reader of ip route get, ip rule and every table (labs 02 and 13)", () => {
  const ruleText = [
    '0:\tfrom all lookup local',
    '100:\tfrom all lookup 100',
    '32766:\tfrom all lookup main',
    '32767:\tfrom all lookup default',
  ].join('\n');
  const rules = parseRules(ruleText);

  it('reads the route ip route get picked, with the table and the rule that chose it', () => {
    const r = parseRouteGet(
      '198.51.100.161 via 192.168.1.1 dev lan table 100 src 192.168.1.101 uid 0 \n    cache \n',
      rules,
      { to: '198.51.100.161' },
    );
    expect(r).toEqual({
      to: '198.51.100.161',
      line: '198.51.100.161 via 192.168.1.1 dev lan table 100 src 192.168.1.101 uid 0',
      type: 'unicast',
      via: '192.168.1.1',
      dev: 'lan',
      src: '192.168.1.101',
      table: '100',
      rules: [{ pref: 100, text: 'from all lookup 100', table: '100' }],
      local: false,
      unreachable: false,
    });
    expect(tableNote(r)).toBe(" (table 100, chosen by ip rule '100: from all lookup 100')");
    const main = parseRouteGet('198.51.100.150 via 192.168.1.200 dev lan src 192.168.1.101 uid 0\n', rules);
    expect([main.via, main.table, main.rules.map((x) => x.pref), tableNote(main)]).toEqual([
      '192.168.1.200',
      'main',
      [32766],
      '',
    ]);
  });

  it('knows a route to nowhere and an address of her own', () => {
    expect(parseRouteGet('RTNETLINK answers: Network is unreachable\n', rules)).toMatchObject({
      type: 'error',
      unreachable: true,
      via: undefined,
      table: 'main',
    });
    expect(parseRouteGet('RTNETLINK answers: No route to host\n', rules).unreachable).toBe(true);
    expect(parseRouteGet('', rules).unreachable).toBe(true);
    expect(
      parseRouteGet('local 198.51.100.80 dev lo src 198.51.100.80 uid 0\n    cache <local> \n', rules),
    ).toMatchObject({ type: 'local', local: true, unreachable: false, dev: 'lo' });
  });

  it('reads rules, every table and one answer per query from one command output', () => {
    const queries = [{ to: '198.51.100.80' }, { to: '198.51.100.80', from: '192.168.1.101' }];
    const output = [
      '--- ip -4 rule show',
      ruleText,
      '--- ip -4 route show table all',
      'default via 192.168.1.200 dev lan',
      'default via 192.168.1.1 dev lan table 100',
      'local 192.168.1.101 dev lan table local proto kernel scope host src 192.168.1.101',
      '--- ip -4 route get 198.51.100.80',
      '198.51.100.80 via 192.168.1.1 dev lan table 100 src 192.168.1.101 uid 0',
      '--- ip -4 route get 198.51.100.80 from 192.168.1.101',
      'RTNETLINK answers: Network is unreachable',
    ].join('\n');
    const r = parseRoutesTo(output, { where: 'p', command: 'x', exitCode: 0, output }, queries);
    expect(r.rules.map((x) => x.pref)).toEqual([0, 100, 32766, 32767]);
    expect(r.used.filter((x) => x.prefix === '0.0.0.0/0').map((x) => x.table)).toEqual(['main', '100']);
    expect(r.chosen.map((c) => [c.from, c.table, c.via, c.unreachable])).toEqual([
      [undefined, '100', '192.168.1.1', false],
      ['192.168.1.101', 'main', undefined, true],
    ]);
    // A query the output does not answer reads as no route, never as someone else's answer.
    expect(chosenRoutes(output, [{ to: '10.0.0.1' }])[0]?.unreachable).toBe(true);
    expect(routeGetCommand(queries[1] as (typeof queries)[1])).toBe(
      "echo '--- ip -4 route get 198.51.100.80 from 192.168.1.101'; ip -4 route get 198.51.100.80 from 192.168.1.101 2>&1",
    );
  });

  it('names the stand-ins on a node: its own addresses, and nat redirects in either half of iptables', async () => {
    const output = [
      '--- ip -4 route get 198.51.100.80',
      'local 198.51.100.80 dev lo table local src 198.51.100.80 uid 0',
      '--- ip -4 route get 198.51.100.53',
      '198.51.100.53 via 192.168.1.1 dev lan src 192.168.1.101 uid 0',
      '--- iptables-save',
      '*nat',
      '-A OUTPUT -d 198.51.100.80/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080',
      '-A POSTROUTING -o lan -j MASQUERADE',
      '*filter',
      '-A OUTPUT -p udp -j DNAT-LIKE-CHAIN',
      '--- iptables-legacy-save',
      '*nat',
      '-A OUTPUT -p icmp -j DNAT --to-destination 127.0.0.1',
    ].join('\n');
    const host: Host = {
      where: 'probe@alice',
      run: async (command) => ({ where: 'probe@alice', command, exitCode: 0, output }),
    };
    const s = await readStandIns(host, ['198.51.100.80', '198.51.100.53']);
    expect(s.local.map((c) => [c.to, c.dev])).toEqual([['198.51.100.80', 'lo']]);
    expect(s.redirects.map((r) => [r.rule, r.legacy])).toEqual([
      ['-A OUTPUT -d 198.51.100.80/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080', false],
      ['-A OUTPUT -p icmp -j DNAT --to-destination 127.0.0.1', true],
    ]);
  });
});

describe("lab 13: where the laptop's packets go", () => {
  it('finds the router that answered a ping with TTL 1, and nothing when none did', () => {
    const answered =
      'PING 198.51.100.161 (198.51.100.161) 56(84) bytes of data.\nFrom 192.168.1.1 icmp_seq=1 Time to live exceeded\nFrom 192.168.1.1 icmp_seq=2 Time to live exceeded\n';
    expect(firstHop(answered)).toBe(ROUTER);
    const unreachable =
      'PING 198.51.100.150 (198.51.100.150) 56(84) bytes of data.\nFrom 192.168.1.101 icmp_seq=1 Destination Host Unreachable\n';
    expect(firstHop(unreachable)).toBeUndefined();
    // A local address answers the echo itself: no router on the way.
    expect(firstHop('64 bytes from 198.51.100.80: icmp_seq=1 ttl=64 time=0.1 ms\n')).toBeUndefined();
  });

  it('aims its packet for the internet at an address beyond the home router that no node uses', () => {
    const used = canonicalWorld.nodes.flatMap((n) =>
      n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])),
    );
    for (let i = 0; i < 50; i++) {
      const a = facts.beyond();
      expect(contains('198.51.100.0/24', a), a).toBe(true);
      expect(used).not.toContain(a);
    }
  });
});
