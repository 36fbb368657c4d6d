#!/bin/bash
# Reference solution for lab 06, Alice's laptop. Submission scripts run one after another in name
# order (alice.sh, carol.sh, home.sh), and Alice cannot reach Bob before home.sh has put the home
# router's translation back. So her part waits in the background: as soon as Bob answers, she
# asks him who she is, reads the notes Carol's phone and the home router left on Bob's server
# with what they saw, writes /root/answers.yaml, and leaves a note that she is done (home.sh waits
# for that note, so nothing is graded before the answers exist). Works for every seed.
set -euo pipefail
cat > /root/collect-answers.sh <<'SCRIPT'
#!/bin/bash
set -uo pipefail
bob=http://web.bob.example
note() { # the body of the newest note with this title on Bob's server
  curl -sS -m 3 "$bob/api/notes" | python3 -c 'import json, sys
notes = [n for n in json.load(sys.stdin) if n["title"] == sys.argv[1]]
print(notes[-1]["body"] if notes else "")' "$1"
}
for i in $(seq 1 200); do
  me=$(curl -sS -m 2 "$bob/whoami" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientAddress"])' 2>/dev/null) || me=''
  if [ -n "$me" ]; then
    carol=$(note carol-public)
    home=$(note home-isp-side)
    if [ -n "$carol" ] && [ -n "$home" ]; then
      printf 'alice_public: %s\ncarol_public: %s\nhome_isp_side: %s\n' "$me" "$carol" "$home" > /root/answers.yaml
      cat /root/answers.yaml
      curl -sS -m 3 -H 'Content-Type: application/json' -d '{"title":"alice-answers","body":"written"}' "$bob/api/notes"
      exit 0
    fi
  fi
  sleep 0.25
done
echo 'gave up: Bob never answered, or the notes never came' >&2
exit 1
SCRIPT
# Before the fix: the name resolves (the home router asks the DNS server itself), but a
# connection to Bob gets no answer, because nothing translates 192.168.1.101 on the way out.
dig +short web.bob.example || true
curl -sS -m 2 http://web.bob.example/whoami || echo '(no answer yet)'
setsid nohup bash /root/collect-answers.sh > /root/collect-answers.log 2>&1 < /dev/null &
