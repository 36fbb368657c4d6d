// Lab 14 on a real engine: the untouched lab fails; a fake mail server on alice with an /etc/hosts
// entry, and a message sent from Bob's own network, fail the checks they should; in a bad-cert
// world, turning STARTTLS off on Postfix, sending in the clear, and alice trusting the bad
// certificate herself fail the TLS checks; messages forged into Bob's mailbox and Postfix's log on
// the mail node (the right Received headers, "using TLS", fake log lines) fail, for the grader's
// witness at the ISP never saw them cross; the reference solution passes for every kind of fault;
// without its witness the grader says inconclusive, and stop removes the witness with the world.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, labelledObjects } from './helpers.js';
import { findWitness } from '../../orchestrator/labs/witness.js';

const I = 't-mail-it';
const LONG = 240_000;

afterAll(async () => {
  await stop(driver, I);
});

/** A sender on alice: the hand message through nc, the big one with smtplib (TLS as asked). */
function aliceSends(tls: 'none' | 'own-store'): string {
  return [
    'set -eu',
    'task() { sed -n "s/^$1: //p" /root/TASK.txt; }',
    'from=$(task mail_from)',
    ...(tls === 'own-store'
      ? [
          // Alice trusts whatever the server shows her: the grader's own laptop does not.
          "openssl s_client -starttls smtp -connect mail.bob.example:25 </dev/null 2>/dev/null | sed -n '/BEGIN CERT/,/END CERT/p' > /usr/local/share/ca-certificates/bob-mail.crt",
          'update-ca-certificates >/dev/null 2>&1',
        ]
      : []),
    "{ sleep 1; echo 'EHLO alice'; sleep 1; echo \"MAIL FROM:<$from>\"; sleep 1; echo 'RCPT TO:<bob@bob.example>'; sleep 1",
    '  echo DATA; sleep 1; printf \'Subject: %s\\n\\nby hand\\n.\\n\' "$(task hand_subject)"; sleep 1; echo QUIT; sleep 1; } | nc -C -w 10 mail.bob.example 25',
    'head -c 150000 /dev/urandom > /root/photo.bin',
    `python3 - "$from" "$(task attachment_subject)" ${tls === 'none' ? 'plain' : 'tls'} <<'PY'`,
    'import smtplib, ssl, sys',
    'from email.message import EmailMessage',
    'sender, subject, mode = sys.argv[1:4]',
    'msg = EmailMessage()',
    "msg['From'], msg['To'], msg['Subject'] = sender, 'bob@bob.example', subject",
    "msg.set_content('photo')",
    "msg.add_attachment(open('/root/photo.bin', 'rb').read(), maintype='application', subtype='octet-stream')",
    "with smtplib.SMTP('mail.bob.example', 25, timeout=30) as s:",
    "    if mode == 'tls':",
    '        s.starttls(context=ssl.create_default_context())',
    '    s.send_message(msg)',
    'PY',
    'printf "broken_at: mail\\n" > /root/answers.yaml',
  ].join('\n');
}

/**
 * The forgery, as root on mail: Bob's mailbox gets both messages with Postfix's own Received
 * headers (copied from a solved world: Alice's public address, the big one "using TLS" with
 * ESMTPS), and Postfix's log the smtpd session with its TLS line. Alice sends nothing.
 */
function forgeOnMail(sender: string, hand: string, attach: string): string {
  const tls = 'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)';
  return [
    'set -eu',
    `stamp=$(date '+%a %b %e %H:%M:%S %Y'); rfc=$(date -R); logt=$(date '+%b %d %H:%M:%S')`,
    'body=$(head -c 150000 /dev/urandom | base64 -w 76)',
    '{',
    `  printf 'From ${sender}  %s\nReturn-Path: <${sender}>\nX-Original-To: bob@bob.example\nDelivered-To: bob@bob.example\n' "$stamp"`,
    `  printf 'Received: from alice (unknown [203.0.113.5])\n\tby mail.bob.example (Postfix) with ESMTP id 3F1A2B3C4D5\n\tfor <bob@bob.example>; %s\n' "$rfc"`,
    `  printf 'From: ${sender}\nTo: bob@bob.example\nSubject: ${hand}\n\nHello Bob, typed by hand.\n\n'`,
    `  printf 'From ${sender}  %s\nReturn-Path: <${sender}>\nX-Original-To: bob@bob.example\nDelivered-To: bob@bob.example\n' "$stamp"`,
    `  printf 'Received: from [127.0.1.1] (unknown [203.0.113.5])\n\t(using ${tls}\n\t key-exchange X25519 server-signature ED25519)\n\t(No client certificate requested)\n\tby mail.bob.example (Postfix) with ESMTPS id 9E8D7C6B5A4\n\tfor <bob@bob.example>; %s\n' "$rfc"`,
    `  printf 'From: ${sender}\nTo: bob@bob.example\nSubject: ${attach}\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n%s\n\n' "$body"`,
    '} >> /var/mail/bob',
    '{',
    '  echo "$logt mail postfix/smtpd[4242]: connect from unknown[203.0.113.5]"',
    `  echo "$logt mail postfix/smtpd[4242]: Anonymous TLS connection established from unknown[203.0.113.5]: ${tls} key-exchange X25519 server-signature ED25519"`,
    '  echo "$logt mail postfix/smtpd[4242]: 9E8D7C6B5A4: client=unknown[203.0.113.5]"',
    '} >> /var/log/mail.log',
  ].join('\n');
}

describe('lab 14: email', () => {
  let run: LabRun;

  it(
    "fails untouched, and fails a fake server on alice and a message sent from inside Bob's network",
    async () => {
      run = await start('14', I, 'seed-a');
      expect(run.vars.fault).toBe('relay-denied');
      const untouched = await grade(run);
      // The certificate is fine in this world: the grader's laptop verifies it untouched.
      expect(failedIds(untouched), explain(untouched)).toEqual(['smtp-path', 'by-hand', 'attachment', 'broken-at']);
      // Cheats: a listener on alice answering SMTP behind an /etc/hosts entry, and the messages
      // delivered from web (inside Bob's VPC) rather than from Alice's network.
      const subject = String(run.vars.handSubject);
      await apply(
        run,
        submissionFolder({
          'alice.sh': [
            'echo "127.0.0.1 mail.bob.example" >> /etc/hosts',
            "(while true; do printf '220 fake\\r\\n250 2.1.5 Ok\\r\\n' | nc -l 25 -q 1; done) >/dev/null 2>&1 &",
            'printf "broken_at: mail\\n" > /root/answers.yaml',
          ].join('\n'),
          'mail.sh': [
            "postconf -e 'mydestination = bob.example, mail.bob.example, localhost' && postfix reload",
            'sleep 1',
            `printf 'Subject: ${subject}\\n\\nfrom inside\\n' | sendmail bob@bob.example`,
            'sleep 2',
          ].join('\n'),
        }),
      );
      const cheat = await grade(run);
      // The grader's own laptop ignores alice's hosts file: the path check passes on the real fix.
      expect(failedIds(cheat), explain(cheat)).toEqual(['by-hand', 'attachment']);
      expect(cheat.results.find((r) => r.id === 'by-hand')?.reason).toMatch(/sent from elsewhere/);
      // Cheat: both messages forged on the mail node itself, with the headers and log lines of a
      // real delivery from Alice over TLS. The grader's witness at the ISP never saw them.
      await apply(
        run,
        submissionFolder({ 'mail.sh': forgeOnMail(String(run.vars.sender), subject, String(run.vars.attachSubject)) }),
      );
      const forged = await grade(run);
      expect(failedIds(forged), explain(forged)).toEqual(['by-hand', 'attachment']);
      for (const id of ['by-hand', 'attachment'])
        expect(forged.results.find((r) => r.id === id)?.reason).toMatch(/never crossed the network from Alice's side/);
    },
    LONG,
  );

  it(
    'fails a hand message forged as TLS beside a real big one: one TLS session vouches for one message',
    async () => {
      run = await start('14', I, 'seed-a');
      const hand = String(run.vars.handSubject);
      // The real fix on mail; then only the big message really sent from alice, over STARTTLS.
      await apply(
        run,
        submissionFolder({
          'mail.sh':
            "postconf -e 'mydestination = bob.example, mail.bob.example, localhost' && postfix reload && sleep 1",
        }),
      );
      const onlyBig = aliceSends('none')
        .split('\n')
        .filter((l) => !/nc -C|echo 'EHLO alice'/.test(l))
        .join('\n')
        .replace(' plain <<', ' tls <<');
      await apply(run, submissionFolder({ 'alice.sh': onlyBig }));
      // The forgery: the hand message "using TLS", dated exactly like the real one's header.
      const tls = 'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)';
      await apply(
        run,
        submissionFolder({
          'mail.sh': [
            'set -eu',
            "rfc=$(sed -n 's/.*for <bob@bob.example>; //p' /var/mail/bob | head -1)",
            '[ -n "$rfc" ]',
            "stamp=$(date '+%a %b %e %H:%M:%S %Y')",
            '{',
            `  printf 'From ${run.vars.sender}  %s\nReturn-Path: <${run.vars.sender}>\n' "$stamp"`,
            `  printf 'Received: from alice (unknown [203.0.113.5])\n\t(using ${tls})\n\tby mail.bob.example (Postfix) with ESMTPS id 1A2B3C4D5E6\n\tfor <bob@bob.example>; %s\n' "$rfc"`,
            `  printf 'Subject: ${hand}\n\nby hand, they say\n\n'`,
            '} >> /var/mail/bob',
          ].join('\n'),
        }),
      );
      const report = await grade(run);
      expect(failedIds(report), explain(report)).toEqual(['by-hand']);
      expect(report.results.find((r) => r.id === 'by-hand')?.reason).toMatch(
        /a message over TLS needs a session of its own/,
      );
    },
    LONG,
  );

  it(
    'a bad certificate fails untouched, with STARTTLS turned off, in the clear, and when only alice trusts it',
    async () => {
      run = await start('14', I, 's7');
      expect(run.vars).toMatchObject({ fault: 'bad-cert', badCert: 'self-signed' });
      const untouched = await grade(run);
      expect(failedIds(untouched), explain(untouched)).toEqual(['starttls', 'by-hand', 'attachment', 'broken-at']);
      expect(untouched.results.find((r) => r.id === 'starttls')?.reason).toMatch(/self-signed certificate/);
      // Cheat 1: STARTTLS turned off on Postfix, the messages sent in the clear.
      await apply(
        run,
        submissionFolder({
          'alice.sh': aliceSends('none'),
          'mail.sh': "postconf -e 'smtpd_tls_security_level = none' && postfix reload && sleep 1",
        }),
      );
      const plain = await grade(run);
      expect(failedIds(plain), explain(plain)).toEqual(['starttls', 'attachment']);
      expect(plain.results.find((r) => r.id === 'starttls')?.reason).toMatch(/does not offer STARTTLS/);
      expect(plain.results.find((r) => r.id === 'attachment')?.reason).toMatch(/not sent over TLS/);
      // Cheat 2: STARTTLS back on with the bad certificate, which alice adds to her own trust store:
      // her verifying client is content, the grader's laptop (the lab root only) is not.
      await apply(
        run,
        submissionFolder({
          'mail.sh': "postconf -e 'smtpd_tls_security_level = may' && postfix reload && sleep 1",
        }),
      );
      await apply(run, submissionFolder({ 'alice.sh': aliceSends('own-store') }));
      const trusted = await grade(run);
      expect(failedIds(trusted), explain(trusted)).toEqual(['starttls']);
      expect(trusted.results.find((r) => r.id === 'starttls')?.reason).toMatch(/does not verify/);
    },
    LONG,
  );

  // One seed per kind of fault: relay-denied, mx-wrong, sg-port, bad-cert (wrong-name, then expired).
  for (const [seed, fault] of [
    ['seed-a', 'relay-denied'],
    ['s0', 'mx-wrong'],
    ['s1', 'sg-port'],
    ['s14', 'bad-cert'],
    ['s4', 'bad-cert'],
  ] as const)
    it(
      `passes with the reference solution (${seed}, ${fault})`,
      async () => {
        run = await start('14', I, seed);
        expect(run.vars.fault).toBe(fault);
        await apply(run, solutionDir(run));
        const report = await grade(run);
        expect(report.passed, explain(report)).toBe(true);
      },
      LONG,
    );

  it(
    'is inconclusive without its witness, and stop removes the witness with the world',
    async () => {
      // The last world passed with the solution: with its witness gone, the grader cannot tell.
      const witness = await findWitness(driver, I, 'isp');
      expect(witness).toBeDefined();
      await driver.removeContainer(witness as string);
      const blind = await grade(run);
      expect(blind.inconclusive, explain(blind)).toEqual(['by-hand', 'attachment']);
      run = await start('14', I, 'seed-a');
      expect(await findWitness(driver, I, 'isp')).toBeDefined();
      await stop(driver, I);
      expect(await labelledObjects(I)).toBe(0);
    },
    LONG,
  );
});
