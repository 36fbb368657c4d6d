#!/bin/bash
# Reference solution for lab 15, on Alice's laptop (run after the routers' scripts): see that Bob
# answers again, read the AS numbers off the task card, and ask the routers what they found.
set -euo pipefail
bob=198.51.100.80
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
networks=$(task networks)
transit_as=$(sed -n 's/.*transit AS \([0-9]*\).*/\1/p' <<< "$networks")
edge_as=$(sed -n "s/.*Bob's cloud AS \([0-9]*\).*/\1/p" <<< "$networks")
[ -n "$transit_as" ] && [ -n "$edge_as" ] || { echo "the task card names no AS numbers"; exit 1; }

for _ in $(seq 1 40); do ping -n -c 1 -W 1 "$bob" > /dev/null && break; sleep 0.5; done
ping -n -c 3 "$bob"
traceroute -n -q 1 -w 1 -m 8 "$bob"

# The routers' notes: the ISP on Alice's side of its network, the transit network on its peering
# address (reachable now that it has a route back to Alice). No note: the fault was on Bob's edge.
router=edge
for at in isp:203.0.113.1 transit:172.16.12.2; do
  note=$(nc -w 2 "${at#*:}" 1515 < /dev/null || true)
  [ -n "$note" ] && { echo "${at%%:*} says: $note"; router=${at%%:*}; }
done

cat > /root/answers.yaml <<YAML
as_path: $transit_as $edge_as
router: $router
YAML
cat /root/answers.yaml
