#!/bin/bash
# Reference solution for lab 14, on Bob's mail server: Postfix must count bob.example among its
# own domains (mydestination), or it refuses mail for bob@bob.example as relaying. Then, as the
# last script, wait until Alice's two messages are in Bob's mailbox (alice.sh sends them).
set -euo pipefail
domain=bob.example
current=$(postconf -h mydestination)
echo "mydestination = $current"
if ! tr ', ' '\n\n' <<< "$current" | grep -qx "$domain"; then
  postconf -e "mydestination = $domain, $current"
  postfix reload
fi
for _ in $(seq 1 90); do
  n=$(grep -c '^Received: from .*\[203\.0\.113\.5\]' /var/mail/bob 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 1
done
grep -E '^(Subject|Received):' /var/mail/bob || echo "no mail for bob yet"
