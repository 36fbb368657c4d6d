#!/bin/bash
# Reference solution for lab 14, on Alice's laptop, for any seed.
#
# Submission scripts run in name order: alice.sh, dns.sh, edge.sh, mail.sh. This script (1) finds
# which step of the mail path is broken while it still is, writes the answer, and (2) leaves a
# sender in the background that waits until the path works (after the other scripts' fixes), then
# talks SMTP by hand once and sends the big message over STARTTLS, verifying the server's
# certificate against alice's trust store (which holds the lab CA): it tries again until mail.sh
# has put the right certificate in place. mail.sh, which runs last, waits until both messages are
# in Bob's mailbox. At the keyboard you simply do the steps in this order.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
domain=$(task mail_to | cut -d@ -f2)
dns=198.51.100.53 # Bob's DNS server; asked directly so that the home router's cache cannot hide a fix

# (1) Diagnose: the MX record, then the way in (port 25), then the server (its answer to RCPT TO,
# or a certificate that does not verify: both are fixed on mail).
mx=$(dig +short MX "$domain" | sort -n | awk 'NR == 1 { print $2 }')
echo "MX of $domain: ${mx:-none}"
if [ "$mx" != "mail.$domain." ]; then
  broken=dns
elif ! nc -z -w 3 "mail.$domain" 25; then
  broken=edge
else
  broken=mail
fi
echo "broken at: $broken"
printf 'broken_at: %s\n' "$broken" > /root/answers.yaml

# (2) The sender, once the path works.
cat > /root/send-mail.sh <<'SEND'
#!/bin/bash
set -u
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
to=$(task mail_to); from=$(task mail_from); domain=${to#*@}
for _ in $(seq 1 60); do
  mx=$(dig +short @198.51.100.53 MX "$domain" | sort -n | awk 'NR == 1 { print $2 }')
  reply=$( { sleep 1; printf 'EHLO alice\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n' "$from" "$to"; sleep 1; printf 'RSET\r\nQUIT\r\n'; } | nc -w 5 "${mx%.}" 25 2>/dev/null)
  grep -q '^250 2.1.5' <<< "$reply" && break
  sleep 2
done
# By hand once: the SMTP dialogue, one command at a time (nc -C sends CRLF line ends).
{ sleep 1; echo 'EHLO alice'; sleep 1; echo "MAIL FROM:<$from>"; sleep 1; echo "RCPT TO:<$to>"; sleep 1
  echo 'DATA'; sleep 1; printf 'From: %s\nTo: %s\nSubject: %s\n\nHello Bob, typed by hand.\n.\n' "$from" "$to" "$(task hand_subject)"
  sleep 1; echo 'QUIT'; sleep 1; } | nc -C -w 10 "${mx%.}" 25
# The big one, with Python's smtplib over STARTTLS. The default context verifies the chain against
# the system trust store and the name against mail.bob.example; it refuses a bad certificate (and
# sends nothing), so the sender tries again until the certificate verifies.
head -c 150000 /dev/urandom > /root/photo.bin
for _ in $(seq 1 60); do
python3 - "$mx" "$from" "$to" "$(task attachment_subject)" <<'PY' && break
import smtplib, ssl, sys
from email.message import EmailMessage
mx, sender, to, subject = sys.argv[1:5]
msg = EmailMessage()
msg['From'], msg['To'], msg['Subject'] = sender, to, subject
msg.set_content('Hello Bob, the photo is attached.')
msg.add_attachment(open('/root/photo.bin', 'rb').read(), maintype='application', subtype='octet-stream', filename='photo.bin')
try:
    with smtplib.SMTP(mx.rstrip('.'), 25, timeout=30) as s:
        s.starttls(context=ssl.create_default_context())
        s.send_message(msg)
except ssl.SSLError as e:
    sys.exit(f'not sent: {e}')
print('sent', subject)
PY
sleep 2
done
SEND
chmod +x /root/send-mail.sh
setsid nohup /root/send-mail.sh > /root/send-mail.log 2>&1 < /dev/null &
echo "sender started (log: /root/send-mail.log)"
