#!/bin/bash
# Reference solution for lab 01: drive Bob's notes resource with curl, as the handout asks, using
# this learner's task card (/root/TASK.txt), and write the answers.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
api=http://web.bob.example/api/notes

curl -sS -i $api | head -n 1                       # GET: see what is there

created=$(curl -sS -D /tmp/post.h -H 'Content-Type: application/json' \
  -d "{\"title\":\"$(task create_title)\",\"body\":\"$(task create_body)\"}" $api)
post_status=$(awk 'NR==1{print $2}' /tmp/post.h)
id=$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

curl -sS -f -X PUT -H 'Content-Type: application/json' \
  -d "{\"title\":\"$(task rename_to)\"}" "$api/$(task rename_note)" >/dev/null

delete_status=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$api/$(task delete_note)")

cat > /root/answers.yaml <<YAML
created_id: $id
post_status: $post_status
delete_status: $delete_status
YAML
cat /root/answers.yaml
