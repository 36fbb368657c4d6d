// Lab 10: HTTPS, TLS and certificates. The lab runs its own certificate authority: a root CA
// (whose certificate Alice is given) and Bob's issuing CA below it (whose key sits on Bob's server).
// Bob's server serves https://web.bob.example/ with a broken certificate, one fault per seed: a
// wrong name, an expired certificate, or a missing intermediate (the server sends only its own
// certificate). Its TLS settings also start out against the policy on the task card (the lowest
// protocol version it must accept). Alice makes her laptop trust the lab CA, inspects the
// handshake with openssl s_client, and fixes the server.
//
// The CA is computed from the seed (the kit's x509.ts): the grader recomputes the root it trusts in-process,
// so nothing the learner changes on a node can move the trust anchor. The handshake is inspected by
// clean openssl and curl on the grader's own fresh machine on Alice's home network (the server is
// what is judged, so not from alice's namespace, where a REDIRECT or an address on lo would put a
// local server in its place), Bob's access log confirms the HTTPS request arrived, and alice's own
// trust store is read for the trust check (the one claim about alice herself).
import {
  certificateDer,
  defineLab,
  deriveKey,
  draws,
  FILES,
  heredoc,
  nonce,
  pem,
  writeFile,
  type DistinguishedName,
  type Fault,
  type World,
} from '../kit/index.js';
import { alicePublic, aliceSide, loggedRequests, WEB_HOST, webPublic } from '../kit/web.js';
import { fail, pass, type Check, type CheckContext, type Evidence } from '../../checks/types.js';
import { q } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';

// ---- the lab's files on the nodes ---------------------------------------------------------------

export const TLS_DIR = '/etc/hurrynet/tls';
export const CA_DIR = '/root/ca';
export const ALICE_CA = '/root/lab-ca.crt';
const TLS_LOG = `${FILES.webLogDir}/tls.log`;
const BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Reloads the web server's TLS files (the pattern never matches the shell running a script). */
const RELOAD = "pkill -HUP -f '^node server.js'";

// ---- variation ----------------------------------------------------------------------------------

export const FAULTS = ['wrong-name', 'expired', 'missing-intermediate'] as const;
export type FaultKind = (typeof FAULTS)[number];
export const WRONG_NAMES = [
  'www2.bob.example',
  'web2.bob.example',
  'shop.bob.example',
  'old.bob.example',
  'bob.example',
] as const;
export const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof VERSIONS)[number];
const LETTERS = 'BCDFGHKMNPRSTWXZ';

export type HttpsVars = {
  fault: FaultKind;
  /** The name the broken certificate carries in the wrong-name fault (else the right one). */
  certName: string;
  /** The lowest TLS version Bob's policy lets the server accept (task card). */
  minVersion: TlsVersion;
  /** Serial of the certificate the server sends at start, in hex as openssl prints it. */
  serial: string;
  rootName: string;
  issuerName: string;
  /** Seeds the CA keys. */
  caKey: string;
  /** For the expired fault: how many days ago the certificate expired. */
  expiredDaysAgo: number;
};

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');

const vary = draws<HttpsVars>({
  fault: (r) => r.pick(FAULTS),
  // Depends on the fault drawn before it: only the wrong-name fault carries another name.
  certName: (r, d) => (d.fault === 'wrong-name' ? r.pick(WRONG_NAMES) : WEB_HOST),
  minVersion: (r) => r.pick(VERSIONS),
  serial: (r) =>
    [r.int(0x10, 0x7f), ...Array.from({ length: 7 }, () => r.int(0, 255))]
      .map((b) => hex(b, 2))
      .join('')
      .toUpperCase(),
  rootName: (r) => `Hurrynet Lab Root CA R${r.int(10, 99)}`,
  issuerName: (r) => `Bob Issuing CA ${r.pick([...LETTERS])}${r.int(10, 99)}`,
  caKey: (r) => Array.from({ length: 4 }, () => hex(r.int(0, 0xffff), 4)).join(''),
  expiredDaysAgo: (r) => r.int(3, 60),
});

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

export function labCa(v: HttpsVars): LabCa {
  const root = deriveKey(`${v.caKey}:root`);
  const issuing = deriveKey(`${v.caKey}:issuing`);
  const rootDn: DistinguishedName = { organization: ROOT_ORG, commonName: v.rootName };
  const issuingDn: DistinguishedName = { organization: BOB_ORG, commonName: v.issuerName };
  const rootPem = pem(
    certificateDer({
      serial: Buffer.from([1]),
      subject: rootDn,
      issuer: rootDn,
      notBefore: CA_FROM,
      notAfter: ROOT_UNTIL,
      publicKey: root.publicKey,
      signingKey: root,
      ca: { pathLength: 1 },
    }),
  );
  const issuingPem = pem(
    certificateDer({
      serial: Buffer.from([0x10, 0x02]),
      subject: issuingDn,
      issuer: rootDn,
      notBefore: CA_FROM,
      notAfter: ISSUING_UNTIL,
      publicKey: issuing.publicKey,
      signingKey: root,
      ca: { pathLength: 0 },
    }),
  );
  return { rootPem, issuingPem, issuingKeyPem: issuing.pem };
}

/** The certificate the server starts with: broken in the way of this seed's fault. */
export function startCertificate(
  v: HttpsVars,
  now = Date.now(),
): { certPem: string; keyPem: string; notBefore: Date; notAfter: Date } {
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

const other = (version: TlsVersion): TlsVersion => (version === 'TLSv1.2' ? 'TLSv1.3' : 'TLSv1.2');

function taskCard(v: HttpsVars): Record<string, string> {
  return {
    url: `https://${WEB_HOST}/`,
    lab_ca_certificate: ALICE_CA,
    min_tls_version: v.minVersion,
  };
}

export function faults(v: HttpsVars): Fault[] {
  const ca = labCa(v);
  const start = startCertificate(v);
  const card = Object.entries(taskCard(v))
    .map(([k, val]) => `${k}: ${val}`)
    .join('\n');
  const web = [
    heredoc(`${CA_DIR}/lab-root-ca.crt`, ca.rootPem),
    heredoc(`${CA_DIR}/bob-issuing-ca.crt`, ca.issuingPem),
    heredoc(`${CA_DIR}/bob-issuing-ca.key`, ca.issuingKeyPem, '0600'),
    heredoc(`${TLS_DIR}/server.crt`, start.certPem),
    heredoc(`${TLS_DIR}/server.key`, start.keyPem, '0600'),
    v.fault === 'missing-intermediate' ? `rm -f ${TLS_DIR}/chain.crt` : heredoc(`${TLS_DIR}/chain.crt`, ca.issuingPem),
    heredoc(`${TLS_DIR}/options.json`, `{ "minVersion": "${other(v.minVersion)}" }`),
    // Bob's copy of the task card: his policy is his server's business too.
    heredoc(FILES.taskCard, card),
    `mkdir -p ${FILES.webLogDir}`,
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
    writeFile('alice', ALICE_CA, ca.rootPem, "the lab CA's certificate, handed to Alice (not installed)"),
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
  const section = (name: string) =>
    new RegExp(`^== ${name}\\n([\\s\\S]*?)(?=^== |$(?![\\s\\S]))`, 'm').exec(output)?.[1] ?? '';
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
    chainError: chainOk ? undefined : (chainError ?? (chain.trim() || undefined)),
    protocol,
  };
}

/**
 * Shell lines that put the grader's own copy of the lab root in a file of the probe, as "$root"
 * (the scripts remove it when done).
 */
function rootFile(v: HttpsVars): string {
  const path = `/tmp/hurrynet-lab-root-${nonce()}.crt`;
  return `${heredoc(path, labCa(v).rootPem)}\nroot=${q(path)}`;
}

/** A tool's own time limit, stretched with the machine's load like the grader's (which stays above it). */
const toolSeconds = (ctx: CheckContext, seconds: number) => Math.ceil(seconds * Math.max(1, ctx.timeScale));

/**
 * The handshake as a clean openssl sees it from the grader's fresh laptop on Alice's network
 * (through her router and NAT, but nothing set on alice applies), checked against the lab root.
 */
export async function handshake(ctx: CheckContext, v: HttpsVars, world: World): Promise<Handshake> {
  const probe = await aliceSide(ctx, world);
  const bob = webPublic(world);
  const script = [
    rootFile(v),
    'd=$(mktemp -d)',
    `timeout ${toolSeconds(ctx, 6)} openssl s_client -connect ${bob}:443 -servername ${WEB_HOST} -CAfile "$root" -verify_hostname ${WEB_HOST} -showcerts </dev/null >"$d/hs" 2>&1`,
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
  const shown = {
    ...e,
    command: `openssl s_client -connect ${bob}:443 -servername ${WEB_HOST} -CAfile <lab CA> -verify_hostname ${WEB_HOST} -showcerts; openssl x509 -noout -serial -subject -issuer -dates -ext subjectAltName (leaf); openssl verify -no_check_time -CAfile <lab root> -untrusted <the rest> (leaf)`,
  };
  return { ...parseHandshake(e.output), evidence: shown };
}

/**
 * Does a TLS handshake offering only this version complete, or does the server refuse it (an
 * alert)? Neither means no answer at all, which proves nothing about the versions it accepts.
 */
async function handshakeWith(
  ctx: CheckContext,
  world: World,
  version: TlsVersion,
): Promise<{ ok: boolean; refused: boolean; evidence: Evidence }> {
  const probe = await aliceSide(ctx, world);
  const flag = version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
  const cmd = `timeout ${toolSeconds(ctx, 6)} openssl s_client -connect ${webPublic(world)}:443 -servername ${WEB_HOST} ${flag} </dev/null 2>&1 | grep -E '^New,|alert|Connection refused|errno=' | cut -c1-160`;
  const e = await probe.run(cmd, 10000);
  const ok = new RegExp(`^New, ${version.replace('.', '\\.')}, Cipher is`, 'm').test(e.output);
  return { ok, refused: !ok && /alert/.test(e.output), evidence: e };
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

const trustCheck = (v: HttpsVars): Check => {
  const rootLines = pemLines(labCa(v).rootPem);
  return {
    id: 'trust',
    title: "Alice's laptop trusts the lab CA (its certificate is in her system's trust store)",
    points: 2,
    hint: [
      "Alice's own laptop: the list of CAs her programs believe, her system trust store. Is the lab's root CA (the file your task card names) in it yet, or only lying in /root?",
      `The store TLS libraries read is ${BUNDLE}; update-ca-certificates builds it from /usr/local/share/ca-certificates/*.crt and says how many certificates it added.`,
      `On alice: cp ${ALICE_CA} /usr/local/share/ca-certificates/lab-ca.crt && update-ca-certificates (the name must end in .crt; it reports "1 added"; its "rehash: warning: skipping ca-certificates.crt" is harmless).`,
    ],
    async run(ctx) {
      // Bash builtins only (no grep, ls or cat of alice's, which a submission can replace): the
      // certificate's lines must stand in the bundle in a row, as a TLS library reads them.
      const cmd = [
        `[[ -f ${BUNDLE} ]] || { echo "no ${BUNDLE}"; exit 3; }`,
        `want=(${rootLines.map((l) => `'${l}'`).join(' ')})`,
        'i=0; best=0',
        'while IFS= read -r l || [[ -n $l ]]; do',
        "  l=${l%$'\\r'}",
        '  if [[ $l == "${want[i]}" ]]; then i=$((i + 1)); [[ $i -gt $best ]] && best=$i; [[ $i -eq ${#want[@]} ]] && break',
        '  elif [[ $l == "${want[0]}" ]]; then i=1',
        '  else i=0; fi',
        `done < ${BUNDLE}`,
        `echo "lines of the lab CA certificate found in a row in ${BUNDLE}: $best of \${#want[@]}"`,
        'for f in /usr/local/share/ca-certificates/*; do [[ -e $f ]] && echo "${f##*/}"; done',
        'true',
      ].join('\n');
      const e = await ctx.node('alice').run(cmd, 10000);
      const shown = {
        ...e,
        command: `the lab CA certificate's lines, looked for in a row in ${BUNDLE} (bash builtins only); the files in /usr/local/share/ca-certificates/`,
      };
      const m = /found in a row in \S+: (\d+) of (\d+)/.exec(e.output);
      if (e.exitCode !== 0 || !m) return fail(`alice has no system trust store at ${BUNDLE}`, shown);
      if (Number(m[1]) < rootLines.length)
        return fail(
          "the lab CA's certificate is not in alice's trust store, so curl cannot verify any certificate it issued",
          shown,
        );
      return pass(`${BUNDLE} on alice contains the lab CA "${v.rootName}"`, shown);
    },
  };
};

const chainCheck = (v: HttpsVars, world: World): Check => ({
  id: 'chain',
  title: `The server sends its certificate with Bob's issuing CA, a chain that leads to the lab CA`,
  points: 2,
  hint: [
    "The certificates Bob's server sends in its handshake: only its own, or also the CA that signed it? A client that trusts only the root needs every certificate in between from the server.",
    `openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} -showcerts </dev/null numbers what is sent (0, 1, ...; s: subject, i: issuer): after its own (0) should come the CA its "i:" line names. On web, ${TLS_DIR}/chain.crt is what the server sends after server.crt.`,
    `On web: cp ${CA_DIR}/bob-issuing-ca.crt ${TLS_DIR}/chain.crt; openssl verify -CAfile ${CA_DIR}/lab-root-ca.crt -untrusted ${TLS_DIR}/chain.crt ${TLS_DIR}/server.crt must say OK; then pkill -HUP -x node and tail -n 1 ${TLS_LOG}.`,
  ],
  async run(ctx) {
    const h = await handshake(ctx, v, world);
    if (!h.sent) return fail(`no certificate came back from ${WEB_HOST}:443 (is HTTPS running on web?)`, h.evidence);
    if (!h.chainOk) {
      const alone =
        h.sent === 1
          ? `the server sent only its own certificate, and a client that trusts the lab CA cannot find its issuer "${h.issuer ?? '?'}" in any store`
          : `the certificates the server sent do not lead to the lab CA (${h.chainError ?? 'verification failed'})`;
      return fail(alone, h.evidence);
    }
    return pass(`${h.sent} certificates sent; they verify up to the lab CA "${v.rootName}"`, h.evidence);
  },
});

const nameCheck = (v: HttpsVars, world: World): Check => ({
  id: 'name',
  title: `The server's certificate is for ${WEB_HOST} (in its subjectAltName)`,
  points: 2,
  hint: [
    `The names written in the server's certificate, against the name Alice asks for (${WEB_HOST}). Clients read the subjectAltName extension; they ignore the CN when there is one, and browsers ignore the CN altogether.`,
    `openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} </dev/null 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName; curl -v says "no alternative certificate subject name matches".`,
    `A certificate cannot be edited. On web, make a new key and request (openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${WEB_HOST}" -keyout server.key -out server.csr in ${TLS_DIR}), have Bob's issuing CA sign it (openssl x509 -req -in server.csr -CA ${CA_DIR}/bob-issuing-ca.crt -CAkey ${CA_DIR}/bob-issuing-ca.key -days 90 -out server.crt -extfile <(printf 'subjectAltName=DNS:${WEB_HOST}\n')), then pkill -HUP -x node.`,
  ],
  async run(ctx) {
    const h = await handshake(ctx, v, world);
    if (!h.sent) return fail(`no certificate came back from ${WEB_HOST}:443`, h.evidence);
    if (h.dnsNames.includes(WEB_HOST)) return pass(`the certificate names ${h.dnsNames.join(', ')}`, h.evidence);
    if (!h.dnsNames.length)
      return fail(
        `the certificate has no DNS names in a subjectAltName (its subject is ${h.subject ?? '?'}); clients want ${WEB_HOST} there`,
        h.evidence,
      );
    return fail(
      `the certificate is for ${h.dnsNames.join(', ')}, not for ${WEB_HOST}: a client that asked for ${WEB_HOST} must refuse it`,
      h.evidence,
    );
  },
});

const datesCheck = (v: HttpsVars, world: World): Check => ({
  id: 'dates',
  title: "The server's certificate is valid now (not expired, not yet to come)",
  points: 2,
  hint: [
    "The two dates in the server's certificate (not before, not after) against today's date on the machines of the lab.",
    `openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} </dev/null 2>/dev/null | openssl x509 -noout -dates (and date -u to compare); openssl says "certificate has expired" (verify error 10).`,
    `An expired certificate cannot be repaired: on web, in ${TLS_DIR}, make a new key and request (openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${WEB_HOST}" -keyout server.key -out server.csr), sign it with openssl x509 -req -in server.csr -CA ${CA_DIR}/bob-issuing-ca.crt -CAkey ${CA_DIR}/bob-issuing-ca.key -days 90 -out server.crt -extfile <(printf 'subjectAltName=DNS:${WEB_HOST}\n'), then pkill -HUP -x node.`,
  ],
  async run(ctx) {
    const h = await handshake(ctx, v, world);
    if (!h.sent) return fail(`no certificate came back from ${WEB_HOST}:443`, h.evidence);
    if (!h.notBefore || !h.notAfter || !h.now) return fail('the certificate dates could not be read', h.evidence);
    const now = h.now * 1000;
    if (h.notAfter.getTime() <= now) return fail(`the certificate expired on ${dateText(h.notAfter)}`, h.evidence);
    if (h.notBefore.getTime() > now)
      return fail(`the certificate is not valid before ${dateText(h.notBefore)}`, h.evidence);
    return pass(`valid from ${dateText(h.notBefore)} to ${dateText(h.notAfter)}`, h.evidence);
  },
});

const protocolCheck = (v: HttpsVars, world: World): Check => ({
  id: 'protocol',
  title: `The server follows Bob's policy: TLS 1.3, and ${v.minVersion === 'TLSv1.2' ? 'still TLS 1.2 for older clients' : 'nothing older'}`,
  points: 2,
  hint: [
    "Bob's policy on your task card (min_tls_version) against the TLS versions his server really completes a handshake with, when a client offers one version alone.",
    `From alice: openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} -tls1_2 </dev/null (then -tls1_3). "New, TLSv1.2, Cipher is ..." means it completed; "alert protocol version" with "New, (NONE)" means refused, whatever "Verify return code: 0 (ok)" says. On web, ${TLS_DIR}/options.json sets the lowest version.`,
    `On web: printf '{ "minVersion": "${v.minVersion}" }\n' > ${TLS_DIR}/options.json; pkill -HUP -x node; tail -n 1 ${TLS_LOG} ends with the versions the server now accepts.`,
  ],
  async run(ctx) {
    const [v13, v12] = await Promise.all([handshakeWith(ctx, world, 'TLSv1.3'), handshakeWith(ctx, world, 'TLSv1.2')]);
    const seen = [v13.evidence, v12.evidence];
    if (!v13.ok) return fail('a TLS 1.3 handshake does not complete: the server must speak TLS 1.3', ...seen);
    if (v.minVersion === 'TLSv1.2' && !v12.ok)
      return fail('the server refuses TLS 1.2, but the policy on your task card says it must still accept it', ...seen);
    if (v.minVersion === 'TLSv1.3' && v12.ok)
      return fail('the server still accepts TLS 1.2, but the policy on your task card says TLS 1.3 only', ...seen);
    if (v.minVersion === 'TLSv1.3' && !v12.refused)
      return fail(
        'a TLS 1.2 handshake got no answer at all (neither completed nor refused with an alert), so it cannot be told whether the server refuses TLS 1.2',
        ...seen,
      );
    return pass(
      `TLS 1.3 completes and TLS 1.2 is ${v12.ok ? 'accepted' : 'refused'}, as the policy (${v.minVersion} and newer) says`,
      ...seen,
    );
  },
});

const httpsCheck = (v: HttpsVars, world: World): Check => ({
  id: 'https',
  title: `A clean curl that trusts only the lab CA gets Bob's page from https://${WEB_HOST}/`,
  points: 2,
  hint: [
    'Everything a client checks, in order: that it trusts the root, the chain the server sends, the name and the dates. The other checks of this lab say which part still fails.',
    `From alice: curl -v https://${WEB_HOST}/ ; the line after "SSL certificate problem" (or "SSL: no alternative certificate subject name") names what is wrong. On web, tail ${TLS_LOG} says which certificate the server uses.`,
    `Trust the lab CA on alice (update-ca-certificates), send Bob's issuing CA in ${TLS_DIR}/chain.crt, serve a certificate for ${WEB_HOST} that is valid today, then pkill -HUP -x node on web and check that ${TLS_LOG} says "reloaded".`,
  ],
  deadlineMs: 4000,
  async run(ctx) {
    const probe = await aliceSide(ctx, world);
    const bob = webPublic(world);
    const client = alicePublic(world);
    const token = nonce();
    const path = `/?hn=${token}`;
    const cmd = [
      rootFile(v),
      'd=$(mktemp -d)',
      `curl -sS -m ${toolSeconds(ctx, 5)} --cacert "$root" --resolve ${WEB_HOST}:443:${bob} -o "$d/body" -w '%{http_code}' ${q(`https://${WEB_HOST}${path}`)} >"$d/code" 2>"$d/err"`,
      'rc=$?',
      'echo "status: $(cat "$d/code")"; grep "^curl:" "$d/err"; head -n 2 "$d/body" | cut -c1-120',
      'rm -rf "$d" "$root"; exit $rc',
    ].join('\n');
    const e = await probe.run(cmd, 9000);
    const shown = {
      ...e,
      command: `curl --cacert <lab CA> --resolve ${WEB_HOST}:443:${bob} https://${WEB_HOST}${path}`,
    };
    if (e.exitCode !== 0)
      return fail(`curl refused the connection: ${/curl: \(\d+\) (.*)/.exec(e.output)?.[1] ?? 'no answer'}`, shown);
    if (!/^status: 200$/m.test(e.output) || !/Hello from Bob/.test(e.output))
      return fail("the connection verified, but Bob's page did not come back", shown);
    const log = await loggedRequests(ctx.node('web'), token);
    if (!log.entries.some((x) => x.client === client))
      return fail(
        `the page came back, but Bob's access log has no request for ${path} from ${client}: the answer did not come from Bob's server`,
        shown,
        log.evidence,
      );
    return pass(
      `verified with the lab CA, 200 OK from Bob's server (his log shows the request from ${client})`,
      shown,
      log.evidence,
    );
  },
});

/** The answer checks: what the learner found at the start, compared with this seed's own values. */
const answerChecks = (v: HttpsVars): Check[] => [
  answerCheck({
    id: 'answer-problem',
    title: 'answers.yaml: what was wrong with the certificate at the start',
    points: 1,
    key: 'problem',
    about: 'what was wrong with the certificate the server sent at the start',
    hint: [
      "What openssl and curl said about Bob's certificate once alice trusted the lab CA, before you fixed anything: the name, the dates, or the chain?",
      `The "Verify return code" of openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} -verify_hostname ${WEB_HOST} </dev/null: 62 is a hostname mismatch, 10 an expired certificate, 20 or 21 an issuer it cannot find.`,
      'In /root/answers.yaml, problem: is one of wrong-name, expired or missing-intermediate: the one that error named.',
    ],
    expected: async () => ({ value: v.fault, evidence: [] }),
    matches: (given, expected) => faultNamed(given) === expected,
  }),
  answerCheck({
    id: 'answer-serial',
    title: 'answers.yaml: the serial number of the certificate the server sent at the start',
    points: 1,
    key: 'old_serial',
    about: 'the serial number of the certificate the server sent at the start',
    hint: [
      'The certificate the server sent when the lab started, before you replaced anything: its serial number, not the serial of a CA above it.',
      `openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} </dev/null 2>/dev/null | openssl x509 -noout -serial shows the one it sends now; ${TLS_LOG} on web records the serial of every certificate the server loaded, the first one too.`,
      'In /root/answers.yaml, old_serial: is the hex digits after serial= of that first certificate (with or without colons, in any case).',
    ],
    expected: async () => ({ value: v.serial, evidence: [] }),
    matches: (given, expected) => serialOf(given) === serialOf(expected),
  }),
  answerCheck({
    id: 'answer-issuer',
    title: "answers.yaml: the name (CN) of the CA that signed the server's certificate",
    points: 1,
    key: 'issuer',
    about: "the CN of the CA that signed the server's certificate",
    hint: [
      "Who signed the server's own certificate: its issuer, the intermediate CA, not the lab's root above it.",
      `The "i:" line of certificate 0 in openssl s_client -connect ${WEB_HOST}:443 -servername ${WEB_HOST} -showcerts </dev/null, or openssl x509 -noout -issuer of that certificate.`,
      'In /root/answers.yaml, issuer: is the text after "CN = " in that line (the name alone, without "O = Bob Example").',
    ],
    expected: async () => ({ value: v.issuerName, evidence: [] }),
    matches: (given, expected) => normalizeAnswer(given).replace(/^.*cn\s*=\s*/, '') === normalizeAnswer(expected),
  }),
];

function checks(v: HttpsVars, world: World): Check[] {
  return [
    trustCheck(v),
    chainCheck(v, world),
    nameCheck(v, world),
    datesCheck(v, world),
    protocolCheck(v, world),
    httpsCheck(v, world),
    ...answerChecks(v),
  ];
}

export default defineLab<HttpsVars>({
  number: 10,
  slug: 'https',
  title: 'HTTPS: TLS and certificates',
  topics: ['TLS', 'certificates', 'certificate authorities', 'chain of trust', 'openssl s_client'],
  minutes: 45,
  goal: "Make Alice's laptop trust the lab's certificate authority, find out with openssl s_client why Bob's HTTPS certificate is refused, and fix Bob's server so that curl https://web.bob.example/ verifies.",
  submissionNodes: ['alice', 'web'],
  questions: [
    {
      key: 'problem',
      prompt: 'What was wrong with the certificate at the start: wrong-name, expired or missing-intermediate',
    },
    { key: 'old_serial', prompt: 'The serial number of the certificate the server sent at the start' },
    { key: 'issuer', prompt: "The common name (CN) of the CA that signed the server's certificate" },
  ],
  vary,
  task: taskCard,
  faults,
  checks,
});
