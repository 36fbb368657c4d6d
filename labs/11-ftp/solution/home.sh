#!/bin/bash
# Reference solution for lab 11, on Alice's home router, for any seed: attach the FTP connection
# tracking helper to FTP control connections coming from the home network, so that the NAT
# rewrites the address in Alice's PORT/EPRT commands and expects Bob's data connection.
set -euo pipefail
lan=$(ip -o -4 addr show | awk '$4 ~ /^192\.168\.1\./ { print $2 }')
echo '--- before'; iptables -t raw -S PREROUTING
rule=(-i "$lan" -p tcp --dport 21 -j CT --helper ftp)
iptables -t raw -C PREROUTING "${rule[@]}" 2>/dev/null || iptables -t raw -A PREROUTING "${rule[@]}"
echo '--- after'; iptables -t raw -S PREROUTING

# This script runs last: set off the transfers alice.sh prepared, and show what they did.
out=$(nc -w 60 192.168.1.101 7999 < /dev/null)
printf '%s\n' "$out"
[ "$(printf '%s\n' "$out" | tail -n 1)" = "exit 0" ]
