// Lab 06 on a real engine: without the home router's translation Alice's requests die while
// Carol's pass the ISP's carrier-grade NAT; making the ISP translate Alice's private network
// instead (with a fake curl on alice and copied answers) fails; the reference passes for two seeds.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab06';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 06: NAT and CGNAT', () => {
  it("fails untouched: the home router forwards Alice's private address untranslated; Carol gets through", async () => {
    const run = await start('6', I, 'seed-a');
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([
      'home-nat',
      'alice-web',
      'answer-alice-public',
      'answer-carol-public',
      'answer-home-side',
    ]);
    expect(report.results.find((r) => r.id === 'home-nat')?.reason).toMatch(/untranslated/);
    expect(report.results.find((r) => r.id === 'carol-web')?.reason).toContain(
      `arrive from ${String(run.vars.publicAddress)}`,
    );
  });

  it("fails when the ISP translates and routes Alice's private network instead of the home router, with a fake curl and copied answers", async () => {
    const run = await start('6', I, 'seed-a');
    const other = varsFor(run.lab, 'seed-c');
    // What a learner with a shell on the ISP router could do: translate 192.168.1.0/24 there and
    // route it back to the home router. Bob then sees the right public address, but the home router
    // still translates nothing.
    const isp = await sh(
      I,
      'isp',
      [
        `iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o backbone -j SNAT --to-source ${String(run.vars.publicAddress)}`,
        `ip route add 192.168.1.0/24 via ${String(run.vars.homeAddress)}`,
      ].join(' && '),
    );
    expect(isp.exitCode, isp.stderr).toBe(0);
    const fake = submissionFolder({
      'alice/usr/local/bin/curl': `#!/bin/sh\necho '{"clientAddress":"${String(other.publicAddress)}"}'\n`,
      'alice.sh': 'chmod +x /usr/local/bin/curl\ncurl http://web.bob.example/whoami\n',
      'answers.yaml': `alice_public: ${String(other.publicAddress)}\ncarol_public: ${String(other.publicAddress)}\nhome_isp_side: ${String(other.homeAddress)}\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([
      'home-nat',
      'answer-alice-public',
      'answer-carol-public',
      'answer-home-side',
    ]);
    expect(report.results.find((r) => r.id === 'home-nat')?.reason).toMatch(/untranslated/);
    expect(report.results.find((r) => r.id === 'alice-web')?.passed).toBe(true);
  });

  it('fails relays instead of translation (on the home router, and on alice), and reports them as redirects', async () => {
    const run = await start('6', I, 'seed-a');
    const pub = String(run.vars.publicAddress);
    // The home router sends the LAN's web traffic to a relay of its own (iptables REDIRECT); the
    // relay speaks to Bob from the router's own address, which the ISP's CGNAT translates. Alice's
    // laptop adds a relay of hers in front (REDIRECT in OUTPUT). Bob sees the right public address
    // for both, yet nothing translates Alice's connections.
    const homeRelay = [
      'use IO::Socket::INET; use IO::Select;',
      "$SIG{CHLD} = 'IGNORE';",
      "my $l = IO::Socket::INET->new(LocalPort => 8080, Listen => 64, ReuseAddr => 1) or die 'listen';",
      'while (1) {',
      '  my $c = $l->accept or next;',
      '  if (fork) { close $c; next }',
      "  my $u = IO::Socket::INET->new(PeerAddr => '198.51.100.80', PeerPort => 80, Timeout => 5) or exit;",
      '  my $s = IO::Select->new($c, $u);',
      '  OUTER: while (my @r = $s->can_read) {',
      '    for my $h (@r) { my $n = sysread($h, my $buf, 65536); last OUTER unless $n; syswrite($h == $c ? $u : $c, $buf) }',
      '  }',
      '  exit;',
      '}',
    ].join('\n');
    const aliceRelay = [
      'import socket, threading',
      'def pump(a, b):',
      '    try:',
      '        while True:',
      '            d = a.recv(65536)',
      '            if not d:',
      '                break',
      '            b.sendall(d)',
      '    except OSError:',
      '        pass',
      '    try:',
      '        b.shutdown(socket.SHUT_WR)',
      '    except OSError:',
      '        pass',
      'def serve(c):',
      '    u = socket.socket()',
      "    u.setsockopt(socket.SOL_SOCKET, 36, 7)  # SO_MARK: the relay's own connections are not redirected",
      '    try:',
      "        u.connect(('198.51.100.80', 80))",
      '    except OSError:',
      '        c.close()',
      '        return',
      '    threading.Thread(target=pump, args=(u, c), daemon=True).start()',
      '    pump(c, u)',
      'l = socket.socket()',
      'l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      "l.bind(('0.0.0.0', 8081))",
      'l.listen(64)',
      'while True:',
      '    c, _ = l.accept()',
      '    threading.Thread(target=serve, args=(c,), daemon=True).start()',
    ].join('\n');
    // Scripts run in name order (alice.sh before home.sh), so the router's part goes first.
    const router = submissionFolder({
      'home/root/relay.pl': homeRelay + '\n',
      'home.sh': [
        'setsid perl /root/relay.pl </dev/null >/dev/null 2>&1 &',
        'iptables -t nat -A PREROUTING -i lan -p tcp --dport 80 -j REDIRECT --to-ports 8080',
      ].join('\n'),
    });
    const laptop = submissionFolder({
      'alice/root/relay.py': aliceRelay + '\n',
      'alice.sh': [
        'setsid python3 /root/relay.py </dev/null >/tmp/relay.log 2>&1 &',
        'iptables -t nat -A OUTPUT -p tcp -d 198.51.100.80 --dport 80 -m mark ! --mark 7 -j REDIRECT --to-ports 8081',
        'for i in $(seq 20); do curl -s -m 2 -o /dev/null http://web.bob.example/whoami && break; sleep 0.2; done',
        'curl -sS -m 3 http://web.bob.example/whoami',
      ].join('\n'),
      'answers.yaml': `alice_public: ${pub}\ncarol_public: ${pub}\nhome_isp_side: ${String(run.vars.homeAddress)}\n`,
    });
    await apply(run, router);
    await apply(run, laptop);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['home-nat', 'alice-web']);
    const reason = (id: string) => report.results.find((r) => r.id === id)?.reason ?? '';
    expect(reason('home-nat'), explain(report)).toMatch(
      /redirects .* to a relay on the home router \(192\.168\.1\.1:8080\)/,
    );
    expect(reason('home-nat')).not.toMatch(/untranslated/);
    expect(reason('alice-web'), explain(report)).toMatch(/redirected on alice to a relay \(127\.0\.0\.1:8081\)/);
  }, 300_000);

  it('passes the reference solution for two learners, whose public and ISP-side addresses differ', async () => {
    const seen: string[] = [];
    for (const seed of ['seed-a', 'seed-c']) {
      const run = await start('nat', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(9);
      process.stderr.write(`[lab-06] ${seed}: graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`alice_public: ${String(run.vars.publicAddress)}`);
      expect(answers).toContain(`carol_public: ${String(run.vars.publicAddress)}`);
      expect(answers).toContain(`home_isp_side: ${String(run.vars.homeAddress)}`);
      // The home router's table shows Alice's connections translated to its ISP-side address.
      const ct = await sh(I, 'home', 'conntrack -L -p tcp --dport 80 2>/dev/null');
      expect(ct.stdout).toContain(`dst=${String(run.vars.homeAddress)}`);
      seen.push(answers);
    }
    expect(seen[0]).not.toBe(seen[1]);
    // Two worlds, each started, solved and graded: twice the usual budget on a loaded machine.
  }, 240_000);
});
