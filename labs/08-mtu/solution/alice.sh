#!/bin/bash
# Reference solution for lab 08 (Alice's part), for any seed: measure the path MTU to Bob with
# pings that must not be fragmented (-M do), by bisection; then send the task card's ping without
# DF (-M dont) and read the fragments with tcpdump -v; write the answers.
set -euo pipefail
bob=198.51.100.80

fits() { # fits SIZE: does a SIZE-byte ping (plus 28 bytes of headers) reach Bob and come back?
  ping -n -c 1 -W 1 -M do -s "$1" "$bob" >/dev/null 2>&1
}

curl -sS -o /dev/null -w 'a small request: %{http_code}, %{size_download} bytes\n' http://web.bob.example/
ping -n -c 1 -M do -s 1472 "$bob" || true     # a full-size packet: 1472 + 28 = 1500 bytes

low=548 high=1472                  # 576 bytes always fit (the IPv4 minimum); 1500 is the most
fits "$low" || { echo "even $low-byte pings get no answer: is Bob reachable?"; exit 1; }
while (( low < high )); do
  mid=$(( (low + high + 1) / 2 ))
  if fits "$mid"; then low=$mid; else high=$(( mid - 1 )); fi
done
path_mtu=$(( low + 28 ))
echo "the largest ping payload that fits is $low bytes, so the path MTU is $path_mtu"

# Fragmentation: the task card's ping may be cut in pieces. Alice forgets the path MTU first (a
# fresh route keeps none), so that her packet leaves whole and the router in front of the small
# link cuts it. Bob's reply, just as big and also without DF, is cut the same way on its way back:
# read its pieces here, on Alice's side of the network (beyond the small link, like the request's
# pieces on the router at the link's far end).
size=$(sed -n 's/^fragment: ping .*-s \([0-9]*\) .*/\1/p' /root/TASK.txt)
[ -n "$size" ] || { echo "the task card names no fragmentation ping"; exit 1; }
ip route del default && ip route add default via 192.168.1.1
tcpdump -l -n -v -i lan "icmp and src host $bob" > /tmp/fragments.txt 2> /tmp/fragments.log &
capture=$!
for _ in $(seq 1 100); do grep -q listening /tmp/fragments.log && break; sleep 0.1; done
ping -n -c 1 -W 2 -M dont -s "$size" "$bob"
sleep 1
kill -INT "$capture"; wait "$capture" || true
cat /tmp/fragments.txt
# Each piece: "IP (tos 0x0, ttl 61, id N, offset O, flags [+], proto ICMP (1), length L)";
# "flags [+]" means more pieces follow, "flags [none]" marks the last.
fragments=$(grep -c ' offset [0-9]*, flags ' /tmp/fragments.txt)
last=$(grep ' offset [0-9]*, flags \[none\]' /tmp/fragments.txt | tail -n 1)
last_offset=$(sed -n 's/.* offset \([0-9]*\),.*/\1/p' <<<"$last")
last_length=$(sed -n 's/.* length \([0-9]*\))$/\1/p' <<<"$last")
# The same, worked out: every piece but the last carries (MTU - 20) rounded down to 8 bytes.
per=$(( (path_mtu - 20) / 8 * 8 ))
echo "ping data $size + 8 bytes of ICMP header, $per bytes a piece: offset of the last $(( (size + 8 - 1) / per * per ))"

cat > /root/answers.yaml <<YAML
path_mtu: $path_mtu
mss: $(( path_mtu - 40 ))
fragments: $fragments
last_offset: $last_offset
last_length: $last_length
YAML
cat /root/answers.yaml
