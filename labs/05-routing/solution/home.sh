#!/bin/bash
# Reference solution for lab 05, the home router: it has one way out, its ISP, so its table needs
# one default route via the ISP router on the access network. Harmless when it is already right.
set -euo pipefail
isp=203.0.113.1
ip -4 route
while ip route show default | grep -qv "via $isp dev access"; do ip route del default; done
ip route replace default via "$isp" dev access
ip -4 route get 198.51.100.80
