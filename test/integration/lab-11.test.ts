// Lab 11 on a real engine: untouched it fails, a fake FTP server on alice (behind an iptables
// redirect that the grader's own probe shares) and copied answers fail, the reference solution
// passes for two learners with different faults.
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/engine.js';
import { ftpVars } from '../../labs/11-ftp/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder } from './lab-harness.js';
import { driver } from './helpers.js';

const I = 't-lab11';
// seed-e: vsftpd announces its private address, the helper watches port 2121.
// seed-c: vsftpd announces an old public address, the helper is gone.
// seed-f: the edge forwards only port 21, the helper is on the wrong interface.
const ALL = ['passive-reply', 'passive-transfer', 'active-transfer', 'cli-passive', 'cli-active', 'ts-client', 'answer-outbox-code', 'answer-passive-fix'];

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
  it('fails untouched, then fails a fake FTP server on alice and copied answers', async () => {
    const run = await start('11', I, 'seed-e');
    expect(ftpVars(run.vars)).toMatchObject({ passiveFault: 'pasv-private', activeFault: 'helper-port' });
    const untouched = await grade(run);
    expect(untouched.passed).toBe(false);
    expect(failedIds(untouched)).toEqual(ALL);
    expect(untouched.results.find((r) => r.id === 'passive-reply')?.reason).toMatch(/10\.0\.1\.21/);
    expect(untouched.results.find((r) => r.id === 'active-transfer')?.evidence[0]?.output).toMatch(/Illegal (PORT|EPRT) command/);

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
    expect(failedIds(faked)).toEqual(['passive-reply', 'passive-transfer', 'active-transfer', 'cli-passive', 'cli-active', 'ts-client', 'answer-outbox-code']);
    // The grader's own probe was fooled on Alice's side, and caught at Bob's end.
    expect(faked.results.find((r) => r.id === 'passive-transfer')?.reason).toMatch(/never received/);
  });

  it('passes the reference solution, for two learners with different faults', async () => {
    for (const [seed, fault] of [
      ['seed-c', { passiveFault: 'pasv-old', activeFault: 'helper-missing' }],
      ['seed-f', { passiveFault: 'dnat-range', activeFault: 'helper-iface' }],
    ] as const) {
      const run = await start('ftp', I, seed);
      expect(ftpVars(run.vars)).toMatchObject(fault);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
    }
  });
});
