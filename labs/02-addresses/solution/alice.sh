#!/bin/bash
# Reference solution for lab 02, for any seed: look at the interface, clear whatever address
# configuration it has (none, a wrong subnet, a missing or wrong default route), take a lease from
# the home router's DHCP server, prove reachability, and write the answers from what alice sees.
set -euo pipefail

echo '--- before'
ip -br link show dev lan
ip -4 addr show dev lan
ip -4 route

# Forget the old configuration: addresses and routes on lan (and any earlier DHCP client).
dhclient -r lan 2>/dev/null || true
ip -4 addr flush dev lan
ip -4 route flush dev lan

# Ask the home router for a lease (DHCPDISCOVER, OFFER, REQUEST, ACK); -1: try once, then give up.
dhclient -v -1 lan

echo '--- after'
ip -4 addr show dev lan
ip -4 route
cat /etc/resolv.conf

ping -c 3 192.168.1.1        # the home router, on alice's own network
ping -c 3 198.51.100.80      # Bob's public address, beyond the router

private=$(ip -4 -o addr show dev lan | awk '{ split($4, a, "/"); print a[1]; exit }')
mac=$(cat /sys/class/net/lan/address)
public=$(curl -sS http://web.bob.example/whoami | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientAddress"])')

cat > /root/answers.yaml <<YAML
private_address: $private
public_address: $public
mac_address: $mac
YAML
cat /root/answers.yaml
