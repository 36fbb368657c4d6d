#!/bin/bash
# Reference solution for lab 10, Alice's part: trust the lab CA, look at the handshake, name the
# problem and note the certificate's serial and issuer. It runs before web.sh (scripts run in name
# order), so it sees the server as the lab started it.
set -euo pipefail
host=web.bob.example

# 1. Trust the lab's root CA: the system store is built from /usr/local/share/ca-certificates/*.crt.
cp /root/lab-ca.crt /usr/local/share/ca-certificates/hurrynet-lab-ca.crt
update-ca-certificates

# 2. The handshake: which certificates does the server send, and what does verification say?
hs=$(openssl s_client -connect "$host:443" -servername "$host" -verify_hostname "$host" -showcerts </dev/null 2>&1 || true)
grep -E '^ *[0-9]+ s:|^ +i:|^ +v:|^Verify return code' <<<"$hs"
leaf=$(awk '/-----BEGIN CERTIFICATE-----/ { n++ } n == 1 { print } /-----END CERTIFICATE-----/ && n == 1 { exit }' <<<"$hs")
openssl x509 -noout -subject -issuer -serial -dates -ext subjectAltName <<<"$leaf"
serial=$(openssl x509 -noout -serial <<<"$leaf" | cut -d= -f2)
issuer=$(openssl x509 -noout -issuer -nameopt multiline <<<"$leaf" | awk -F' = ' '/commonName/ { print $2 }')
code=$(sed -n 's/^Verify return code: \([0-9]*\).*/\1/p' <<<"$hs" | tail -n 1)
case $code in
  62) problem=wrong-name ;;               # hostname mismatch
  10) problem=expired ;;                  # certificate has expired
  20 | 21) problem=missing-intermediate ;; # unable to get local issuer / verify the first certificate
  *) echo "unexpected verification result: $code" >&2; exit 1 ;;
esac
curl -sS -o /dev/null "https://$host/" || true # curl says the same in its own words

cat > /root/answers.yaml <<YAML
problem: $problem
old_serial: $serial
issuer: $issuer
YAML
cat /root/answers.yaml
