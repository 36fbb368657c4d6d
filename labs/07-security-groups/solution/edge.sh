#!/bin/bash
# Reference solution for lab 07, on Bob's edge, for any seed: replace the stateless packet filter
# with a stateful security group. The policy comes from the task card the lab left on the edge.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
port=$(task admin_port)
name=$(task admin_from)
# The admin address, from DNS (the edge's own lookups do not cross its FORWARD chain).
admin=$(dig +short "$name" A | grep -E '^[0-9.]+$' | tail -n 1)
[ -n "$admin" ] || { echo "cannot resolve $name" >&2; exit 1; }
web=10.0.1.10
echo "admin port $port from $name ($admin)"

echo '--- before'
iptables -S FORWARD

iptables -P FORWARD DROP
iptables -F FORWARD
# Stateful: whatever belongs to a connection the edge has already let through (the replies, and
# related ICMP errors) passes; packets that belong to no connection at all are dropped.
iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
# Bob's servers may start their own connections to the outside (DNS lookups, updates).
iptables -A FORWARD -i vpc -o backbone -m conntrack --ctstate NEW -j ACCEPT
# New connections from outside: the web ports from anywhere, the admin port from one address.
iptables -A FORWARD -i backbone -d $web -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT
iptables -A FORWARD -i backbone -s "$admin" -d $web -p tcp --dport "$port" -m conntrack --ctstate NEW -j ACCEPT
# Everything else that starts outside is dropped by the policy.
# Flows the old rules let in are still in the connection table and would stay ESTABLISHED: forget them.
conntrack -F 2>/dev/null || true

echo '--- after'
iptables -S FORWARD
