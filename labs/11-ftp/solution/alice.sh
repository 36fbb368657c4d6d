#!/bin/bash
# Reference solution for lab 11, on Alice's laptop, for any seed.
#
# Submission scripts run in name order: alice.sh first, then edge.sh, ftp.sh and home.sh. The
# transfers need the fixes on those nodes, so this script (1) diagnoses passive mode while it is
# still broken, (2) writes the TypeScript client and the transfer script, and (3) leaves a one-shot
# trigger listening on Alice's laptop; home.sh, which runs last, sets the transfers off through it
# and prints what they did.
set -euo pipefail
# The task card's facts, for this script and for the transfer script below.
cat > /root/ftp-task.sh <<'EOF'
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
host=$(task ftp_server | cut -d' ' -f1)
auth="-u $(task ftp_server | sed -n 's/.*(user \([^,]*\), password \([^)]*\)).*/\1:\2/p')"
EOF
. /root/ftp-task.sh

# (1) Which side breaks passive mode? Ask for PASV and read the address in the raw 227 reply.
public=$(dig +short "$host" A | tail -n 1)
reply=$(curl -sS -v --disable-epsv --connect-timeout 3 -m 8 $auth "ftp://$host/" 2>&1 | grep '^< 227' | head -n 1 || true)
echo "PASV reply: $reply (the public address is $public)"
named=$(printf '%s' "$reply" | sed -n 's/.*(\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\),.*/\1.\2.\3.\4/p')
if [ "$named" = "$public" ]; then passive_fix=edge; else passive_fix=ftp; fi
echo "passive_fix: $passive_fix" > /root/passive-diagnosis.txt

# (2a) The TypeScript client: fill in the four TODOs of the skeleton the lab put at
# /root/ftp-client.ts (change into FTP_DIR, upload, list, download back; basic-ftp, passive).
python3 - /root/ftp-client.ts <<'EOF'
import sys
path = sys.argv[1]
src = open(path).read()
body = """    await client.ensureDir(env('FTP_DIR'));
    await client.uploadFrom(Readable.from([env('UPLOAD_TEXT')]), env('UPLOAD_NAME'));
    for (const entry of await client.list()) console.log(`listed: ${entry.name} (${entry.size} bytes)`);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await client.downloadTo(sink, env('UPLOAD_NAME'));
    console.log(`downloaded: ${Buffer.concat(chunks).toString('utf8')}`);
"""
start = src.index("    // TODO 1")
end = src.index("    void Writable;\n") + len("    void Writable;\n")
open(path, "w").write(src[:start] + body + src[end:])
EOF
grep -q "client.ensureDir" /root/ftp-client.ts

# (2b) The transfers with curl, once in each mode.
cat > /root/ftp-transfers.sh <<'EOF'
#!/bin/bash
set -euo pipefail
. /root/ftp-task.sh
dir=$(task directory)
download=$(task download)
mkdir -p /root/ftp-work && cd /root/ftp-work
printf '%s\n' "$(task upload_text)" > "$(task passive_upload)"
printf '%s\n' "$(task upload_text)" > "$(task active_upload)"
# Passive: plain PASV, and trust the address in the reply as older clients do.
P="--disable-epsv --no-ftp-skip-pasv-ip"
curl -sS $P $auth --ftp-create-dirs -T "$(task passive_upload)" "ftp://$host$dir/"
curl -sS $P $auth "ftp://$host$dir/"
curl -sS $P $auth -o outbox-passive.txt "ftp://$host$download"
# Active: -P - sends PORT (EPRT) with the address of the control connection; the home router's
# FTP helper rewrites it to its public address.
curl -sS -P - $auth -T "$(task active_upload)" "ftp://$host$dir/"
curl -sS -P - $auth "ftp://$host$dir/"
curl -sS -P - $auth -o outbox-active.txt "ftp://$host$download"
cmp outbox-passive.txt outbox-active.txt
{
  echo "outbox_code: $(sed -n 's/^code: //p' outbox-active.txt)"
  cat /root/passive-diagnosis.txt
} > /root/answers.yaml
cat /root/answers.yaml
EOF

# (3) The trigger: one connection from home.sh runs the transfers and gets their output back.
cat > /root/ftp-trigger.py <<'EOF'
import socket, subprocess
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7999))
s.listen(1)
s.settimeout(300)
conn, _ = s.accept()
p = subprocess.run(["bash", "/root/ftp-transfers.sh"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
conn.sendall(p.stdout + f"exit {p.returncode}\n".encode())
conn.close()
EOF
setsid nohup python3 /root/ftp-trigger.py > /root/ftp-trigger.log 2>&1 < /dev/null &
for _ in $(seq 1 50); do ss -Hltn 'sport = :7999' | grep -q . && exit 0; sleep 0.1; done
echo "the trigger did not start: $(cat /root/ftp-trigger.log)" >&2
exit 1
