// Lab 08 on a real engine: untouched, the large download hangs (a path-MTU black hole); undoing
// the small MTU or shrinking Alice's own MTU is refused; clamping the MSS on the home router fixes
// the download (but answers copied from another seed fail); the reference, which lets the ICMP
// through, passes for two seeds. Between them the three scenarios are covered.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { nodesOn } from '../../labs/08-mtu/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab08';

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 08: MTU', () => {
  it('fails untouched: small requests work, the large download hangs, no answers', async () => {
    const run = await start('8', I, 'seed-f');
    expect(run.vars).toMatchObject({ link: 'access', filterNode: 'edge', chain: 'FORWARD' });
    const mtu = await sh(I, 'isp', 'cat /sys/class/net/access/mtu');
    expect(mtu.stdout.trim()).toBe(String(run.vars.mtu));
    const report = await grade(run);
    expect(report.passed).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['download', 'answer-path-mtu', 'answer-mss']);
    expect(report.results.find((r) => r.id === 'download')?.reason).toMatch(/hung/);
  });

  it('fails workarounds: the small link set back to 1500 and a smaller MTU on Alice\'s laptop', async () => {
    const run = await start('8', I, 'seed-f');
    const link = String(run.vars.link);
    const files: Record<string, string> = {
      'alice.sh': 'ip link set dev home mtu 1200',
      'answers.yaml': `path_mtu: ${String(varsFor(run.lab, 'seed-a').mtu)}\nmss: 1300\n`,
    };
    for (const node of nodesOn(link).filter((n) => run.lab.submissionNodes.includes(n))) files[`${node}.sh`] = `ip link set dev ${link} mtu 1500`;
    await apply(run, submissionFolder(files));
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['link-mtu', 'alice-standard', 'answer-path-mtu', 'answer-mss']);
  });

  it('fails a fake Bob on the home router (DNAT to a local server that sends 1 MB): Bob never served it', async () => {
    const run = await start('8', I, 'seed-b');
    const fake = [
      "cat > /tmp/fake.sh <<'EOS'",
      'while true; do',
      "  { printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 1000000\\r\\nConnection: close\\r\\n\\r\\n'; head -c 1000000 /dev/zero; } | nc -l -N 8080 >/dev/null 2>&1",
      'done',
      'EOS',
      'setsid nohup bash /tmp/fake.sh >/dev/null 2>&1 </dev/null &',
      'iptables -t nat -I PREROUTING 1 -i home -d 198.51.100.80 -p tcp --dport 80 -j DNAT --to-destination 192.168.1.1:8080',
    ].join('\n');
    await apply(run, submissionFolder({ 'home.sh': fake, 'answers.yaml': `path_mtu: ${String(run.vars.mtu)}\nmss: ${Number(run.vars.mtu) - 40}\n` }));
    const fetched = await sh(I, 'alice', "curl -sS -m 5 -o /dev/null -w '%{http_code} %{size_download}' http://web.bob.example/bytes/1000000");
    expect(fetched.stdout).toBe('200 1000000');
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toContain('download');
    expect(report.results.find((r) => r.id === 'download')?.reason).toMatch(/never served/);
  });

  it('accepts MSS clamping on the home router as the fix, and fails answers copied from another seed', async () => {
    const run = await start('8', I, 'seed-b');
    expect(run.vars).toMatchObject({ link: 'access', filterNode: 'isp' });
    const other = varsFor(run.lab, 'seed-a');
    expect(other.mtu).not.toBe(run.vars.mtu);
    await apply(
      run,
      submissionFolder({
        'home.sh': 'iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
        'answers.yaml': `path_mtu: ${String(other.mtu)}\nmss: ${Number(other.mtu) - 40}\n`,
      }),
    );
    const report = await grade(run);
    expect(report.results.find((r) => r.id === 'download')?.passed, explain(report)).toBe(true);
    expect(failedIds(report), explain(report)).toEqual(['answer-path-mtu', 'answer-mss']);
    // The filter is still there: the clamp alone made the download work.
    expect((await sh(I, 'isp', 'iptables -S OUTPUT')).stdout).toMatch(/icmp-type 3\/4 -j DROP/);
  });

  it('passes the reference solution (let the ICMP through) for two learners', async () => {
    for (const seed of ['seed-a', 'seed-f']) {
      const run = await start('mtu', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.maxScore).toBe(10);
      process.stderr.write(`[lab-08] ${seed} (${String(run.vars.link)}, mtu ${String(run.vars.mtu)}): graded a passing world in ${report.ms} ms\n`);
      const answers = (await sh(I, 'alice', 'cat /root/answers.yaml')).stdout;
      expect(answers).toContain(`path_mtu: ${String(run.vars.mtu)}`);
    }
  });
});
