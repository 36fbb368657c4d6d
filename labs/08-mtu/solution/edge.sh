#!/bin/bash
# Reference solution for lab 08 (each router: home, isp, edge), for any seed: path MTU discovery
# needs ICMP "fragmentation needed" to reach the sender. Show this router's MTUs and the rules
# that drop that message, and remove them. The small link itself stays as it is.
set -euo pipefail
echo "--- $(hostname): interfaces and their MTUs"
ip -br link show | awk '{print $1}' | while read -r dev; do
  echo "$dev mtu $(cat "/sys/class/net/${dev%@*}/mtu")"
done
for table in filter mangle raw; do
  rules=$(iptables -t "$table" -S | grep -E -- '--icmp-type (fragmentation-needed|3/4)' | grep -E -- '-j (DROP|REJECT)' || true)
  [ -n "$rules" ] || continue
  while read -r rule; do
    echo "removing from the $table table: $rule"
    # "-A CHAIN ..." becomes "-D CHAIN ...": delete exactly that rule.
    eval "iptables -t $table ${rule/-A /-D }"
  done <<<"$rules"
done
echo "--- rules left that mention ICMP:"
iptables -S | grep -i icmp || echo "(none)"
