// Lab 10: HTTPS, TLS and certificates. The lab runs its own certificate authority: a root CA
// (whose certificate Alice is given) and Bob's issuing CA below it (whose key sits on Bob's server).
// Bob's server serves https://web.bob.example/ with a broken certificate, one fault per seed: a
// wrong name, an expired certificate, or a missing intermediate (the server sends only its own
// certificate). Its TLS settings also start out against the policy on the task card (the lowest
// protocol version it must accept). Alice makes her laptop trust the lab CA, inspects the
// handshake with openssl s_client, and fixes the server.
//
// The CA is computed from the seed (x509.ts): the grader recomputes the root it trusts in-process,
// so nothing the learner changes on a node can move the trust anchor. The handshake is inspected by
// clean openssl and curl in a sidecar in alice's network namespace, Bob's access log confirms the
// HTTPS request arrived, and alice's own trust store is read for the trust check (a faked trust
// store only hurts alice).
import { randomBytes } from 'node:crypto';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { q } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import { certificateDer, deriveKey, pem, type DistinguishedName } from './x509.js';

// ---- facts from the world data ------------------------------------------------------------------

export const HOST = 'web.bob.example';
const zone = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example');
/** Bob's public address (web.bob.example). */
export const BOB_PUBLIC = zone?.records.find((r) => r.name === 'web' && r.type === 'A')?.value as string;
/** Alice's home router's public address: the client address Bob's server sees. */
export const ALICE_PUBLIC = (findNode(canonicalWorld, 'home')?.interfaces.find((i) => i.link === 'access')?.addresses[0] ?? '').split('/')[0] as string;
if (!BOB_PUBLIC || !ALICE_PUBLIC) throw new Error('lab 10: the world lacks web.bob.example or the home router');

export const TLS_DIR = '/etc/hurrynet/tls';
export const CA_DIR = '/root/ca';
export const ALICE_CA = '/root/lab-ca.crt';
const TLS_LOG = '/var/log/web/tls.log';
const ACCESS_LOG = '/var/log/web/access.log';
const BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Reloads the web server's TLS files (the pattern never matches the shell running a script). */
const RELOAD = "pkill -HUP -f '^node server.js'";

// ---- variation ----------------------------------------------------------------------------------

export const FAULTS = ['wrong-name', 'expired', 'missing-intermediate'] as const;
export type FaultKind = (typeof FAULTS)[number];
export const WRONG_NAMES = ['www2.bob.example', 'web2.bob.example', 'shop.bob.example', 'old.bob.example', 'bob.example'];
export const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const LETTERS = 'BCDFGHKMNPRSTWXZ';

export interface Https10Vars {
  fault: FaultKind;
  /** The name the broken certificate carries in the wrong-name fault (else the right one). */
  certName: string;
  /** The lowest TLS version Bob's policy lets the server accept (task card). */
  minVersion: (typeof VERSIONS)[number];
  /** Serial of the certificate the server sends at start, in hex as openssl prints it. */
  serial: string;
  rootName: string;
  issuerName: string;
  /** Seeds the CA keys. */
  caKey: string;
  /** For the expired fault: how many days ago the certificate expired. */
  expiredDaysAgo: number;
}

export function httpsVars(v: Vars): Https10Vars {
  return {
    fault: String(v.fault) as FaultKind,
    certName: String(v.certName),
    minVersion: String(v.minVersion) as Https10Vars['minVersion'],
    serial: String(v.serial),
    rootName: String(v.rootName),
    issuerName: String(v.issuerName),
    caKey: String(v.caKey),
    expiredDaysAgo: Number(v.expiredDaysAgo),
  };
}

function vary(rng: Rng): Vars {
  // Every value is drawn for every fault, so the sequence of draws never depends on the fault.
  const fault = rng.pick(FAULTS);
  const wrongName = rng.pick(WRONG_NAMES);
  const minVersion = rng.pick(VERSIONS);
  const serialBytes = [rng.int(0x10, 0x7f), ...Array.from({ length: 7 }, () => rng.int(0, 255))];
  const serial = serialBytes.map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  const rootName = `Hurrynet Lab Root CA R${rng.int(10, 99)}`;
  const issuerName = `Bob Issuing CA ${rng.pick([...LETTERS])}${rng.int(10, 99)}`;
  const caKey = Array.from({ length: 4 }, () => rng.int(0, 0xffff).toString(16).padStart(4, '0')).join('');
  const expiredDaysAgo = rng.int(3, 60);
  return { fault, certName: fault === 'wrong-name' ? wrongName : HOST, minVersion, serial, rootName, issuerName, caKey, expiredDaysAgo };
}

// ---- the lab's certificate authority (deterministic in the seed) ---------------------------------

const ROOT_ORG = 'Hurrynet Lab';
const BOB_ORG = 'Bob Example';
const CA_FROM = new Date('2024-01-01T00:00:00Z');
const ROOT_UNTIL = new Date('2049-12-31T23:59:59Z');
const ISSUING_UNTIL = new Date('2044-12-31T23:59:59Z');
const DAY = 86400_000;

export interface LabCa {
  rootPem: string;
  issuingPem: string;
  issuingKeyPem: string;
}

export function labCa(vars: Vars): LabCa {
  const v = httpsVars(vars);
  const root = deriveKey(`${v.caKey}:root`);
  const issuing = deriveKey(`${v.caKey}:issuing`);
  const rootDn: DistinguishedName = { organization: ROOT_ORG, commonName: v.rootName };
  const issuingDn: DistinguishedName = { organization: BOB_ORG, commonName: v.issuerName };
  const rootPem = pem(certificateDer({ serial: Buffer.from([1]), subject: rootDn, issuer: rootDn, notBefore: CA_FROM, notAfter: ROOT_UNTIL, publicKey: root.publicKey, signingKey: root, ca: { pathLength: 1 } }));
  const issuingPem = pem(certificateDer({ serial: Buffer.from([0x10, 0x02]), subject: issuingDn, issuer: rootDn, notBefore: CA_FROM, notAfter: ISSUING_UNTIL, publicKey: issuing.publicKey, signingKey: root, ca: { pathLength: 0 } }));
  return { rootPem, issuingPem, issuingKeyPem: issuing.pem };
}

/** The certificate the server starts with: broken in the way of this seed's fault. */
export function startCertificate(vars: Vars, now = Date.now()): { certPem: string; keyPem: string; notBefore: Date; notAfter: Date } {
  const v = httpsVars(vars);
  const issuing = deriveKey(`${v.caKey}:issuing`);
  const server = deriveKey(`${v.caKey}:server`);
  const expired = v.fault === 'expired';
  const notBefore = new Date(expired ? now - 365 * DAY : now - DAY);
  const notAfter = new Date(expired ? now - v.expiredDaysAgo * DAY : now + 90 * DAY);
  const der = certificateDer({
    serial: Buffer.from(v.serial, 'hex'),
    subject: { organization: BOB_ORG, commonName: v.certName },
    issuer: { organization: BOB_ORG, commonName: v.issuerName },
    notBefore,
    notAfter,
    publicKey: server.publicKey,
    signingKey: issuing,
    dnsNames: [v.certName],
  });
  return { certPem: pem(der), keyPem: server.pem, notBefore, notAfter };
}

const other = (version: string) => (version === 'TLSv1.2' ? 'TLSv1.3' : 'TLSv1.2');

function taskCard(v: Https10Vars): Record<string, string> {
  return {
    url: `https://${HOST}/`,
    lab_ca_certificate: ALICE_CA,
    min_tls_version: v.minVersion,
  };
}

const heredoc = (path: string, content: string, tag = 'HURRYNET_PEM') => `cat > ${path} <<'${tag}'\n${content.trimEnd()}\n${tag}`;

export function faults(vars: Vars): Fault[] {
  const v = httpsVars(vars);
  const ca = labCa(vars);
  const start = startCertificate(vars);
  const card = Object.entries(taskCard(v)).map(([k, val]) => `${k}: ${val}`).join('\n');
  const web = [
    `mkdir -p ${CA_DIR} ${TLS_DIR} /var/log/web`,
    heredoc(`${CA_DIR}/lab-root-ca.crt`, ca.rootPem),
    heredoc(`${CA_DIR}/bob-issuing-ca.crt`, ca.issuingPem),
    `( umask 077\n${heredoc(`${CA_DIR}/bob-issuing-ca.key`, ca.issuingKeyPem)}\n)`,
    heredoc(`${TLS_DIR}/server.crt`, start.certPem),
    `( umask 077\n${heredoc(`${TLS_DIR}/server.key`, start.keyPem)}\n)`,
    v.fault === 'missing-intermediate' ? `rm -f ${TLS_DIR}/chain.crt` : heredoc(`${TLS_DIR}/chain.crt`, ca.issuingPem),
    `printf '{ "minVersion": "%s" }\\n' ${other(v.minVersion)} > ${TLS_DIR}/options.json`,
    // Bob's copy of the task card: his policy is his server's business too.
    heredoc('/root/TASK.txt', card, 'HURRYNET_TASK'),
    `before=$(grep -c . ${TLS_LOG} 2>/dev/null || true)`,
    RELOAD,
    'for i in $(seq 100); do',
    `  [ "$(grep -c . ${TLS_LOG} 2>/dev/null || true)" -gt "\${before:-0}" ] && listening tcp 443 && exit 0`,
    '  sleep 0.1',
    'done',
    `echo "the web server did not start HTTPS:" >&2; tail -n 5 ${TLS_LOG} >&2; exit 1`,
  ].join('\n');
  return [
    { node: 'web', description: "Bob's issuing CA, and a broken certificate for his HTTPS server", script: web },
    { node: 'alice', description: "the lab CA's certificate, handed to Alice (not installed)", script: heredoc(ALICE_CA, ca.rootPem) },
  ];
}

// ---- observations ---------------------------------------------------------------------------------

/** The base64 lines of a PEM certificate. */
function pemLines(p: string): string[] {
  return p.split('\n').filter((l) => l && !l.startsWith('-----'));
}

export interface Handshake {
  /** The handshake completed. */
  connected: boolean;
  /** Certificates the server sent (leaf first). */
  sent: number;
  /** Leaf details, as openssl prints them. */
  serial?: string;
  subject?: string;
  issuer?: string;
  /** DNS names in the subjectAltName extension. */
  dnsNames: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Seconds since the epoch on the probe's clock. */
  now?: number;
  /** openssl verify of the sent chain against the lab root, time not checked. */
  chainOk: boolean;
  chainError?: string;
  protocol?: string;
  evidence: Evidence;
}

/** Parses the sections of the handshake script's output (pure, for the unit tests). */
export function parseHandshake(output: string): Omit<Handshake, 'evidence'> {
  const section = (name: string) => new RegExp(`^== ${name}\\n([\\s\\S]*?)(?=^== |$(?![\\s\\S]))`, 'm').exec(output)?.[1] ?? '';
  const hs = section('handshake');
  const leaf = section('leaf');
  const chain = section('chain');
  const field = (k: string) => new RegExp(`^${k}=\\s*(.*)$`, 'm').exec(leaf)?.[1]?.trim();
  const date = (k: string) => {
    const s = field(k);
    if (!s) return undefined;
    const d = new Date(s.replace(' ', 'T'));
    return Number.isNaN(d.getTime()) ? undefined : d;
  };
  const san = /X509v3 Subject Alternative Name:[^\n]*\n\s*(.+)/.exec(leaf)?.[1] ?? '';
  const dnsNames = [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => (m[1] as string).toLowerCase());
  const protocol = /^New, (TLSv[\d.]+), Cipher is/m.exec(hs)?.[1];
  const chainOk = /: OK\s*$/m.test(chain);
  const chainError = /error \d+ at \d+ depth lookup: (.+)/.exec(chain)?.[1]?.trim();
  return {
    connected: !!protocol,
    sent: Number(/^sent: (\d+)/m.exec(output)?.[1] ?? 0),
    serial: field('serial')?.toUpperCase(),
    subject: field('subject'),
    issuer: field('issuer'),
    dnsNames,
    notBefore: date('notBefore'),
    notAfter: date('notAfter'),
    now: Number(/^now: (\d+)/m.exec(output)?.[1]) || undefined,
    chainOk,
    chainError: chainOk ? undefined : chainError ?? (chain.trim() || undefined),
    protocol,
  };
}

/** A temporary file in the probe holding the lab root (the grader's own copy). */
function rootFile(vars: Vars): string {
  return `root=$(mktemp)\n${heredoc('"$root"', labCa(vars).rootPem, 'HN_ROOT')}`;
}

/** The handshake as a clean openssl in alice's network namespace sees it, checked against the lab root. */
export async function handshake(ctx: CheckContext): Promise<Handshake> {
  const probe = await ctx.probe('alice');
  const script = [
    rootFile(ctx.vars),
    'd=$(mktemp -d)',
    `timeout 6 openssl s_client -connect ${BOB_PUBLIC}:443 -servername ${HOST} -CAfile "$root" -verify_hostname ${HOST} -showcerts </dev/null >"$d/hs" 2>&1`,
    `awk -v d="$d" '/-----BEGIN CERTIFICATE-----/{n++; f=d "/c" n ".pem"} f{print > f} /-----END CERTIFICATE-----/{f=""}' "$d/hs"`,
    'echo "== handshake"',
    `grep -E '^ *[0-9]+ s:|^ +i:|^ +v:|^New,|^Verify return|errno=|error:|Connection refused' "$d/hs" | cut -c1-200`,
    'n=$(ls "$d"/c*.pem 2>/dev/null | wc -l); echo "sent: $n"; echo "now: $(date +%s)"',
    'if [ "$n" -gt 0 ]; then',
    '  echo "== leaf"',
    '  openssl x509 -in "$d/c1.pem" -noout -serial -subject -issuer -startdate -enddate -dateopt iso_8601 -ext subjectAltName 2>&1',
    '  echo "== chain"',
    '  if [ "$n" -gt 1 ]; then cat $(ls "$d"/c*.pem | sort -V | tail -n +2) > "$d/rest"; untrusted="-untrusted $d/rest"; else untrusted=; fi',
    '  openssl verify -no_check_time -CAfile "$root" $untrusted "$d/c1.pem" 2>&1 | sed "s#$d/##"',
    'fi',
    'rm -rf "$d" "$root"',
  ].join('\n');
  const e = await probe.run(script, 12000);
  const shown = { ...e, command: `openssl s_client -connect ${BOB_PUBLIC}:443 -servername ${HOST} -CAfile <lab CA> -verify_hostname ${HOST} -showcerts; openssl x509 -noout -serial -subject -issuer -dates -ext subjectAltName (leaf); openssl verify -no_check_time -CAfile <lab root> -untrusted <the rest> (leaf)` };
  return { ...parseHandshake(e.output), evidence: shown };
}

/** Does a TLS handshake offering only this version complete? */
async function handshakeWith(ctx: CheckContext, version: 'TLSv1.2' | 'TLSv1.3'): Promise<{ ok: boolean; evidence: Evidence }> {
  const probe = await ctx.probe('alice');
  const flag = version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
  const cmd = `timeout 6 openssl s_client -connect ${BOB_PUBLIC}:443 -servername ${HOST} ${flag} </dev/null 2>&1 | grep -E '^New,|alert|Connection refused|errno=' | cut -c1-160`;
  const e = await probe.run(cmd, 10000);
  return { ok: new RegExp(`^New, ${version.replace('.', '\\.')}, Cipher is`, 'm').test(e.output), evidence: e };
}

const dateText = (d?: Date) => (d ? d.toISOString().replace('.000Z', 'Z') : 'unknown');

// ---- answers ----------------------------------------------------------------------------------------

/** The fault named in a free-text answer, or undefined when it names none or several. */
export function faultNamed(answer: string): FaultKind | undefined {
  const a = normalizeAnswer(answer);
  const found = new Set<FaultKind>();
  if (/intermediate|chain|issuer missing|incomplete/.test(a)) found.add('missing-intermediate');
  if (/expire|out of date|not valid after|too old|outdated/.test(a)) found.add('expired');
  if (/name|host|mismatch|\bsan\b|\bcn\b/.test(a) && !/intermediate|chain/.test(a)) found.add('wrong-name');
  return found.size === 1 ? [...found][0] : undefined;
}

/** A serial as openssl prints it, in any spelling: "serial=0A:1B...", "0x0a1b", "A1B". */
export function serialOf(answer: string): string {
  return String(answer)
    .trim()
    .replace(/^serial\s*[=:]\s*/i, '')
    .replace(/^0x/i, '')
    .replace(/[\s:]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

// ---- checks -----------------------------------------------------------------------------------------

function checks(vars: Vars): Check[] {
  const v = httpsVars(vars);
  const rootLines = pemLines(labCa(vars).rootPem);
  return [
    {
      id: 'trust',
      title: "Alice's laptop trusts the lab CA (its certificate is in her system's trust store)",
      points: 2,
      hint: `On alice: cp ${ALICE_CA} /usr/local/share/ca-certificates/lab-ca.crt && update-ca-certificates (the file name must end in .crt; the tool should report "1 added").`,
      async run(ctx) {
        const cmd = [
          `test -f ${BUNDLE} || { echo "no ${BUNDLE}"; exit 3; }`,
          `echo "lines of the lab CA certificate found in ${BUNDLE}: $(grep -c -x -F -f - ${BUNDLE} <<'HN_ROOT'`,
          ...rootLines,
          'HN_ROOT',
          ')"',
          'ls /usr/local/share/ca-certificates/ 2>&1 | head -n 5',
        ].join('\n');
        const e = await ctx.node('alice').run(cmd, 5000);
        const shown = { ...e, command: `grep -c -x -F -f <lab CA certificate> ${BUNDLE}; ls /usr/local/share/ca-certificates/` };
        const found = Number(/found in \S+: (\d+)/.exec(e.output)?.[1] ?? 0);
        if (e.exitCode !== 0) return fail(`alice has no system trust store at ${BUNDLE}`, shown);
        if (found < rootLines.length) return fail("the lab CA's certificate is not in alice's trust store, so curl cannot verify any certificate it issued", shown);
        return pass(`${BUNDLE} on alice contains the lab CA "${v.rootName}"`, shown);
      },
    },
    {
      id: 'chain',
      title: `The server sends its certificate with Bob's issuing CA, a chain that leads to the lab CA`,
      points: 2,
      hint: `Look at what the server sends: openssl s_client -connect ${HOST}:443 -servername ${HOST} -showcerts </dev/null. It should send two certificates: its own (0) and "${v.issuerName}" (1). On web, ${TLS_DIR}/chain.crt holds what is sent after server.crt (Bob's issuing CA is ${CA_DIR}/bob-issuing-ca.crt); reload with: pkill -HUP -x node`,
      async run(ctx) {
        const h = await handshake(ctx);
        if (!h.sent) return fail(`no certificate came back from ${HOST}:443 (is HTTPS running on web?)`, h.evidence);
        if (!h.chainOk) {
          const alone = h.sent === 1 ? `the server sent only its own certificate, and alice cannot find its issuer "${h.issuer ?? '?'}" in any store` : `the certificates the server sent do not lead to the lab CA (${h.chainError ?? 'verification failed'})`;
          return fail(alone, h.evidence);
        }
        return pass(`${h.sent} certificates sent; they verify up to the lab CA "${v.rootName}"`, h.evidence);
      },
    },
    {
      id: 'name',
      title: `The server's certificate is for ${HOST} (in its subjectAltName)`,
      points: 2,
      hint: `Read the names with: openssl s_client -connect ${HOST}:443 -servername ${HOST} </dev/null 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName. A new certificate needs subjectAltName=DNS:${HOST} (clients ignore the CN when there is a subjectAltName, and browsers ignore the CN altogether).`,
      async run(ctx) {
        const h = await handshake(ctx);
        if (!h.sent) return fail(`no certificate came back from ${HOST}:443`, h.evidence);
        if (h.dnsNames.includes(HOST)) return pass(`the certificate names ${h.dnsNames.join(', ')}`, h.evidence);
        if (!h.dnsNames.length) return fail(`the certificate has no DNS names in a subjectAltName (its subject is ${h.subject ?? '?'}); clients want ${HOST} there`, h.evidence);
        return fail(`the certificate is for ${h.dnsNames.join(', ')}, not for ${HOST}: a client that asked for ${HOST} must refuse it`, h.evidence);
      },
    },
    {
      id: 'dates',
      title: "The server's certificate is valid now (not expired, not yet to come)",
      points: 2,
      hint: `Read the dates with: openssl s_client -connect ${HOST}:443 -servername ${HOST} </dev/null 2>/dev/null | openssl x509 -noout -dates. An expired certificate cannot be repaired: issue a new one with Bob's issuing CA (openssl x509 -req ... -days 90) and install it.`,
      async run(ctx) {
        const h = await handshake(ctx);
        if (!h.sent) return fail(`no certificate came back from ${HOST}:443`, h.evidence);
        if (!h.notBefore || !h.notAfter || !h.now) return fail('the certificate dates could not be read', h.evidence);
        const now = h.now * 1000;
        if (h.notAfter.getTime() <= now) return fail(`the certificate expired on ${dateText(h.notAfter)}`, h.evidence);
        if (h.notBefore.getTime() > now) return fail(`the certificate is not valid before ${dateText(h.notBefore)}`, h.evidence);
        return pass(`valid from ${dateText(h.notBefore)} to ${dateText(h.notAfter)}`, h.evidence);
      },
    },
    {
      id: 'protocol',
      title: `The server follows Bob's policy: TLS 1.3, and ${v.minVersion === 'TLSv1.2' ? 'still TLS 1.2 for older clients' : 'nothing older'}`,
      points: 2,
      hint: `Test each version from alice: openssl s_client -connect ${HOST}:443 -servername ${HOST} -tls1_2 </dev/null (and -tls1_3). The lowest version the server accepts is "minVersion" in ${TLS_DIR}/options.json on web, e.g. { "minVersion": "${v.minVersion}" }; reload with: pkill -HUP -x node`,
      async run(ctx) {
        const [v13, v12] = await Promise.all([handshakeWith(ctx, 'TLSv1.3'), handshakeWith(ctx, 'TLSv1.2')]);
        if (!v13.ok) return fail('a TLS 1.3 handshake does not complete: the server must speak TLS 1.3', v13.evidence, v12.evidence);
        if (v.minVersion === 'TLSv1.2' && !v12.ok) return fail('the server refuses TLS 1.2, but the policy on your task card says it must still accept it', v13.evidence, v12.evidence);
        if (v.minVersion === 'TLSv1.3' && v12.ok) return fail('the server still accepts TLS 1.2, but the policy on your task card says TLS 1.3 only', v13.evidence, v12.evidence);
        return pass(`TLS 1.3 completes and TLS 1.2 is ${v12.ok ? 'accepted' : 'refused'}, as the policy (${v.minVersion} and newer) says`, v13.evidence, v12.evidence);
      },
    },
    {
      id: 'https',
      title: `A clean curl that trusts only the lab CA gets Bob's page from https://${HOST}/`,
      points: 2,
      hint: `From alice: curl -v https://${HOST}/ . Read the line after "SSL certificate problem" (or "SSL: no alternative certificate subject name") and fix that first.`,
      deadlineMs: 4000,
      async run(ctx) {
        const probe = await ctx.probe('alice');
        const path = `/?hn=${randomBytes(4).toString('hex')}`;
        const cmd = [
          rootFile(ctx.vars),
          'd=$(mktemp -d)',
          `curl -sS -m 5 --cacert "$root" --resolve ${HOST}:443:${BOB_PUBLIC} -o "$d/body" -w '%{http_code}' ${q(`https://${HOST}${path}`)} >"$d/code" 2>"$d/err"`,
          'rc=$?',
          'echo "status: $(cat "$d/code")"; grep "^curl:" "$d/err"; head -n 2 "$d/body" | cut -c1-120',
          'rm -rf "$d" "$root"; exit $rc',
        ].join('\n');
        const e = await probe.run(cmd, 9000);
        const shown = { ...e, command: `curl --cacert <lab CA> --resolve ${HOST}:443:${BOB_PUBLIC} https://${HOST}${path}` };
        if (e.exitCode !== 0) return fail(`curl refused the connection: ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'no answer'}`, shown);
        if (!/^status: 200$/m.test(e.output) || !/Hello from Bob/.test(e.output)) return fail("the connection verified, but Bob's page did not come back", shown);
        const log = await ctx.node('web').run(`grep -F -- ${q(`"path":"${path}"`)} ${ACCESS_LOG} | tail -n 1`, 5000);
        if (!log.output.includes(`"client":"${ALICE_PUBLIC}"`)) return fail(`the page came back, but Bob's access log has no request for ${path} from ${ALICE_PUBLIC}: the answer did not come from Bob's server`, shown, log);
        return pass(`verified with the lab CA, 200 OK from Bob's server (his log shows the request from ${ALICE_PUBLIC})`, shown, log);
      },
    },
    answerCheck({
      id: 'answer-problem',
      title: 'answers.yaml: what was wrong with the certificate at the start',
      points: 1,
      key: 'problem',
      hint: 'One of: wrong-name, expired, missing-intermediate. curl -v and openssl s_client name it once alice trusts the lab CA.',
      async expected() {
        return { value: v.fault, evidence: [] };
      },
      matches: (given, expected) => faultNamed(given) === expected,
    }),
    answerCheck({
      id: 'answer-serial',
      title: 'answers.yaml: the serial number of the certificate the server sent at the start',
      points: 1,
      key: 'old_serial',
      hint: `openssl s_client -connect ${HOST}:443 -servername ${HOST} </dev/null 2>/dev/null | openssl x509 -noout -serial (before you replace the certificate; ${TLS_LOG} on web records every certificate the server loaded).`,
      async expected() {
        return { value: v.serial, evidence: [] };
      },
      matches: (given, expected) => serialOf(given) === serialOf(expected),
    }),
    answerCheck({
      id: 'answer-issuer',
      title: "answers.yaml: the name (CN) of the CA that signed the server's certificate",
      points: 1,
      key: 'issuer',
      hint: 'The "i:" line of certificate 0 in openssl s_client -showcerts, or openssl x509 -noout -issuer.',
      async expected() {
        return { value: v.issuerName, evidence: [] };
      },
      matches: (given, expected) => normalizeAnswer(given).replace(/^.*cn\s*=\s*/, '') === normalizeAnswer(expected),
    }),
  ];
}

export default defineLab({
  number: 10,
  slug: 'https',
  title: 'HTTPS: TLS and certificates',
  topics: ['TLS', 'certificates', 'certificate authorities', 'chain of trust', 'openssl s_client'],
  minutes: 45,
  goal: "Make Alice's laptop trust the lab's certificate authority, find out with openssl s_client why Bob's HTTPS certificate is refused, and fix Bob's server so that curl https://web.bob.example/ verifies.",
  submissionNodes: ['alice', 'web'],
  questions: [
    { key: 'problem', prompt: 'What was wrong with the certificate at the start: wrong-name, expired or missing-intermediate' },
    { key: 'old_serial', prompt: 'The serial number of the certificate the server sent at the start' },
    { key: 'issuer', prompt: "The common name (CN) of the CA that signed the server's certificate" },
  ],
  vary,
  task: (vars) => taskCard(httpsVars(vars)),
  faults,
  checks,
});
