#!/bin/bash
# Reference solution for lab 15, on a BGP router, for any seed (the same script on isp, transit and
# edge; the lab runs them before alice.sh). It reads what BIRD and the kernel say, repairs what is
# wrong in this router's /etc/bird/bird.conf, applies it, and leaves Alice's laptop a note of what
# it changed: a one-shot answer on TCP port 1515, which alice.sh asks for.
set -euo pipefail
conf=/etc/bird/bird.conf
me=$(hostname)
fixed=()

echo "== $me: BIRD's view before"
birdc show protocols
cp "$conf" /tmp/bird.conf.before

# 1. A neighbour refused some prefixes: take everything it announces (the lab trusts its peers).
if grep -q 'import where' "$conf"; then
  sed -i 's/import where [^;]*;/import all;/' "$conf"
  fixed+=('an import filter refused a prefix')
fi

# 2. The prefixes this AS owns are its directly connected public networks (the peering links and
#    Bob's VPC are private): announce exactly those, and drop a blackhole that took someone else's.
own=$(ip -4 route show proto kernel scope link | awk '{ print $1 }' |
  grep -Ev '^(10\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.)' | sort | tr '\n' ' ' || true)
announced=$(sed -n '/^protocol static own_prefixes/,/^}/ s/^ *route \([0-9./]*\) unreachable;/\1/p' "$conf" |
  sort | tr '\n' ' ')
if [ "$own" != "$announced" ]; then
  awk -v own="$own" '
    /^protocol static own_prefixes/ { inside = 1 }
    inside && /^ *route / { next }
    { print }
    inside && /^ *ipv4;/ { n = split(own, p, " "); for (i = 1; i <= n; i++) printf "  route %s unreachable;\n", p[i] }
    inside && /^}/ { inside = 0 }
  ' "$conf" > /tmp/bird.conf.new
  cat /tmp/bird.conf.new > "$conf"
  fixed+=("it announced ${announced:-nothing} instead of ${own:-nothing}")
fi
for p in $(ip -4 route show type blackhole | awk '{ print $2 }'); do
  ip route del blackhole "$p"
  fixed+=("a blackhole for $p")
done

# 3. A neighbour with the wrong AS number: the session never comes up, and BIRD logs the AS the
#    neighbour really has ("NAME: Error: Bad peer AS: N"). Give each session a few tries to show it.
for name in $(awk '/^protocol bgp/ { print $3 }' "$conf"); do
  for _ in $(seq 1 40); do
    birdc show protocols "$name" | grep -q Established && break
    real=$(sed -n "s/.* $name: Error: Bad peer AS: \\([0-9]*\\).*/\\1/p" /var/log/bird.log | tail -n 1)
    if [ -n "$real" ]; then
      sed -i "/^protocol bgp $name {/,/^}/ s/neighbor \\([0-9.]*\\) as [0-9]*;/neighbor \\1 as $real;/" "$conf"
      fixed+=("neighbour $name has AS $real")
      break
    fi
    sleep 0.3
  done
done

echo "== $me: changes"
diff -u /tmp/bird.conf.before "$conf" || true
birdc configure
for _ in $(seq 1 40); do
  [ "$(birdc show protocols | grep -c ' BGP .*Established')" = "$(grep -c '^protocol bgp' "$conf")" ] && break
  sleep 0.3
done
birdc show protocols
birdc show route

if [ ${#fixed[@]} -gt 0 ]; then
  printf 'router: %s\nfixed: %s\n' "$me" "$(IFS=';'; echo "${fixed[*]}")" > /root/finding.txt
  cat /root/finding.txt
  # One answer for alice.sh, then gone (and gone anyway after two minutes).
  setsid timeout 120 nc -l -N 1515 < /root/finding.txt > /dev/null 2>&1 &
fi
