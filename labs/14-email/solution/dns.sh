#!/bin/bash
# Reference solution for lab 14, on Bob's DNS server: the MX record of bob.example must name
# mail.bob.example; when it does not, fix it, raise the serial, check the zone and reload bind.
set -euo pipefail
zone_name=bob.example
zone=/etc/bind/zones/db.$zone_name
grep -E '^@ IN MX ' "$zone" || true
if grep -qE "^@ IN MX 10 mail\.$zone_name\.$" "$zone"; then
  echo "the MX record is right"
  exit 0
fi
sed -i '/^@ IN MX /d' "$zone"
echo "@ IN MX 10 mail.$zone_name." >> "$zone"
serial=$(awk '/SOA/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$zone")
sed -i "0,/$serial/s//$((serial + 1))/" "$zone"
named-checkzone "$zone_name" "$zone"
pkill -HUP -x named # rndc is not configured in the lab: SIGHUP makes named reload its zones
sleep 1
dig +short @127.0.0.1 MX "$zone_name"
