// Lab 10's variation and its certificate authority are pure: deterministic per seed, different
// across seeds, and the certificates are what each fault says.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import lab, {
  ALICE_CA,
  FAULTS,
  TLS_DIR,
  VERSIONS,
  WRONG_NAMES,
  faultNamed,
  labCa,
  parseHandshake,
  serialOf,
  startCertificate,
} from '../../labs/10-https/lab.js';
import { WEB_HOST as HOST } from '../../labs/kit/web.js';
import { findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labWorld } from '../../orchestrator/labs/labrun.js';

const SEEDS = Array.from({ length: 200 }, (_, i) => `seed-${i}`);
const DAY = 86400_000;

describe('lab 10: variation', () => {
  it('is deterministic per seed', () => {
    for (const s of SEEDS.slice(0, 20)) expect(varsFor(lab, s)).toEqual(varsFor(lab, s));
  });

  it('differs across seeds: faults, policies, serials and CA names', () => {
    const all = SEEDS.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.fault))).toEqual(new Set(FAULTS));
    expect(new Set(all.map((v) => v.minVersion))).toEqual(new Set(VERSIONS));
    expect(new Set(all.map((v) => v.serial)).size).toBe(all.length);
    expect(new Set(all.map((v) => v.issuerName)).size).toBeGreaterThan(150);
    expect(new Set(all.map((v) => v.caKey)).size).toBe(all.length);
  });

  it('gives valid values: 16-digit positive serials, a wrong name only for the wrong-name fault', () => {
    for (const s of SEEDS) {
      const v = varsFor(lab, s);
      expect(v.serial).toMatch(/^[1-7][0-9A-F]{15}$/);
      if (v.fault === 'wrong-name') {
        expect(WRONG_NAMES).toContain(v.certName);
        expect(v.certName).not.toBe(HOST);
        expect(v.certName.endsWith('.example')).toBe(true);
      } else expect(v.certName).toBe(HOST);
      expect(v.expiredDaysAgo).toBeGreaterThanOrEqual(3);
    }
  });

  it('pins the faults of the seeds the integration test uses', () => {
    const kinds = Object.fromEntries(
      ['seed-b', 'seed-x', 'seed-i'].map((s) => [s, `${varsFor(lab, s).fault} ${varsFor(lab, s).minVersion}`]),
    );
    expect(kinds).toEqual({
      'seed-b': 'expired TLSv1.2',
      'seed-x': 'missing-intermediate TLSv1.3',
      'seed-i': 'wrong-name TLSv1.3',
    });
  });
});

describe('lab 10: the certificate authority', () => {
  it('is the same in every call for a seed (the grader recomputes the root), and differs across seeds', () => {
    const a = varsFor(lab, 'seed-a');
    expect(labCa(a)).toEqual(labCa(varsFor(lab, 'seed-a')));
    expect(labCa(a).rootPem).not.toBe(labCa(varsFor(lab, 'seed-b')).rootPem);
  });

  it('chains: a self-signed root, an issuing CA signed by it, a server certificate signed by the issuing CA', () => {
    for (const s of ['seed-a', 'seed-b', 'seed-c']) {
      const v = varsFor(lab, s);
      const ca = labCa(v);
      const root = new X509Certificate(ca.rootPem);
      const issuing = new X509Certificate(ca.issuingPem);
      const server = new X509Certificate(startCertificate(v).certPem);
      expect(root.ca).toBe(true);
      expect(root.verify(root.publicKey)).toBe(true);
      expect(root.subject).toContain(v.rootName);
      expect(issuing.ca).toBe(true);
      expect(issuing.checkIssued(root)).toBe(true);
      expect(issuing.verify(root.publicKey)).toBe(true);
      expect(issuing.subject).toContain(v.issuerName);
      expect(server.ca).toBe(false);
      expect(server.checkIssued(issuing)).toBe(true);
      expect(server.verify(issuing.publicKey)).toBe(true);
      expect(server.serialNumber).toBe(v.serial);
      expect(server.subjectAltName).toBe(`DNS:${v.certName}`);
      // The issuing CA's private key, handed to Bob, belongs to the issuing certificate.
      expect(createPublicKey(ca.issuingKeyPem).export({ format: 'der', type: 'spki' })).toEqual(
        issuing.publicKey.export({ format: 'der', type: 'spki' }),
      );
    }
  });

  it('breaks the server certificate the way the fault says', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    for (const s of SEEDS.slice(0, 30)) {
      const v = varsFor(lab, s);
      const c = startCertificate(v, now);
      const cert = new X509Certificate(c.certPem);
      expect(cert.checkHost(HOST)).toBe(v.fault === 'wrong-name' ? undefined : HOST);
      if (v.fault === 'expired') {
        expect(c.notAfter.getTime()).toBe(now - v.expiredDaysAgo * DAY);
        expect(c.notBefore.getTime()).toBeLessThan(c.notAfter.getTime());
      } else {
        expect(c.notBefore.getTime()).toBeLessThan(now);
        expect(c.notAfter.getTime()).toBeGreaterThan(now + 30 * DAY);
      }
      const web = lab.faults(v, labWorld(lab, v)).find((f) => f.node === 'web')?.script ?? '';
      if (v.fault === 'missing-intermediate') expect(web).toContain(`rm -f ${TLS_DIR}/chain.crt`);
      else expect(web).toContain(`cat > '${TLS_DIR}/chain.crt'`);
      // The server starts against the policy on the task card.
      expect(web).toContain(
        `cat > '${TLS_DIR}/options.json' <<'HURRYNET_EOF'\n{ "minVersion": "${v.minVersion === 'TLSv1.2' ? 'TLSv1.3' : 'TLSv1.2'}" }\n`,
      );
    }
  });

  it('hands alice the root (not installed) and never reveals the fault on the task card', () => {
    const vars = varsFor(lab, 'seed-a');
    const alice = lab.faults(vars, labWorld(lab, vars)).find((f) => f.node === 'alice')?.script ?? '';
    expect(alice).toContain(`cat > '${ALICE_CA}'`);
    expect(alice).toContain(labCa(vars).rootPem.trim());
    expect(alice).not.toContain('update-ca-certificates');
    for (const s of SEEDS.slice(0, 30)) {
      const card = JSON.stringify(lab.task?.(varsFor(lab, s)));
      for (const f of FAULTS) expect(card).not.toContain(f);
    }
    expect(lab.submissionNodes).toEqual(['alice', 'web']);
  });
});

describe('lab 10: parsing and answers', () => {
  const output = [
    '== handshake',
    'verify error:num=10:certificate has expired',
    ' 0 s:O = Bob Example, CN = web.bob.example',
    '   i:O = Bob Example, CN = Bob Issuing CA G74',
    'New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384',
    'Verify return code: 10 (certificate has expired)',
    'sent: 2',
    'now: 1795000000',
    '== leaf',
    'serial=4DC4A378D204A373',
    'subject=O = Bob Example, CN = web.bob.example',
    'issuer=O = Bob Example, CN = Bob Issuing CA G74',
    'notBefore=2025-11-25 12:00:41Z',
    'notAfter=2026-10-15 12:00:41Z',
    'X509v3 Subject Alternative Name: ',
    '    DNS:web.bob.example, DNS:www.bob.example',
    '== chain',
    'c1.pem: OK',
  ].join('\n');

  it('parses the handshake script', () => {
    const h = parseHandshake(output);
    expect(h).toMatchObject({
      connected: true,
      sent: 2,
      serial: '4DC4A378D204A373',
      protocol: 'TLSv1.3',
      chainOk: true,
      now: 1795000000,
    });
    expect(h.dnsNames).toEqual(['web.bob.example', 'www.bob.example']);
    expect(h.notAfter?.toISOString()).toBe('2026-10-15T12:00:41.000Z');
    const broken = parseHandshake(
      output.replace(
        'c1.pem: OK',
        'error 20 at 0 depth lookup: unable to get local issuer certificate\nerror c1.pem: verification failed',
      ),
    );
    expect(broken.chainOk).toBe(false);
    expect(broken.chainError).toBe('unable to get local issuer certificate');
    expect(parseHandshake('== handshake\nConnection refused\nsent: 0\nnow: 1')).toMatchObject({
      connected: false,
      sent: 0,
      dnsNames: [],
    });
  });

  it('reads the problem and the serial in the spellings learners use', () => {
    expect(faultNamed('expired')).toBe('expired');
    expect(faultNamed('the certificate has expired')).toBe('expired');
    expect(faultNamed('wrong-name')).toBe('wrong-name');
    expect(faultNamed('hostname mismatch')).toBe('wrong-name');
    expect(faultNamed('missing-intermediate')).toBe('missing-intermediate');
    expect(faultNamed('incomplete chain')).toBe('missing-intermediate');
    expect(faultNamed('expired wrong name')).toBeUndefined();
    expect(faultNamed('no idea')).toBeUndefined();
    expect(serialOf('serial=4DC4A378D204A373')).toBe('4DC4A378D204A373');
    expect(serialOf('4d:c4:a3:78:d2:04:a3:73')).toBe('4DC4A378D204A373');
    expect(serialOf('0x004dc4a378d204a373')).toBe('4DC4A378D204A373');
  });
});

describe('lab 10: the trust check', () => {
  it("finds the lab CA's lines in a row in alice's bundle, with bash builtins only", async () => {
    const vars = varsFor(lab, 'seed-b');
    const check = labChecks(await findLab('10'), vars).find((c) => c.id === 'trust');
    const other = labCa(varsFor(lab, 'seed-c')).rootPem;
    const root = labCa(vars).rootPem;
    const dir = mkdtempSync(join(tmpdir(), 'hn-lab10-'));
    const judge = async (bundle: string) => {
      writeFileSync(join(dir, 'bundle.crt'), bundle);
      // alice, played by a bash without PATH: only builtins can run.
      const run = async (command: string) => {
        const c = command.replaceAll('/etc/ssl/certs/ca-certificates.crt', join(dir, 'bundle.crt'));
        try {
          return {
            where: 'alice',
            command: c,
            exitCode: 0,
            output: execFileSync('/bin/bash', ['-c', c], { env: { PATH: '/nonexistent' } }).toString(),
          };
        } catch (err) {
          const e = err as { status: number; stdout: Buffer };
          return { where: 'alice', command: c, exitCode: e.status, output: String(e.stdout) };
        }
      };
      const ctx = {
        instance: 'x',
        timeScale: 1,
        vars,
        answers: async () => ({ ok: false as const, error: '' }),
        probe: async () => {
          throw new Error('no probes');
        },
        inspect: async () => {
          throw new Error('no probes');
        },
        witness: async () => undefined,
        fresh: async () => {
          throw new Error('no fresh machines');
        },
        node: () => ({ where: 'alice', run }),
      };
      return (await check?.run(ctx))?.passed;
    };
    expect(await judge(other)).toBe(false);
    expect(await judge(other + root)).toBe(true);
    expect(await judge(`${root.replace(/\n/g, '\r\n')}${other}`)).toBe(true);
    // The same lines out of order are no certificate a TLS library would read.
    expect(await judge(other + root.split('\n').reverse().join('\n'))).toBe(false);
  });
});
