#!/bin/bash
# Reference solution for lab 13, Bob's DNS server: every name Bob serves has its record.
set -euo pipefail
zone_name=bob.example
zone=/etc/bind/zones/db.$zone_name
bob=198.51.100.80   # web and ftp both live behind Bob's public address

changed=0
for name in web ftp; do
  if ! grep -q "^$name IN A " "$zone"; then
    echo "$name IN A $bob" >> "$zone"
    changed=1
  fi
done
[ "$changed" = 1 ] || { echo "the zone has every record"; exit 0; }
serial=$(awk '/SOA/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$zone")
sed -i "0,/$serial/s//$((serial + 1))/" "$zone"
named-checkzone "$zone_name" "$zone"
pkill -HUP -x named   # rndc is not set up: SIGHUP reloads the zones
for _ in $(seq 50); do
  [ -n "$(dig +short @127.0.0.1 web.$zone_name)" ] && [ -n "$(dig +short @127.0.0.1 ftp.$zone_name)" ] && { echo "both names resolve again"; exit 0; }
  sleep 0.2
done
echo "named did not load the records" >&2
exit 1
