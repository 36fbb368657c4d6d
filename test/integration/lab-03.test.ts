// Lab 03 on a real engine: untouched it fails where its fault is, faking the fix on alice fails,
// copied answers fail, and the reference solution passes for every kind of fault.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import lab, {
  CACHE_NAMES,
  FAULT_NODE,
  FAULTS,
  RECORD_NAMES,
  type DnsVars,
  type FaultKind,
} from '../../labs/03-dns/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab03';
/** One seed per kind of fault (asserted below, so a change in vary() shows up here first). */
const SEEDS: Record<FaultKind, string> = { resolver: 'seed-b', forwarder: 'seed-f', record: 'seed-a' };
const ANSWER_CHECKS = ['answer-fault-node', 'answer-ttl-first', 'answer-ttl-second', 'answer-dns-queries'];
const varsOf = (run: LabRun): DnsVars => varsFor(lab, run.seed);

/** Python lines that build `reply`: a forged answer to the query in `data` (its name ends at `i`), Bob's address with this TTL. */
const forgedReply = (ttl: number) => [
  "header = data[:2] + b'\\x85\\x80\\x00\\x01\\x00\\x01\\x00\\x00\\x00\\x00'",
  `reply = header + data[12:i + 5] + b'\\xc0\\x0c\\x00\\x01\\x00\\x01' + struct.pack('>I', ${ttl}) + b'\\x00\\x04' + bytes([198, 51, 100, 80])`,
];

/**
 * A small Python DNS server on a UDP port, as a cheat would run on alice: for each query (`data`
 * from `addr`, its name in `labels`, ending at `i`) the `handle` lines build the `reply` it sends.
 */
const fakeDnsServer = (port: number, setup: string[], handle: string[]) =>
  [
    'import socket, struct',
    ...setup,
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `s.bind(('0.0.0.0', ${port}))`,
    'while True:',
    '    data, addr = s.recvfrom(4096)',
    '    i, labels = 12, []',
    '    while data[i] != 0:',
    '        labels.append(data[i + 1:i + 1 + data[i]].decode().lower())',
    '        i += data[i] + 1',
    ...handle.map((l) => `    ${l}`),
    '    s.sendto(reply, addr)',
    '',
  ].join('\n');

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 03: DNS resolution and caching', () => {
  it('varies the fault with the seed as this test expects', () => {
    for (const [fault, seed] of Object.entries(SEEDS)) expect(varsFor(lab, seed).fault).toBe(fault);
    expect(new Set(Object.values(SEEDS).map((s) => varsFor(lab, s).ttl)).size).toBe(3);
  });

  for (const fault of FAULTS) {
    it(`fails untouched with the ${fault} fault: exactly that check, the lookup on alice, the cache and the answers`, async () => {
      const run = await start('3', I, SEEDS[fault]);
      const report = await grade(run);
      expect(report.passed).toBe(false);
      expect(failedIds(report), explain(report)).toEqual([fault, 'alice-resolves', 'cache', ...ANSWER_CHECKS]);
      expect(report.results.find((r) => r.id === fault)?.hints?.join('\n')).toBeTruthy();
    });
  }

  it('fails a faked submission: a hosts-file entry, a replaced dig and answers copied from another seed', async () => {
    const run = await start('3', I, SEEDS.record);
    const v = varsOf(run);
    const other = varsFor(lab, SEEDS.forwarder);
    const fake = submissionFolder({
      'alice.sh': [
        `echo "198.51.100.80 ${v.mustResolve} ${v.cacheName}" >> /etc/hosts`,
        'cat > /usr/local/bin/dig <<"EOF"',
        '#!/bin/sh',
        'echo ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1"',
        'echo ";; ANSWER SECTION:"',
        'echo "$1.	900	IN	A	198.51.100.80"',
        'EOF',
        'chmod +x /usr/local/bin/dig',
        `dig ${v.mustResolve}`,
        `getent hosts ${v.mustResolve}`,
      ].join('\n'),
      // What a learner with the forwarder fault answered.
      'answers.yaml': `fault_node: ${FAULT_NODE.forwarder}\nttl_first: ${other.ttl}\nttl_second: ${other.ttl - 3}\ndns_queries: 1\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report)).toEqual(['record', 'alice-resolves', 'cache', ...ANSWER_CHECKS]);
  });

  it('fails a fake DNS server on alice behind an iptables redirect, even with the right resolver setting', async () => {
    const run = await start('3', I, SEEDS.resolver);
    const v = varsOf(run);
    // Answers every query itself with Bob's address.
    const fakeServer = fakeDnsServer(5353, [], forgedReply(v.ttl));
    const fake = submissionFolder({
      'alice/root/fakedns.py': fakeServer,
      'alice.sh': [
        "echo 'nameserver 192.168.1.1' > /etc/resolv.conf",
        'setsid python3 /root/fakedns.py </dev/null >/dev/null 2>&1 &',
        'iptables -t nat -A OUTPUT -p udp -d 192.168.1.1 --dport 53 -j DNAT --to-destination 192.168.1.101:5353',
        `until dig +short ${v.mustResolve} | grep -q 198.51.100.80; do sleep 0.2; done`,
        `dig ${v.cacheName}`,
      ].join('\n'),
      'answers.yaml': `fault_node: alice\nttl_first: ${v.ttl}\nttl_second: ${v.ttl - 3}\ndns_queries: 1\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    // The fix of the resolver setting itself is real; everything that needs the router is not.
    expect(failedIds(report)).toEqual(['alice-resolves', 'cache', 'answer-ttl-second', 'answer-dns-queries']);
    expect(report.results.find((r) => r.id === 'alice-resolves')?.reason).toMatch(/never received alice's query/);
  });

  it("fails a redirect of port 53 on the home router to Bob's DNS server instead of a fixed forwarder, and blames the router", async () => {
    const run = await start('3', I, SEEDS.forwarder);
    const v = varsOf(run);
    // The LAN's queries (and the router's own, to itself) go straight to the dns node: names
    // resolve, but the router's resolver (dnsmasq) never sees a query, so nothing is cached.
    // Scripts run in name order (alice.sh before home.sh), so the router's part goes first.
    const router = submissionFolder({
      'home.sh': [
        'iptables -t nat -A PREROUTING -i lan -p udp --dport 53 -j DNAT --to-destination 198.51.100.53',
        'iptables -t nat -A PREROUTING -i lan -p tcp --dport 53 -j DNAT --to-destination 198.51.100.53',
        'iptables -t nat -A OUTPUT -d 192.168.1.1 -p udp --dport 53 -j DNAT --to-destination 198.51.100.53',
        'conntrack -F >/dev/null 2>&1 || true',
      ].join('\n'),
    });
    const laptop = submissionFolder({
      'alice.sh': [
        `for i in $(seq 50); do dig +short +time=1 web.bob.example | grep -q '^198[.]' && break; sleep 0.2; done`,
        `dig ${v.cacheName}`,
        'sleep 2',
        `dig ${v.cacheName}`,
      ].join('\n'),
      'answers.yaml': `fault_node: home\nttl_first: ${v.ttl}\nttl_second: ${v.ttl - 2}\ndns_queries: 2\n`,
    });
    await apply(run, router);
    await apply(run, laptop);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['forwarder', 'alice-resolves', 'cache', 'answer-ttl-second']);
    expect(report.results.find((r) => r.id === 'forwarder')?.reason, explain(report)).toMatch(
      /resolver \(dnsmasq\) never saw the query.*redirect/,
    );
    const resolves = report.results.find((r) => r.id === 'alice-resolves')?.reason ?? '';
    expect(resolves, explain(report)).toMatch(/something on the home router redirects port 53/);
    expect(resolves).not.toMatch(/on alice intercepts/);
  });

  it('fails a DNS relay on alice that forwards to the router but forges the missing record', async () => {
    const run = await start('3', I, SEEDS.record);
    const v = varsOf(run);
    // Every query alice sends to the router goes through a local relay (an iptables DNAT); the
    // relay passes the real answer on, except for the name the task card asks for.
    const relay = fakeDnsServer(
      5300,
      [
        `TARGET = ${JSON.stringify(v.mustResolve)}`,
        'up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        "up.bind(('0.0.0.0', 5301))",
        'up.settimeout(2)',
      ],
      [
        "up.sendto(data, ('192.168.1.1', 53))",
        'reply = None',
        'try:',
        '    while reply is None or reply[:2] != data[:2]:',
        '        reply, _ = up.recvfrom(4096)',
        'except socket.timeout:',
        '    continue',
        "if '.'.join(labels) == TARGET and data[i + 1:i + 3] == b'\\x00\\x01':",
        ...forgedReply(v.ttl).map((l) => `    ${l}`),
      ],
    );
    const fake = submissionFolder({
      'alice/root/relay.py': relay,
      'alice.sh': [
        'setsid python3 /root/relay.py </dev/null >/tmp/relay.log 2>&1 &',
        'iptables -t nat -A OUTPUT -p udp -d 192.168.1.1 --dport 53 ! --sport 5301 -j DNAT --to-destination 192.168.1.101:5300',
        `for i in $(seq 50); do dig +short +time=1 +tries=1 ${v.mustResolve} | grep -q '^198[.]51[.]100[.]80$' && break; sleep 0.2; done`,
        `first=$(dig +noall +answer ${v.cacheName} | awk '{ print $2; exit }')`,
        'sleep 3',
        `second=$(dig +noall +answer ${v.cacheName} | awk '{ print $2; exit }')`,
        'printf "fault_node: dns\\nttl_first: %s\\nttl_second: %s\\ndns_queries: 1\\n" "$first" "$second" > /root/answers.yaml',
        'cat /root/answers.yaml',
      ].join('\n'),
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    // The cache experiment went through the real router, so it and the answers stand.
    expect(failedIds(report), explain(report)).toEqual(['record', 'alice-resolves']);
    expect(report.results.find((r) => r.id === 'alice-resolves')?.reason, explain(report)).toMatch(
      /fresh machine on Alice's LAN gets NXDOMAIN/,
    );
  });

  /** Starts the fault's world, applies the reference solution and grades it; returns the run and its answers. */
  async function solved(fault: FaultKind): Promise<{ run: LabRun; answers: string }> {
    const run = await start('3', I, SEEDS[fault]);
    await apply(run, solutionDir(run));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(true);
    expect(report.score).toBe(report.maxScore);
    const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
    expect(answers).toMatch(new RegExp(`ttl_first: ${varsOf(run).ttl}\\n`));
    return { run, answers };
  }

  // The solution waits on itself across three nodes (see solution/alice.sh): minutes on a busy machine.
  it('passes the reference solution with the record fault', async () => {
    await solved('record');
  }, 300_000);

  it("passes the reference solution with the forwarder fault, and another learner's correct answers do not fit its world", async () => {
    const { run, answers } = await solved('forwarder');
    // What the reference solution answers in the record learner's world: its fault node and TTL,
    // the same wait between the two lookups, the same count of queries (one forwarded, one cached).
    const own = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(answers)?.[1]);
    const other = varsFor(lab, SEEDS.record);
    const copied = `fault_node: ${FAULT_NODE.record}\nttl_first: ${other.ttl}\nttl_second: ${other.ttl - (own('ttl_first') - own('ttl_second'))}\ndns_queries: ${own('dns_queries')}\n`;
    await sh(I, 'alice', `cat > /root/answers.yaml <<'EOF'\n${copied}EOF`);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['answer-fault-node', 'answer-ttl-first', 'answer-ttl-second']);
  }, 300_000);

  it('passes the reference solution with the resolver fault', async () => {
    await solved('resolver');
  }, 300_000);

  it('keeps the reference solution free of any one seed', async () => {
    const { dir } = await findLab('3');
    const oneSeed = new RegExp(`\\b(${[...RECORD_NAMES, ...CACHE_NAMES].join('|')})\\.bob\\.example`);
    const scripts = readdirSync(join(dir, 'solution')).filter((f) => f.endsWith('.sh'));
    expect(scripts.sort()).toEqual(['alice.sh', 'dns.sh', 'home.sh']);
    for (const f of scripts) expect(readFileSync(join(dir, 'solution', f), 'utf8')).not.toMatch(oneSeed);
  });
});
