#!/bin/bash
# Reference solution for lab 08 (Alice's part), for any seed: measure the path MTU to Bob with
# pings that must not be fragmented (-M do), by bisection, and write the answers.
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

cat > /root/answers.yaml <<YAML
path_mtu: $path_mtu
mss: $(( path_mtu - 40 ))
YAML
cat /root/answers.yaml
