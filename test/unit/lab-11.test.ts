// Lab 11 without Docker: the per-learner variation, the faults it drives, the reading of vsftpd's
// protocol log that the grader relies on, and the TypeScript transpiling of the learner's client.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contains } from '../../orchestrator/world/addresses.js';
import { drawsIndependently, findLab, varsFor } from '../../orchestrator/labs/lab.js';
import { labChecks, labFileTrees, labWorld } from '../../orchestrator/labs/labrun.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import lab, {
  ACTIVE_FAULTS,
  CLIENT_PATH,
  chosenClient,
  cliProgress,
  CODE_RECORD,
  fixNodeOf,
  ftpWorld,
  OUTBOX,
  oldAddresses,
  PASSIVE_FAULTS,
  PASSIVE_FIX_NODE,
  PY_CLIENT_PATH,
  WORDS,
  type FtpVars,
} from '../../labs/11-ftp/lab.js';
import { parseVsftpdLog, resolveFtpPath } from '../../labs/11-ftp/ftplog.js';
import { transpile } from '../../labs/11-ftp/node-runner.js';
import { readSubmission } from '../../orchestrator/labs/submission.js';

/** The Python reference client, in the lab's folder. */
const PY_SOLUTION = 'solution-python/alice/root/ftp-client.py';

const seeds = Array.from({ length: 200 }, (_, i) => `learner-${i}`);
const used = canonicalWorld.nodes.flatMap((n) => n.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])));
// The lab as the registry loads it (its folder), and its world facts: the lab has no overlay.
const registered = await findLab('11');
const w = ftpWorld(canonicalWorld);
const faultsOf = (vars: FtpVars) => lab.faults(vars, labWorld(registered, vars));

describe('lab 11 variation', () => {
  it('is deterministic per seed', () => {
    expect(varsFor(lab, 'alice-1')).toEqual(varsFor(lab, 'alice-1'));
    // Only the outbox code is new at every start.
    const scripts = () =>
      faultsOf(varsFor(lab, 'alice-1')).map((f) => f.script.replace(/bob-[0-9a-f]{8}/g, 'bob-CODE'));
    expect(scripts()).toEqual(scripts());
  });

  it('uses every fault and differs across seeds in what the learner must do', () => {
    expect(drawsIndependently(lab.vary)).toBe(true);
    const all = seeds.map((s) => varsFor(lab, s));
    expect(new Set(all.map((v) => v.passiveFault))).toEqual(new Set(PASSIVE_FAULTS));
    expect(new Set(all.map((v) => v.activeFault))).toEqual(new Set(ACTIVE_FAULTS));
    expect(new Set(all.map((v) => v.dir)).size).toBeGreaterThan(100);
    expect(new Set(all.map((v) => v.passiveFile)).size).toBeGreaterThan(180);
    expect(new Set(all.map((v) => v.uploadText)).size).toBeGreaterThan(150);
    expect(new Set(all.map((v) => v.outboxFile)).size).toBeGreaterThan(150);
    expect(new Set(all.map((v) => PASSIVE_FIX_NODE[v.passiveFault]))).toEqual(new Set(['ftp', 'edge']));
  });

  it('only uses values that are valid in the world', () => {
    expect(oldAddresses(canonicalWorld).length).toBeGreaterThan(20);
    for (const s of seeds) {
      const v = varsFor(lab, s);
      expect(v.dir).toMatch(/^\/[a-z]+-\d\d$/);
      expect(WORDS).toContain(v.dir.slice(1, -3));
      expect(OUTBOX).toContain(v.outboxFile.replace(/^\/outbox\/|-\d{3}\.txt$/g, ''));
      expect(v.passiveFile).toMatch(/^passive-[a-z]{4}\.txt$/);
      expect(v.activeFile).toBe(v.passiveFile.replace('passive-', 'active-'));
      expect(v.outboxFile).toMatch(/^\/outbox\/[a-z]+-\d{3}\.txt$/);
      expect(contains('198.51.100.0/24', v.oldAddress)).toBe(true);
      expect(used).not.toContain(v.oldAddress);
      expect(v.oldAddress).not.toBe(w.ftpPublic);
    }
    expect(lab.overlay).toBeUndefined();
  });

  it('breaks passive mode on the node that passive_fix names, and active mode on the home router', () => {
    for (const s of seeds.slice(0, 80)) {
      const v = varsFor(lab, s);
      const faults = faultsOf(v);
      const byNode = (n: string) =>
        faults
          .filter((f) => f.node === n)
          .map((f) => f.script)
          .join('\n');
      const ftp = byNode('ftp');
      const edge = byNode('edge');
      expect(ftp).toContain(`${v.outboxFile}`);
      if (v.passiveFault === 'pasv-private') expect(ftp).toContain("sed -i '/^pasv_address=/d'");
      if (v.passiveFault === 'pasv-old') expect(ftp).toContain(`pasv_address=${v.oldAddress}`);
      if (PASSIVE_FIX_NODE[v.passiveFault] === 'ftp') expect(edge).toBe('');
      if (v.passiveFault === 'sg-range') {
        expect(edge).toContain(w.edgeFtpAllow.replace(' -A ', ' -D '));
        expect(edge).toMatch(/-I FORWARD \d+ .*-d 10\.0\.1\.21 -p tcp --dport 21 /);
      }
      if (v.passiveFault === 'dnat-range') {
        expect(edge).toContain(w.edgeFtpDnat.replace(' -A ', ' -D '));
        expect(edge).toMatch(/-I PREROUTING 1 .* --dport 21 -j DNAT --to-destination 10\.0\.1\.21/);
      }
      const home = byNode('home');
      expect(home.split('\n')[0]).toBe(w.homeHelper.replace(' -A ', ' -D '));
      if (v.activeFault === 'helper-missing') expect(home.split('\n')).toHaveLength(1);
      if (v.activeFault === 'helper-port') expect(home).toContain('--dport 2121 -j CT --helper ftp');
      if (v.activeFault === 'helper-iface') expect(home).toContain('-i access -p tcp --dport 21 -j CT --helper ftp');
      // The client skeleton is one of the lab's files now, not a fault.
      expect(byNode('alice')).toBe('');
    }
  });

  it('puts the unfinished TypeScript and Python clients on alice as lab files, where the grader reads them', () => {
    const trees = labFileTrees(registered, canonicalWorld);
    expect(trees.map((t) => t.node)).toEqual(['alice']);
    const skeleton = readFileSync(join(trees[0]?.path as string, CLIENT_PATH), 'utf8');
    expect(skeleton).toContain("from 'basic-ftp'");
    expect(skeleton.match(/TODO \d/g)).toEqual(['TODO 1', 'TODO 2', 'TODO 3', 'TODO 4']);
    const python = readFileSync(join(trees[0]?.path as string, PY_CLIENT_PATH), 'utf8');
    expect(python).toMatch(/^from ftplib import FTP, error_perm$/m);
    expect(python.match(/TODO \d/g)).toEqual(['TODO 1', 'TODO 2', 'TODO 3', 'TODO 4']);
    // Both skeletons are valid as they are, and the Python one is what Alice's python3 can compile.
    for (const file of [python, readFileSync(join(registered.dir, PY_SOLUTION), 'utf8')])
      execFileSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "ftp-client.py", "exec")'], {
        input: file,
      });
  });

  it('runs the Python client once it differs from the skeleton, the TypeScript one otherwise', () => {
    const skeleton = readFileSync(
      join(labFileTrees(registered, canonicalWorld)[0]?.path as string, PY_CLIENT_PATH),
      'utf8',
    );
    expect(chosenClient(undefined, skeleton)).toBe('typescript');
    expect(chosenClient(skeleton, skeleton)).toBe('typescript');
    // Trailing blanks and blank lines (an editor's save) leave it the skeleton.
    expect(chosenClient(`${skeleton.replace(/\n/g, '  \n')}\n\n`, skeleton)).toBe('typescript');
    expect(chosenClient(skeleton.replace('# TODO 1', '# done 1'), skeleton)).toBe('python');
    expect(chosenClient(readFileSync(join(registered.dir, PY_SOLUTION), 'utf8'), skeleton)).toBe('python');
    expect(chosenClient('', skeleton)).toBe('python');
    // The task card names both files.
    expect(lab.task?.(varsFor(lab, 'x')).ftp_client).toBe(`${PY_CLIENT_PATH} (Python) or ${CLIENT_PATH} (TypeScript)`);
  });

  it('has a Python reference client, a submission folder of its own that only puts the client on alice', () => {
    const sub = readSubmission(join(registered.dir, 'solution-python'), registered.submissionNodes, [
      'alice',
      'home',
      'isp',
      'dns',
      'edge',
      'web',
      'ftp',
    ]);
    expect(sub.scripts).toEqual([]);
    expect(sub.trees.map((t) => [t.node, t.files])).toEqual([['alice', ['root/ftp-client.py']]]);
    const solution = readFileSync(join(registered.dir, PY_SOLUTION), 'utf8');
    for (const call of ['ftp.cwd(', 'ftp.mkd(', 'ftp.storbinary(', 'ftp.nlst()', 'ftp.retrbinary('])
      expect(solution).toContain(call);
    expect(solution).not.toContain('set_pasv(False)');
  });

  it("puts a new outbox code in the file on ftp at every start, and Bob's record of it on web, where no submission reaches", () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const faults = faultsOf(varsFor(lab, 'alice-1'));
      const ftp = faults.find((f) => f.node === 'ftp')?.script ?? '';
      const web = faults.find((f) => f.node === 'web')?.script ?? '';
      const code = /^code: (bob-[0-9a-f]{8})$/m.exec(ftp)?.[1] as string;
      expect(code).toBeDefined();
      expect(web).toContain(`cat > '${CODE_RECORD}' <<`);
      expect(web).toContain(`\n${code}\n`);
      codes.add(code);
    }
    expect(codes.size).toBe(5);
    expect(lab.submissionNodes).not.toContain('web');
  });

  it('gives a task card that names the work but never the faults', () => {
    for (const s of seeds.slice(0, 50)) {
      const v = varsFor(lab, s);
      const card = lab.task?.(v) ?? {};
      expect(card.directory).toBe(v.dir);
      expect(card.upload_text).toBe(v.uploadText);
      const text = JSON.stringify(card);
      expect(text).not.toMatch(/pasv|helper|edge|security|dnat|10\.0\.1/i);
      expect(text).not.toContain(v.oldAddress);
    }
  });

  it('has unique check ids and 13 points', () => {
    const checks = labChecks(registered, varsFor(lab, 'x'));
    expect(new Set(checks.map((c) => c.id)).size).toBe(checks.length);
    expect(checks.reduce((s, c) => s + c.points, 0)).toBe(13);
  });

  it('understands where an answer says passive mode was broken', () => {
    expect(fixNodeOf('edge')).toBe('edge');
    expect(fixNodeOf("Bob's edge (security group)")).toBe('edge');
    expect(fixNodeOf('FTP')).toBe('ftp');
    expect(fixNodeOf('vsftpd pasv_address')).toBe('ftp');
    expect(fixNodeOf('ftp or edge')).not.toMatch(/^(ftp|edge)$/);
  });
});

const L = (pid: number, rest: string, user = 'bob') =>
  `Wed Nov 25 12:02:46 2026 [pid ${pid}]${user ? ` [${user}]` : ''} ${rest}`;
const C = (pid: number, cmd: string) => L(pid, `FTP command: Client "203.0.113.5", "${cmd}"`);
const R = (pid: number, reply: string) => L(pid, `FTP response: Client "203.0.113.5", "${reply}"`);

const log = [
  L(111, 'CONNECT: Client "203.0.113.5"', ''),
  L(111, 'FTP command: Client "203.0.113.5", "USER bob"', ''),
  L(110, 'OK LOGIN: Client "203.0.113.5"'),
  R(112, '230 Login successful.'),
  C(112, 'CWD album-42'),
  R(112, '550 Failed to change directory.'),
  C(112, 'MKD album-42'),
  L(112, 'OK MKDIR: Client "203.0.113.5", "/album-42"'),
  R(112, '257 "/album-42" created'),
  C(112, 'CWD album-42'),
  R(112, '250 Directory successfully changed.'),
  C(112, 'PASV'),
  R(112, '227 Entering Passive Mode (198,51,100,80,117,49).'),
  C(112, 'STOR passive-abcd.txt'),
  R(112, '150 Ok to send data.'),
  L(112, 'OK UPLOAD: Client "203.0.113.5", "/album-42/passive-abcd.txt", 23 bytes, 45.65Kbyte/sec'),
  R(112, '226 Transfer complete.'),
  // an active session whose first try is refused (no helper), then works
  L(120, 'CONNECT: Client "203.0.113.5"', ''),
  R(121, '230 Login successful.'),
  C(121, 'CWD /album-42'),
  R(121, '250 Directory successfully changed.'),
  C(121, 'EPRT |1|192.168.1.101|51207|'),
  R(121, '500 Illegal EPRT command.'),
  C(121, 'EPRT |1|203.0.113.5|51207|'),
  R(121, '200 EPRT command successful. Consider using EPSV.'),
  C(121, 'LIST -la'),
  R(121, '150 Here comes the directory listing.'),
  R(121, '226 Directory send OK.'),
  C(121, 'CDUP'),
  R(121, '250 Directory successfully changed.'),
  C(121, 'CWD outbox'),
  R(121, '250 Directory successfully changed.'),
  C(121, 'PORT 203,0,113,5,153,55'),
  R(121, '200 PORT command successful. Consider using PASV.'),
  C(121, 'RETR order-123.txt'),
  L(121, 'OK DOWNLOAD: Client "203.0.113.5", "/outbox/order-123.txt", 40 bytes, 6.67Kbyte/sec'),
  // a passive listing whose data connection never came
  R(130, '230 Login successful.'),
  C(130, 'PASV'),
  R(130, '227 Entering Passive Mode (10,0,1,21,117,55).'),
  C(130, 'LIST'),
  R(130, '425 Failed to establish connection.'),
].join('\n');

describe('lab 11 log reading', () => {
  it('follows each session: directories, modes, transfers and PASV replies', () => {
    const s = parseVsftpdLog(log).filter((x) => x.transfers.length);
    expect(s.map((x) => x.pid)).toEqual([112, 121, 130]);
    expect(s[0]).toMatchObject({
      client: '203.0.113.5',
      user: 'bob',
      cwds: ['/album-42'],
      passiveReplies: ['227 Entering Passive Mode (198,51,100,80,117,49).'],
    });
    expect(s[0]?.transfers).toEqual([
      { kind: 'upload', path: '/album-42/passive-abcd.txt', mode: 'passive', via: 'PASV', ok: true },
    ]);
    expect(s[1]?.cwds).toEqual(['/album-42', '/', '/outbox']);
    expect(s[1]?.transfers).toEqual([
      { kind: 'list', path: '/album-42', mode: 'active', via: 'EPRT', ok: true },
      { kind: 'download', path: '/outbox/order-123.txt', mode: 'active', via: 'PORT', ok: true },
    ]);
    expect(s[2]?.transfers).toEqual([{ kind: 'list', path: '/', mode: 'passive', via: 'PASV', ok: false }]);
  });

  it('resolves paths as a chrooted FTP user sees them', () => {
    expect(resolveFtpPath('/', 'a')).toBe('/a');
    expect(resolveFtpPath('/a', '../b/')).toBe('/b');
    expect(resolveFtpPath('/a', '/c')).toBe('/c');
    expect(resolveFtpPath('/', '..')).toBe('/');
  });

  it('tells what the learner has done in each mode', () => {
    const v = {
      ...varsFor(lab, 'x'),
      dir: '/album-42',
      passiveFile: 'passive-abcd.txt',
      activeFile: 'active-abcd.txt',
      outboxFile: '/outbox/order-123.txt',
    };
    const sessions = parseVsftpdLog(log);
    expect(cliProgress(sessions, v, 'passive', w)).toEqual({ cd: true, upload: true, list: false, download: false });
    expect(cliProgress(sessions, v, 'active', w)).toEqual({ cd: true, upload: false, list: true, download: true });
  });
});

describe('lab 11 TypeScript client', () => {
  it('transpiles the skeleton and reports syntax errors', async () => {
    const skeleton = readFileSync(
      join(labFileTrees(registered, canonicalWorld)[0]?.path as string, CLIENT_PATH),
      'utf8',
    );
    const ok = await transpile(skeleton);
    expect(ok.errors).toEqual([]);
    expect(ok.js).toContain('require("basic-ftp")');
    const bad = await transpile('const x: number = ;');
    expect(bad.ok).toBe(false);
    expect(bad.errors[0]).toMatch(/^line 1: /);
    // Loading the TypeScript compiler takes seconds on a busy machine.
  }, 60_000);
});
