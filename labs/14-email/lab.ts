// Lab 14: Alice's email to Bob. The overlay adds Bob's mail server (Postfix on the mail node, in
// Bob's VPC behind the edge, with its own public address by 1:1 NAT), an MX record for bob.example
// and a security-group entry for SMTP. One thing on the way is broken, differently per learner:
// the MX record points at the wrong host, the security group admits the submission port (587)
// instead of SMTP (25), or Postfix does not count bob.example as its own domain (relay denied).
// The learner finds the server through DNS, speaks SMTP by hand once, then sends a message with a
// large attachment over STARTTLS.
//
// Graded from places alice cannot fake: the grader's own SMTP dialogue from a fresh laptop on
// Alice's LAN (the MX found at Bob's DNS server, port 25 through the edge, RCPT accepted), and Bob's
// mailbox and Postfix's log on the mail node (the learner's subjects, the size, the client address
// after Alice's NAT, TLS). A fake listener or an /etc/hosts entry on alice changes none of these.
import { defineLab, draws, type Fault, type World } from '../kit/index.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { answerCheck } from '../../checks/answers.js';
import { q } from '../../checks/probes.js';

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
/** Many segments: far more than one 1500-byte packet carries. */
export const MIN_ATTACHMENT_BYTES = 100_000;

export const FAULTS = ['mx-wrong', 'sg-port', 'relay-denied'] as const;
export type MailFault = (typeof FAULTS)[number];
/** Which node the learner fixes, per fault: the answer to "where was it broken". */
export const FAULT_NODE: Record<MailFault, string> = { 'mx-wrong': 'dns', 'sg-port': 'edge', 'relay-denied': 'mail' };

const WORDS = ['invoice', 'holiday', 'recipe', 'meeting', 'birthday', 'report', 'garden', 'concert'];

export type MailVars = {
  fault: MailFault;
  handSubject: string;
  attachSubject: string;
  sender: string;
};

export const vary = draws<MailVars>({
  fault: (r) => r.pick(FAULTS),
  handSubject: (r) => `hello bob ${r.int(1000, 9999)}`,
  attachSubject: (r) => `${r.pick(WORDS)} ${r.int(1000, 9999)}`,
  sender: (r) => `alice${r.int(10, 99)}@isp.example`,
});

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

function faults(v: MailVars): Fault[] {
  if (v.fault !== 'relay-denied') return [];
  return [
    {
      node: 'mail',
      description: 'Postfix does not count bob.example among its own domains, so it refuses to relay to it',
      script: `postconf -e 'mydestination = ${MAIL_NAME}, localhost' && postfix reload`,
    },
  ];
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

async function mailbox(ctx: CheckContext): Promise<{ messages: Message[]; evidence: Evidence }> {
  const e = await ctx.node('mail').run(MBOX_SUMMARY);
  const messages = parseMboxSummary(e.output);
  const summary = messages.map((m) => `${m.subject} | ${m.bytes} bytes | ${m.received.slice(0, 160)}`).join('\n');
  return { messages, evidence: { ...e, command: `messages in ${MAILBOX}`, output: summary || '(no messages)' } };
}

/** Postfix's log lines for the queue ids of the client's sessions from addr. */
async function logFor(ctx: CheckContext, addr: string): Promise<Evidence> {
  return ctx.node('mail').run(`grep -F ${q(`[${addr}]`)} ${MAIL_LOG} | tail -n 20`);
}

// ---- checks -----------------------------------------------------------------------------------

/** The grader's own SMTP dialogue from a fresh laptop on Alice's LAN, finding the server by MX. */
const SMTP_DIALOGUE = [
  `mx=$(dig +short +time=2 +tries=2 @${DNS_SERVER} MX ${DOMAIN} | sort -n | awk 'NR==1 {print $2}')`,
  'echo "MX: $mx"',
  `addr=$(dig +short +time=2 +tries=2 @${DNS_SERVER} A "$mx" | head -n1)`,
  'echo "address: $addr"',
  '[ -n "$addr" ] || exit 3',
  // Slow enough that each command meets the server's reply (SMTP servers reject pipelining early talkers).
  `{ sleep 1; printf 'EHLO grader.isp.example\\r\\n'; sleep 1; printf 'MAIL FROM:<grader@isp.example>\\r\\n'; sleep 1; printf 'RCPT TO:<bob@${DOMAIN}>\\r\\n'; sleep 1; printf 'RSET\\r\\nQUIT\\r\\n'; sleep 1; } | nc -w 6 "$addr" 25`,
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
      if (!mine.some((m) => receivedFrom(m, ALICE_PUBLIC)))
        return fail(
          `the message did not come through Alice's home router (${ALICE_PUBLIC}): it was sent from elsewhere`,
          evidence,
        );
      return pass("your hand-typed message reached Bob from Alice's public address", evidence);
    },
  };
}

function attachmentCheck(v: MailVars): Check {
  return {
    id: 'attachment',
    title: `Bob's mailbox has "${v.attachSubject}" with an attachment of at least ${MIN_ATTACHMENT_BYTES / 1000} kB, sent from Alice's network over STARTTLS`,
    points: 3,
    hint: [
      "A big message crosses the path as many segments; the server's Received header tells how it arrived.",
      "swaks (swaks --help: --to, --server, --tls, --attach, --header) or Python's smtplib with starttls() and email.message.EmailMessage.",
      `swaks --to bob@${DOMAIN} --from ${v.sender} --server ${MAIL_NAME} --tls --header 'Subject: ${v.attachSubject}' --attach @/path/to/a-file-over-100kB`,
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
      if (!big.some(overTls))
        return fail('the message was not sent over TLS (STARTTLS)', evidence, await logFor(ctx, ALICE_PUBLIC));
      return pass('the big message arrived from Alice over TLS', evidence, await logFor(ctx, ALICE_PUBLIC));
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
      'Which step of the path failed before your fix: the name, the way in, or the server?',
      "Your own notes from dig MX, nc to port 25 and the server's reply to RCPT TO.",
      'dns when the MX record was wrong, edge when port 25 was not let in, mail when Postfix refused the domain.',
    ],
    async expected() {
      return { value: FAULT_NODE[v.fault], evidence: [] };
    },
  });
}

function checks(v: MailVars): Check[] {
  return [deliveryCheck(), handCheck(v), attachmentCheck(v), faultAnswer(v)];
}

export default defineLab<MailVars>({
  number: 14,
  slug: 'email',
  title: "Email: Alice's message to Bob over SMTP",
  topics: ['email', 'SMTP', 'MX record', 'STARTTLS', 'Postfix', 'swaks', 'smtplib', 'segments'],
  minutes: 35,
  goal: "Send Alice's email to Bob: find his mail server through its MX record, fix the one thing that stops mail on the way, talk SMTP by hand once, then send a message with a large attachment over STARTTLS.",
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
      answers: '/root/answers.yaml with broken_at',
    };
  },
  overlay: (world, v) => mailWorld(world, v.fault),
  faults,
  checks,
});
