#!/bin/bash
# Reference solution for lab 04, for any seed: capture Alice's own download of the path on her
# task card, then read the handshake, the initial sequence numbers, the MSS and the data segments
# out of the capture with tcpdump, and write the answers.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
url=$(task fetch)
cap=$(task capture_file)
bob=198.51.100.80

# 1. Capture on Alice's interface (only HTTP to Bob), wait until tcpdump listens, fetch, stop.
#    -U writes every packet to the file as soon as tcpdump has it; stop only once the file holds
#    the end of the connection (Bob's FIN): tcpdump may lag behind on a busy machine, and what it
#    has not written when it stops is lost.
rm -f "$cap"
tcpdump -i lan -U -w "$cap" "host $bob and tcp port 80" 2>/tmp/tcpdump.err &
pid=$!
for _ in $(seq 1 100); do grep -q listening /tmp/tcpdump.err && break; sleep 0.1; done
curl -sS -o /dev/null -w 'fetched %{size_download} bytes from %{remote_ip}:%{remote_port}, local port %{local_port}\n' "$url"
for _ in $(seq 1 100); do
  tcpdump -r "$cap" -nn "src host $bob and tcp[tcpflags] & tcp-fin != 0" 2>/dev/null | grep -q . && break
  sleep 0.2
done
sleep 0.5
kill -INT "$pid"
wait "$pid" || true

# 2. Read it back with absolute sequence numbers (-S) and without name lookups (-nn).
tcpdump -r "$cap" -nn -S 2>/dev/null > /tmp/capture.txt
head -n 4 /tmp/capture.txt

# The SYN (Flags [S]) is Alice's: her port, her initial sequence number, the MSS she announced.
syn=$(grep -m1 'Flags \[S\],' /tmp/capture.txt)
port=$(sed -E 's/.* IP [0-9.]+\.([0-9]+) > .*/\1/' <<<"$syn")
client_isn=$(sed -E 's/.*, seq ([0-9]+),.*/\1/' <<<"$syn")
mss=$(sed -E 's/.*mss ([0-9]+).*/\1/' <<<"$syn")

# The SYN-ACK (Flags [S.]) is Bob's: his initial sequence number; it acknowledges client_isn + 1.
synack=$(grep -m1 "Flags \[S\.\], seq [0-9]*, ack $(( (client_isn + 1) % 4294967296 ))," /tmp/capture.txt)
server_isn=$(sed -E 's/.*, seq ([0-9]+),.*/\1/' <<<"$synack")

# Bob's segments that carry data: from bob:80 to Alice's port, with a length above 0.
grep -E " IP $bob\.80 > [0-9.]+\.$port: " /tmp/capture.txt | grep -v 'length 0$' > /tmp/data.txt || true
data_segments=$(wc -l < /tmp/data.txt)
# Sequence numbers count bytes: the last data segment ends at seq START:END.
last_end=$(sed -E 's/.*, seq [0-9]+:([0-9]+),.*/\1/' /tmp/data.txt | sort -n | tail -n 1)
server_bytes=$(( (last_end - server_isn - 1 + 4294967296) % 4294967296 ))

cat > /root/answers.yaml <<YAML
client_port: $port
client_isn: $client_isn
server_isn: $server_isn
mss: $mss
data_segments: $data_segments
server_bytes: $server_bytes
YAML
cat /root/answers.yaml
