// Lab 14: Alice's email to Bob. The overlay adds Bob's mail server (Postfix on the mail node, in
// Bob's VPC behind the edge, with its own public address by 1:1 NAT), an MX record for bob.example
// and a security-group entry for SMTP. The lab runs its own certificate authority (the kit's
// x509.ts, computed from the seed): Postfix offers STARTTLS with a certificate for
// mail.bob.example from it, and alice's trust store holds its root. One thing on the way is
// broken, differently per learner: the MX record points at the wrong host, the security group
// admits the submission port (587) instead of SMTP (25), Postfix does not count bob.example as its
// own domain (relay denied), or Postfix presents a certificate that does not verify (self-signed,
// issued for another name, or expired; the right one lies on the mail node). The learner finds the
// server through DNS, speaks SMTP by hand once, then sends a message with a large attachment over
// STARTTLS, verifying the server's certificate.
//
// Graded from places alice cannot fake: the grader's own SMTP dialogue and TLS handshake from a
// fresh laptop on Alice's LAN (the MX found at Bob's DNS server, port 25 through the edge, RCPT
// accepted; the certificate verified for mail.bob.example against the lab root the grader computes
// itself), and Bob's mailbox and Postfix's log on the mail node (the learner's subjects, the size,
// the client address after Alice's NAT, the TLS session the big message came in), each confirmed by
// the grader's witness on isp (a capture on Alice's side of the ISP, from the lab's start): the
// mail node is the learner's, so a message forged into the mailbox, with its Received header and
// log lines, counts only if it really crossed the network. A fake listener, an /etc/hosts entry or
// a certificate added to alice's own trust store changes none of these.
import {
  certificateDer,
  defineLab,
  deriveKey,
  draws,
  heredoc,
  nonce,
  pem,
  type DistinguishedName,
  type Fault,
  type World,
} from '../kit/index.js';
import {
  fail,
  graderFailure,
  inconclusive,
  pass,
  type Check,
  type CheckContext,
  type Evidence,
} from '../../checks/types.js';
import { answerCheck } from '../../checks/answers.js';
import { q } from '../../checks/probes.js';
import { describeSessions, tcpSessions, type TcpSession } from '../../checks/packets/sessions.js';

// ---- facts of the lab's world -----------------------------------------------------------------

export const DOMAIN = 'bob.example';
export const MAIL_NAME = 'mail.bob.example';
export const MAIL_PRIVATE = '10.0.1.25';
export const MAIL_PUBLIC = '198.51.100.25';
export const DNS_SERVER = '198.51.100.53';
/** Alice's public address: what Bob's server sees after her home router's NAT. */
export const ALICE_PUBLIC = '203.0.113.5';
export const MAILBOX = '/var/mail/bob';
export const MAIL_LOG = '/var/log/mail.log';
/** The grader's witness: on the ISP's router, on Alice's side (the access link, after her home NAT). */
export const WITNESS_NODE = 'isp';
export const WITNESS_IFACE = 'access';
/** Many segments: far more than one 1500-byte packet carries. */
export const MIN_ATTACHMENT_BYTES = 100_000;

export const FAULTS = ['mx-wrong', 'sg-port', 'relay-denied', 'bad-cert'] as const;
export type MailFault = (typeof FAULTS)[number];
/** Which node the learner fixes, per fault: the answer to "where was it broken". */
export const FAULT_NODE: Record<MailFault, string> = {
  'mx-wrong': 'dns',
  'sg-port': 'edge',
  'relay-denied': 'mail',
  'bad-cert': 'mail',
};
/** How the certificate Postfix presents fails to verify, in the bad-cert fault. */
export const BAD_CERTS = ['self-signed', 'wrong-name', 'expired'] as const;
export type BadCert = (typeof BAD_CERTS)[number];
/** Names of Bob's other hosts, for the certificate issued for the wrong one. */
export const WRONG_NAMES = ['web.bob.example', 'smtp.bob.example', 'mx.bob.example', 'bob.example'] as const;

/** The lab's TLS files on the mail node: the right certificate and key lie here from the start. */
export const TLS_DIR = '/etc/ssl/hurrynet';
export const GOOD_CERT = `${TLS_DIR}/${MAIL_NAME}.crt`;
export const GOOD_KEY = `${TLS_DIR}/${MAIL_NAME}.key`;
export const MAIL_ROOT = `${TLS_DIR}/lab-root-ca.crt`;
/** What Postfix presents (smtpd_tls_cert_file, smtpd_tls_key_file): the broken pair in bad-cert. */
export const POSTFIX_CERT = '/etc/postfix/tls/server.crt';
export const POSTFIX_KEY = '/etc/postfix/tls/server.key';
/** The lab root on alice: a copy in /root, and the one her system trust store is built from. */
export const ALICE_CA = '/root/lab-ca.crt';
export const ALICE_TRUSTED = '/usr/local/share/ca-certificates/hurrynet-lab-root.crt';

const WORDS = ['invoice', 'holiday', 'recipe', 'meeting', 'birthday', 'report', 'garden', 'concert'];

export type MailVars = {
  fault: MailFault;
  handSubject: string;
  attachSubject: string;
  sender: string;
  /** The way the presented certificate is broken (bad-cert only; else "none"). */
  badCert: BadCert | 'none';
  /** The name the certificate is for in the wrong-name variant (else mail.bob.example). */
  certName: string;
  /** For the expired variant: how many days ago the certificate expired. */
  expiredDaysAgo: number;
  rootName: string;
  /** Seeds the CA keys. */
  caKey: string;
};

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export const vary = draws<MailVars>({
  fault: (r) => r.pick(FAULTS),
  handSubject: (r) => `hello bob ${r.int(1000, 9999)}`,
  attachSubject: (r) => `${r.pick(WORDS)} ${r.int(1000, 9999)}`,
  sender: (r) => `alice${r.int(10, 99)}@isp.example`,
  // Each depends on the fault drawn before it.
  badCert: (r, d) => (d.fault === 'bad-cert' ? r.pick(BAD_CERTS) : 'none'),
  certName: (r, d) => (d.badCert === 'wrong-name' ? r.pick(WRONG_NAMES) : MAIL_NAME),
  expiredDaysAgo: (r) => r.int(3, 60),
  rootName: (r) => `Hurrynet Mail Lab Root CA M${r.int(10, 99)}`,
  caKey: (r) => Array.from({ length: 4 }, () => hex4(r.int(0, 0xffff))).join(''),
});

// ---- the lab's certificate authority (deterministic in the seed) ------------------------------

const ROOT_ORG = 'Hurrynet Lab';
const BOB_ORG = 'Bob Example';
const CA_FROM = new Date('2024-01-01T00:00:00Z');
const ROOT_UNTIL = new Date('2049-12-31T23:59:59Z');
const DAY = 86400_000;

const rootDn = (v: MailVars): DistinguishedName => ({ organization: ROOT_ORG, commonName: v.rootName });

/** The lab root: the grader computes it again from the seed, never reads it from a node. */
export function labRoot(v: MailVars): string {
  const root = deriveKey(`${v.caKey}:mail-root`);
  return pem(
    certificateDer({
      serial: Buffer.from([1]),
      subject: rootDn(v),
      issuer: rootDn(v),
      notBefore: CA_FROM,
      notAfter: ROOT_UNTIL,
      publicKey: root.publicKey,
      signingKey: root,
      ca: { pathLength: 0 },
    }),
  );
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

/** The certificate for mail.bob.example that verifies: issued by the lab root, valid for 90 days. */
export function goodCertificate(v: MailVars, now = Date.now()): ServerCertificate {
  const server = deriveKey(`${v.caKey}:mail-server`);
  const der = certificateDer({
    serial: Buffer.from([0x25, 0x01]),
    subject: { organization: BOB_ORG, commonName: MAIL_NAME },
    issuer: rootDn(v),
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 90 * DAY),
    publicKey: server.publicKey,
    signingKey: deriveKey(`${v.caKey}:mail-root`),
    dnsNames: [MAIL_NAME],
  });
  return { certPem: pem(der), keyPem: server.pem };
}

/** The certificate Postfix presents in the bad-cert fault: broken in this seed's way. */
export function badCertificate(v: MailVars, now = Date.now()): ServerCertificate {
  const server = deriveKey(`${v.caKey}:mail-bad`);
  const root = deriveKey(`${v.caKey}:mail-root`);
  const selfSigned = v.badCert === 'self-signed';
  const expired = v.badCert === 'expired';
  const subject = { organization: BOB_ORG, commonName: v.certName };
  const der = certificateDer({
    serial: Buffer.from([0x25, 0x02]),
    subject,
    issuer: selfSigned ? subject : rootDn(v),
    notBefore: new Date(expired ? now - 365 * DAY : now - DAY),
    notAfter: new Date(expired ? now - v.expiredDaysAgo * DAY : now + 90 * DAY),
    publicKey: server.publicKey,
    signingKey: selfSigned ? server : root,
    dnsNames: [v.certName],
  });
  return { certPem: pem(der), keyPem: server.pem };
}

// ---- the overlay ------------------------------------------------------------------------------

/** The canonical world plus Bob's mail server, its public address and its DNS records. */
export function mailWorld(world: World, fault: MailFault): World {
  const edgeFaulty = fault === 'sg-port';
  const nodes = world.nodes.map((n) => {
    if (n.name !== 'edge') return n;
    return {
      ...n,
      interfaces: n.interfaces.map((i) =>
        i.link === 'backbone' ? { ...i, addresses: [...i.addresses, `${MAIL_PUBLIC}/24`] } : i,
      ),
      nat: [
        ...(n.nat ?? []),
        { kind: 'dnat' as const, publicAddress: MAIL_PUBLIC, privateAddress: MAIL_PRIVATE },
        { kind: 'snat' as const, privateAddress: MAIL_PRIVATE, publicAddress: MAIL_PUBLIC, outLink: 'backbone' },
      ],
      firewall: n.firewall && {
        ...n.firewall,
        allow: [
          ...n.firewall.allow,
          // The fault: someone opened mail submission (587) and thought that was mail.
          { inLink: 'backbone', to: MAIL_PRIVATE, proto: 'tcp' as const, ports: edgeFaulty ? '587' : '25' },
        ],
      },
    };
  });
  nodes.push({
    name: 'mail',
    title: "Bob's mail server (Postfix)",
    role: 'mail',
    interfaces: [{ link: 'vpc', addresses: [`${MAIL_PRIVATE}/24`] }],
    routes: [{ to: 'default', via: '10.0.1.1' }],
    nameserver: DNS_SERVER,
    router: false,
    services: ['postfix'],
    memoryMb: 96,
  });
  const zones = world.settings.zones.map((z) =>
    z.name !== DOMAIN
      ? z
      : {
          ...z,
          records: [
            ...z.records,
            { name: 'mail', type: 'A' as const, value: MAIL_PUBLIC },
            // The fault: the MX names a host that exists but is Bob's web server, not his mail server.
            { name: '@', type: 'MX' as const, value: fault === 'mx-wrong' ? `10 web.${DOMAIN}.` : `10 ${MAIL_NAME}.` },
          ],
        },
  );
  return { ...world, nodes, settings: { ...world.settings, zones } };
}

// ---- faults -----------------------------------------------------------------------------------

/**
 * What `postfix reload` does, without its 2 s of checks: SIGHUP to the master, which rereads
 * main.cf; done when its log says "reload" once more than before.
 */
export const RELOAD_POSTFIX = [
  "before=$(grep -c 'postfix/master.*: reload' /var/log/mail.log || true)",
  'kill -HUP "$(tr -d \' \' < /var/spool/postfix/pid/master.pid)"',
  'for _ in $(seq 150); do [ "$(grep -c \'postfix/master.*: reload\' /var/log/mail.log || true)" -gt "$before" ] && break; sleep 0.02; done',
].join('\n');

/**
 * The lab root in alice's system store as update-ca-certificates would put it (the bundle and
 * the hash link), without its rehash of every certificate (most of a second).
 */
const TRUST_ON_ALICE = [
  `cat ${ALICE_TRUSTED} >> /etc/ssl/certs/ca-certificates.crt`,
  `ln -sf ${ALICE_TRUSTED} /etc/ssl/certs/hurrynet-lab-root.pem`,
  `ln -sf hurrynet-lab-root.pem "/etc/ssl/certs/$(openssl x509 -hash -noout -in ${ALICE_TRUSTED}).0"`,
].join('\n');

export function faults(v: MailVars): Fault[] {
  const root = labRoot(v);
  const good = goodCertificate(v);
  const presented = v.fault === 'bad-cert' ? badCertificate(v) : good;
  const tls: Fault = {
    node: 'mail',
    description:
      v.fault === 'bad-cert'
        ? `Postfix offers STARTTLS with a certificate that does not verify (${v.badCert}); the right one lies in ${TLS_DIR}`
        : `Postfix offers STARTTLS with a certificate for ${MAIL_NAME} from the lab CA`,
    script: [
      heredoc(MAIL_ROOT, root),
      heredoc(GOOD_CERT, good.certPem),
      heredoc(GOOD_KEY, good.keyPem, '0600'),
      heredoc(POSTFIX_CERT, presented.certPem),
      heredoc(POSTFIX_KEY, presented.keyPem, '0600'),
      `postconf -e 'smtpd_tls_cert_file = ${POSTFIX_CERT}' 'smtpd_tls_key_file = ${POSTFIX_KEY}' 'smtpd_tls_security_level = may'`,
      RELOAD_POSTFIX,
    ].join('\n'),
  };
  const trust: Fault = {
    node: 'alice',
    description: "the lab CA's root, in alice's system trust store",
    script: [heredoc(ALICE_CA, root), heredoc(ALICE_TRUSTED, root), TRUST_ON_ALICE].join('\n'),
  };
  const out = [tls, trust];
  if (v.fault === 'relay-denied')
    out.push({
      node: 'mail',
      description: 'Postfix does not count bob.example among its own domains, so it refuses to relay to it',
      script: `postconf -e 'mydestination = ${MAIL_NAME}, localhost'\n${RELOAD_POSTFIX}`,
    });
  return out;
}

// ---- reading Bob's mailbox --------------------------------------------------------------------

export interface Message {
  subject: string;
  /** The Received header Postfix added (client name, address, TLS). */
  received: string;
  bytes: number;
}

/**
 * Summarizes an mbox on the mail node itself, one line per message (subject, bytes, Postfix's
 * Received header unfolded), so that a big attachment never crosses the exec channel's limit.
 */
export const MBOX_SUMMARY = `awk '
  function emit() { if (n) printf "%s\\t%d\\t%s\\n", subj, bytes, recv }
  /^From / { emit(); n = 1; bytes = 0; subj = ""; recv = ""; inhdr = 1; inrecv = 0; next }
  { bytes += length($0) + 1 }
  inhdr && /^$/ { inhdr = 0; inrecv = 0; next }
  inhdr && /^[ \\t]/ { if (inrecv) recv = recv " " substr($0, 2); next }
  inhdr { inrecv = 0 }
  inhdr && /^Subject:/ { subj = substr($0, 10) }
  inhdr && /^Received:/ && recv == "" { recv = substr($0, 11); inrecv = 1 }
  END { emit() }' ${MAILBOX} 2>/dev/null`;

/** Reads MBOX_SUMMARY's lines. */
export function parseMboxSummary(text: string): Message[] {
  const out: Message[] = [];
  for (const line of text.split('\n')) {
    const [subject, bytes, received] = line.split('\t');
    if (subject === undefined || bytes === undefined || received === undefined) continue;
    out.push({ subject: subject.trim(), bytes: Number(bytes), received: received.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** Whether Postfix's own Received header says the message came from addr, and (when asked) over TLS. */
export function receivedFrom(m: Message, addr: string): boolean {
  return m.received.includes(`[${addr}]`) && m.received.includes(`by ${MAIL_NAME}`);
}
export function overTls(m: Message): boolean {
  return /\(using TLSv1\.[23]/.test(m.received);
}
/** The queue id Postfix gave the message ("... with ESMTPS id 4Fq2XkY0RZz1 for <bob@...>"). */
export function queueId(m: Message): string | undefined {
  return /\bwith E?SMTPS?A? id ([0-9A-Za-z]+)/.exec(m.received)?.[1];
}

/**
 * In Postfix's log, the smtpd session that received queue id `id`: its lines from "connect from"
 * to the "<id>: client=" line, and whether a TLS session was established in it (pure, unit-tested).
 */
export function sessionOf(log: string, id: string): { found: boolean; tls: boolean; lines: string[] } {
  const lines = log.split('\n').filter(Boolean);
  const at = lines.findIndex((l) => l.includes(` ${id}: client=`));
  if (at < 0) return { found: false, tls: false, lines: [] };
  const pid = /smtpd\[(\d+)\]:/.exec(lines[at] as string)?.[1];
  const own = (l: string) => pid !== undefined && l.includes(`smtpd[${pid}]: `);
  let from = at;
  while (from > 0 && !(own(lines[from] as string) && / connect from /.test(lines[from] as string))) from--;
  const session = lines.slice(from, at + 1).filter(own);
  return { found: true, tls: session.some((l) => /TLS connection established from /.test(l)), lines: session };
}

async function mailbox(ctx: CheckContext): Promise<{ messages: Message[]; evidence: Evidence }> {
  const e = await ctx.node('mail').run(MBOX_SUMMARY);
  const messages = parseMboxSummary(e.output);
  const summary = messages.map((m) => `${m.subject} | ${m.bytes} bytes | ${m.received.slice(0, 160)}`).join('\n');
  return { messages, evidence: { ...e, command: `messages in ${MAILBOX}`, output: summary || '(no messages)' } };
}

/** Postfix's log lines of the smtpd process that received queue id `id` (the session is cut out in TS). */
async function logOf(ctx: CheckContext, id: string): Promise<Evidence> {
  const cmd = [
    `pid=$(grep -F ${q(` ${id}: client=`)} ${MAIL_LOG} | tail -n 1 | grep -oE 'smtpd\\[[0-9]+\\]' | tr -dc 0-9)`,
    `[ -n "$pid" ] && grep -F "smtpd[$pid]: " ${MAIL_LOG} | tail -n 400 | cut -c1-300`,
    'true',
  ].join('\n');
  const e = await ctx.node('mail').run(cmd);
  return { ...e, command: `the lines in ${MAIL_LOG} of the smtpd session that received ${id}` };
}

// ---- the grader's witness at the ISP ------------------------------------------------------------

/** What the witness keeps: SMTP to and from Bob's server's public address, on Alice's side of the ISP. */
export const WITNESS_FILTER = `tcp port 25 and host ${MAIL_PUBLIC}`;

/**
 * The SMTP sessions the witness saw from Alice's public address (her home router's NAT) to Bob's
 * server's public address, in which the server answered (its 220 greeting).
 */
export function aliceSessions(sessions: TcpSession[]): TcpSession[] {
  return sessions.filter(
    (s) =>
      s.client === ALICE_PUBLIC && s.server === MAIL_PUBLIC && s.serverPort === 25 && /^220[ -]/.test(s.serverText),
  );
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a session's clear text carried a message with this subject (a plaintext SMTP DATA). */
export function carriedSubject(s: TcpSession, subject: string): boolean {
  return new RegExp(`^Subject:[ \\t]*${escapeRe(subject)}[ \\t]*\\r?$`, 'im').test(s.clientText);
}

/**
 * At least how many bytes the client sends in TLS for a message Postfix stored as `mboxBytes`: the
 * mailbox adds Postfix's own headers (under 2 kB); the wire adds CRLFs, SMTP and TLS framing.
 */
export const minTlsBytes = (mboxBytes: number) => Math.max(0, Math.floor((mboxBytes - 2048) * 0.95));

/**
 * Application-data records a client sends in a TLS session that delivers mail: the Finished (TLS
 * 1.3) or EHLO, then MAIL/RCPT/DATA and the message. A bare handshake, such as the grader's own
 * openssl s_client, sends two (its Finished and close_notify).
 */
export const MIN_TLS_MAIL_RECORDS = 3;

/** Whether a session said STARTTLS in the clear and then sent a mail transaction of at least mboxBytes in TLS. */
export function carriesTls(s: TcpSession, mboxBytes: number): boolean {
  return (
    s.clientTlsAt !== undefined &&
    /^STARTTLS\r?$/im.test(s.clientText) &&
    (s.clientTlsRecords ?? []).filter((t) => t === 23).length >= MIN_TLS_MAIL_RECORDS &&
    s.clientBytes - s.clientTlsAt >= minTlsBytes(mboxBytes)
  );
}

/** When Postfix took the message in: the date at the end of its Received header, in seconds. */
export function receivedAt(m: Message): number | undefined {
  const i = m.received.lastIndexOf(';');
  if (i < 0) return undefined;
  const t = Date.parse(
    m.received
      .slice(i + 1)
      .replace(/\([^)]*\)/g, '')
      .trim(),
  );
  return Number.isFinite(t) ? t / 1000 : undefined;
}

/**
 * The header has whole seconds and the capture's clock is the same kernel's; a busy machine may
 * write the header a little after the last captured segment.
 */
const CLOCK_SLACK_S = 3;
export const during = (s: TcpSession, at: number | undefined): boolean =>
  at !== undefined && at >= Math.floor(s.start) - CLOCK_SLACK_S && at <= s.end + CLOCK_SLACK_S;

/**
 * Which TLS session vouches for which message over TLS from Alice: each message needs a session of
 * its own that was open when Postfix dated it and carried at least its size, so one real session
 * cannot vouch for a second message written on the mail server (a bipartite matching: every
 * message that can have a session gets one).
 */
export function tlsVouchers(mailbox: Message[], sessions: TcpSession[]): Map<Message, TcpSession> {
  const mine = aliceSessions(sessions);
  const tls = mailbox.filter((m) => overTls(m) && receivedFrom(m, ALICE_PUBLIC));
  const fits = new Map(tls.map((m) => [m, mine.filter((s) => during(s, receivedAt(m)) && carriesTls(s, m.bytes))]));
  const holder = new Map<TcpSession, Message>();
  const take = (m: Message, tried: Set<TcpSession>): boolean => {
    for (const s of fits.get(m) ?? []) {
      if (tried.has(s)) continue;
      tried.add(s);
      const other = holder.get(s);
      if (!other || take(other, tried)) {
        holder.set(s, m);
        return true;
      }
    }
    return false;
  };
  // Kuhn's augmenting paths: a handful of messages and sessions.
  for (const m of tls) take(m, new Set());
  return new Map([...holder].map(([s, m]) => [m, s]));
}

/**
 * Whether the witness saw this message cross from Alice's side: in the clear, a session open at
 * its date that carried its subject; over TLS, a session of its own among all of Alice's TLS
 * messages in the mailbox (tlsVouchers).
 */
export function witnessed(m: Message, sessions: TcpSession[], mailbox: Message[] = [m]): boolean {
  const at = receivedAt(m);
  if (overTls(m)) return tlsVouchers(mailbox.includes(m) ? mailbox : [...mailbox, m], sessions).has(m);
  return aliceSessions(sessions).some((s) => during(s, at) && carriedSubject(s, m.subject));
}

/** The witness's SMTP sessions, or the inconclusive verdict when there is no witness to ask. */
async function witnessSessions(
  ctx: CheckContext,
  mailboxEvidence: Evidence,
): Promise<{ sessions: TcpSession[]; evidence: Evidence } | { verdict: ReturnType<typeof inconclusive> }> {
  const where = `witness@${WITNESS_NODE}`;
  const command = `the SMTP sessions the grader's own capture on ${WITNESS_NODE} (${WITNESS_IFACE}) saw since the lab started`;
  const w = await ctx.witness(WITNESS_NODE);
  if (!w) {
    const e = graderFailure(where, command, `the grader's capture on ${WITNESS_NODE} is not running`);
    return {
      verdict: inconclusive(
        `the grader's own capture at the ISP, started with the lab, is not running, so it cannot confirm that the message crossed the network (start the lab again to restart it)`,
        mailboxEvidence,
        e,
      ),
    };
  }
  try {
    const raw = await w.pcap();
    const sessions = tcpSessions(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    const mine = aliceSessions(sessions);
    const lines = mine.map((s) => {
      const subjects = [...s.clientText.matchAll(/^Subject:[ \t]*(.*?)\r?$/gim)].map((x) => x[1]);
      const when = `${clock(s.start)}-${clock(s.end)}`;
      return `${when} ${describeSessions([s])}${subjects.length ? `; subjects in the clear: ${subjects.join(', ')}` : ''}`;
    });
    const output = lines.length ? lines.join('\n') : `(no SMTP session from ${ALICE_PUBLIC} to ${MAIL_PUBLIC}:25)`;
    return { sessions, evidence: { where, command, exitCode: 0, output } };
  } catch (err) {
    const e = graderFailure(where, command, (err as Error).message);
    return { verdict: inconclusive("the grader's own capture at the ISP could not be read", mailboxEvidence, e) };
  }
}

/** A capture time as the Received header's clock shows it (UTC, whole seconds). */
const clock = (seconds: number) => new Date(Math.floor(seconds) * 1000).toISOString().slice(11, 19);

/** The learner's reason when Bob's mailbox holds a message the witness never saw. */
export const neverCrossed = (subject: string) =>
  `the message "${subject}" in Bob's mailbox never crossed the network from Alice's side: the grader's own capture at the ISP saw no SMTP session from ${ALICE_PUBLIC}, open when Postfix dated it, that carried it (a message over TLS needs a session of its own; was it written on the mail server itself?)`;

// ---- checks -----------------------------------------------------------------------------------

/**
 * The grader's own SMTP dialogue from a fresh laptop on Alice's LAN, finding the server by MX. Each
 * command waits for the server's reply to the one before (SMTP servers reject early talkers), read
 * line by line from nc running as a coprocess, so that the dialogue takes as long as the server.
 */
const SMTP_DIALOGUE = [
  `mx=$(dig +short +time=2 +tries=2 @${DNS_SERVER} MX ${DOMAIN} | sort -n | awk 'NR==1 {print $2}')`,
  'echo "MX: $mx"',
  `addr=$(dig +short +time=2 +tries=2 @${DNS_SERVER} A "$mx" | head -n1)`,
  'echo "address: $addr"',
  '[ -n "$addr" ] || exit 3',
  'coproc SMTP { nc -w 5 "$addr" 25 2>&1; }',
  'exec 4<&"${SMTP[0]}" 5>&"${SMTP[1]}"',
  // A reply is its lines up to the one with a space after the code ("250-..." continues it).
  'reply() { local l; while IFS= read -r -t 5 l <&4; do l=${l%$\'\\r\'}; echo "$l"; [[ $l =~ ^[0-9]{3}( |$) ]] && return 0; done; return 1; }',
  'say() { echo ">>> $1"; printf \'%s\\r\\n\' "$1" >&5 2>/dev/null && reply; }',
  `reply && say 'EHLO grader.isp.example' && say 'MAIL FROM:<grader@isp.example>' && say 'RCPT TO:<bob@${DOMAIN}>'`,
  'say RSET; say QUIT; exec 5>&-; true',
].join('\n');

function deliveryCheck(): Check {
  return {
    id: 'smtp-path',
    title: `A new laptop on Alice's LAN finds Bob's mail server by its MX record and it accepts mail for bob@${DOMAIN}`,
    points: 3,
    deadlineMs: 8000,
    hint: [
      `Follow the way a mail client goes: the MX record of ${DOMAIN}, the address of that name, port 25 through Bob's edge, then the server's answer to RCPT TO.`,
      `dig MX ${DOMAIN} and dig A of the name it gives; nc -v ${MAIL_NAME} 25 from alice; on edge iptables -S FORWARD; on mail postconf mydestination and ${MAIL_LOG}.`,
      `Fix the one broken step: the MX must name ${MAIL_NAME} (zone file on dns, raise the serial, pkill -HUP named); the edge must let tcp port 25 in to ${MAIL_PRIVATE}; Postfix's mydestination must include ${DOMAIN} (postconf -e, postfix reload).`,
    ],
    async run(ctx) {
      const host = await ctx.fresh('lan');
      const e = await host.run(SMTP_DIALOGUE, 20000);
      if (e.graderError) return inconclusive("the grader's SMTP dialogue did not finish in its own time", e);
      const out = e.output;
      const mx = /MX: (\S*)/.exec(out)?.[1] ?? '';
      if (mx.replace(/\.$/, '') !== MAIL_NAME)
        return fail(`the MX record of ${DOMAIN} names "${mx}", which is not Bob's mail server`, e);
      if (!/^220 /m.test(out)) return fail(`nothing answers SMTP on port 25 at ${MAIL_NAME}'s address`, e);
      if (/^5\d\d .*(Relay access denied|rejected)/im.test(out))
        return fail(`Bob's mail server refuses mail for bob@${DOMAIN}`, e);
      const rcpt = out.split(/\r?\n/).filter((l) => /^\d{3} /.test(l));
      if (!rcpt.some((l) => l.startsWith('250 2.1.5'))) return fail('the server did not accept the recipient', e);
      return pass(`the MX leads to ${MAIL_NAME} and it accepts bob@${DOMAIN}`, e);
    },
  };
}

export interface Starttls {
  /** The TCP connection was made (openssl printed "CONNECTED(...)"). */
  reached: boolean;
  /** The server offered STARTTLS in its answer to EHLO. */
  offered: boolean;
  /** The TLS handshake completed (openssl printed the session: "New, TLSv1.3, ..."). */
  connected: boolean;
  /** The chain verified to the lab root and the certificate is for mail.bob.example. */
  verified: boolean;
  /** openssl's reason when it did not ("hostname mismatch", "self-signed certificate", ...). */
  error?: string;
  /** The leaf certificate's subject and issuer, as openssl prints them. */
  subject?: string;
  issuer?: string;
}

/** Reads the output of the grader's openssl s_client -starttls smtp (pure, for the unit tests). */
export function parseStarttls(output: string): Starttls {
  const connected = /^New, TLSv1\.[23], Cipher is/m.test(output);
  const error =
    /verify error:num=\d+:([^\n]+)/.exec(output)?.[1]?.trim() ??
    /Verification error: ([^\n]+)/.exec(output)?.[1]?.trim() ??
    (/^Verify return code: (?!0 )\d+ \(([^)]*)\)/m.exec(output)?.[1] || undefined);
  return {
    reached: /^CONNECTED\(/m.test(output),
    offered: /^CONNECTED\(/m.test(output) && !/Didn't find STARTTLS in server response/.test(output),
    connected,
    verified: connected && !error && /^Verify return code: 0 \(ok\)/m.test(output),
    error,
    subject: /^subject=\s*(.*)$/m.exec(output)?.[1]?.trim(),
    issuer: /^issuer=\s*(.*)$/m.exec(output)?.[1]?.trim(),
  };
}

/** A tool's own time limit, stretched with the machine's load like the grader's (which stays above it). */
const toolSeconds = (ctx: CheckContext, seconds: number) => Math.ceil(seconds * Math.max(1, ctx.timeScale));

function starttlsCheck(v: MailVars): Check {
  return {
    id: 'starttls',
    title: `A new laptop on Alice's LAN that trusts only the lab CA verifies ${MAIL_NAME}'s certificate over STARTTLS`,
    points: 2,
    hint: [
      `After STARTTLS the server shows a certificate: does it lead to the lab CA Alice trusts, is it for ${MAIL_NAME}, is it valid today? Postfix presents the files its smtpd_tls_cert_file and smtpd_tls_key_file name.`,
      `From alice: openssl s_client -starttls smtp -connect ${MAIL_NAME}:25 -verify_return_error -verify_hostname ${MAIL_NAME} </dev/null (the "verify error" line says why); on mail: postconf smtpd_tls_cert_file smtpd_tls_key_file, openssl x509 -noout -subject -issuer -dates -ext subjectAltName -in <that file>, and ls ${TLS_DIR}.`,
      `On mail: postconf -e 'smtpd_tls_cert_file = ${GOOD_CERT}' 'smtpd_tls_key_file = ${GOOD_KEY}' (openssl verify -CAfile ${MAIL_ROOT} -verify_hostname ${MAIL_NAME} ${GOOD_CERT} says OK), then postfix reload.`,
    ],
    async run(ctx) {
      const host = await ctx.fresh('lan');
      const root = `/tmp/hurrynet-mail-root-${nonce()}.crt`;
      const cmd = [
        heredoc(root, labRoot(v)),
        `addr=$(dig +short +time=2 +tries=2 @${DNS_SERVER} A ${MAIL_NAME} | head -n1)`,
        `echo "address of ${MAIL_NAME}: $addr"`,
        `[ -n "$addr" ] || { rm -f ${q(root)}; exit 3; }`,
        `timeout ${toolSeconds(ctx, 6)} openssl s_client -starttls smtp -name grader.isp.example -connect "$addr:25" -servername ${MAIL_NAME} -CAfile ${q(root)} -no-CApath -no-CAstore -verify_return_error -verify_hostname ${MAIL_NAME} </dev/null >/tmp/hn-starttls.$$ 2>&1`,
        'rc=$?',
        `grep -E "^(CONNECTED|depth=|verify error|Verification|Verify return|New, |subject=|issuer=|Didn't find)|errno=|error:|Connection refused" /tmp/hn-starttls.$$ | cut -c1-200`,
        `rm -f /tmp/hn-starttls.$$ ${q(root)}`,
        'echo "exit: $rc"',
      ].join('\n');
      const e = await host.run(cmd, 12000);
      const shown = {
        ...e,
        command: `openssl s_client -starttls smtp -connect <A of ${MAIL_NAME}>:25 -servername ${MAIL_NAME} -CAfile <the lab root, the grader's own copy> -no-CApath -no-CAstore -verify_return_error -verify_hostname ${MAIL_NAME}`,
      };
      if (e.graderError) return inconclusive("the grader's TLS handshake did not finish in its own time", shown);
      if (e.exitCode === 3) return fail(`${MAIL_NAME} has no address at Bob's DNS server`, shown);
      if (/^exit: 124$/m.test(e.output))
        return fail(`nothing answered on port 25 of ${MAIL_NAME} in ${toolSeconds(ctx, 6)} s`, shown);
      const t = parseStarttls(e.output);
      if (!t.reached) return fail(`the grader's laptop could not connect to ${MAIL_NAME} port 25`, shown);
      if (!t.offered) return fail(`${MAIL_NAME} does not offer STARTTLS in its answer to EHLO`, shown);
      if (!t.verified)
        return fail(
          `${MAIL_NAME}'s certificate does not verify against the lab CA for that name: ${t.error ?? 'the handshake failed'}`,
          shown,
        );
      return pass(`the certificate of ${MAIL_NAME} (${t.subject ?? '?'}) verifies up to "${v.rootName}"`, shown);
    },
  };
}

function handCheck(v: MailVars): Check {
  return {
    id: 'by-hand',
    title: `Bob's mailbox has your hand-typed message "${v.handSubject}", sent from Alice's network`,
    points: 2,
    hint: [
      "The message must arrive in Bob's mailbox, sent from Alice's laptop, not from somewhere else.",
      `nc ${MAIL_NAME} 25 (or openssl s_client -starttls smtp -connect ${MAIL_NAME}:25 -crlf), then EHLO, MAIL FROM, RCPT TO, DATA.`,
      `Type: EHLO alice / MAIL FROM:<${v.sender}> / RCPT TO:<bob@${DOMAIN}> / DATA / Subject: ${v.handSubject} / (empty line) / some text / . / QUIT`,
    ],
    async run(ctx) {
      const { messages, evidence } = await mailbox(ctx);
      const mine = messages.filter((m) => m.subject === v.handSubject);
      if (mine.length === 0) return fail(`no message with the subject "${v.handSubject}" in Bob's mailbox`, evidence);
      const fromAlice = mine.filter((m) => receivedFrom(m, ALICE_PUBLIC));
      if (!fromAlice.length)
        return fail(
          `the message did not come through Alice's home router (${ALICE_PUBLIC}): it was sent from elsewhere`,
          evidence,
        );
      // What the mailbox says, the grader's own capture on the way must have seen.
      const seen = await witnessSessions(ctx, evidence);
      if ('verdict' in seen) return seen.verdict;
      if (!fromAlice.some((m) => witnessed(m, seen.sessions, messages)))
        return fail(neverCrossed(v.handSubject), evidence, seen.evidence);
      return pass("your hand-typed message reached Bob from Alice's public address", evidence, seen.evidence);
    },
  };
}

function attachmentCheck(v: MailVars): Check {
  return {
    id: 'attachment',
    title: `Bob's mailbox has "${v.attachSubject}" with an attachment of at least ${MIN_ATTACHMENT_BYTES / 1000} kB, sent from Alice's network over STARTTLS`,
    points: 3,
    hint: [
      "A big message crosses the path as many segments; the server's Received header and its log tell how it arrived, in TLS or in the clear.",
      "swaks (swaks --help: --to, --server, --tls, --tls-verify, --attach, --header) or Python's smtplib with starttls(context=ssl.create_default_context()) and email.message.EmailMessage.",
      `swaks --to bob@${DOMAIN} --from ${v.sender} --server ${MAIL_NAME} --tls --tls-verify --header 'Subject: ${v.attachSubject}' --attach @/path/to/a-file-over-100kB`,
    ],
    async run(ctx) {
      const { messages, evidence } = await mailbox(ctx);
      const mine = messages.filter((m) => m.subject === v.attachSubject);
      if (mine.length === 0) return fail(`no message with the subject "${v.attachSubject}" in Bob's mailbox`, evidence);
      const fromAlice = mine.filter((m) => receivedFrom(m, ALICE_PUBLIC));
      if (fromAlice.length === 0)
        return fail(`the message did not come from Alice's public address (${ALICE_PUBLIC})`, evidence);
      const big = fromAlice.filter((m) => m.bytes >= MIN_ATTACHMENT_BYTES);
      if (big.length === 0)
        return fail(`the message is smaller than ${MIN_ATTACHMENT_BYTES} bytes: attach a bigger file`, evidence);
      const tls = big.filter(overTls);
      if (tls.length === 0)
        return fail(
          'the message was not sent over TLS: Postfix\'s Received header has no "using TLS" (send it with STARTTLS)',
          evidence,
        );
      // The header is corroborated by Postfix's log: the smtpd session that took the message in.
      let last: Evidence | undefined;
      const logged: { m: Message; id: string; shown: Evidence }[] = [];
      for (const m of tls) {
        const id = queueId(m);
        if (!id) continue;
        const log = await logOf(ctx, id);
        if (log.graderError) return inconclusive("Postfix's log could not be read", evidence, log);
        const session = sessionOf(log.output, id);
        const shown = { ...log, output: session.lines.join('\n') || '(no session found)' };
        last = shown;
        if (session.tls) logged.push({ m, id, shown });
      }
      if (!logged.length)
        return fail(
          'Postfix\'s log has no TLS session for the big message from Alice ("TLS connection established from ...")',
          evidence,
          ...(last ? [last] : []),
        );
      // The header and the log are the mail node's word: the grader's own capture on the way must
      // have seen a TLS session from Alice's public address that carried at least the message.
      const seen = await witnessSessions(ctx, evidence);
      if ('verdict' in seen) return seen.verdict;
      const crossed = logged.find((l) => witnessed(l.m, seen.sessions, messages));
      if (!crossed)
        return fail(neverCrossed(v.attachSubject), evidence, (logged[0] as { shown: Evidence }).shown, seen.evidence);
      return pass(
        `the big message (${crossed.m.bytes} bytes, queue id ${crossed.id}) arrived from Alice over TLS`,
        evidence,
        crossed.shown,
        seen.evidence,
      );
    },
  };
}

function faultAnswer(v: MailVars): Check {
  return answerCheck({
    id: 'broken-at',
    title: 'answers.yaml: broken_at, the node where the mail path was broken (dns, edge or mail)',
    points: 1,
    key: 'broken_at',
    about: "the node where this world's mail path was broken",
    hint: [
      'Which step of the path failed before your fix: the name, the way in, or the server (its answer to RCPT TO, or its certificate)?',
      "Your own notes from dig MX, nc to port 25, the server's reply to RCPT TO and openssl s_client -starttls smtp.",
      'dns when the MX record was wrong, edge when port 25 was not let in, mail when Postfix refused the domain or presented a certificate that did not verify.',
    ],
    async expected() {
      return { value: FAULT_NODE[v.fault], evidence: [] };
    },
  });
}

function checks(v: MailVars): Check[] {
  return [deliveryCheck(), starttlsCheck(v), handCheck(v), attachmentCheck(v), faultAnswer(v)];
}

export default defineLab<MailVars>({
  number: 14,
  slug: 'email',
  title: "Email: Alice's message to Bob over SMTP",
  topics: ['email', 'SMTP', 'MX record', 'STARTTLS', 'certificates', 'Postfix', 'swaks', 'smtplib', 'segments'],
  minutes: 35,
  goal: "Send Alice's email to Bob: find his mail server through its MX record, fix the one thing that stops mail on the way, talk SMTP by hand once, then send a message with a large attachment over STARTTLS, with a certificate that verifies.",
  submissionNodes: ['alice', 'dns', 'edge', 'mail'],
  questions: [{ key: 'broken_at', prompt: 'Where the mail path was broken: dns, edge or mail' }],
  vary,
  task(v) {
    return {
      mail_to: `bob@${DOMAIN}`,
      mail_from: v.sender,
      hand_subject: v.handSubject,
      attachment_subject: v.attachSubject,
      attachment_min_bytes: String(MIN_ATTACHMENT_BYTES),
      attachment_tls: `STARTTLS, verifying the certificate of ${MAIL_NAME}`,
      lab_ca_certificate: `${ALICE_CA} (already in alice's trust store)`,
      answers: '/root/answers.yaml with broken_at',
    };
  },
  overlay: (world, v) => mailWorld(world, v.fault),
  faults,
  witnesses: () => [{ node: WITNESS_NODE, iface: WITNESS_IFACE, filter: WITNESS_FILTER }],
  checks,
});
