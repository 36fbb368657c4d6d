// Lab 14's pure parts: the overlay (the mail node, the edge's NAT and security group, the MX
// record per fault), the per-seed faults, the lab CA and its certificates, and the parsers of the
// mailbox summary, Postfix's log and the grader's STARTTLS handshake.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import lab, {
  ALICE_PUBLIC,
  ALICE_TRUSTED,
  BAD_CERTS,
  badCertificate,
  FAULT_NODE,
  FAULTS,
  GOOD_CERT,
  goodCertificate,
  labRoot,
  MAIL_PRIVATE,
  MAIL_PUBLIC,
  mailWorld,
  overTls,
  parseMboxSummary,
  parseStarttls,
  POSTFIX_CERT,
  RELOAD_POSTFIX,
  queueId,
  receivedFrom,
  sessionOf,
  type MailVars,
} from '../../labs/14-email/lab.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import { zoneFile } from '../../orchestrator/world/config.js';

const bobZone = (fault: (typeof FAULTS)[number]) =>
  zoneFile(mailWorld(canonicalWorld, fault).settings.zones.find((z) => z.name === 'bob.example')!);

describe('lab 14: email', () => {
  it('adds the mail node behind the edge with its own public address and port 25 let in', () => {
    const w = mailWorld(canonicalWorld, 'relay-denied');
    const mail = w.nodes.find((n) => n.name === 'mail');
    expect(mail?.role).toBe('mail');
    expect(mail?.interfaces[0]?.addresses).toEqual([`${MAIL_PRIVATE}/24`]);
    const edge = w.nodes.find((n) => n.name === 'edge')!;
    expect(edge.interfaces.find((i) => i.link === 'backbone')?.addresses).toContain(`${MAIL_PUBLIC}/24`);
    expect(edge.nat).toContainEqual({ kind: 'dnat', publicAddress: MAIL_PUBLIC, privateAddress: MAIL_PRIVATE });
    expect(edge.firewall?.allow).toContainEqual({ inLink: 'backbone', to: MAIL_PRIVATE, proto: 'tcp', ports: '25' });
    expect(bobZone('relay-denied')).toMatch(/^@ IN MX 10 mail\.bob\.example\.$/m);
    // The canonical world stays as it is.
    expect(canonicalWorld.nodes.some((n) => n.name === 'mail')).toBe(false);
  });

  it('breaks one step per fault: the MX record, the security group, or Postfix (a fault script)', () => {
    expect(bobZone('mx-wrong')).toMatch(/^@ IN MX 10 web\.bob\.example\.$/m);
    const sg = mailWorld(canonicalWorld, 'sg-port').nodes.find((n) => n.name === 'edge')!;
    expect(sg.firewall?.allow.find((r) => r.to === MAIL_PRIVATE)?.ports).toBe('587');
    for (const seed of ['seed-a', 'seed-d', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 's7', 's14']) {
      const v = varsFor(lab, seed);
      const faults = lab.faults(v, lab.overlay!(canonicalWorld, v));
      // Every seed: the TLS files on mail and the lab root in alice's trust store; relay-denied adds one.
      expect(faults.map((f) => f.node)).toEqual(
        v.fault === 'relay-denied' ? ['mail', 'alice', 'mail'] : ['mail', 'alice'],
      );
      expect(faults[0]!.script).toContain(GOOD_CERT);
      expect(faults[0]!.script).toContain(POSTFIX_CERT);
      expect(faults[1]!.script).toContain(ALICE_TRUSTED);
      // Its bundle and hash link, as update-ca-certificates would write them, without its rehash.
      expect(faults[1]!.script).toContain('/etc/ssl/certs/ca-certificates.crt');
      expect(faults[1]!.script).toMatch(/openssl x509 -hash -noout/);
      expect(faults.filter((f) => f.node === 'mail').every((f) => f.script.includes(RELOAD_POSTFIX))).toBe(true);
      expect(faults.some((f) => f.script.includes('postfix reload'))).toBe(false);
      expect(faults[1]!.script).toContain(labRoot(v).split('\n')[1]);
      expect(lab.task!(v).hand_subject).toBe(v.handSubject);
      expect(v.badCert === 'none').toBe(v.fault !== 'bad-cert');
    }
    const drawn = Array.from({ length: 60 }, (_, i) => varsFor(lab, `s${i}`));
    expect([...new Set(drawn.map((v) => v.fault))].sort()).toEqual([...FAULTS].sort());
    expect([...new Set(drawn.map((v) => v.badCert))].sort()).toEqual([...BAD_CERTS, 'none'].sort());
    expect(FAULT_NODE['bad-cert']).toBe('mail');
  });

  it('makes a per-seed CA whose certificate for mail.bob.example verifies and whose bad ones do not (openssl)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-lab14-'));
    const verify = (v: MailVars, certPem: string): string => {
      writeFileSync(join(dir, 'root.pem'), labRoot(v));
      writeFileSync(join(dir, 'leaf.pem'), certPem);
      try {
        return execFileSync(
          'openssl',
          ['verify', '-CAfile', join(dir, 'root.pem'), '-verify_hostname', 'mail.bob.example', join(dir, 'leaf.pem')],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      } catch (err) {
        return (
          String((err as { stdout?: string; stderr?: string }).stderr ?? '') +
          String((err as { stdout?: string }).stdout ?? '')
        );
      }
    };
    const base = varsFor(lab, 'seed-a');
    // Deterministic in the seed, different between seeds.
    expect(labRoot(base)).toBe(labRoot(varsFor(lab, 'seed-a')));
    expect(labRoot(base)).not.toBe(labRoot(varsFor(lab, 'seed-b')));
    expect(verify(base, goodCertificate(base).certPem)).toMatch(/: OK/);
    const bad = (badCert: MailVars['badCert'], certName = 'mail.bob.example') =>
      verify({ ...base, badCert }, badCertificate({ ...base, fault: 'bad-cert', badCert, certName }).certPem);
    expect(bad('self-signed')).toMatch(/self-signed certificate|self signed/);
    expect(bad('wrong-name', 'web.bob.example')).toMatch(/hostname mismatch/);
    expect(bad('expired')).toMatch(/certificate has expired/);
    // Another seed's root does not vouch for this seed's certificate.
    expect(verify(varsFor(lab, 'seed-b'), goodCertificate(base).certPem)).not.toMatch(/: OK/);
  });

  it("reads the mailbox summary: subject, size and Postfix's Received header", () => {
    const [hand, big] = parseMboxSummary(
      [
        'hello bob 1272\t358\tfrom alice (unknown [203.0.113.5]) by mail.bob.example (Postfix) with ESMTP id D3',
        'birthday 1669\t203625\tfrom x (unknown [203.0.113.5]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) by mail.bob.example (Postfix)',
        'forged\t10\tfrom home (unknown [192.168.1.1]) by mail.bob.example (Postfix)',
        '',
      ].join('\n'),
    );
    expect(hand).toMatchObject({ subject: 'hello bob 1272', bytes: 358 });
    expect(receivedFrom(hand!, ALICE_PUBLIC)).toBe(true);
    expect(overTls(hand!)).toBe(false);
    expect(overTls(big!)).toBe(true);
    expect(parseMboxSummary('garbage')).toEqual([]);
    expect(queueId(hand!)).toBe('D3');
  });

  it("cuts the message's smtpd session out of Postfix's log and sees whether it was in TLS", () => {
    const log = [
      'Dec 03 13:18:30 mail postfix/smtpd[220]: connect from unknown[203.0.113.5]',
      'Dec 03 13:18:30 mail postfix/smtpd[220]: AAA1: client=unknown[203.0.113.5]',
      'Dec 03 13:18:31 mail postfix/smtpd[220]: disconnect from unknown[203.0.113.5]',
      'Dec 03 13:18:37 mail postfix/smtpd[220]: connect from unknown[203.0.113.5]',
      'Dec 03 13:18:37 mail postfix/smtpd[221]: connect from unknown[192.168.1.1]',
      'Dec 03 13:18:37 mail postfix/smtpd[221]: Anonymous TLS connection established from unknown[192.168.1.1]: TLSv1.3',
      'Dec 03 13:18:37 mail postfix/smtpd[220]: Anonymous TLS connection established from unknown[203.0.113.5]: TLSv1.3',
      'Dec 03 13:18:37 mail postfix/smtpd[220]: BBB2: client=unknown[203.0.113.5]',
      'Dec 03 13:18:38 mail postfix/smtpd[221]: CCC3: client=unknown[192.168.1.1]',
    ].join('\n');
    expect(sessionOf(log, 'AAA1')).toMatchObject({ found: true, tls: false });
    const big = sessionOf(log, 'BBB2');
    expect(big).toMatchObject({ found: true, tls: true });
    expect(big.lines).toHaveLength(3);
    expect(sessionOf(log, 'ZZZ9')).toEqual({ found: false, tls: false, lines: [] });
  });

  it("reads the grader's openssl s_client -starttls smtp: verified, refused with openssl's reason, or no STARTTLS", () => {
    const ok = parseStarttls(
      [
        'address of mail.bob.example: 198.51.100.25',
        'CONNECTED(00000003)',
        'depth=1 O = Hurrynet Lab, CN = Hurrynet Mail Lab Root CA M42',
        'depth=0 O = Bob Example, CN = mail.bob.example',
        'subject=O = Bob Example, CN = mail.bob.example',
        'issuer=O = Hurrynet Lab, CN = Hurrynet Mail Lab Root CA M42',
        'New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384',
        'Verify return code: 0 (ok)',
        'exit: 0',
      ].join('\n'),
    );
    expect(ok).toMatchObject({
      offered: true,
      connected: true,
      verified: true,
      subject: 'O = Bob Example, CN = mail.bob.example',
    });
    const bad = parseStarttls(
      [
        'CONNECTED(00000003)',
        'depth=0 O = Bob Example, CN = web.bob.example',
        'verify error:num=62:hostname mismatch',
        '40:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed',
        'Verification error: hostname mismatch',
        'New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384',
        'Verify return code: 62 (hostname mismatch)',
        'exit: 1',
      ].join('\n'),
    );
    expect(bad).toMatchObject({ connected: true, verified: false, error: 'hostname mismatch' });
    const plain = parseStarttls(
      "CONNECTED(00000003)\nDidn't find STARTTLS in server response, trying anyway...\nexit: 1",
    );
    expect(plain).toMatchObject({ reached: true, offered: false, connected: false, verified: false });
    expect(parseStarttls('connect:errno=111\nexit: 1')).toMatchObject({ reached: false, offered: false });
  });
});
