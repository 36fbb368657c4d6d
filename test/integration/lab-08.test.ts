// Lab 08 on a real engine: untouched, the large download hangs (a path-MTU black hole), also when
// Alice's laptop announces a small MSS through a route in a table of its own (the grader
// downloads from a fresh laptop); undoing the small MTU or shrinking Alice's own MTU is refused;
// a fake Bob on the home router, a relay on it, and a route MTU behind a policy rule on the edge
// fail with what they are; clamping the MSS on the home router fixes the download (but answers
// copied from another seed fail); the reference, which lets the ICMP through, passes for two
// seeds. Between them the three scenarios are covered.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { labWorld } from '../../orchestrator/labs/labrun.js';
import { fragmentsOf, nodesOn } from '../../labs/08-mtu/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab08';
const BOB = '198.51.100.80';
const FRAGMENT_CHECKS = ['answer-fragments', 'answer-last-offset', 'answer-last-length'];
/** The right fragment answers for a learner's variables. */
const fragmentAnswers = (vars: Record<string, string | number>) => {
  const f = fragmentsOf(Number(vars.mtu), Number(vars.fragSize));
  return `fragments: ${f.count}\nlast_offset: ${f.lastOffset}\nlast_length: ${f.lastLength}\n`;
};

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 08: MTU', () => {
  it('fails untouched: small requests work, the large download hangs, no answers; an MSS on alice behind a policy rule changes nothing', async () => {
    const run = await start('8', I, 'seed-c');
    expect(run.vars).toMatchObject({ link: 'access', filterNode: 'edge', chain: 'FORWARD' });
    const mtu = await sh(I, 'isp', 'cat /sys/class/net/access/mtu');
    expect(mtu.stdout.trim()).toBe(String(run.vars.mtu));
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([
      'download',
      'answer-path-mtu',
      'answer-mss',
      ...FRAGMENT_CHECKS,
    ]);
    expect(report.results.find((r) => r.id === 'download')?.reason).toMatch(/hung/);

    // Alice's laptop announces a small MSS to Bob through a route in table 100, chosen by a rule:
    // her own downloads work, "ip route" shows nothing, and every other laptop still hangs.
    await apply(
      run,
      submissionFolder({
        'alice.sh': `ip route add ${BOB} via 192.168.1.1 dev lan advmss 1000 table 100\nip rule add to ${BOB} lookup 100 pref 100\n`,
      }),
    );
    const own = await sh(
      I,
      'alice',
      `curl -sS -m 8 -o /dev/null -w '%{http_code} %{size_download}' http://web.bob.example/bytes/1000000`,
    );
    expect(own.stdout).toBe('200 1000000');
    const hidden = await grade(run);
    expect(failedIds(hidden), explain(hidden)).toEqual([
      'alice-standard',
      'download',
      'answer-path-mtu',
      'answer-mss',
      ...FRAGMENT_CHECKS,
    ]);
    expect(hidden.results.find((r) => r.id === 'alice-standard')?.reason).toContain(
      `Alice's laptop has the route ${BOB} via 192.168.1.1 dev lan advmss 1000 (table 100), selected by the rule "100: from all to ${BOB} lookup 100"`,
    );
    const download = hidden.results.find((r) => r.id === 'download');
    expect(download?.reason).toMatch(/hung/);
    expect(download?.evidence[0]?.where).toBe('fresh@lan');
  }, 300_000);

  it("fails workarounds: the small link set back to 1500 and a smaller MTU on Alice's laptop", async () => {
    const run = await start('8', I, 'seed-c');
    const link = String(run.vars.link);
    const files: Record<string, string> = {
      'alice.sh': 'ip link set dev lan mtu 1200',
      'answers.yaml': `path_mtu: ${String(varsFor(run.lab, 'seed-a').mtu)}\nmss: 1300\n`,
    };
    for (const node of nodesOn(labWorld(run.lab, run.vars), link).filter((n) => run.lab.submissionNodes.includes(n)))
      files[`${node}.sh`] = `ip link set dev ${link} mtu 1500`;
    await apply(run, submissionFolder(files));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual([
      'link-mtu',
      'alice-standard',
      'answer-path-mtu',
      'answer-mss',
      ...FRAGMENT_CHECKS,
    ]);
  });

  it('fails a fake Bob on the home router (DNAT to a local server that sends 1 MB): Bob never served it', async () => {
    const run = await start('8', I, 'seed-2');
    const fake = [
      "cat > /tmp/fake.sh <<'EOS'",
      'while true; do',
      "  { printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 1000000\\r\\nConnection: close\\r\\n\\r\\n'; head -c 1000000 /dev/zero; } | nc -l -N 8080 >/dev/null 2>&1",
      'done',
      'EOS',
      'setsid nohup bash /tmp/fake.sh >/dev/null 2>&1 </dev/null &',
      'iptables -t nat -I PREROUTING 1 -i lan -d 198.51.100.80 -p tcp --dport 80 -j DNAT --to-destination 192.168.1.1:8080',
    ].join('\n');
    await apply(
      run,
      submissionFolder({
        'home.sh': fake,
        'answers.yaml': `path_mtu: ${String(run.vars.mtu)}\nmss: ${Number(run.vars.mtu) - 40}\n`,
      }),
    );
    const fetched = await sh(
      I,
      'alice',
      "curl -sS -m 5 -o /dev/null -w '%{http_code} %{size_download}' http://web.bob.example/bytes/1000000",
    );
    expect(fetched.stdout).toBe('200 1000000');
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toContain('download');
    expect(report.results.find((r) => r.id === 'download')?.reason).toMatch(/never served/);
  });

  it('accepts MSS clamping on the home router as the fix, and fails answers copied from another seed', async () => {
    const run = await start('8', I, 'seed-2');
    expect(run.vars).toMatchObject({ link: 'access', filterNode: 'isp' });
    const other = varsFor(run.lab, 'seed-a');
    expect(other.mtu).not.toBe(run.vars.mtu);
    // The count of fragments is the same for every learner's link (two), so copying it passes;
    // the offset follows the link's MTU and the length the learner's own ping size.
    await apply(
      run,
      submissionFolder({
        'home.sh': 'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
        'answers.yaml': `path_mtu: ${String(other.mtu)}\nmss: ${Number(other.mtu) - 40}\n${fragmentAnswers(other)}`,
      }),
    );
    const report = await grade(run);
    expect(report.results.find((r) => r.id === 'download')?.passed, explain(report)).toBe(true);
    expect(failedIds(report), explain(report)).toEqual([
      'answer-path-mtu',
      'answer-mss',
      'answer-last-offset',
      'answer-last-length',
    ]);
    const offset = report.results.find((r) => r.id === 'answer-last-offset')?.reason ?? '';
    const copied = fragmentsOf(Number(other.mtu), Number(other.fragSize)).lastOffset;
    expect(offset).toBe(
      `your last_offset ("${copied}") is not the offset, in bytes, of the last fragment of your ${String(run.vars.fragSize)}-byte ping without DF beyond the small link`,
    );
    expect(offset).not.toContain(String(fragmentsOf(Number(run.vars.mtu), Number(run.vars.fragSize)).lastOffset));
    // A wrong count (one packet: the learner looked before the small link) fails too.
    await sh(I, 'alice', `sed -i 's/^fragments: .*/fragments: 1/' /root/answers.yaml`);
    const one = await grade(run);
    expect(failedIds(one), explain(one)).toContain('answer-fragments');
    // The filter is still there: the clamp alone made the download work.
    expect((await sh(I, 'isp', 'iptables -S OUTPUT')).stdout).toMatch(/icmp-type 3\/4 -j DROP/);
    // Graded twice: twice the usual budget on a loaded machine.
  }, 300_000);

  it('fails a relay on the home router and a route MTU behind a policy rule on the edge, each for what it is', async () => {
    const run = await start('8', I, 'seed-2');
    expect(run.vars).toMatchObject({ link: 'access', filterNode: 'isp', chain: 'OUTPUT' });
    const mtu = Number(run.vars.mtu);
    // The home router's own connections to Bob announce an MSS that fits its small access link, so
    // a relay on it (a forking one, as the grader's requests run side by side) fetches what the
    // laptops behind it cannot. The edge sends "fragmentation
    // needed" itself for a route with a small MTU, hidden in table 100, so Bob learns the path MTU
    // although the ISP router still drops the real message.
    const relay = [
      "cat > /tmp/relay.pl <<'EOS'",
      'use IO::Socket::INET; use IO::Select;',
      "$SIG{CHLD} = 'IGNORE';",
      'my $l = IO::Socket::INET->new(LocalPort => 8080, Listen => 64, ReuseAddr => 1) or die "listen: $!";',
      'while (my $c = $l->accept) {',
      '  if (fork) { close $c; next }',
      `  my $u = IO::Socket::INET->new(PeerAddr => '${BOB}', PeerPort => 80) or exit 1;`,
      '  my %peer = ($c => $u, $u => $c);',
      '  my $s = IO::Select->new($c, $u);',
      '  LOOP: while (1) { for my $h ($s->can_read) { my $n = sysread($h, my $buf, 65536); last LOOP unless $n; syswrite($peer{$h}, $buf) } }',
      '  exit 0;',
      '}',
      'EOS',
      'setsid nohup perl /tmp/relay.pl >/tmp/relay.log 2>&1 </dev/null &',
      'echo $! > /tmp/relay.pid',
      `iptables -t nat -I PREROUTING 1 -i lan -d ${BOB} -p tcp --dport 80 -j REDIRECT --to-ports 8080`,
    ].join('\n');
    const edge = `ip route add 203.0.113.0/24 via 198.51.100.1 dev backbone mtu ${mtu} table 100\nip rule add to 203.0.113.0/24 lookup 100 pref 100\n`;
    const answers = `path_mtu: ${mtu}\nmss: ${mtu - 40}\n${fragmentAnswers(run.vars)}`;
    await apply(run, submissionFolder({ 'home.sh': relay, 'edge.sh': edge, 'answers.yaml': answers }));
    const relayed = await grade(run);
    expect(failedIds(relayed), explain(relayed)).toEqual(['link-mtu', 'download']);
    expect(relayed.results.find((r) => r.id === 'download')?.reason).toMatch(
      /a relay on the way fetched it in the laptop's place, so the path itself still hangs \(home nat: -A PREROUTING -d 198\.51\.100\.80\/32 -i lan -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080\)/,
    );
    expect(relayed.results.find((r) => r.id === 'link-mtu')?.reason).toBe(
      `edge has the route 203.0.113.0/24 via 198.51.100.1 dev backbone mtu ${mtu} (table 100), selected by the rule "100: from all to 203.0.113.0/24 lookup 100": a route's own MTU or MSS hides the black hole from some connections without opening it`,
    );
    // Without the relay the edge's route alone makes the download work: only link-mtu tells.
    await apply(
      run,
      submissionFolder({ 'home.sh': 'iptables -t nat -D PREROUTING 1\nkill "$(cat /tmp/relay.pid)"\n' }),
    );
    const routed = await grade(run);
    expect(failedIds(routed), explain(routed)).toEqual(['link-mtu']);
  }, 300_000);

  it('passes the reference solution (let the ICMP through) for two learners', async () => {
    for (const seed of ['seed-a', 'seed-c']) {
      const run = await start('mtu', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(13);
      process.stderr.write(
        `[lab-08] ${seed} (${String(run.vars.link)}, mtu ${String(run.vars.mtu)}): graded a passing world in ${report.ms} ms\n`,
      );
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`path_mtu: ${String(run.vars.mtu)}`);
      // Observed in tcpdump -v on the live world, as the handout asks: the values the grader computes.
      expect(answers).toContain(fragmentAnswers(run.vars));
    }
    // Two worlds, each started, solved and graded: twice the usual budget on a loaded machine.
  }, 240_000);
});
