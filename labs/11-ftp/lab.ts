// Lab 11: FTP, active and passive, through NAT and a stateful firewall. Bob's file store (vsftpd on
// the ftp node, behind Bob's edge) starts broken twice over, differently per learner:
//   - passive mode fails: vsftpd advertises a wrong address in its PASV reply (its private address,
//     or an old public one), or Bob's edge no longer lets the passive data ports in (the security
//     group, or the DNAT, covers port 21 only);
//   - active mode fails through Alice's NAT: the home router's FTP connection-tracking helper is
//     gone or attached to the wrong traffic, so nobody rewrites Alice's PORT command.
// The learner finds and fixes both, then uploads, lists, changes directory and downloads with a
// command-line client in each mode, and completes a small FTP client that the lab puts on alice,
// in Python (ftplib, files/alice/root/ftp-client.py) or in TypeScript (basic-ftp, ftp-client.ts):
// the Python one is run once it is no longer the skeleton, else the TypeScript one.
//
// Graded from places alice cannot fake: the grader's own transfers in both modes from a fresh
// laptop the grader puts on Alice's home network (the fixes are the network's: the home router's
// helper, Bob's edge and server; nothing set on alice herself applies), confirmed at the far end
// (the file must land on the ftp node and vsftpd's protocol log must show the session, its
// PASV/PORT and its 227 reply, which must be the one the client received); the learner's own
// transfers, read from vsftpd's protocol log (which mode each transfer used, from which address,
// in which directory) and from the files on the ftp node, counted only while that mode works for
// the grader too (the ftp node is the learner's: a log can be written by hand); the learner's
// client, run by the grader with a clean python3 or Node.js in a sidecar that shares alice's network, with
// a file name and text that are new for every check. The outbox code is kept on web as well,
// where no submission reaches, so that rewriting the file on the ftp node gains nothing.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addressOf,
  bare,
  canonicalWorld,
  defineLab,
  draws,
  FILES,
  heredoc,
  nodeOf,
  writeFile,
  type Fault,
  type Rng,
  type World,
} from '../kit/index.js';
import { oncePerRun, readLarge, startScript } from '../kit/programs.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { formatIp, parseCidr, parseIp } from '../../orchestrator/world/addresses.js';
import { firewallCommands, natCommands } from '../../orchestrator/world/config.js';
import { fail, pass, type Check, type CheckContext, type Evidence, type Host } from '../../checks/types.js';
import { q } from '../../checks/probes.js';
import { answerCheck, answersEvidence, normalizeAnswer } from '../../checks/answers.js';
import { parseVsftpdLog, type Mode, type Session } from './ftplog.js';
import { runOnAliceNetwork, runPythonOnAliceNetwork, transpile } from './node-runner.js';

// ---- facts from the lab's world ---------------------------------------------------------------

export const FTP_NAME = 'ftp.bob.example';
export const USER = 'bob';
export const PASSWORD = 'bobpass';
const HOME_DIR = '/home/bob';
const PROBE_DIR = '.hurrynet-probe';
/** Where the lab's files put the unfinished TypeScript client on alice (files/alice/...). */
export const CLIENT_PATH = '/root/ftp-client.ts';
/** Where the lab's files put the unfinished Python client (ftplib) next to it. */
export const PY_CLIENT_PATH = '/root/ftp-client.py';
/** Names the grader gives the uploads of the learner's client (so its sessions are told apart). */
export const CLIENT_UPLOAD = /^(ts|py)-[0-9a-f]{8}\.txt$/;

/** Bob's file store in this lab's world, and the canonical rules the lab breaks, as the world renders them. */
export interface FtpWorld {
  /** The file store's public address (ftp.bob.example, on Bob's edge) and its own. */
  ftpPublic: string;
  ftpPrivate: string;
  /** What Bob's server sees as the client: the home router's public address. */
  alicePublic: string;
  edgeFtpDnat: string;
  edgeFtpAllow: string;
  /** The allow rule's position in the edge's FORWARD chain (1-based). */
  edgeFtpAllowPos: number;
  homeHelper: string;
}

export function ftpWorld(world: World): FtpWorld {
  const home = nodeOf(world, 'home');
  const edge = nodeOf(world, 'edge');
  const ftpPublic = world.settings.zones
    .find((z) => z.name === 'bob.example')
    ?.records.find((r) => r.name === 'ftp' && r.type === 'A')?.value;
  const ftpPrivate = addressOf(world, 'ftp');
  const sgRules = edge.firewall ? firewallCommands(edge.firewall) : [];
  const edgeFtpDnat = edge.nat && natCommands(edge.nat).find((c) => c.includes(`--to-destination ${ftpPrivate}`));
  const edgeFtpAllow = sgRules.find((c) => c.includes(`-d ${ftpPrivate} `));
  const homeHelper = home.nat && natCommands(home.nat).find((c) => c.includes('--helper ftp'));
  if (!ftpPublic || !edgeFtpDnat || !edgeFtpAllow || !homeHelper)
    throw new Error('lab 11: the world lacks ftp.bob.example or the FTP rules the lab breaks');
  return {
    ftpPublic,
    ftpPrivate,
    alicePublic: addressOf(world, 'home', 'access'),
    edgeFtpDnat,
    edgeFtpAllow,
    edgeFtpAllowPos: sgRules.indexOf(edgeFtpAllow) + 1,
    homeHelper,
  };
}

// ---- variation --------------------------------------------------------------------------------

export const PASSIVE_FAULTS = ['pasv-private', 'pasv-old', 'sg-range', 'dnat-range'] as const;
export const ACTIVE_FAULTS = ['helper-missing', 'helper-port', 'helper-iface'] as const;
export type PassiveFault = (typeof PASSIVE_FAULTS)[number];
export type ActiveFault = (typeof ACTIVE_FAULTS)[number];
/** Which node the passive fault is on, which is also the answer to passive_fix. */
export const PASSIVE_FIX_NODE: Record<PassiveFault, 'ftp' | 'edge'> = {
  'pasv-private': 'ftp',
  'pasv-old': 'ftp',
  'sg-range': 'edge',
  'dnat-range': 'edge',
};

export const WORDS = [
  'album',
  'backup',
  'drafts',
  'invoices',
  'mixtape',
  'photos',
  'recipes',
  'slides',
  'thesis',
  'travel',
];
export const OUTBOX = ['order', 'ticket', 'receipt', 'voucher', 'parcel', 'booking'];

/** Backbone addresses no node uses and that are not Bob's public address: a plausible "old" one. */
export function oldAddresses(world: World): string[] {
  const used = new Set(world.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map(bare))));
  const backbone = world.links.find((l) => l.name === 'backbone')?.prefix as string;
  const { address } = parseCidr(backbone);
  const { ftpPublic } = ftpWorld(world);
  const out: string[] = [];
  for (let x = 70; x <= 99; x++) {
    const a = formatIp(parseIp(address) + x);
    if (!used.has(a) && a !== ftpPublic) out.push(a);
  }
  return out;
}

export type FtpVars = {
  passiveFault: PassiveFault;
  activeFault: ActiveFault;
  oldAddress: string;
  dir: string;
  passiveFile: string;
  activeFile: string;
  uploadText: string;
  outboxFile: string;
};

const token = (r: Rng) => Array.from({ length: 4 }, () => 'abcdefghjkmnpqrstuvwxyz'[r.int(0, 22)]).join('');

// The lab has no overlay: the old address is drawn from the canonical world, the one every learner's world is.
const vary = draws<FtpVars>({
  passiveFault: (r) => r.pick(PASSIVE_FAULTS),
  activeFault: (r) => r.pick(ACTIVE_FAULTS),
  oldAddress: (r) => r.pick(oldAddresses(canonicalWorld)),
  dir: (r) => `/${r.pick(WORDS)}-${r.int(10, 99)}`,
  passiveFile: (r) => `passive-${token(r)}.txt`,
  // Both uploads share their token, so the task card's two names read as a pair.
  activeFile: (_r, d) => (d.passiveFile ?? '').replace(/^passive-/, 'active-'),
  uploadText: (r) => `ticket ${r.int(1000, 9999)} from alice`,
  outboxFile: (r) => `/outbox/${r.pick(OUTBOX)}-${r.int(100, 999)}.txt`,
});

// ---- faults -----------------------------------------------------------------------------------

/** vsftpd restarted with its changed configuration, done when it listens again. */
const RESTART_VSFTPD = startScript({
  stop: 'kill $(pidof vsftpd)',
  start: '/usr/local/lib/hurrynet/services/vsftpd start',
  listens: [{ proto: 'tcp', port: 21 }],
});

/** Bob's own record of the outbox code, on web: no submission of this lab reaches that node. */
export const CODE_RECORD = '/var/lib/hurrynet-lab11/outbox-code';

function faults(v: FtpVars, world: World): Fault[] {
  const w = ftpWorld(world);
  // The code in the file Alice must fetch is new for every start of the lab (a word first, so that
  // YAML never reads it as a number).
  const code = `bob-${randomBytes(4).toString('hex')}`;
  const outbox = `${HOME_DIR}${v.outboxFile}`;
  const name = v.outboxFile.replace(/^\/outbox\//, '').replace(/\.txt$/, '');
  const list: Fault[] = [
    {
      node: 'ftp',
      description: 'the file to fetch',
      script: [
        `install -d -o ${USER} -g ${USER} ${HOME_DIR}/outbox`,
        heredoc(outbox, `${name} for alice, from bob\ncode: ${code}\n`),
        `chown ${USER}:${USER} ${outbox}`,
      ].join('\n'),
    },
    writeFile('web', CODE_RECORD, code, "Bob's record of the outbox code"),
  ];
  const pasv = `vsftpd advertises the wrong address in passive mode (${v.passiveFault})`;
  if (v.passiveFault === 'pasv-private')
    list.push({
      node: 'ftp',
      description: pasv,
      script: `sed -i '/^pasv_address=/d' ${FILES.vsftpdConf}\n${RESTART_VSFTPD}`,
    });
  if (v.passiveFault === 'pasv-old')
    list.push({
      node: 'ftp',
      description: pasv,
      script: `sed -i 's/^pasv_address=.*/pasv_address=${v.oldAddress}/' ${FILES.vsftpdConf}\n${RESTART_VSFTPD}`,
    });
  if (v.passiveFault === 'sg-range') {
    list.push({
      node: 'edge',
      description: "Bob's security group lets only the control port (21) in to the file store",
      script: [
        w.edgeFtpAllow.replace(' -A ', ' -D '),
        w.edgeFtpAllow
          .replace(' -A FORWARD ', ` -I FORWARD ${w.edgeFtpAllowPos} `)
          .replace(/ -m multiport --dports \S+/, ' --dport 21'),
      ].join('\n'),
    });
  }
  if (v.passiveFault === 'dnat-range') {
    list.push({
      node: 'edge',
      description: "Bob's edge forwards only the control port (21) to the file store",
      script: [
        w.edgeFtpDnat.replace(' -A ', ' -D '),
        w.edgeFtpDnat
          .replace(' -A PREROUTING ', ' -I PREROUTING 1 ')
          .replace(/ -m multiport --dports \S+/, ' --dport 21'),
      ].join('\n'),
    });
  }
  const helper = [w.homeHelper.replace(' -A ', ' -D ')];
  if (v.activeFault === 'helper-port') helper.push(w.homeHelper.replace('--dport 21', '--dport 2121'));
  if (v.activeFault === 'helper-iface') helper.push(w.homeHelper.replace(/ -i \S+/, ' -i access'));
  list.push({
    node: 'home',
    description: `the home router's FTP helper is broken (${v.activeFault})`,
    script: helper.join('\n'),
  });
  return list;
}

// ---- reading the far end ----------------------------------------------------------------------

async function ftpLog(ctx: CheckContext): Promise<{ sessions: Session[]; evidence: Evidence }> {
  const r = await readLarge(ctx.node('ftp'), FILES.vsftpdLog);
  return { sessions: r.ok ? parseVsftpdLog(r.text) : [], evidence: r.evidence };
}

/** One session as a short text: what it did, in which mode. */
export function describeSession(s: Session): string {
  const parts = s.transfers.map(
    (t) => `${t.kind} ${t.path} ${t.ok ? '' : 'FAILED '}(${t.mode ?? '?'}${t.via ? `, ${t.via}` : ''})`,
  );
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

/** Where the grader's own transfers run from: a fresh laptop on Alice's home network. */
export const CLIENT_LINK = 'lan';

/**
 * curl with time limits that stretch with the machine's load (vsftpd's login alone takes seconds on
 * a busy machine), and stay below the grader's own limit for the whole probe.
 */
const curlFor = (scale: number) =>
  `curl -sS --connect-timeout ${Math.ceil(4 * scale)} -m ${Math.ceil(10 * scale)} -u ${USER}:${PASSWORD}`;
const MODE_FLAGS: Record<Mode, string> = { passive: '--disable-epsv --no-ftp-skip-pasv-ip', active: '-P -' };

async function probeTransfer(host: Host, w: FtpWorld, mode: Mode, scale: number): Promise<ProbeRun> {
  const CURL = curlFor(scale);
  const token = randomBytes(4).toString('hex');
  const content = `probe ${mode} ${randomBytes(6).toString('hex')}`;
  const base = `ftp://${w.ftpPublic}/${PROBE_DIR}/${token}`;
  const command = [
    `printf '%s\\n' ${q(content)} > /tmp/p-${token}.txt`,
    `${CURL} -v ${MODE_FLAGS[mode]} --ftp-create-dirs -T /tmp/p-${token}.txt ${base}/p.txt 2>&1 | tr -d '\\r' | grep -E '^(< [0-9]{3}|> [A-Z]|curl:)'`,
    'up=${PIPESTATUS[0]}',
    'echo "== upload exit $up"',
    `[ "$up" = 0 ] && ${CURL} ${MODE_FLAGS[mode]} ${base}/p.txt 2>&1 | sed 's/^/downloaded: /'`,
    'true',
  ].join('\n');
  const e = await host.run(command, 30000);
  const evidence = {
    ...e,
    command: `curl ${MODE_FLAGS[mode]} -T (upload) then download of ftp://${w.ftpPublic}/${PROBE_DIR}/${token}/p.txt`,
  };
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

/** The grader's transfers in both modes and Bob's log of them, once per grading run (a probe that could not start is tried again). */
function transferReader(w: FtpWorld): (ctx: CheckContext) => Promise<Observation> {
  return oncePerRun(async (ctx) => {
    // A fresh laptop on Alice's LAN: the same home router and NATs as alice, none of her settings.
    const probe = await ctx.fresh(CLIENT_LINK);
    const [passive, active] = await Promise.all([
      probeTransfer(probe, w, 'passive', ctx.timeScale),
      probeTransfer(probe, w, 'active', ctx.timeScale),
    ]);
    const ftp = ctx.node('ftp');
    const stored = await ftp.run(
      `for t in ${passive.token} ${active.token}; do echo "$t $(cat ${HOME_DIR}/${PROBE_DIR}/$t/p.txt 2>/dev/null)"; done; rm -rf ${HOME_DIR}/${PROBE_DIR}/${passive.token} ${HOME_DIR}/${PROBE_DIR}/${active.token}`,
      5000,
    );
    const line = (t: string) => new RegExp(`^${t} (.*)$`, 'm').exec(stored.output)?.[1]?.trim() ?? '';
    const log = await ftpLog(ctx);
    return {
      passive,
      active,
      sessions: log.sessions,
      logEvidence: log.evidence,
      stored: { passive: line(passive.token), active: line(active.token) },
    };
  });
}

/** What every check of one grading run shares: the world's facts and one reading of each kind. */
interface Grading {
  w: FtpWorld;
  observe(ctx: CheckContext): Promise<Observation>;
  runClient(ctx: CheckContext): Promise<ScriptObservation>;
}

/** The grader's own sessions for one probe: the ones that made or used its directory. */
function probeSessions(o: Observation, run: ProbeRun): Session[] {
  const dir = `/${PROBE_DIR}/${run.token}`;
  return o.sessions.filter((s) => s.cwds.includes(dir) || s.transfers.some((t) => t.path.startsWith(`${dir}/`)));
}

function farEnd(o: Observation, sessions: Session[], extra = ''): Evidence {
  return {
    where: 'ftp',
    command: `${FILES.vsftpdLog} (vsftpd's protocol log), the grader's sessions${extra}`,
    exitCode: 0,
    output: sessions.length
      ? sessions
          .map(
            (s) =>
              `${describeSession(s)}${s.passiveReplies.length ? `\n    replies: ${s.passiveReplies.join(' | ')}` : ''}`,
          )
          .join('\n')
      : '(the file store never saw these sessions)',
  };
}

/** Whether the grader's own transfer in one mode worked, confirmed at Bob's end. */
function transferVerdict(o: Observation, mode: Mode): { ok: boolean; reason: string; evidence: Evidence[] } {
  const run = o[mode];
  const mine = probeSessions(o, run);
  const log = farEnd(o, mine);
  const no = (reason: string) => ({ ok: false, reason, evidence: [run.evidence, log] });
  if (!run.uploaded) return no(`the grader's ${mode} upload from a fresh laptop on Alice's network failed`);
  const up = mine
    .flatMap((s) => s.transfers)
    .find((t) => t.kind === 'upload' && t.path === `/${PROBE_DIR}/${run.token}/p.txt` && t.ok);
  if (!up || o.stored[mode] !== run.content)
    return no(
      "curl reported success, but Bob's file store never received the file: something on the way answered instead of Bob",
    );
  if (up.mode !== mode) return no(`the upload reached Bob in ${up.mode ?? 'an unknown'} mode, not ${mode}`);
  if (run.downloaded.trim() !== run.content)
    return no(`the upload worked, but downloading it again in ${mode} mode did not`);
  return {
    ok: true,
    reason: `the grader uploaded and downloaded a file in ${mode} mode (${up.via}) from a fresh laptop on Alice's network, through both NATs`,
    evidence: [run.evidence, log],
  };
}

function transferCheck(g: Grading, mode: Mode): Check {
  const active = mode === 'active';
  return {
    id: `${mode}-transfer`,
    title: `${active ? 'Active' : 'Passive'} mode works from Alice's network: the grader's own upload and download, from a fresh laptop on her LAN`,
    points: 2,
    deadlineMs: 1500,
    hint: active
      ? [
          "In active mode Alice's PORT command carries her own address, 192.168.1.101, which Bob cannot reach. Which router translates Alice's address, and does it understand FTP well enough to rewrite that command?",
          `Watch it: curl -v -P - --disable-eprt -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ ("500 Illegal PORT command" is Bob refusing the address). On the home router, iptables -t raw -S PREROUTING shows the connection-tracking helpers and which traffic they are attached to (ip -br addr names its interfaces).`,
          'On the home router, attach the FTP helper to FTP control connections from the LAN: iptables -t raw -A PREROUTING -i lan -p tcp --dport 21 -j CT --helper ftp (and delete a helper rule on the wrong interface or port with -D).',
        ]
      : [
          "In passive mode Alice connects to the address and port in Bob's 227 reply. Is that Bob's public address, and does a connection to that port get through Bob's edge to the file store?",
          `Trust the reply as older clients do: curl -v --disable-epsv --no-ftp-skip-pasv-ip -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ . On the ftp node, grep ^pasv ${FILES.vsftpdConf}; on the edge, iptables -t nat -S PREROUTING and iptables -S FORWARD.`,
          `Either set pasv_address=${g.w.ftpPublic} in ${FILES.vsftpdConf} on the ftp node and restart vsftpd, or make the edge's DNAT and security group cover the passive ports as well as 21 (-m multiport --dports 21,30000:30009): whichever is broken.`,
        ],
    async run(ctx) {
      const r = transferVerdict(await g.observe(ctx), mode);
      return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
    },
  };
}

// ---- the learner's own transfers --------------------------------------------------------------

/** Sessions from Alice's network that are the learner's own (not the grader's probes or script runs). */
function learnerSessions(sessions: Session[], w: FtpWorld): Session[] {
  return sessions.filter(
    (s) =>
      s.client === w.alicePublic &&
      s.user === USER &&
      !s.cwds.some((c) => c.startsWith(`/${PROBE_DIR}`)) &&
      !s.transfers.some((t) => t.path.startsWith(`/${PROBE_DIR}`) || CLIENT_UPLOAD.test(t.path.split('/').pop() ?? '')),
  );
}

export interface CliProgress {
  cd: boolean;
  upload: boolean;
  list: boolean;
  download: boolean;
}

/** What the learner did in one mode, from the far end. */
export function cliProgress(sessions: Session[], v: FtpVars, mode: Mode, w: FtpWorld): CliProgress {
  const mine = learnerSessions(sessions, w);
  const file = `${v.dir}/${mode === 'passive' ? v.passiveFile : v.activeFile}`;
  const transfers = mine.flatMap((s) => s.transfers).filter((t) => t.ok && t.mode === mode);
  return {
    cd: mine.some((s) => s.cwds.includes(v.dir)),
    upload: transfers.some((t) => t.kind === 'upload' && t.path === file),
    list: transfers.some((t) => t.kind === 'list' && t.path === v.dir),
    download: transfers.some((t) => t.kind === 'download' && t.path === v.outboxFile),
  };
}

function cliCheck(g: Grading, v: FtpVars, mode: Mode): Check {
  const file = mode === 'passive' ? v.passiveFile : v.activeFile;
  return {
    id: `cli-${mode}`,
    title: `With a command-line client in ${mode} mode: cd into ${v.dir}, upload ${file}, list, download ${v.outboxFile}`,
    points: 2,
    deadlineMs: 1500,
    hint: [
      `Bob's FTP log, from Alice's network, in ${mode} mode: a change into ${v.dir}, the upload of ${file} with your upload_text, a listing of ${v.dir}, the download of ${v.outboxFile}. Which of the four is missing? The mode must also work now (the ${mode}-transfer check).`,
      `${FILES.vsftpdLog} on the ftp node shows each of your commands; a transfer counts in ${mode} mode when it follows ${mode === 'active' ? 'a PORT or EPRT' : 'a PASV or EPSV'} command. curl -v shows what you sent (curl is passive by default, active with -P -; lftp: set ftp:passive-mode ${mode === 'active' ? 'off' : 'on'}).`,
      `From alice: printf '%s\\n' "<your upload_text>" > ${file}; curl ${mode === 'active' ? '-P - ' : ''}-u ${USER}:${PASSWORD} --ftp-create-dirs -T ${file} ftp://${FTP_NAME}${v.dir}/ ; curl ${mode === 'active' ? '-P - ' : ''}-u ${USER}:${PASSWORD} ftp://${FTP_NAME}${v.dir}/ ; curl ${mode === 'active' ? '-P - ' : ''}-u ${USER}:${PASSWORD} -O ftp://${FTP_NAME}${v.outboxFile}`,
    ],
    async run(ctx) {
      const o = await g.observe(ctx);
      const p = cliProgress(o.sessions, v, mode, g.w);
      const content = await ctx.node('ftp').run(`cat -- ${q(`${HOME_DIR}${v.dir}/${file}`)}`, 5000);
      const mine = learnerSessions(o.sessions, g.w).filter(
        (s) => s.cwds.includes(v.dir) || s.transfers.some((t) => t.mode === mode),
      );
      const log: Evidence = {
        where: 'ftp',
        exitCode: 0,
        command: `${FILES.vsftpdLog} (vsftpd's protocol log): your sessions from ${g.w.alicePublic} (the last 8)`,
        output: mine.length
          ? mine.slice(-8).map(describeSession).join('\n')
          : `(no session of yours from ${g.w.alicePublic} yet)`,
      };
      const missing = [
        !p.cd && `change into ${v.dir}`,
        !p.upload && `upload ${file} into ${v.dir}`,
        !p.list && `list ${v.dir}`,
        !p.download && `download ${v.outboxFile}`,
      ].filter(Boolean) as string[];
      if (missing.length)
        return fail(`Bob's FTP log shows no ${mode}-mode ${missing.join(', ')} from Alice's network yet`, log);
      if (content.output.trim() !== v.uploadText)
        return fail(
          `${v.dir}/${file} on Bob's file store holds "${content.output.trim().slice(0, 80)}", not the text from your task card`,
          { ...content, where: 'ftp' },
          log,
        );
      // The log lives on a node the learner may change: sessions count only while the mode really works.
      const now = transferVerdict(o, mode);
      if (!now.ok)
        return fail(
          `Bob's FTP log shows your ${mode}-mode session, but ${mode} mode does not work from Alice's network now (${now.reason}): fix it, then run your transfers again`,
          log,
          ...now.evidence,
        );
      return pass(
        `in ${mode} mode you changed into ${v.dir}, uploaded ${file}, listed the directory and downloaded ${v.outboxFile}`,
        log,
      );
    },
  };
}

// ---- the TypeScript client --------------------------------------------------------------------

interface ScriptObservation {
  ok: boolean;
  reason: string;
  evidence: Evidence[];
  /** The grader could not run the client at all: the next attempt runs it again. */
  retry?: boolean;
}

/** The lab's Python skeleton (files/alice/root/ftp-client.py), to tell an untouched one from the learner's. */
let pythonSkeleton: string | undefined;
function skeletonText(): string {
  const folder = basename(dirname(fileURLToPath(import.meta.url)));
  pythonSkeleton ??= readFileSync(join(projectRoot(), 'labs', folder, 'files', 'alice', PY_CLIENT_PATH), 'utf8');
  return pythonSkeleton;
}

/** The same text but for trailing blanks and blank lines at the end. */
const sameText = (a: string, b: string) => {
  const norm = (x: string) =>
    x
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .join('\n')
      .trim();
  return norm(a) === norm(b);
};

/** Which client the grader runs: the Python one once it is no longer the lab's skeleton, else the TypeScript one. */
export function chosenClient(python: string | undefined, skeleton: string): 'python' | 'typescript' {
  return python !== undefined && !sameText(python, skeleton) ? 'python' : 'typescript';
}

/** What differs between the two clients, for the evidence and the reasons. */
const CLIENTS = {
  typescript: {
    path: CLIENT_PATH,
    language: 'TypeScript',
    library: 'basic-ftp',
    prefix: 'ts',
    uses: /from\s+['"]basic-ftp['"]|require\(\s*['"]basic-ftp['"]\s*\)/,
    cwd: 'client.ensureDir does',
  },
  python: {
    path: PY_CLIENT_PATH,
    language: 'Python',
    library: 'ftplib',
    prefix: 'py',
    uses: /^\s*(import\s+ftplib\b|from\s+ftplib\s+import\b)/m,
    cwd: 'ftp.cwd does, after ftp.mkd when it is missing',
  },
} as const;

/** Runs the learner's FTP client (Python or TypeScript) from Alice's side, once per grading run, and checks what reached Bob. */
function clientRunner(w: FtpWorld, v: FtpVars): (ctx: CheckContext) => Promise<ScriptObservation> {
  return oncePerRun(
    async (ctx): Promise<ScriptObservation> => {
      const alice = ctx.node('alice');
      const py = await alice.run(`cat -- ${PY_CLIENT_PATH}`, 5000);
      const kind = chosenClient(py.exitCode === 0 ? py.output : undefined, skeletonText());
      const c = CLIENTS[kind];
      const why =
        kind === 'python'
          ? `${PY_CLIENT_PATH} is no longer the lab's skeleton, so the grader runs it`
          : `${PY_CLIENT_PATH} is ${py.exitCode === 0 ? "still the lab's skeleton" : 'not there'}, so the grader runs ${CLIENT_PATH}`;
      const src = kind === 'python' ? py : await alice.run(`cat -- ${CLIENT_PATH}`, 5000);
      const srcEv: Evidence = {
        ...src,
        command: `${src.command}   (${why})`,
        output: src.output.length > 3000 ? `${src.output.slice(0, 3000)}\n...` : src.output,
      };
      if (src.exitCode !== 0)
        return { ok: false, reason: `there is no ${c.path} on Alice's laptop`, evidence: [srcEv] };
      if (!c.uses.test(src.output))
        return { ok: false, reason: `${c.path} does not use ${c.library}`, evidence: [srcEv] };
      const name = `${c.prefix}-${randomBytes(4).toString('hex')}.txt`;
      const text = `sent by the ${c.language} client ${randomBytes(5).toString('hex')}`;
      const env = {
        FTP_HOST: w.ftpPublic,
        FTP_USER: USER,
        FTP_PASSWORD: PASSWORD,
        FTP_DIR: v.dir,
        UPLOAD_NAME: name,
        UPLOAD_TEXT: text,
      };
      let run: { exitCode: number; output: string };
      if (kind === 'python') {
        const r = await runPythonOnAliceNetwork(ctx.instance, src.output, env);
        if (r.syntax)
          return {
            ok: false,
            reason: `${c.path} is not valid Python: ${r.syntax.split('\n')[0]}`,
            evidence: [{ ...srcEv, output: r.syntax }],
          };
        run = r;
      } else {
        const js = await transpile(src.output);
        if (!js.ok)
          return {
            ok: false,
            reason: `${c.path} is not valid TypeScript: ${js.errors[0]}`,
            evidence: [{ ...srcEv, output: js.errors.join('\n') }],
          };
        run = await runOnAliceNetwork(ctx.instance, js.js, env);
      }
      const lines = run.output.split('\n');
      const runEv: Evidence = {
        where: kind === 'python' ? 'python@alice' : 'node@alice',
        command: `${
          kind === 'python'
            ? `python3 ftp-client.py (your ${c.path}, with a clean python3 in Alice's network)`
            : `node ftp-client.js (your ${c.path}, with basic-ftp, in Alice's network)`
        } FTP_DIR=${v.dir} UPLOAD_NAME=${name}   [${why}]`,
        exitCode: run.exitCode,
        output: lines.length > 60 ? [...lines.slice(0, 20), '...', ...lines.slice(-38)].join('\n') : run.output,
      };
      const [log, stored] = await Promise.all([
        ftpLog(ctx),
        ctx.node('ftp').run(`cat -- ${q(`${HOME_DIR}${v.dir}/${name}`)}`, 5000),
      ]);
      const path = `${v.dir}/${name}`;
      const session = log.sessions.find((s) => s.transfers.some((t) => t.path === path));
      const far: Evidence = {
        where: 'ftp',
        command: `${FILES.vsftpdLog}: the session that touched ${path}`,
        exitCode: 0,
        output: session ? describeSession(session) : `(no session touched ${path})`,
      };
      const no = (reason: string, ...evidence: Evidence[]): ScriptObservation => ({
        ok: false,
        reason,
        evidence: evidence.length ? evidence : [runEv, far],
      });
      if (run.exitCode === -1)
        return {
          ok: false,
          retry: true,
          reason: `the grader could not start ${kind === 'python' ? 'Python' : 'Node.js'} next to Alice's laptop (not your fault): run the check again`,
          evidence: [runEv],
        };
      if (run.exitCode !== 0) return no(`your client failed (exit code ${run.exitCode}): read its output`);
      if (!session)
        return no(
          `your client ran, but Bob's file store saw nothing arrive as ${path}: do the TODOs (change into FTP_DIR, then upload)`,
        );
      const t = session.transfers;
      const up = t.find((x) => x.kind === 'upload' && x.path === path && x.ok);
      if (!up || stored.output.trim() !== text) return no(`${path} did not arrive with the text UPLOAD_TEXT`);
      if (session.client !== w.alicePublic)
        return no(`the upload came from ${session.client}, not from Alice's network`);
      if (!session.cwds.includes(v.dir)) return no(`your client did not change into ${v.dir} (${c.cwd})`);
      if (!t.some((x) => x.kind === 'list' && x.path === v.dir && x.ok))
        return no(`your client uploaded, but did not list ${v.dir}`);
      if (!t.some((x) => x.kind === 'download' && x.path === path && x.ok))
        return no(`your client did not download ${name} back`);
      if (!run.output.includes(text)) return no('your client downloaded the file, but did not print its text');
      await ctx.node('ftp').run(`rm -f -- ${q(`${HOME_DIR}${path}`)}`, 5000);
      if (t.some((x) => x.mode !== 'passive')) return no('a transfer of your client did not use passive mode');
      return {
        ok: true,
        reason: `your ${c.language} client (${c.library}) changed into ${v.dir}, uploaded ${name}, listed and downloaded it in passive mode (${up.via}) from Alice's side`,
        evidence: [runEv, far],
      };
    },
    (o) => !o.retry,
  );
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

const passiveReplyCheck = (g: Grading): Check => ({
  id: 'passive-reply',
  title: `Bob's file store names its public address (${g.w.ftpPublic}) in its PASV reply`,
  points: 1,
  deadlineMs: 1500,
  hint: [
    "The address inside Bob's 227 reply (its first four numbers) against the address the world reaches Bob's file store at. Bob's server sits behind his edge's NAT: which address does it know itself by, and which must it announce?",
    `curl -v --disable-epsv -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ 2>&1 | grep 227 shows the reply; on the ftp node, grep ^pasv ${FILES.vsftpdConf} shows what vsftpd is told to announce, and ${FILES.vsftpdLog} what it said.`,
    `On the ftp node: set pasv_address=${g.w.ftpPublic} in ${FILES.vsftpdConf} (one line, no other pasv_address), then restart vsftpd: kill $(pidof vsftpd); vsftpd ${FILES.vsftpdConf}`,
  ],
  async run(ctx) {
    const pub = g.w.ftpPublic;
    const publicCommas = pub.replace(/\./g, ',');
    const o = await g.observe(ctx);
    const mine = probeSessions(o, o.passive);
    const replies = mine.flatMap((s) => s.passiveReplies).filter((r) => r.startsWith('227'));
    const log = farEnd(o, mine, ' (passive probe)');
    const said = o.passive.reply227;
    if (!said || !replies.length)
      return fail("the grader's PASV command got no 227 reply from Bob's file store", o.passive.evidence, log);
    const addressIn = (reply: string) => /\((\d+,\d+,\d+,\d+),\d+,\d+\)/.exec(reply)?.[1];
    const named = addressIn(replies[0] as string);
    const heard = addressIn(said);
    const dotted = (a?: string) => a?.replace(/,/g, '.') ?? 'no address';
    // What vsftpd said (its log) and what reached the client must both be the public address:
    // an FTP helper on the way can rewrite the reply, which is not the server announcing it.
    if (named !== publicCommas && heard === publicCommas) {
      return fail(
        `Bob's file store announced ${dotted(named)} in its 227 reply (its log says so), but the reply reached Alice's side naming ${pub}: something on the way rewrote it (an FTP helper on Bob's edge?). The server itself must announce ${pub}`,
        o.passive.evidence,
        log,
      );
    }
    if (named !== publicCommas)
      return fail(`Bob's file store answers PASV with ${dotted(named)}, not ${pub}`, o.passive.evidence, log);
    if (heard !== publicCommas)
      return fail(
        `Bob's file store announced ${pub}, but the 227 reply reached Alice's side naming ${dotted(heard)}: something on the way rewrote it`,
        o.passive.evidence,
        log,
      );
    return pass(
      `the 227 reply names ${pub}, as Bob's file store logged it and as it reached Alice's network`,
      o.passive.evidence,
      log,
    );
  },
});

const clientCheck = (g: Grading): Check => ({
  id: 'client',
  title: `Your FTP client (${PY_CLIENT_PATH} with ftplib, or ${CLIENT_PATH} with basic-ftp) works in passive mode from Alice's side`,
  points: 2,
  deadlineMs: 1500,
  hint: [
    `Your own client, as the grader runs it from Alice's network: ${PY_CLIENT_PATH} once it is no longer the lab's skeleton, else ${CLIENT_PATH}. Which of its four steps (change directory, upload, list, download) reached Bob's file store?`,
    `The check's evidence shows what your client printed (every FTP command and reply) and what Bob's ${FILES.vsftpdLog} saw of it. You can run the Python one yourself on alice: FTP_HOST=${FTP_NAME} FTP_USER=${USER} FTP_PASSWORD=${PASSWORD} FTP_DIR=<your directory> UPLOAD_NAME=try.txt UPLOAD_TEXT=hello python3 ${PY_CLIENT_PATH}`,
    `Fill in the four TODOs. ftplib: try ftp.cwd(d) except error_perm: ftp.mkd(d); ftp.cwd(d); ftp.storbinary(f"STOR {name}", io.BytesIO(text.encode())); print(ftp.nlst()); chunks = []; ftp.retrbinary(f"RETR {name}", chunks.append); print(b"".join(chunks).decode()). basic-ftp: await client.ensureDir(dir), await client.uploadFrom(Readable.from([text]), name), await client.list(), await client.downloadTo(writable, name).`,
  ],
  async run(ctx) {
    const r = await g.runClient(ctx);
    return r.ok ? pass(r.reason, ...r.evidence) : fail(r.reason, ...r.evidence);
  },
});

const outboxCodeCheck = (v: FtpVars): Check => ({
  id: 'answer-outbox-code',
  title: `answers.yaml: the code in ${v.outboxFile} (outbox_code)`,
  points: 1,
  hint: [
    `The file ${v.outboxFile} on Bob's file store, as Bob put it there when the lab started: its line "code: ...".`,
    `Download it from alice: curl -u ${USER}:${PASSWORD} ftp://${FTP_NAME}${v.outboxFile} (the passive mode must work first, or use -P - once active mode works).`,
    `In /root/answers.yaml, outbox_code: is the text after "code: " in that file. Do not edit the file on the ftp node: the grader compares with Bob's own record.`,
  ],
  deadlineMs: 1500,
  async run(ctx) {
    const answers = await ctx.answers();
    const file = answersEvidence(answers);
    if (!answers.ok) return fail(answers.error, file);
    const given = String(answers.values.outbox_code ?? '').trim();
    if (!given) return fail('answers.yaml misses "outbox_code"', file);
    // The code Bob put there, from his record on web (which no submission reaches), and the
    // file as it is now on the ftp node (which a submission may rewrite). Neither is shown.
    const [record, now] = await Promise.all([
      ctx.node('web').run(`cat -- ${CODE_RECORD}`, 5000),
      ctx.node('ftp').run(`sed -n 's/^code: //p' -- ${q(`${HOME_DIR}${v.outboxFile}`)}`, 5000),
    ]);
    const want = record.exitCode === 0 ? record.output.trim() : '';
    if (!want)
      return fail(
        `the answer to "outbox_code" cannot be judged: Bob's record of the code is missing (restart the lab with --reset)`,
        file,
      );
    if (normalizeAnswer(given) === normalizeAnswer(want)) return pass('answered outbox_code correctly', file);
    if (normalizeAnswer(given) === normalizeAnswer(now.output.trim())) {
      return fail(
        `your outbox_code (${JSON.stringify(given)}) is what ${v.outboxFile} says now, but not the code Bob put there: the file was changed on Bob's file store after the lab started`,
        file,
      );
    }
    return fail(`your outbox_code (${JSON.stringify(given)}) is not the code Bob put in ${v.outboxFile}`, file);
  },
});

const passiveFixCheck = (v: FtpVars): Check =>
  answerCheck({
    id: 'answer-passive-fix',
    title: 'answers.yaml: where passive mode was broken (passive_fix: ftp or edge)',
    points: 1,
    key: 'passive_fix',
    about: 'the node where passive mode was broken',
    hint: [
      "Compare the address in Bob's 227 reply with ftp.bob.example's public address. Was the address wrong (the server's doing), or right, with the data connection lost on the way in (Bob's edge)?",
      `curl -v --disable-epsv --no-ftp-skip-pasv-ip -u ${USER}:${PASSWORD} ftp://${FTP_NAME}/ shows the 227 reply; dig +short ${FTP_NAME} the public address; on the edge, iptables -t nat -S PREROUTING and iptables -S FORWARD show which ports reach the file store.`,
      "In /root/answers.yaml, passive_fix: is ftp when you fixed pasv_address in vsftpd's configuration, edge when you fixed the edge's DNAT or security group.",
    ],
    async expected() {
      return { value: PASSIVE_FIX_NODE[v.passiveFault], evidence: [] };
    },
    matches: (given, want) => fixNodeOf(given) === want,
  });

function checks(v: FtpVars, world: World): Check[] {
  const w = ftpWorld(world);
  const g: Grading = { w, observe: transferReader(w), runClient: clientRunner(w, v) };
  return [
    passiveReplyCheck(g),
    transferCheck(g, 'passive'),
    transferCheck(g, 'active'),
    cliCheck(g, v, 'passive'),
    cliCheck(g, v, 'active'),
    clientCheck(g),
    outboxCodeCheck(v),
    passiveFixCheck(v),
  ];
}

export default defineLab<FtpVars>({
  number: 11,
  slug: 'ftp',
  title: 'FTP: active and passive mode through NAT and a firewall',
  topics: [
    'FTP',
    'active mode',
    'passive mode',
    'NAT',
    'connection tracking helper',
    'security group',
    'curl',
    'lftp',
    'basic-ftp',
    'ftplib',
  ],
  minutes: 45,
  goal: "Make Bob's file store work from Alice's laptop in both FTP modes: find why passive mode and active mode fail on the way through the NATs and firewalls, fix both, then transfer files with a command-line client in each mode and with a small client of your own, in Python (ftplib) or TypeScript (basic-ftp).",
  submissionNodes: ['alice', 'home', 'edge', 'ftp'],
  questions: [
    { key: 'outbox_code', prompt: 'The code written in the file you downloaded from the outbox' },
    { key: 'passive_fix', prompt: "Where passive mode was broken: ftp (the server) or edge (Bob's edge)" },
  ],
  vary,
  task(v) {
    return {
      ftp_server: `${FTP_NAME} (user ${USER}, password ${PASSWORD})`,
      directory: v.dir,
      passive_upload: v.passiveFile,
      active_upload: v.activeFile,
      upload_text: v.uploadText,
      download: v.outboxFile,
      ftp_client: `${PY_CLIENT_PATH} (Python) or ${CLIENT_PATH} (TypeScript)`,
      answers: '/root/answers.yaml with outbox_code, passive_fix',
    };
  },
  faults,
  checks,
});
