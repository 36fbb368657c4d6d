// Lab 10 on a real engine: each kind of broken certificate fails its own checks, a self-signed
// certificate trusted only on alice (with a curl that never verifies and copied answers) fails, a
// local TLS relay on alice with a good certificate (which alice's own namespace sees instead of
// Bob's server) fails, and the reference solution passes for two seeds whose answers do not transfer.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import type { Report } from '../../checks/types.js';
import lab, { labCa, type FaultKind } from '../../labs/10-https/lab.js';
import { certificateDer, deriveKey, pem } from '../../labs/kit/x509.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab10';
const ANSWERS = ['answer-problem', 'answer-serial', 'answer-issuer'];
// Several grades in one test, on a machine other tests load too.
const LONG = 600_000;
// update-ca-certificates alone took 37 s on this machine under load: give the scripts room.
process.env.HURRYNET_SCRIPT_TIMEOUT ??= '240';

afterAll(async () => {
  await stop(driver, I);
});

async function solve(run: LabRun): Promise<void> {
  await apply(run, solutionDir(run));
  const report = await grade(run);
  expect(report.passed, explain(report)).toBe(true);
  expect(report.score).toBe(report.maxScore);
  expect(report.maxScore).toBe(15);
  process.stderr.write(`[lab-10] ${run.seed}: graded a passing world in ${report.ms} ms\n`);
}

/** Starts the lab for a seed with this fault and grades it untouched: trust, the fault's own check, the policy and the page fail. */
async function untouched(seed: string, fault: FaultKind, faultCheck: string): Promise<{ run: LabRun; report: Report }> {
  const run = await start('10', I, seed);
  expect(varsFor(lab, seed).fault).toBe(fault);
  const report = await grade(run);
  expect(report.passed).toBe(false);
  expect(failedIds(report), explain(report)).toEqual(['trust', faultCheck, 'protocol', 'https', ...ANSWERS]);
  return { run, report };
}

describe('lab 10: HTTPS', () => {
  it(
    'fails untouched with an expired certificate, and fails a self-signed certificate trusted only on alice',
    async () => {
      const { run, report: first } = await untouched('seed-b', 'expired', 'dates');
      expect(first.results.find((r) => r.id === 'dates')?.reason).toMatch(/expired on/);

      // A root learner's shortcut: a self-signed certificate for the right name on web, trusted in
      // alice's store instead of the lab CA, a curl that never verifies, and another seed's answers.
      const key = deriveKey('a learner made this up');
      const name = { organization: 'Bob Example', commonName: 'web.bob.example' };
      const now = Date.now();
      const selfSigned = pem(
        certificateDer({
          serial: Buffer.from([0x42]),
          subject: name,
          issuer: name,
          notBefore: new Date(now - 86400_000),
          notAfter: new Date(now + 30 * 86400_000),
          publicKey: key.publicKey,
          signingKey: key,
          dnsNames: ['web.bob.example'],
        }),
      );
      const other = varsFor(lab, 'seed-x');
      const fake = submissionFolder({
        'web/etc/hurrynet/tls/server.crt': selfSigned,
        'web/etc/hurrynet/tls/server.key': key.pem,
        'web.sh':
          "rm -f /etc/hurrynet/tls/chain.crt\npkill -HUP -f '^node server.js'\nsleep 1\ntail -n 1 /var/log/web/tls.log",
        'alice/usr/local/share/ca-certificates/bob.crt': selfSigned,
        'alice/usr/local/bin/curl': '#!/bin/sh\nexec /usr/bin/curl -k "$@"\n',
        // and a grep that finds whatever it is asked for (the trust check uses bash builtins only)
        'alice.sh':
          "chmod +x /usr/local/bin/curl\nupdate-ca-certificates\nprintf '#!/bin/sh\\necho 99\\n' > /usr/local/bin/grep; chmod +x /usr/local/bin/grep",
        'answers.yaml': `problem: ${other.fault}\nold_serial: ${other.serial}\nissuer: ${other.issuerName}\n`,
      });
      await apply(run, fake);
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(false);
      expect(failedIds(report), explain(report)).toEqual(['trust', 'chain', 'protocol', 'https', ...ANSWERS]);
      expect(report.results.find((r) => r.id === 'chain')?.reason).toMatch(/only its own certificate/);
      expect(report.results.find((r) => r.id === 'trust')?.reason).toMatch(/not in alice's trust store/);
      expect((await sh(I, 'alice', 'grep -c anything /etc/hostname')).stdout.trim()).toBe('99');
    },
    LONG,
  );

  it(
    'fails untouched with a missing intermediate, then passes the reference solution',
    async () => {
      const { run } = await untouched('seed-x', 'missing-intermediate', 'chain');
      await solve(run);
    },
    LONG,
  );

  it(
    'fails untouched with a wrong name, passes the reference solution, and its answers do not transfer',
    async () => {
      const { run, report: first } = await untouched('seed-i', 'wrong-name', 'name');
      const v = varsFor(lab, run.seed);
      expect(first.results.find((r) => r.id === 'name')?.reason).toContain(v.certName);

      // A relay on alice: a TLS server with a good certificate for web.bob.example (issued by Bob's
      // issuing CA, valid now, TLS 1.3 only as the policy says) behind an iptables REDIRECT of port
      // 443, and the right answers. Alice's own namespace now sees a perfect server; Bob's is untouched.
      const issuing = deriveKey(`${v.caKey}:issuing`);
      const key = deriveKey('a relay on alice');
      const now = Date.now();
      const good = pem(
        certificateDer({
          serial: Buffer.from([0x5e, 0x1f]),
          subject: { organization: 'Bob Example', commonName: 'web.bob.example' },
          issuer: { organization: 'Bob Example', commonName: v.issuerName },
          notBefore: new Date(now - 86400_000),
          notAfter: new Date(now + 30 * 86400_000),
          publicKey: key.publicKey,
          signingKey: issuing,
          dnsNames: ['web.bob.example'],
        }),
      );
      await apply(
        run,
        submissionFolder({
          'alice/root/relay/cert.pem': good,
          'alice/root/relay/key.pem': key.pem,
          'alice/root/relay/chain.pem': labCa(v).issuingPem,
          'alice.sh': [
            // trust the lab CA the quick way (the bundle is what TLS libraries read)
            'cat /root/lab-ca.crt >> /etc/ssl/certs/ca-certificates.crt',
            'setsid nohup openssl s_server -accept 4433 -cert /root/relay/cert.pem -key /root/relay/key.pem -cert_chain /root/relay/chain.pem -tls1_3 -www -quiet >/dev/null 2>&1 </dev/null &',
            'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 443 -j REDIRECT --to-ports 4433',
            'for i in $(seq 1 50); do ss -Hltn "sport = :4433" | grep -q . && exit 0; sleep 0.1; done; exit 1',
          ].join('\n'),
          'answers.yaml': `problem: wrong-name\nold_serial: ${v.serial}\nissuer: ${v.issuerName}\n`,
        }),
      );
      const seen = await sh(
        I,
        'alice',
        'openssl s_client -connect 198.51.100.80:443 -servername web.bob.example </dev/null 2>/dev/null | openssl x509 -noout -serial',
      );
      expect(seen.stdout.trim()).toBe('serial=5E1F');
      const relayed = await grade(run);
      expect(failedIds(relayed), explain(relayed)).toEqual(['name', 'protocol', 'https']);
      expect(relayed.results.find((r) => r.id === 'name')?.reason).toContain(
        `is for ${v.certName}, not for web.bob.example`,
      );
      expect(relayed.results.find((r) => r.id === 'name')?.evidence[0]?.where).toBe('fresh@lan');
      expect(relayed.results.find((r) => r.id === 'protocol')?.reason).toMatch(/still accepts TLS 1\.2/);
      // The reference solution diagnoses from alice: take the relay away first.
      await sh(
        I,
        'alice',
        'iptables -t nat -D OUTPUT -d 198.51.100.80 -p tcp --dport 443 -j REDIRECT --to-ports 4433; pkill -f "s_server -accept 4433"; true',
      );
      await solve(run);
      // Answers that were right for seed-x, handed in for seed-i.
      const c = varsFor(lab, 'seed-x');
      await sh(
        I,
        'alice',
        `printf 'problem: %s\\nold_serial: %s\\nissuer: %s\\n' ${c.fault} ${c.serial} '${c.issuerName}' > /root/answers.yaml`,
      );
      const copied = await grade(run);
      expect(failedIds(copied)).toEqual(ANSWERS);
    },
    LONG,
  );
});
