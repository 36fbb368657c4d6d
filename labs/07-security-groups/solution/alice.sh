#!/bin/bash
# Reference solution for lab 07, on Alice's laptop: the answers, from the task card and DNS.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
name=$(task admin_from)
admin=$(dig +short "$name" A | grep -E '^[0-9.]+$' | tail -n 1)
[ -n "$admin" ] || { echo "cannot resolve $name" >&2; exit 1; }

cat > /root/answers.yaml <<YAML
admin_source: $admin
dropped_packet: SYN-ACK
why_stateless: >-
  A stateless filter judges every packet on its own and keeps no state, so the server's
  SYN-ACK reply matched no rule (they only let packets in to port 80) and was dropped;
  conntrack remembers the connection and lets its replies back as ESTABLISHED.
YAML
cat /root/answers.yaml
