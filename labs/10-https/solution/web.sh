#!/bin/bash
# Reference solution for lab 10, Bob's server: a certificate for the right name that is valid now,
# issued by Bob's issuing CA and sent together with it, and the TLS versions of the policy.
set -euo pipefail
host=web.bob.example
tls=/etc/hurrynet/tls
ca=/root/ca
min=$(sed -n 's/^min_tls_version: //p' /root/TASK.txt)
cd "$tls"

echo '--- the certificate the server has'
openssl x509 -in server.crt -noout -subject -issuer -serial -dates -ext subjectAltName
if openssl x509 -in server.crt -noout -checkend 0 && openssl x509 -in server.crt -noout -ext subjectAltName | grep -q "DNS:$host\b"; then
  echo "it is for $host and valid now: keep it"
else
  echo "--- a new key and certificate for $host, signed by Bob's issuing CA"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/O=Bob Example/CN=$host" -keyout new.key -out new.csr
  openssl x509 -req -in new.csr -CA "$ca/bob-issuing-ca.crt" -CAkey "$ca/bob-issuing-ca.key" -days 90 \
    -extfile <(printf 'subjectAltName=DNS:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$host") \
    -out new.crt
  mv new.crt server.crt
  mv new.key server.key
  rm -f new.csr
fi

# The server sends chain.crt after its own certificate: Bob's issuing CA, which clients do not have.
cp "$ca/bob-issuing-ca.crt" chain.crt
openssl verify -CAfile "$ca/lab-root-ca.crt" -untrusted chain.crt server.crt

printf '{ "minVersion": "%s" }\n' "$min" > options.json

# Make the server read the files again, and wait until its log says it did.
log=/var/log/web/tls.log
before=$(grep -c . "$log" || true)
pkill -HUP -x node   # the web server is the only node process on web
for _ in $(seq 50); do [ "$(grep -c . "$log" || true)" -gt "$before" ] && break; sleep 0.1; done
tail -n 1 "$log"
grep -q 'reloaded' <<<"$(tail -n 1 "$log")"
