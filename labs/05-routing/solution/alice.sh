#!/bin/bash
# Reference solution for lab 05, alice's part (scripts run in name order, so this one runs before
# any router is fixed): trace towards Bob, note the last hop that answered, and work out which
# router is to blame. Works for every seed: it only looks at what the network does.
set -uo pipefail
bob=198.51.100.80        # web.bob.example; names may not resolve while routing is broken
edge=198.51.100.2        # Bob's edge router on the backbone

last=''
for attempt in 1 2 3; do
  trace=$(traceroute -n -q 2 -w 1 -m 3 "$bob")
  echo "$trace"
  # The last address printed on a hop line is the last router that answered.
  last=$(printf '%s\n' "$trace" | awk 'NR > 1 { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) a = $i } END { print a }')
  [ -n "$last" ] && break
done
ping -n -c 2 -W 1 "$bob" || true

case "$last" in
  192.168.1.1 | 203.0.113.5)
    router=home ;;   # Alice's own router could not hand the packets on
  *)
    # The ISP router answered, so the trouble is further on. If Bob's edge answers a ping of its
    # own address, its replies find their way back and the ISP sends Bob's traffic astray;
    # if it does not, the edge has no way back to Alice's public address.
    if ping -n -c 2 -W 1 "$edge"; then router=isp; else router=edge; fi ;;
esac

cat > /root/answers.yaml <<YAML
stopped_at: $last
router: $router
YAML
cat /root/answers.yaml
