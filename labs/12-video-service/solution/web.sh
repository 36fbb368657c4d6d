#!/bin/bash
# Reference solution for lab 12: finish Bob's video pipeline on the web node, for any learner.
# The task card (/root/TASK.txt, the same as on Alice's laptop) gives the segment length and the
# store folder; the rest is what the handout and the topology say about Bob's file store.
set -euo pipefail
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
seconds=$(task segment_seconds)
folder=$(task store_folder)

# 1. The store settings: the store's PRIVATE address (from inside Bob's network the public name
#    ftp.bob.example would go out to the edge and back, and the replies would not match), FTP's
#    control port 21, Bob's account, the folder from the task card; and the segment length.
SECONDS_=$seconds FOLDER=$folder node -e '
  const fs = require("fs");
  const file = "/srv/web/video/config.json";
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  c.store = { host: "10.0.1.21", port: 21, user: "bob", password: "bobpass", folder: process.env.FOLDER };
  c.hls = { ...c.hls, segmentSeconds: Number(process.env.SECONDS_) };
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");
'

# 2. The transcoder: a keyframe every segment (a segment can only start at one), -hls_time for the
#    segment length, and a complete VOD playlist that keeps every segment, written where the
#    service serves it ($2).
cat > /srv/web/video/transcode.sh <<'SCRIPT'
#!/bin/bash
# Bob's transcoder: turns one uploaded video into an HLS stream, a playlist (index.m3u8) and
# segments of a few seconds each. The video service runs it as
#   transcode.sh INPUT OUTPUT_DIR SEGMENT_SECONDS
# and serves OUTPUT_DIR at http://web.bob.example/hls/<id>/.
set -euo pipefail
input=$1
out=$2
seconds=$3

mkdir -p "$out"
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$input" \
  -map 0:v:0 -map '0:a:0?' \
  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -c:a aac -b:a 96k \
  -force_key_frames "expr:gte(t,n_forced*$seconds)" \
  -f hls -hls_time "$seconds" -hls_playlist_type vod -hls_list_size 0 \
  -hls_segment_filename "$out/segment%03d.ts" \
  "$out/index.m3u8"
SCRIPT
chmod 0755 /srv/web/video/transcode.sh

# 3. Try the whole pipeline once with the sample clip, and show the playlist.
curl -sS -f -o /tmp/sample.mp4 http://127.0.0.1/sample.mp4
answer=$(curl -sS -F file=@/tmp/sample.mp4 -w '\n%{http_code}' http://127.0.0.1/upload)
echo "$answer"
[ "$(tail -n 1 <<<"$answer")" = 201 ]
id=$(head -n -1 <<<"$answer" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
curl -sS -f "http://127.0.0.1/hls/$id/index.m3u8"
