#!/bin/bash
# Reference solution for lab 06, the home router: translate everything that leaves towards the ISP
# to the router's own address on that side (masquerade), look at the translations, and leave the
# router's ISP-side address as a note on Bob's server for Alice. Then wait until Alice's laptop
# has written its answers (see alice.sh).
set -euo pipefail
iptables -t nat -C POSTROUTING -o access -j MASQUERADE 2>/dev/null || iptables -t nat -A POSTROUTING -o access -j MASQUERADE
iptables -t nat -S POSTROUTING
side=$(ip -4 -o addr show dev access | awk '{ split($4, a, "/"); print a[1]; exit }')
echo "ISP side: $side"
curl -sS -m 5 -H 'Content-Type: application/json' -d "{\"title\":\"home-isp-side\",\"body\":\"$side\"}" http://web.bob.example/api/notes
for i in $(seq 1 160); do
  if curl -sS -m 3 http://web.bob.example/api/notes | grep -q '"title":"alice-answers"'; then
    conntrack -L -p tcp --dport 80 2>/dev/null | tail -n 3    # Alice's connections, translated
    exit 0
  fi
  sleep 0.25
done
echo "alice never wrote her answers" >&2
exit 1
