#!/bin/bash
# Reference solution for lab 13, the home router: translate what leaves for the internet, and forget
# any "no such name" answer remembered while Bob's zone was broken.
set -euo pipefail
if ! iptables -t nat -C POSTROUTING -o access -j MASQUERADE 2>/dev/null; then
  iptables -t nat -A POSTROUTING -o access -j MASQUERADE
  conntrack -F >/dev/null 2>&1 || true   # flows seen without NAT start again
  echo "masquerading on access again"
fi
iptables -t nat -S POSTROUTING

# Negative caching: after a fix on dns, the router may still answer NXDOMAIN for a while.
pkill -HUP -x dnsmasq
for _ in $(seq 50); do
  [ -n "$(dig +short +time=1 @127.0.0.1 web.bob.example)" ] && [ -n "$(dig +short +time=1 @127.0.0.1 ftp.bob.example)" ] && { echo "the router resolves web and ftp"; exit 0; }
  sleep 0.2
done
echo "the router does not resolve web and ftp" >&2
exit 1
