#!/bin/bash
# Reference solution for lab 13, Bob's edge: its way back to the internet, and the security-group
# rules that let new HTTP and FTP flows in.
set -euo pipefail
upstream=198.51.100.1   # the ISP router on the backbone

ip route show
if [ -z "$(ip route show default)" ]; then
  ip route add default via "$upstream"
  echo "added the default route via $upstream"
fi

iptables -S FORWARD
allow() { # the rule, without "-A FORWARD"
  if ! iptables -C FORWARD "$@" 2>/dev/null; then
    iptables -I FORWARD 2 "$@"   # after "ESTABLISHED,RELATED", before the final DROP
    echo "added: $*"
  fi
}
allow -i backbone -d 10.0.1.10 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -j ACCEPT
allow -i backbone -d 10.0.1.21 -p tcp -m multiport --dports 21,30000:30009 -m conntrack --ctstate NEW -j ACCEPT
iptables -S FORWARD
