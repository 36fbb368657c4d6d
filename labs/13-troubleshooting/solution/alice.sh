#!/bin/bash
# Reference solution for lab 13, Alice's part: diagnose from the laptop, layer by layer, fix what is
# wrong on the laptop itself, and write down which fault each tool showed. The other nodes' scripts
# run after this one (name order: alice, dns, edge, home), so everything here sees the world as the
# lab started it, with only the laptop's own faults fixed.
set -uo pipefail
home_net=192.168.1     # Alice's home network, from the topology
me=192.168.1.101/24    # Alice's laptop
router=192.168.1.1     # the home router: gateway, DHCP server and resolver
bob=198.51.100.80      # Bob's public address (web and ftp)
laptop_fault= names_fault= network_fault=

echo '== 1. the laptop: ip addr, ip route'
ip -4 addr show dev lan
ip -4 route show
addr=$(ip -4 -o addr show dev lan | awk '{ print $4; exit }')
gw=$(ip -4 route show default | awk '{ print $3; exit }')
if [ -z "$addr" ] || [ "${addr%.*}" != "$home_net" ]; then
  laptop_fault=alice-address laptop_tool=ip
  echo "-> the laptop has ${addr:-no address}, not one on $home_net.0/24"
  ip -4 addr flush dev lan
  ip addr add "$me" brd + dev lan
  ip route replace default via "$router" dev lan
elif [ "$gw" != "$router" ]; then
  laptop_fault=alice-gateway laptop_tool=ip
  echo "-> the default route points at ${gw:-nothing}, not at the home router"
  ping -c 1 -W 1 "${gw:-$router}" || true   # no answer from a gateway that does not exist
  ip route replace default via "$router" dev lan
fi
ping -c 2 -W 1 "$router"

echo '== 2. names: dig (the resolver alice uses, then the home router directly)'
if ! dig +time=1 +tries=1 "ns.bob.example"; then   # dig exits 9 when no server answered
  names_fault=alice-resolver names_tool=dig
  echo "-> the resolver in /etc/resolv.conf does not answer; the home router does:"
  dig +time=1 +tries=1 @"$router" ns.bob.example | grep -E 'status|SERVER'
  printf 'nameserver %s\n' "$router" > /etc/resolv.conf   # Docker mounts the file: write into it
fi
for name in web ftp; do
  status=$(dig +time=1 +tries=2 "$name.bob.example" | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
  echo "$name.bob.example: $status"
  if [ "$status" = NXDOMAIN ]; then
    names_fault=dns-record names_tool=dig
    echo "-> Bob's DNS server says $name.bob.example does not exist: the record is missing (fixed by dns.sh)"
  fi
done

echo '== 3. the network: traceroute to Bob, then the services (by address: names may be broken)'
trace=$(traceroute -n -q 1 -w 1 -m 6 "$bob")
echo "$trace"
last=$(awk 'NR > 1 && $2 ~ /^[0-9.]+$/ { hop = $2 } END { print hop }' <<<"$trace")
if [ "$last" = "$router" ]; then
  network_fault=home-nat network_tool=traceroute   # answers stop right behind the home router
elif [ "$last" != "$bob" ]; then
  network_fault=edge-route network_tool=traceroute # the ISP answers, nothing behind it does
elif ! curl -sS --connect-timeout 3 -m 5 -o /dev/null "http://$bob/"; then
  network_fault=edge-http network_tool=curl        # the path works (ping, traceroute), HTTP does not
elif ! curl -sS --connect-timeout 3 -m 5 "ftp://$bob/"; then
  network_fault=edge-ftp network_tool=curl
fi

cat > /root/answers.yaml <<YAML
laptop_fault: ${laptop_fault:-none}
laptop_tool: ${laptop_tool:-none}
names_fault: ${names_fault:-none}
names_tool: ${names_tool:-none}
network_fault: ${network_fault:-none}
network_tool: ${network_tool:-none}
YAML
cat /root/answers.yaml
