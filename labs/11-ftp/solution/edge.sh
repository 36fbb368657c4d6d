#!/bin/bash
# Reference solution for lab 11, on Bob's edge, for any seed: make sure the control port and the
# passive range are both forwarded (DNAT) to the file store and allowed in by the security group.
set -euo pipefail
ftp=10.0.1.21
public=198.51.100.80
ports=21,30000:30009   # vsftpd's pasv_min_port..pasv_max_port
outside=backbone
echo '--- before'; iptables -t nat -S PREROUTING; iptables -S FORWARD
dnat=(-d "$public/32" -p tcp -m multiport --dports "$ports" -j DNAT --to-destination "$ftp")
iptables -t nat -C PREROUTING "${dnat[@]}" 2>/dev/null || iptables -t nat -I PREROUTING 1 "${dnat[@]}"
allow=(-i "$outside" -d "$ftp/32" -p tcp -m multiport --dports "$ports" -m conntrack --ctstate NEW -j ACCEPT)
iptables -C FORWARD "${allow[@]}" 2>/dev/null || iptables -I FORWARD 2 "${allow[@]}"
echo '--- after'; iptables -t nat -S PREROUTING; iptables -S FORWARD
