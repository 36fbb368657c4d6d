#!/bin/bash
# Reference solution for lab 05, Bob's edge: replies to Alice's public address must go back to the
# ISP router on the backbone; like the home router it has one way out, so a default route.
set -euo pipefail
isp=198.51.100.1
ip -4 route
while ip route show default | grep -qv "via $isp dev backbone"; do ip route del default; done
ip route replace default via "$isp" dev backbone
ip -4 route get 203.0.113.5
