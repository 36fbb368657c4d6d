#!/bin/bash
# Reference solution for lab 03, Alice's part: diagnose with dig, fix her resolver setting when that
# is what is broken, then show the home router's cache and write the answers.
#
# A submission's scripts run one after another in name order: alice.sh, dns.sh, home.sh. The cache
# lookups must come from Alice's laptop AFTER dns.sh and home.sh have fixed their nodes, so alice.sh
# leaves a small helper running that coordinates with them over the lab network:
#   1. it hands this learner's task card to dns.sh (the dns node cannot read /root/TASK.txt),
#   2. it waits until home.sh says "go" (the router is fixed and its cache flushed),
#   3. it does the two lookups, writes /root/answers.yaml and tells home.sh "done".
# At the keyboard none of this is needed: you simply do the steps in this order.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
name=$(task must_resolve)
want=$(task expected_address)
cache=$(task cache_name)
router=$(ip route show default | awk '{ print $3; exit }') # the home router: gateway, DHCP and DNS
dns=198.51.100.53                                          # Bob's DNS server (in the topology)

# The status of a lookup (NOERROR, NXDOMAIN, SERVFAIL...), or nothing when no answer came back.
status() { dig +time=2 +tries=1 "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' || true; }

# 1. Diagnose: where does Alice ask, who answers, and what do they say?
ns=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
at_router=$(status @"$router" "$name")
at_dns=$(status @"$dns" "$name")
echo "alice asks ${ns:-nobody}; for $name the router says ${at_router:-nothing}, Bob's DNS server says ${at_dns:-nothing}"
if [ "$ns" != "$router" ]; then
  fault=alice
  # Docker mounts /etc/resolv.conf into the container: sed -i cannot replace the file, but
  # writing into it works.
  printf 'nameserver %s\n' "$router" > /etc/resolv.conf
elif [ "$at_router" = NXDOMAIN ] && [ "$at_dns" = NXDOMAIN ]; then
  fault=dns   # everybody answers, and Bob's own server says the name does not exist
else
  fault=home  # Bob's server answers, the router does not: it forwards to the wrong place
fi
echo "the fault is on: $fault"

# 2. The helper (see the top of this file).
cat > /tmp/lab03-lookups.sh <<'HELPER'
#!/bin/bash
set -u
fault=$1 dns=$2 name=$3 want=$4 cache=$5
end=$((SECONDS + 55))
# The TTL in the first A record of the answer (dig asks the resolver in /etc/resolv.conf).
ttl_of() { dig +noall +answer "$1" | awk '$4 == "A" { print $2; exit }'; }

until nc -N -w 2 "$dns" 9997 < /root/TASK.txt 2>/dev/null; do
  (( SECONDS < end )) || exit 1; sleep 0.2
done
timeout $((end - SECONDS)) nc -l 9999 </dev/null >/dev/null || exit 1
until [ "$(dig +short "$name" | tail -n 1)" = "$want" ]; do
  (( SECONDS < end )) || exit 1; sleep 0.5
done

first=$(ttl_of "$cache")   # forwarded to Bob's DNS server: the full TTL of the record
sleep 3                    # long enough for the cached entry to age by a few seconds
second=$(ttl_of "$cache")  # answered by the router from its cache: a lower TTL
echo "TTL of $cache: first $first, second $second"
# A forwarded lookup reaches the dns node, a cached one does not. (At the keyboard, count the
# lines in /var/log/named/queries.log on dns; a script on alice cannot read that file.)
if [ "$second" -lt "$first" ]; then queries=1; else queries=2; fi
cat > /root/answers.yaml <<YAML
fault_node: $fault
ttl_first: $first
ttl_second: $second
dns_queries: $queries
YAML
cat /root/answers.yaml
echo done | timeout 20 nc -N -l 9998
HELPER
setsid bash /tmp/lab03-lookups.sh "$fault" "$dns" "$name" "$want" "$cache" </dev/null >/tmp/lab03-lookups.log 2>&1 &
echo "lookups of $cache will run once home.sh has fixed the router (log: /tmp/lab03-lookups.log)"
