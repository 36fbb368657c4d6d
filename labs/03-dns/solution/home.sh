#!/bin/bash
# Reference solution for lab 03, the home router: forward to Bob's DNS server, start with an empty
# cache, then let Alice's laptop do its lookups (see alice.sh) and wait until it has.
set -euo pipefail
conf=/etc/hurrynet/dnsmasq.conf
log=/var/log/dnsmasq.log
dns=198.51.100.53   # Bob's DNS server (in the topology)
alice=192.168.1.101 # Alice's laptop

if grep -qx "server=$dns" "$conf"; then
  # The forwarder is right. Flush the cache anyway: it may remember a "no such name" answer
  # from before the zone was fixed (negative caching). dnsmasq logs "cleared cache" when done.
  before=$(grep -c 'cleared cache' "$log" || true)
  pkill -HUP -x dnsmasq
  for _ in $(seq 50); do [ "$(grep -c 'cleared cache' "$log" || true)" -gt "$before" ] && break; sleep 0.1; done
else
  grep '^server=' "$conf"
  sed -i "s/^server=.*/server=$dns/" "$conf"
  # dnsmasq reads its configuration only at start: restart it.
  pkill -x dnsmasq
  while pgrep -x dnsmasq >/dev/null; do sleep 0.1; done
  dnsmasq --conf-file="$conf"
fi
for _ in $(seq 50); do dig +short +time=1 @127.0.0.1 web.bob.example | grep -q . && break; sleep 0.2; done

# Tell alice's helper to go, then wait for its "done".
end=$((SECONDS + 45))
until nc -z -w 1 "$alice" 9999 </dev/null; do (( SECONDS < end )) || { echo "alice's helper is not there" >&2; exit 1; }; sleep 0.2; done
until [ "$(nc -w 5 "$alice" 9998 </dev/null 2>/dev/null)" = done ]; do
  (( SECONDS < end )) || { echo "alice's lookups did not finish" >&2; exit 1; }
  sleep 0.3
done
echo "alice's lookups are done"
