// Reads vsftpd's protocol log (log_ftp_protocol=YES): every command and reply of every session,
// plus its own lines for uploads, downloads and new directories. From it the grader learns, at
// the far end, what each FTP session really did: which client address it came from, which
// directory it was in, and whether each transfer used passive (PASV/EPSV) or active (PORT/EPRT)
// mode. Paths are as the chrooted user sees them ("/album-42/passive-x.txt").
import { posix } from 'node:path';

export type Mode = 'passive' | 'active';

export interface Transfer {
  kind: 'upload' | 'download' | 'list';
  /** The file (upload, download) or the directory listed. */
  path: string;
  mode?: Mode;
  /** The command that chose the mode: PASV, EPSV, PORT or EPRT. */
  via?: string;
  ok: boolean;
}

export interface Session {
  pid: number;
  client: string;
  user?: string;
  /** Directories the session changed into successfully (CWD, CDUP), in order. */
  cwds: string[];
  /** Raw replies to PASV (227 ...) and EPSV (229 ...). */
  passiveReplies: string[];
  transfers: Transfer[];
  /** Commands, in order (PASS hidden by vsftpd already). */
  commands: string[];
}

const LINE = /^\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4} \[pid (\d+)\](?: \[([^\]]*)\])? (.*)$/;
const CLIENT = /Client "([^"]+)"/;

interface State extends Session {
  cwd: string;
  pendingMode?: { mode: Mode; via: string };
  mode?: { mode: Mode; via: string };
  pendingCwd?: string;
  pendingList?: string;
}

/** Resolves a path the way an FTP server does for a chrooted user. */
export function resolveFtpPath(cwd: string, arg: string): string {
  const p = posix.normalize(posix.isAbsolute(arg) ? arg : posix.join(cwd, arg || '.'));
  return p.length > 1 ? p.replace(/\/+$/, '') : '/';
}

/** The directory a LIST/NLST/MLSD argument names (options such as -la are ignored). */
function listTarget(cwd: string, arg: string): string {
  const words = arg.split(/\s+/).filter((w) => w && !w.startsWith('-'));
  return resolveFtpPath(cwd, words.join(' '));
}

export function parseVsftpdLog(text: string): Session[] {
  const sessions: State[] = [];
  const byPid = new Map<number, State>();
  // Each pid is one session. vsftpd logs the login from its privileged parent and carries on in
  // a child with a new pid (the "230 Login successful" is its first line), so a logged-in session
  // starts with a pid of its own: everything a user does after login is in it.
  const session = (pid: number, client: string): State => {
    let s = byPid.get(pid);
    if (!s) {
      s = { pid, client, cwds: [], passiveReplies: [], transfers: [], commands: [], cwd: '/' };
      sessions.push(s);
      byPid.set(pid, s);
    }
    return s;
  };
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const user = m[2];
    const rest = m[3] as string;
    const client = CLIENT.exec(rest)?.[1];
    if (!client) continue;
    if (rest.startsWith('CONNECT:')) byPid.delete(pid); // a pid can be reused by a later session
    if (rest.startsWith('CONNECT:') || rest.startsWith('OK LOGIN:')) {
      if (rest.startsWith('CONNECT:')) session(pid, client);
      continue;
    }
    const s = session(pid, client);
    if (user && !s.user) s.user = user;
    const quoted = /, "(.*)"(?:, (\d+) bytes)?/.exec(rest);
    if (rest.startsWith('FTP command:')) {
      const cmdLine = quoted?.[1] ?? '';
      s.commands.push(cmdLine);
      const [verb = '', ...args] = cmdLine.split(' ');
      const arg = args.join(' ');
      switch (verb.toUpperCase()) {
        case 'PASV':
        case 'EPSV':
          s.pendingMode = { mode: 'passive', via: verb.toUpperCase() };
          break;
        case 'PORT':
        case 'EPRT':
          s.pendingMode = { mode: 'active', via: verb.toUpperCase() };
          break;
        case 'CWD':
          s.pendingCwd = resolveFtpPath(s.cwd, arg);
          break;
        case 'CDUP':
          s.pendingCwd = resolveFtpPath(s.cwd, '..');
          break;
        case 'LIST':
        case 'NLST':
        case 'MLSD':
          s.pendingList = listTarget(s.cwd, arg);
          break;
      }
      continue;
    }
    if (rest.startsWith('FTP response:')) {
      const reply = quoted?.[1] ?? '';
      const code = Number(reply.slice(0, 3));
      if (s.pendingMode) {
        if (code === 227 || code === 229) s.passiveReplies.push(reply);
        if (code >= 200 && code < 300) s.mode = s.pendingMode;
        s.pendingMode = undefined;
      }
      if (s.pendingCwd !== undefined && (code === 250 || code >= 400)) {
        if (code === 250) {
          s.cwd = s.pendingCwd;
          s.cwds.push(s.cwd);
        }
        s.pendingCwd = undefined;
      }
      if (s.pendingList !== undefined && (code === 226 || code >= 400)) {
        s.transfers.push({ kind: 'list', path: s.pendingList, mode: s.mode?.mode, via: s.mode?.via, ok: code === 226 });
        s.pendingList = undefined;
        s.mode = undefined;
      }
      continue;
    }
    const t = /^(OK|FAIL) (UPLOAD|DOWNLOAD):/.exec(rest);
    if (t && quoted) {
      s.transfers.push({
        kind: t[2] === 'UPLOAD' ? 'upload' : 'download',
        path: quoted[1] as string,
        mode: s.mode?.mode,
        via: s.mode?.via,
        ok: t[1] === 'OK',
      });
      s.mode = undefined;
    }
  }
  return sessions.map(({ cwd: _c, pendingMode: _p, mode: _m, pendingCwd: _w, pendingList: _l, ...s }) => s);
}
