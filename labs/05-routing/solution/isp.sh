#!/bin/bash
# Reference solution for lab 05, the ISP router: it knows its own two networks and must be told
# where Bob's public block is (behind Bob's edge, 198.51.100.2). It keeps no default route.
set -euo pipefail
bob=198.51.100.80
edge=198.51.100.2
ip -4 route
# The longest route that contains Bob's address (ip route show match lists all that do).
best=$(ip -4 route show match "$bob" | awk '$1 != "default" { n = split($1, p, "/"); len = (n > 1 ? p[2] : 32); if (len > max) { max = len; line = $0 } } END { print line }')
if [ -n "$best" ] && ! grep -q "via $edge " <<<"$best "; then
  # A route for Bob's block exists but leads elsewhere: keep the prefix, fix the next hop.
  ip route replace "$(awk '{ print $1 }' <<<"$best")" via "$edge" dev backbone
elif [ -z "$best" ]; then
  # No route at all. A learner reads the block off the edge ("ip -br addr" there); from the ISP
  # alone the one address known to be Bob's is the most specific sensible route.
  ip route add "$bob/32" via "$edge" dev backbone
fi
ip -4 route
ip -4 route get "$bob"
