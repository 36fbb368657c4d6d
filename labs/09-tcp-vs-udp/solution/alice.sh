#!/bin/bash
# Reference solution for lab 09: receive Bob's stream once over UDP and once over TCP (with a
# capture), count what arrived, and write the answers. Works for any seed: everything comes from
# the task card and from what actually arrives.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
host=$(task stream_server)
port=$(task stream_port | cut -d' ' -f1)
iface=$(ip -o route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }')
cd /root

# UDP: one datagram asks for the stream; nc keeps reading until two quiet seconds have passed.
echo go | nc -u -w 2 "$host" "$port" > udp.txt
# Every line is "frame n of N stream ID t=...ms": the sixth word names the run.
udp_stream=$(awk 'NR == 1 { print $6 }' udp.txt)
udp_received=$(wc -l < udp.txt)
udp_late=$(awk '{ if ($2 + 0 < max) late++; if ($2 + 0 > max) max = $2 + 0 } END { print late + 0 }' udp.txt)

# TCP, captured: start tcpdump, wait until it listens, read the stream until Bob closes it.
tcpdump -i "$iface" -nn --immediate-mode -U -w tcp.pcap "tcp port $port" 2> tcpdump.log &
capture=$!
for _ in $(seq 1 100); do grep -q listening tcpdump.log && break; sleep 0.1; done
nc "$host" "$port" < /dev/null > tcp.txt
sleep 1
kill -INT "$capture"
wait "$capture" || true
tcp_stream=$(awk 'NR == 1 { print $6 }' tcp.txt)
tcp_received=$(wc -l < tcp.txt)
# A retransmission is a data segment from Bob that starts below the highest sequence number seen;
# the first one's "A:B" is remembered too.
read -r tcp_retransmissions tcp_first_resend < <(tcpdump -nn -r tcp.pcap "tcp src port $port" 2>/dev/null | awk '
  match($0, /seq [0-9]+:[0-9]+/) {
    split(substr($0, RSTART + 4, RLENGTH - 4), s, ":")
    if (s[1] + 0 < max) { r++; if (first == "") first = s[1] ":" s[2] }
    if (s[2] + 0 > max) max = s[2] + 0
  }
  END { print r + 0, (first == "" ? "none" : first) }')

cat > /root/answers.yaml <<YAML
udp_stream: $udp_stream
udp_received: $udp_received
udp_late: $udp_late
tcp_stream: $tcp_stream
tcp_received: $tcp_received
tcp_retransmissions: $tcp_retransmissions
tcp_first_resend: "$tcp_first_resend"
live_stream: udp
why: A live stream needs frames on time; a lost frame is simply skipped, while TCP would retransmit it and hold back every later frame until the gap is filled, so the picture stalls and falls behind.
YAML
cat /root/answers.yaml
