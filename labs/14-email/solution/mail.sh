#!/bin/bash
# Reference solution for lab 14, on Bob's mail server: Postfix must count bob.example among its
# own domains (mydestination), or it refuses mail for bob@bob.example as relaying, and the
# certificate it presents for STARTTLS must verify: issued by the lab CA, for mail.bob.example,
# valid today. When it does not, install the right pair the lab left in /etc/ssl/hurrynet. Then,
# as the last script, wait until Alice's two messages are in Bob's mailbox (alice.sh sends them).
set -euo pipefail
domain=bob.example
name=mail.$domain
tls=/etc/ssl/hurrynet
reload=no
current=$(postconf -h mydestination)
echo "mydestination = $current"
if ! tr ', ' '\n\n' <<< "$current" | grep -qx "$domain"; then
  postconf -e "mydestination = $domain, $current"
  reload=yes
fi
cert=$(postconf -h smtpd_tls_cert_file)
openssl x509 -in "$cert" -noout -subject -issuer -enddate -ext subjectAltName || true
if ! openssl verify -CAfile "$tls/lab-root-ca.crt" -verify_hostname "$name" "$cert"; then
  openssl verify -CAfile "$tls/lab-root-ca.crt" -verify_hostname "$name" "$tls/$name.crt"
  postconf -e "smtpd_tls_cert_file = $tls/$name.crt" "smtpd_tls_key_file = $tls/$name.key"
  reload=yes
fi
if [ "$reload" = yes ]; then postfix reload; fi
for _ in $(seq 1 90); do
  n=$(grep -c '^Received: from .*\[203\.0\.113\.5\]' /var/mail/bob 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 1
done
grep -E '^(Subject|Received):' /var/mail/bob || echo "no mail for bob yet"
