#!/bin/bash
# Reference solution for lab 06, Carol's phone: ask Bob's server which address her requests come
# from, and leave it as a note on his server for Alice (the answers file lives on her laptop).
set -euo pipefail
me=$(curl -sS -m 5 http://web.bob.example/whoami | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientAddress"])')
ip -4 -br addr show dev mobile      # her own address: in the shared space 100.64.0.0/10
echo "Bob sees carol as $me"
curl -sS -m 5 -H 'Content-Type: application/json' -d "{\"title\":\"carol-public\",\"body\":\"$me\"}" http://web.bob.example/api/notes
