// Lab 10 on a real engine: each kind of broken certificate fails its own checks, a self-signed
// certificate trusted only on alice (with a curl that never verifies and copied answers) fails, and
// the reference solution passes for two seeds whose answers do not transfer.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { varsFor } from '../../orchestrator/lab.js';
import { certificateDer, deriveKey, pem } from '../../labs/10-https/x509.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab10';
const ANSWERS = ['answer-problem', 'answer-serial', 'answer-issuer'];

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

describe('lab 10: HTTPS', () => {
  it('fails untouched with an expired certificate, and fails a self-signed certificate trusted only on alice', async () => {
    const run = await start('10', I, 'seed-b');
    expect(run.vars.fault).toBe('expired');
    const untouched = await grade(run);
    expect(untouched.passed).toBe(false);
    expect(failedIds(untouched), explain(untouched)).toEqual(['trust', 'dates', 'protocol', 'https', ...ANSWERS]);
    expect(untouched.results.find((r) => r.id === 'dates')?.reason).toMatch(/expired on/);

    // A root learner's shortcut: a self-signed certificate for the right name on web, trusted in
    // alice's store instead of the lab CA, a curl that never verifies, and another seed's answers.
    const key = deriveKey('a learner made this up');
    const name = { organization: 'Bob Example', commonName: 'web.bob.example' };
    const now = Date.now();
    const selfSigned = pem(certificateDer({ serial: Buffer.from([0x42]), subject: name, issuer: name, notBefore: new Date(now - 86400_000), notAfter: new Date(now + 30 * 86400_000), publicKey: key.publicKey, signingKey: key, dnsNames: ['web.bob.example'] }));
    const other = varsFor(run.lab, 'seed-c');
    const fake = submissionFolder({
      'web/etc/hurrynet/tls/server.crt': selfSigned,
      'web/etc/hurrynet/tls/server.key': key.pem,
      'web.sh': "rm -f /etc/hurrynet/tls/chain.crt\npkill -HUP -f '^node server.js'\nsleep 1\ntail -n 1 /var/log/web/tls.log",
      'alice/usr/local/share/ca-certificates/bob.crt': selfSigned,
      'alice/usr/local/bin/curl': '#!/bin/sh\nexec /usr/bin/curl -k "$@"\n',
      'alice.sh': 'chmod +x /usr/local/bin/curl\nupdate-ca-certificates',
      'answers.yaml': `problem: ${String(other.fault)}\nold_serial: ${String(other.serial)}\nissuer: ${String(other.issuerName)}\n`,
    });
    await apply(run, fake);
    const report = await grade(run);
    expect(report.passed, explain(report)).toBe(false);
    expect(failedIds(report), explain(report)).toEqual(['trust', 'chain', 'protocol', 'https', ...ANSWERS]);
    expect(report.results.find((r) => r.id === 'chain')?.reason).toMatch(/only its own certificate/);
  });

  it('fails untouched with a missing intermediate, then passes the reference solution', async () => {
    const run = await start('https', I, 'seed-c');
    expect(run.vars.fault).toBe('missing-intermediate');
    const untouched = await grade(run);
    expect(failedIds(untouched), explain(untouched)).toEqual(['trust', 'chain', 'protocol', 'https', ...ANSWERS]);
    await solve(run);
  });

  it('fails untouched with a wrong name, passes the reference solution, and its answers do not transfer', async () => {
    const run = await start('10', I, 'seed-e');
    expect(run.vars.fault).toBe('wrong-name');
    const untouched = await grade(run);
    expect(failedIds(untouched), explain(untouched)).toEqual(['trust', 'name', 'protocol', 'https', ...ANSWERS]);
    expect(untouched.results.find((r) => r.id === 'name')?.reason).toContain(String(run.vars.certName));
    await solve(run);
    // Answers that were right for seed-c, handed in for seed-e.
    const c = varsFor(run.lab, 'seed-c');
    await sh(I, 'alice', `printf 'problem: %s\\nold_serial: %s\\nissuer: %s\\n' ${String(c.fault)} ${String(c.serial)} '${String(c.issuerName)}' > /root/answers.yaml`);
    const copied = await grade(run);
    expect(failedIds(copied)).toEqual(ANSWERS);
  });
});
