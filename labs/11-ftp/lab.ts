// Lab 11: FTP, active and passive, through NAT and a stateful firewall. Bob's file store (vsftpd on
// the ftp node, behind Bob's edge) starts broken twice over, differently per learner:
//   - passive mode fails: vsftpd advertises a wrong address in its PASV reply (its private address,
//     or an old public one), or Bob's edge no longer lets the passive data ports in (the security
//     group, or the DNAT, covers port 21 only);
//   - active mode fails through Alice's NAT: the home router's FTP connection-tracking helper is
//     gone or attached to the wrong traffic, so nobody rewrites Alice's PORT command.
// The learner finds and fixes both, then uploads, lists, changes directory and downloads with a
// command-line client in each mode, and completes a small TypeScript client (basic-ftp, passive).
//
// Graded from places alice cannot fake: the grader's own transfers in both modes from a clean
// probe in alice's network namespace, confirmed at the far end (the file must land on the ftp node
// and vsftpd's protocol log must show the session, its PASV/PORT and its 227 reply); the learner's
// own transfers, read from vsftpd's protocol log (which mode each transfer used, from which
// address, in which directory) and from the files on the ftp node; the learner's TypeScript client,
// run by the grader with Node.js in a sidecar that shares alice's network, with a file name and
// text that are new for every check.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLab, type Fault, type Rng, type Vars } from '../../orchestrator/lab.js';
import { formatIp, parseCidr, parseIp } from '../../orchestrator/addresses.js';
import { firewallCommands, natCommands } from '../../orchestrator/config.js';
import { projectRoot } from '../../orchestrator/paths.js';
import { canonicalWorld, findNode } from '../../orchestrator/world.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { q } from '../../checks/probes.js';
import { answerCheck, normalizeAnswer } from '../../checks/answers.js';
import { parseVsftpdLog, type Mode, type Session } from './ftplog.js';
import { runOnAliceNetwork, transpile } from './node-runner.js';

// ---- facts from the world data ----------------------------------------------------------------

const bare = (cidr: string) => cidr.split('/')[0] as string;
const home = findNode(canonicalWorld, 'home');
const edge = findNode(canonicalWorld, 'edge');
const ftpNode = findNode(canonicalWorld, 'ftp');
const ftpRecord = canonicalWorld.settings.zones.find((z) => z.name === 'bob.example')?.records.find((r) => r.name === 'ftp' && r.type === 'A');
if (!home || !edge || !ftpNode || !ftpRecord || !edge.nat || !edge.firewall || !home.nat) throw new Error('lab 11: the world lacks home, edge, ftp or ftp.bob.example');

export const FTP_NAME = 'ftp.bob.example';
/** The file store's public address (ftp.bob.example, on Bob's edge). */
export const FTP_PUBLIC = ftpRecord.value;
export const FTP_PRIVATE = bare(ftpNode.interfaces[0]?.addresses[0] as string);
/** What Bob's server sees as the client: the home router's public address. */
export const ALICE_PUBLIC = bare(home.interfaces.find((i) => i.link === 'access')?.addresses[0] as string);
export const PASV = canonicalWorld.settings.ftp;
export const USER = 'bob';
export const PASSWORD = 'bobpass';
const HOME_DIR = '/home/bob';
const VSFTPD_LOG = '/var/log/vsftpd.log';
const VSFTPD_CONF = '/etc/vsftpd.conf';
const PROBE_DIR = '.hurrynet-probe';
export const CLIENT_PATH = '/root/ftp-client.ts';
/** Names the grader gives the TypeScript client's uploads (so its sessions are told apart). */
export const TS_UPLOAD = /^ts-[0-9a-f]{8}\.txt$/;

/** The canonical rules this lab breaks, as the world renders them. */
export const EDGE_FTP_DNAT = natCommands(edge.nat).find((c) => c.includes(`--to-destination ${FTP_PRIVATE}`)) as string;
const sgRules = firewallCommands(edge.firewall);
export const EDGE_FTP_ALLOW = sgRules.find((c) => c.includes(`-d ${FTP_PRIVATE} `)) as string;
const EDGE_FTP_ALLOW_POS = sgRules.indexOf(EDGE_FTP_ALLOW) + 1;
export const HOME_HELPER = natCommands(home.nat).find((c) => c.includes('--helper ftp')) as string;
if (!EDGE_FTP_DNAT || !EDGE_FTP_ALLOW || !HOME_HELPER || !ALICE_PUBLIC || !FTP_PRIVATE) throw new Error('lab 11: the world lacks the FTP rules it breaks');

// ---- variation --------------------------------------------------------------------------------

export const PASSIVE_FAULTS = ['pasv-private', 'pasv-old', 'sg-range', 'dnat-range'] as const;
export const ACTIVE_FAULTS = ['helper-missing', 'helper-port', 'helper-iface'] as const;
export type PassiveFault = (typeof PASSIVE_FAULTS)[number];
export type ActiveFault = (typeof ACTIVE_FAULTS)[number];
/** Which node the passive fault is on, which is also the answer to passive_fix. */
export const PASSIVE_FIX_NODE: Record<PassiveFault, 'ftp' | 'edge'> = { 'pasv-private': 'ftp', 'pasv-old': 'ftp', 'sg-range': 'edge', 'dnat-range': 'edge' };

const WORDS = ['album', 'backup', 'drafts', 'invoices', 'mixtape', 'photos', 'recipes', 'slides', 'thesis', 'travel'];
const OUTBOX = ['order', 'ticket', 'receipt', 'voucher', 'parcel', 'booking'];

/** Backbone addresses no node uses and that are not Bob's public address: a plausible "old" one. */
export function oldAddresses(): string[] {
  const used = new Set(canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare))));
  const backbone = canonicalWorld.links.find((l) => l.name === 'backbone')?.prefix as string;
  const { address } = parseCidr(backbone);
  const out: string[] = [];
  for (let x = 70; x <= 99; x++) {
    const a = formatIp(parseIp(address) + x);
    if (!used.has(a) && a !== FTP_PUBLIC) out.push(a);
  }
  return out;
}

export interface FtpVars {
  passiveFault: PassiveFault;
  activeFault: ActiveFault;
  oldAddress: string;
  dir: string;
  passiveFile: string;
  activeFile: string;
  uploadText: string;
  outboxFile: string;
}

function vary(rng: Rng): Vars {
  const tok = Array.from({ length: 4 }, () => 'abcdefghjkmnpqrstuvwxyz'[rng.int(0, 22)]).join('');
  return {
    passiveFault: rng.pick(PASSIVE_FAULTS),
    activeFault: rng.pick(ACTIVE_FAULTS),
    oldAddress: rng.pick(oldAddresses()),
    dir: `/${rng.pick(WORDS)}-${rng.int(10, 99)}`,
    passiveFile: `passive-${tok}.txt`,
    activeFile: `active-${tok}.txt`,
    uploadText: `ticket ${rng.int(1000, 9999)} from alice`,
    outboxFile: `/outbox/${rng.pick(OUTBOX)}-${rng.int(100, 999)}.txt`,
  };
}

export function ftpVars(v: Vars): FtpVars {
  return {
    passiveFault: String(v.passiveFault) as PassiveFault,
    activeFault: String(v.activeFault) as ActiveFault,
    oldAddress: String(v.oldAddress),
    dir: String(v.dir),
    passiveFile: String(v.passiveFile),
    activeFile: String(v.activeFile),
    uploadText: String(v.uploadText),
    outboxFile: String(v.outboxFile),
  };
}

// ---- faults -----------------------------------------------------------------------------------

const RESTART_VSFTPD = [
  'kill $(pidof vsftpd) 2>/dev/null || true',
  'for i in $(seq 1 50); do listening tcp 21 || break; sleep 0.1; done',
  '/usr/local/lib/hurrynet/services/vsftpd start',
  'for i in $(seq 1 50); do listening tcp 21 && break; sleep 0.1; done',
  'listening tcp 21',
].join('\n');

function clientSkeleton(): string {
  return readFileSync(join(projectRoot(), 'labs', '11-ftp', 'client', 'ftp-client.mts'), 'utf8');
}

function faults(vars: Vars): Fault[] {
  const v = ftpVars(vars);
  const ftpLines = [
    // The file Alice must fetch, with a code that is new for every start of the lab.
    `install -d -o ${USER} -g ${USER} ${HOME_DIR}/outbox`,
    // A word first, so that YAML never reads the code as a number.
    'code=bob-$(od -An -N4 -tx1 /dev/urandom | tr -d " \\n")',
    `printf '%s for alice, from bob\\ncode: %s\\n' ${q(v.outboxFile.replace(/^\/outbox\//, '').replace(/\.txt$/, ''))} "$code" > ${HOME_DIR}${v.outboxFile}`,
    `chown ${USER}:${USER} ${HOME_DIR}${v.outboxFile}`,
  ];
  if (v.passiveFault === 'pasv-private') ftpLines.push(`sed -i '/^pasv_address=/d' ${VSFTPD_CONF}`, RESTART_VSFTPD);
  if (v.passiveFault === 'pasv-old') ftpLines.push(`sed -i 's/^pasv_address=.*/pasv_address=${v.oldAddress}/' ${VSFTPD_CONF}`, RESTART_VSFTPD);
  const list: Fault[] = [
    { node: 'ftp', description: `the file to fetch${PASSIVE_FIX_NODE[v.passiveFault] === 'ftp' ? `, and vsftpd advertises the wrong address in passive mode (${v.passiveFault})` : ''}`, script: ftpLines.join('\n') },
    { node: 'alice', description: 'the unfinished TypeScript client', script: `cat > ${CLIENT_PATH} <<'HURRYNET_CLIENT'\n${clientSkeleton()}HURRYNET_CLIENT` },
  ];
  if (v.passiveFault === 'sg-range') {
    list.push({
      node: 'edge',
      description: "Bob's security group lets only the control port (21) in to the file store",
      script: [EDGE_FTP_ALLOW.replace(' -A ', ' -D '), EDGE_FTP_ALLOW.replace(' -A FORWARD ', ` -I FORWARD ${EDGE_FTP_ALLOW_POS} `).replace(/ -m multiport --dports \S+/, ' --dport 21')].join('\n'),
    });
  }
  if (v.passiveFault === 'dnat-range') {
    list.push({
      node: 'edge',
      description: "Bob's edge forwards only the control port (21) to the file store",
      script: [EDGE_FTP_DNAT.replace(' -A ', ' -D '), EDGE_FTP_DNAT.replace(' -A PREROUTING ', ' -I PREROUTING 1 ').replace(/ -m multiport --dports \S+/, ' --dport 21')].join('\n'),
    });
  }
  const helper = [HOME_HELPER.replace(' -A ', ' -D ')];
  if (v.activeFault === 'helper-port') helper.push(HOME_HELPER.replace('--dport 21', '--dport 2121'));
  if (v.activeFault === 'helper-iface') helper.push(HOME_HELPER.replace(/ -i \S+/, ' -i access'));
  list.push({ node: 'home', description: `the home router's FTP helper is broken (${v.activeFault})`, script: helper.join('\n') });
  return list;
}

// ---- reading the far end ----------------------------------------------------------------------

const CHUNK = 14000;
/** Only the newest part of a file is read (older streams or sessions fall off the front). */
const MAX_BYTES = 4_000_000;

/** Reads a possibly large text file from a node in chunks (gzip + base64), each under the evidence cap. */
async function readLarge(host: Host, path: string): Promise<{ ok: boolean; text: string; evidence: Evidence }> {
  const ev = (exitCode: number, output: string): Evidence => ({ where: host.where, command: `read ${path}`, exitCode, output });
  const head = await host.run(`f=${q(path)}; [ -f "$f" ] || { echo "no such file: $f"; exit 3; }; t=$(mktemp); tail -c ${MAX_BYTES} -- "$f" | gzip -1 -n -c > "$t" && echo "$t $(stat -c %s "$t")"`, 10000);
  const m = /^(\S+) (\d+)$/m.exec(head.output);
  if (head.exitCode !== 0 || !m) return { ok: false, text: '', evidence: ev(head.exitCode, head.output) };
  const [, tmp, size] = m as unknown as [string, string, string];
  try {
    const offsets: number[] = [];
    for (let o = 0; o < Number(size); o += CHUNK) offsets.push(o);
    const parts = await Promise.all(offsets.map((o) => host.run(`tail -c +${o + 1} -- ${tmp} | head -c ${CHUNK} | base64 -w0`, 10000)));
    const bad = parts.find((p) => p.exitCode !== 0);
    if (bad) return { ok: false, text: '', evidence: ev(bad.exitCode, bad.output) };
    const { gunzipSync } = await import('node:zlib');
    return { ok: true, text: gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.output.trim(), 'base64')))).toString('utf8'), evidence: ev(0, 'ok') };
  } catch (err) {
    return { ok: false, text: '', evidence: ev(1, (err as Error).message) };
  } finally {
    await host.run(`rm -f -- ${tmp}`, 5000);
  }
}

async function ftpLog(ctx: CheckContext): Promise<{ sessions: Session[]; evidence: Evidence }> {
  const r = await readLarge(ctx.node('ftp'), VSFTPD_LOG);
  return { sessions: r.ok ? parseVsftpdLog(r.text) : [], evidence: r.evidence };
}

/** One session as a short text: what it did, in which mode. */
export function describeSession(s: Session): string {
  const parts = s.transfers.map((t) => `${t.kind} ${t.path} ${t.ok ? '' : 'FAILED '}(${t.mode ?? '?'}${t.via ? `, ${t.via}` : ''})`);
  const cwd = s.cwds.length ? `cd ${s.cwds.join(', ')}; ` : '';
  return `[pid ${s.pid}] ${s.user ?? '-'} from ${s.client}: ${cwd}${parts.join('; ') || 'no transfer'}`;
}

// ---- the grader's own transfers ---------------------------------------------------------------

interface ProbeRun {
  mode: Mode;
  token: string;
  content: string;
  /** What curl printed (verbose). */
  evidence: Evidence;
  uploaded: boolean;
  downloaded: string;
  /** The 227 reply curl got, if any. */
  reply227?: string;
}

const CURL = `curl -sS --connect-timeout 3 -m 10 -u ${USER}:${PASSWORD}`;
const MODE_FLAGS: Record<Mode, string> = { passive: '--disable-epsv --no-ftp-skip-pasv-ip', active: '-P -' };

async function probeTransfer(host: Host, mode: Mode): Promise<ProbeRun> {
  const token = randomBytes(4).toString('hex');
  const content = `probe ${mode} ${randomBytes(6).toString('hex')}`;
  const base = `ftp://${FTP_PUBLIC}/${PROBE_DIR}/${token}`;
  const command = [
    `printf '%s\\n' ${q(content)} > /tmp/p-${token}.txt`,
    `${CURL} -v ${MODE_FLAGS[mode]} --ftp-create-dirs -T /tmp/p-${token}.txt ${base}/p.txt 2>&1 | tr -d '\\r' | grep -E '^(< [0-9]{3}|> [A-Z]|curl:)'`,
    'up=${PIPESTATUS[0]}',
    'echo "== upload exit $up"',
    `[ "$up" = 0 ] && ${CURL} ${MODE_FLAGS[mode]} ${base}/p.txt 2>&1 | sed 's/^/downloaded: /'`,
    'true',
  ].join('\n');
  const e = await host.run(command, 30000);
  const evidence = { ...e, command: `curl ${MODE_FLAGS[mode]} -T (upload) then download of ftp://${FTP_PUBLIC}/${PROBE_DIR}/${token}/p.txt` };
  return {
    mode,
    token,
    content,
    evidence,
    uploaded: /== upload exit 0/.test(e.output),
    downloaded: /^downloaded: (.*)$/m.exec(e.output)?.[1] ?? '',
    reply227: /^< (227 .*)$/m.exec(e.output)?.[1]?.trim(),
  };
}

interface Observation {
  passive: ProbeRun;
  active: ProbeRun;
  sessions: Session[];
  logEvidence: Evidence;
  /** What the ftp node holds for each probe's upload. */
  stored: Record<Mode, string>;
}

const cache = new WeakMap<CheckContext, Promise<Observation>>();

function observe(ctx: CheckContext): Promise<Observation> {
  let o = cache.get(ctx);
  if (!o) {
    o = (async () => {
      const probe = await ctx.probe('alice');
      const [passive, active] = await Promise.all([probeTransfer(probe, 'passive'), probeTransfer(probe, 'active')]);
      const ftp = ctx.node('ftp');
      const stored = await ftp.run(`for t in ${passive.token} ${active.token}; do echo "$t $(cat ${HOME_DIR}/${PROBE_DIR}/$t/p.txt 2>/dev/null)"; done; rm -rf ${HOME_DIR}/${PROBE_DIR}/${passive.token} ${HOME_DIR}/${PROBE_DIR}/${active.token}`, 5000);
      const line = (t: string) => new RegExp(`^${t} (.*)$`, 'm').exec(stored.output)?.[1]?.trim() ?? '';
      const log = await ftpLog(ctx);
      return { passive, active, sessions: log.sessions, logEvidence: log.evidence, stored: { passive: line(passive.token), active: line(active.token) } };
    })();
    cache.set(ctx, o);
  }
  return o;
}

/** The grader's own sessions for one probe: the ones that made or used its directory. */
function probeSessions(o: Observation, run: ProbeRun): Session[] {
  const dir = `/${PROBE_DIR}/${run.token}`;
  return o.sessions.filter((s) => s.cwds.includes(dir) || s.transfers.some((t) => t.path.startsWith(`${dir}/`)));
}

function farEnd(o: Observation, sessions: Session[], extra = ''): Evidence {
  return {
    where: 'ftp',
    command: `${VSFTPD_LOG} (vsftpd's protocol log), the grader's sessions${extra}`,
    exitCode: 0,
    output: sessions.length ? sessions.map((s) => `${describeSession(s)}${s.passiveReplies.length ? `\n    replies: ${s.passiveReplies.join(' | ')}` : ''}`).join('\n') : '(the file store never saw these sessions)',
  };
}

function transferCheck(mode: Mode): Check {
  const active = mode === 'active';
  return {
    id: `${mode}-transfer`,
    title: `${active ? 'Active' : 'Passive'} mode works from Alice's laptop: the grader's own upload and download`,
    points: 2,
    deadlineMs: 1500,
    hint: active
      ? `Try it yourself: curl -v -P - -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ . Your PORT command names 192.168.1.101, an address Bob cannot reach: something on the way must rewrite it. Which router translates Alice's address, and does it understand FTP? (iptables -t raw -S on that router)`
      : `Try it yourself, trusting the address in the reply: curl -v --disable-epsv --no-ftp-skip-pasv-ip -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ . Where does the 227 reply send you, and does a connection to that port get through Bob's edge (iptables -S FORWARD, iptables -t nat -S on the edge)?`,
    async run(ctx) {
      const o = await observe(ctx);
      const run = o[mode];
      const mine = probeSessions(o, run);
      const log = farEnd(o, mine);
      if (!run.uploaded) return fail(`the grader's ${mode} upload from Alice's side failed`, run.evidence, log);
      const up = mine.flatMap((s) => s.transfers).find((t) => t.kind === 'upload' && t.path === `/${PROBE_DIR}/${run.token}/p.txt` && t.ok);
      if (!up || o.stored[mode] !== run.content) return fail("curl reported success, but Bob's file store never received the file: something on Alice's side answered instead of Bob", run.evidence, log);
      if (up.mode !== mode) return fail(`the upload reached Bob in ${up.mode ?? 'an unknown'} mode, not ${mode}`, run.evidence, log);
      if (run.downloaded.trim() !== run.content) return fail(`the upload worked, but downloading it again in ${mode} mode did not`, run.evidence, log);
      return pass(`the grader uploaded and downloaded a file in ${mode} mode (${up.via}) through both NATs`, run.evidence, log);
    },
  };
}

// ---- the learner's own transfers --------------------------------------------------------------

/** Sessions from Alice's network that are the learner's own (not the grader's probes or script runs). */
function learnerSessions(sessions: Session[]): Session[] {
  return sessions.filter(
    (s) =>
      s.client === ALICE_PUBLIC &&
      s.user === USER &&
      !s.cwds.some((c) => c.startsWith(`/${PROBE_DIR}`)) &&
      !s.transfers.some((t) => t.path.startsWith(`/${PROBE_DIR}`) || TS_UPLOAD.test(t.path.split('/').pop() ?? '')),
  );
}

export interface CliProgress {
  cd: boolean;
  upload: boolean;
  list: boolean;
  download: boolean;
}

/** What the learner did in one mode, from the far end. */
export function cliProgress(sessions: Session[], v: FtpVars, mode: Mode): CliProgress {
  const mine = learnerSessions(sessions);
  const file = `${v.dir}/${mode === 'passive' ? v.passiveFile : v.activeFile}`;
  const transfers = mine.flatMap((s) => s.transfers).filter((t) => t.ok && t.mode === mode);
  return {
    cd: mine.some((s) => s.cwds.includes(v.dir)),
    upload: transfers.some((t) => t.kind === 'upload' && t.path === file),
    list: transfers.some((t) => t.kind === 'list' && t.path === v.dir),
    download: transfers.some((t) => t.kind === 'download' && t.path === v.outboxFile),
  };
}

function cliCheck(vars: Vars, mode: Mode): Check {
  const v = ftpVars(vars);
  const file = mode === 'passive' ? v.passiveFile : v.activeFile;
  return {
    id: `cli-${mode}`,
    title: `With a command-line client in ${mode} mode: cd into ${v.dir}, upload ${file}, list, download ${v.outboxFile}`,
    points: 2,
    deadlineMs: 1500,
    hint:
      mode === 'active'
        ? `curl uses active mode with -P - : curl -P - -u ${USER}:${PASSWORD} -T ${file} ftp://${FTP_NAME}${v.dir}/ (lftp: set ftp:passive-mode off). The grader reads Bob's FTP log: each transfer must follow a PORT or EPRT command.`
        : `curl is passive by default: curl -u ${USER}:${PASSWORD} --ftp-create-dirs -T ${file} ftp://${FTP_NAME}${v.dir}/ , then list ftp://${FTP_NAME}${v.dir}/ and fetch ftp://${FTP_NAME}${v.outboxFile}. The grader reads Bob's FTP log: each transfer must follow a PASV or EPSV command.`,
    async run(ctx) {
      const o = await observe(ctx);
      const p = cliProgress(o.sessions, v, mode);
      const content = await ctx.node('ftp').run(`cat -- ${q(`${HOME_DIR}${v.dir}/${file}`)}`, 5000);
      const mine = learnerSessions(o.sessions).filter((s) => s.cwds.includes(v.dir) || s.transfers.some((t) => t.mode === mode));
      const log: Evidence = { where: 'ftp', exitCode: 0, command: `${VSFTPD_LOG} (vsftpd's protocol log): your sessions from ${ALICE_PUBLIC} (the last 8)`, output: mine.length ? mine.slice(-8).map(describeSession).join('\n') : `(no session of yours from ${ALICE_PUBLIC} yet)` };
      const missing = [
        !p.cd && `change into ${v.dir}`,
        !p.upload && `upload ${file} into ${v.dir}`,
        !p.list && `list ${v.dir}`,
        !p.download && `download ${v.outboxFile}`,
      ].filter(Boolean) as string[];
      if (missing.length) return fail(`Bob's FTP log shows no ${mode}-mode ${missing.join(', ')} from Alice's network yet`, log);
      if (content.output.trim() !== v.uploadText) return fail(`${v.dir}/${file} on Bob's file store holds "${content.output.trim().slice(0, 80)}", not the text from your task card`, { ...content, where: 'ftp' }, log);
      return pass(`in ${mode} mode you changed into ${v.dir}, uploaded ${file}, listed the directory and downloaded ${v.outboxFile}`, log);
    },
  };
}

// ---- the TypeScript client --------------------------------------------------------------------

interface ScriptObservation {
  ok: boolean;
  reason: string;
  evidence: Evidence[];
}

const scriptCache = new WeakMap<CheckContext, Promise<ScriptObservation>>();

/** Runs the learner's TypeScript client from Alice's side and checks what reached Bob. */
function runClient(ctx: CheckContext, v: FtpVars): Promise<ScriptObservation> {
  let o = scriptCache.get(ctx);
  if (!o) {
    o = (async (): Promise<ScriptObservation> => {
      const src = await ctx.node('alice').run(`cat -- ${CLIENT_PATH}`, 5000);
      const srcEv: Evidence = { ...src, output: src.output.length > 3000 ? `${src.output.slice(0, 3000)}\n...` : src.output };
      if (src.exitCode !== 0) return { ok: false, reason: `there is no ${CLIENT_PATH} on Alice's laptop`, evidence: [srcEv] };
      if (!/from\s+['"]basic-ftp['"]|require\(\s*['"]basic-ftp['"]\s*\)/.test(src.output)) return { ok: false, reason: `${CLIENT_PATH} does not use basic-ftp`, evidence: [srcEv] };
      const js = await transpile(src.output);
      if (!js.ok) return { ok: false, reason: `${CLIENT_PATH} is not valid TypeScript: ${js.errors[0]}`, evidence: [{ ...srcEv, output: js.errors.join('\n') }] };
      const name = `ts-${randomBytes(4).toString('hex')}.txt`;
      const text = `sent by the TypeScript client ${randomBytes(5).toString('hex')}`;
      const env = { FTP_HOST: FTP_PUBLIC, FTP_USER: USER, FTP_PASSWORD: PASSWORD, FTP_DIR: v.dir, UPLOAD_NAME: name, UPLOAD_TEXT: text };
      const run = await runOnAliceNetwork(ctx.instance, js.js, env);
      const lines = run.output.split('\n');
      const runEv: Evidence = {
        where: 'node@alice',
        command: `node ftp-client.js (your ${CLIENT_PATH}, with basic-ftp, in Alice's network) FTP_DIR=${v.dir} UPLOAD_NAME=${name}`,
        exitCode: run.exitCode,
        output: lines.length > 60 ? [...lines.slice(0, 20), '...', ...lines.slice(-38)].join('\n') : run.output,
      };
      const [log, stored] = await Promise.all([ftpLog(ctx), ctx.node('ftp').run(`cat -- ${q(`${HOME_DIR}${v.dir}/${name}`)}`, 5000)]);
      const path = `${v.dir}/${name}`;
      const session = log.sessions.find((s) => s.transfers.some((t) => t.path === path));
      const far: Evidence = { where: 'ftp', command: `${VSFTPD_LOG}: the session that touched ${path}`, exitCode: 0, output: session ? describeSession(session) : `(no session touched ${path})` };
      if (run.exitCode === -1) {
        scriptCache.delete(ctx);
        return { ok: false, reason: 'the grader could not start Node.js next to Alice\'s laptop (not your fault): run the check again', evidence: [runEv] };
      }
      if (run.exitCode !== 0) return { ok: false, reason: `your client failed (exit code ${run.exitCode}): read its output`, evidence: [runEv, far] };
      if (!session) return { ok: false, reason: `your client ran, but Bob's file store saw nothing arrive as ${path}: do the TODOs (change into FTP_DIR, then upload)`, evidence: [runEv, far] };
      const t = session.transfers;
      const up = t.find((x) => x.kind === 'upload' && x.path === path && x.ok);
      if (!up || stored.output.trim() !== text) return { ok: false, reason: `${path} did not arrive with the text UPLOAD_TEXT`, evidence: [runEv, far] };
      if (session.client !== ALICE_PUBLIC) return { ok: false, reason: `the upload came from ${session.client}, not from Alice's network`, evidence: [runEv, far] };
      if (!session.cwds.includes(v.dir)) return { ok: false, reason: `your client did not change into ${v.dir} (ensureDir does)`, evidence: [runEv, far] };
      if (!t.some((x) => x.kind === 'list' && x.path === v.dir && x.ok)) return { ok: false, reason: `your client uploaded, but did not list ${v.dir}`, evidence: [runEv, far] };
      if (!t.some((x) => x.kind === 'download' && x.path === path && x.ok)) return { ok: false, reason: `your client did not download ${name} back`, evidence: [runEv, far] };
      if (!run.output.includes(text)) return { ok: false, reason: 'your client downloaded the file, but did not print its text', evidence: [runEv, far] };
      await ctx.node('ftp').run(`rm -f -- ${q(`${HOME_DIR}${path}`)}`, 5000);
      if (t.some((x) => x.mode !== 'passive')) return { ok: false, reason: 'a transfer of your client did not use passive mode', evidence: [runEv, far] };
      return { ok: true, reason: `your TypeScript client changed into ${v.dir}, uploaded ${name}, listed and downloaded it in passive mode (${up.via}) from Alice's side`, evidence: [runEv, far] };
    })();
    scriptCache.set(ctx, o);
  }
  return o;
}

// ---- checks -----------------------------------------------------------------------------------

/** What an answer to passive_fix names: the file store or the edge. */
export function fixNodeOf(answer: string): string {
  const a = normalizeAnswer(answer);
  const edgeWords = /edge|security group|firewall|dnat|iptables|\bsg\b/.test(a);
  const ftpWords = /\bftp\b|vsftpd|pasv_address|file store/.test(a);
  if (edgeWords === ftpWords) return a;
  return edgeWords ? 'edge' : 'ftp';
}

function checks(vars: Vars): Check[] {
  const v = ftpVars(vars);
  const publicCommas = FTP_PUBLIC.replace(/\./g, ',');
  return [
    {
      id: 'passive-reply',
      title: `Bob's file store names its public address (${FTP_PUBLIC}) in its PASV reply`,
      points: 1,
      deadlineMs: 1500,
      hint: `Look at the raw reply: curl -v --disable-epsv -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ 2>&1 | grep 227. The four first numbers are the address the client must connect to. Bob's server sits behind NAT: which address does it see for itself, and which one must it announce? (vsftpd: pasv_address in ${VSFTPD_CONF} on the ftp node)`,
      async run(ctx) {
        const o = await observe(ctx);
        const mine = probeSessions(o, o.passive);
        const replies = mine.flatMap((s) => s.passiveReplies).filter((r) => r.startsWith('227'));
        const log = farEnd(o, mine, ' (passive probe)');
        const said = o.passive.reply227;
        if (!said || !replies.length) return fail("the grader's PASV command got no 227 reply from Bob's file store", o.passive.evidence, log);
        const named = /\((\d+,\d+,\d+,\d+),\d+,\d+\)/.exec(replies[0] as string)?.[1];
        if (named !== publicCommas) return fail(`Bob's file store answers PASV with ${named?.replace(/,/g, '.') ?? 'no address'}, not ${FTP_PUBLIC}`, o.passive.evidence, log);
        return pass(`the 227 reply names ${FTP_PUBLIC}, as Bob's file store logged it`, o.passive.evidence, log);
      },
    },
    transferCheck('passive'),
    transferCheck('active'),
    cliCheck(vars, 'passive'),
    cliCheck(vars, 'active'),
    {
      id: 'ts-client',
      title: `Your TypeScript client (${CLIENT_PATH}, basic-ftp) works in passive mode from Alice's side`,
      points: 2,
      deadlineMs: 1500,
      hint: `Fill in the four TODOs in ${CLIENT_PATH} (nano ${CLIENT_PATH}); every check runs it and shows its output. basic-ftp: await client.ensureDir(dir), await client.uploadFrom(Readable.from([text]), name), await client.list(), await client.downloadTo(writable, name).`,
      async run(ctx) {
        const r = await runClient(ctx, v);
        return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
      },
    },
    answerCheck({
      id: 'answer-outbox-code',
      title: `answers.yaml: the code in ${v.outboxFile} (outbox_code)`,
      points: 1,
      key: 'outbox_code',
      hint: `Download ${v.outboxFile} and read it: curl -u ${USER}:${PASSWORD} ftp://${FTP_NAME}${v.outboxFile}`,
      async expected(ctx) {
        const e = await ctx.node('ftp').run(`sed -n 's/^code: //p' -- ${q(`${HOME_DIR}${v.outboxFile}`)}`, 5000);
        const code = e.output.trim();
        return { value: e.exitCode === 0 && code ? code : undefined, evidence: [] };
      },
    }),
    answerCheck({
      id: 'answer-passive-fix',
      title: 'answers.yaml: where passive mode was broken (passive_fix: ftp or edge)',
      points: 1,
      key: 'passive_fix',
      hint: 'Was the address in the 227 reply wrong (the server, ftp), or was the address right but the data connection blocked on the way in (Bob\'s edge)?',
      async expected() {
        return { value: PASSIVE_FIX_NODE[v.passiveFault], evidence: [] };
      },
      matches: (given, want) => fixNodeOf(given) === want,
    }),
  ];
}

export default defineLab({
  number: 11,
  slug: 'ftp',
  title: 'FTP: active and passive mode through NAT and a firewall',
  topics: ['FTP', 'active mode', 'passive mode', 'NAT', 'connection tracking helper', 'security group', 'curl', 'lftp', 'basic-ftp'],
  minutes: 45,
  goal: "Make Bob's file store work from Alice's laptop in both FTP modes: find why passive mode and active mode fail on the way through the NATs and firewalls, fix both, then transfer files with a command-line client in each mode and with a small TypeScript client.",
  submissionNodes: ['alice', 'home', 'edge', 'ftp'],
  questions: [
    { key: 'outbox_code', prompt: 'The code written in the file you downloaded from the outbox' },
    { key: 'passive_fix', prompt: 'Where passive mode was broken: ftp (the server) or edge (Bob\'s edge)' },
  ],
  vary,
  task(vars) {
    const v = ftpVars(vars);
    return {
      ftp_server: `${FTP_NAME} (user ${USER}, password ${PASSWORD})`,
      directory: v.dir,
      passive_upload: v.passiveFile,
      active_upload: v.activeFile,
      upload_text: v.uploadText,
      download: v.outboxFile,
      typescript_client: CLIENT_PATH,
      answers: '/root/answers.yaml with outbox_code, passive_fix',
    };
  },
  faults,
  checks,
});
