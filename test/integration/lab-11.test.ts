// Lab 11 on a real engine: untouched it fails; a fake FTP server on alice behind an iptables
// redirect (which the grader's fresh laptop on Alice's network does not share) and copied answers
// fail; an FTP helper on Bob's edge that rewrites the 227 reply, a hand-written vsftpd log and a
// rewritten outbox file fail, each for its own reason (and a client that only prints what the
// grader asks for fails in TypeScript and in Python); the reference solution passes for two
// learners with different faults, once with its TypeScript client and once with its Python one.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import ftpLab from '../../labs/11-ftp/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver, sh } from './helpers.js';

const I = 't-lab11';
// seed-b: vsftpd announces its private address, the helper watches port 2121.
// seed-a: vsftpd announces an old public address, the helper is gone.
// seed-e: the edge forwards only port 21, the helper is on the wrong interface.
// Several grades in one test, on a machine other tests load too.
const LONG = 480_000;
const ALL = [
  'passive-reply',
  'passive-transfer',
  'active-transfer',
  'cli-passive',
  'cli-active',
  'client',
  'answer-outbox-code',
  'answer-passive-fix',
];

const FAKE_FTP = String.raw`
import socket, threading
DATA = 117 * 256 + 77
store = {}
def serve(c):
    f = c.makefile("rb")
    say = lambda s: c.sendall((s + "\r\n").encode())
    say("220 Welcome to Bob's file store (hurrynet lab).")
    data = None
    for raw in f:
        verb, _, arg = raw.decode().strip().partition(" ")
        verb = verb.upper()
        if verb == "QUIT":
            say("221 Goodbye."); break
        if verb == "PASV":
            data = socket.socket(); data.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            data.bind(("0.0.0.0", DATA)); data.listen(1)
            say("227 Entering Passive Mode (198,51,100,80,117,77)."); continue
        if verb in ("STOR", "RETR", "LIST", "NLST"):
            if not data:
                say("425 Use PASV first."); continue
            say("150 Ok."); d, _ = data.accept()
            if verb == "STOR":
                buf = b""
                while True:
                    chunk = d.recv(65536)
                    if not chunk: break
                    buf += chunk
                store["file"] = buf
            elif verb == "RETR":
                d.sendall(store.get("file", b"code: deadbeef\n"))
            else:
                d.sendall(b"-rw-r--r-- 1 bob bob 23 Nov 25 12:00 everything.txt\r\n")
            d.close(); data.close(); data = None
            say("226 Transfer complete."); continue
        replies = {"USER": "331 Please specify the password.", "PASS": "230 Login successful.", "PWD": '257 "/" is the current directory',
                   "MKD": '257 "/x" created', "EPSV": "500 Unknown command.", "SIZE": "550 Could not get file size."}
        say(replies.get(verb, "200 OK."))
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2121)); s.listen(8)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

afterAll(async () => {
  await stop(driver, I);
});

describe('lab 11: FTP active and passive', () => {
  it(
    'fails untouched, then a fake FTP server on alice, then an FTP helper on the edge with a hand-written log and outbox',
    async () => {
      const run = await start('11', I, 'seed-b');
      // The lab's files/alice/root tree put the client skeletons there without opening /root to all.
      expect(
        (await sh(I, 'alice', 'stat -c %a /root; ls /root/ftp-client.ts /root/ftp-client.py')).stdout.split('\n')[0],
      ).toBe('700');
      const v = varsFor(ftpLab, run.seed);
      expect(run.vars).toEqual(v);
      expect(v).toMatchObject({ passiveFault: 'pasv-private', activeFault: 'helper-port' });
      const untouched = await grade(run);
      expect(untouched.passed).toBe(false);
      expect(failedIds(untouched)).toEqual(ALL);
      expect(untouched.results.find((r) => r.id === 'passive-reply')?.reason).toMatch(/10\.0\.1\.21/);
      expect(untouched.results.find((r) => r.id === 'active-transfer')?.evidence[0]?.output).toMatch(
        /Illegal (PORT|EPRT) command/,
      );
      // The Python skeleton is untouched: the grader ran the TypeScript one, and says so.
      const client = untouched.results.find((r) => r.id === 'client');
      expect(client?.evidence[0]?.where, explain(untouched)).toBe('node@alice');
      expect(client?.evidence[0]?.command).toContain("/root/ftp-client.py is still the lab's skeleton");

      const fake = submissionFolder({
        'alice.sh': [
          'set -e',
          `cat > /root/fake-ftp.py <<'EOF'${FAKE_FTP}EOF`,
          'setsid nohup python3 /root/fake-ftp.py > /root/fake-ftp.log 2>&1 < /dev/null &',
          'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 21 -j REDIRECT --to-ports 2121',
          'iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 30029 -j REDIRECT --to-ports 30029',
          'for i in $(seq 1 50); do ss -Hltn "sport = :2121" | grep -q . && break; sleep 0.1; done',
          // the fake answers; curl (passive, trusting the reply) is happy with it
          'curl -sS --disable-epsv --no-ftp-skip-pasv-ip -u bob:bobpass ftp://ftp.bob.example/ | grep -q everything',
          // a "client" that prints what the grader asks for without talking to anyone
          `cat > /root/ftp-client.ts <<'EOF'\nimport { Client } from 'basic-ftp';\nvoid Client;\nconsole.log('listed: ' + process.env.UPLOAD_NAME);\nconsole.log('downloaded: ' + process.env.UPLOAD_TEXT);\nEOF`,
        ].join('\n'),
        'answers.yaml': 'outbox_code: 4f2a9c1e\npassive_fix: ftp\n',
      });
      await apply(run, fake);
      const faked = await grade(run);
      expect(faked.passed, explain(faked)).toBe(false);
      expect(failedIds(faked)).toEqual([
        'passive-reply',
        'passive-transfer',
        'active-transfer',
        'cli-passive',
        'cli-active',
        'client',
        'answer-outbox-code',
      ]);
      // The grader's own probe runs on a fresh laptop on Alice's LAN: the redirect on alice does not
      // touch it, so it meets Bob's real (still broken) file store.
      expect(
        await sh(
          I,
          'alice',
          'curl -sS --disable-epsv --no-ftp-skip-pasv-ip -u bob:bobpass ftp://ftp.bob.example/',
        ).then((r) => r.stdout),
      ).toContain('everything.txt');
      expect(faked.results.find((r) => r.id === 'passive-transfer')?.reason).toMatch(
        /upload from a fresh laptop on Alice's network failed/,
      );
      expect(faked.results.find((r) => r.id === 'passive-transfer')?.evidence[0]?.where).toBe('fresh@lan');
      expect(faked.results.find((r) => r.id === 'passive-reply')?.reason).toMatch(/answers PASV with 10\.0\.1\.21/);

      // An FTP helper on Bob's edge rewrites vsftpd's 227 reply instead of vsftpd announcing its public
      // address; a hand-written vsftpd log claims active-mode work that active mode cannot do (the home
      // router's helper is still broken); the outbox file is rewritten to a code of the learner's own.
      const C = (pid: number, what: string) => `L ${pid} 'FTP command: Client "203.0.113.5", "${what}"'`;
      const R = (pid: number, what: string) => `L ${pid} 'FTP response: Client "203.0.113.5", "${what}"'`;
      const forged = [
        'L() { printf \'%s [pid %s] [bob] %s\\n\' "$(date \'+%a %b %e %T %Y\')" "$1" "$2" >> /var/log/vsftpd.log; }',
        `printf '%s [pid 9001] CONNECT: Client "203.0.113.5"\\n' "$(date '+%a %b %e %T %Y')" >> /var/log/vsftpd.log`,
        `L 9001 'OK LOGIN: Client "203.0.113.5"'`,
        R(9002, '230 Login successful.'),
        C(9002, `CWD ${v.dir}`),
        R(9002, '250 Directory successfully changed.'),
        C(9002, 'EPRT |1|203.0.113.5|51207|'),
        R(9002, '200 EPRT command successful. Consider using EPSV.'),
        C(9002, `STOR ${v.activeFile}`),
        R(9002, '150 Ok to send data.'),
        `L 9002 'OK UPLOAD: Client "203.0.113.5", "${v.dir}/${v.activeFile}", 23 bytes, 45.65Kbyte/sec'`,
        R(9002, '226 Transfer complete.'),
        C(9002, 'EPRT |1|203.0.113.5|51209|'),
        R(9002, '200 EPRT command successful. Consider using EPSV.'),
        C(9002, 'LIST'),
        R(9002, '150 Here comes the directory listing.'),
        R(9002, '226 Directory send OK.'),
        C(9002, 'EPRT |1|203.0.113.5|51211|'),
        R(9002, '200 EPRT command successful. Consider using EPSV.'),
        C(9002, `RETR ${v.outboxFile}`),
        R(9002, '150 Opening BINARY mode data connection.'),
        `L 9002 'OK DOWNLOAD: Client "203.0.113.5", "${v.outboxFile}", 40 bytes, 45.65Kbyte/sec'`,
        R(9002, '226 Transfer complete.'),
        `mkdir -p /home/bob${v.dir} && printf '%s\\n' '${v.uploadText}' > /home/bob${v.dir}/${v.activeFile}`,
        `sed -i 's/^code: .*/code: bob-00c0ffee/' /home/bob${v.outboxFile}`,
      ];
      await apply(
        run,
        submissionFolder({
          'edge.sh': 'iptables -t raw -A PREROUTING -i backbone -p tcp --dport 21 -j CT --helper ftp',
          'ftp.sh': forged.join('\n'),
          // the printing "client" again, in Python this time (it imports ftplib, and never uses it)
          'alice/root/ftp-client.py': [
            'import os',
            'import ftplib',
            'print("listed: " + os.environ["UPLOAD_NAME"])',
            'print("downloaded: " + os.environ["UPLOAD_TEXT"])',
            '',
          ].join('\n'),
          'answers.yaml': 'outbox_code: bob-00c0ffee\npassive_fix: ftp\n',
        }),
      );
      const tricked = await grade(run);
      expect(failedIds(tricked), explain(tricked)).toEqual([
        'passive-reply',
        'active-transfer',
        'cli-passive',
        'cli-active',
        'client',
        'answer-outbox-code',
      ]);
      const reason = (id: string) => tricked.results.find((r) => r.id === id)?.reason ?? '';
      expect(reason('passive-reply')).toMatch(
        /announced 10\.0\.1\.21 .*but the reply reached Alice's side naming 198\.51\.100\.80: something on the way rewrote it/,
      );
      expect(reason('cli-active')).toMatch(
        /shows your active-mode session, but active mode does not work from Alice's network now/,
      );
      expect(reason('answer-outbox-code')).toMatch(/the file was changed on Bob's file store after the lab started/);
      expect(reason('client')).toMatch(/your client ran, but Bob's file store saw nothing arrive/);
      expect(tricked.results.find((r) => r.id === 'client')?.evidence[0]?.where).toBe('python@alice');
    },
    LONG,
  );

  it(
    'passes the reference solution, for two learners with different faults, with its TypeScript and its Python client',
    async () => {
      for (const [seed, fault, language] of [
        ['seed-a', { passiveFault: 'pasv-old', activeFault: 'helper-missing' }, 'typescript'],
        ['seed-e', { passiveFault: 'dnat-range', activeFault: 'helper-iface' }, 'python'],
      ] as const) {
        const run = await start('ftp', I, seed);
        expect(varsFor(ftpLab, run.seed)).toMatchObject(fault);
        await apply(run, solutionDir(run));
        // The Python variant: the same fixes, and the Python reference client in place of the skeleton.
        if (language === 'python') await apply(run, join(run.lab.dir, 'solution-python'));
        const report = await grade(run);
        expect(report.passed, explain(report)).toBe(true);
        expect(report.score).toBe(report.maxScore);
        const client = report.results.find((r) => r.id === 'client');
        expect(client?.evidence[0]?.where).toBe(language === 'python' ? 'python@alice' : 'node@alice');
        expect(client?.reason).toMatch(
          language === 'python' ? /your Python client \(ftplib\)/ : /your TypeScript client/,
        );
      }
    },
    LONG,
  );
});
