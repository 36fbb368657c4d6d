#!/bin/bash
# Reference solution for lab 14, on Bob's edge: the security group must let new SMTP connections
# (tcp port 25) in to the mail server. Inserted before the final DROP of the backbone side.
set -euo pipefail
mail=10.0.1.25
allow=(-i backbone -d "$mail/32" -p tcp --dport 25 -m conntrack --ctstate NEW -j ACCEPT)
iptables -C FORWARD "${allow[@]}" 2>/dev/null || iptables -I FORWARD 2 "${allow[@]}"
iptables -S FORWARD | grep -F "$mail"
