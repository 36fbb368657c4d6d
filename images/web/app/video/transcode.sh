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
