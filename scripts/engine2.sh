#!/usr/bin/env bash
# A second Docker engine beside the first: Debian trixie's docker.io 26.1 and containerd 1.7
# (extracted from their .debs, nothing installed through dpkg) with bookworm's runc, on its own
# socket, data root, exec root, managed containerd, default bridge and address pools, so that
# hurrynet's tests can run against a newer engine on the same machine. docs/engines.md says why
# each setting is what it is and what differs on 26.1.
#
#   scripts/engine2.sh start    install if missing, start, wait for the socket, copy the lab images
#                               over from the first engine; prints the environment to use
#   scripts/engine2.sh stop     stop it (its containers go with it; the first engine is untouched)
#   scripts/engine2.sh env      the environment that points hurrynet at it (eval "$(... env)")
#   scripts/engine2.sh images   copy the current lab images from the first engine (start does it)
#   scripts/engine2.sh status   running or not, and its version
#
# Both engines share the host's iptables (the DOCKER-* chains of the filter and nat tables). Each
# engine flushes and rebuilds the DOCKER and DOCKER-ISOLATION-* chains when it starts; hurrynet's
# lab bridges need none of those rules (no published ports, no masquerade, no host address), and
# the per-bridge FORWARD rules that they do need are left alone. Measured in docs/engines.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${HURRYNET_ENGINE2_PREFIX:-/opt/hurrynet-engine2}
RUN=/run/hurrynet-engine2
SOCK=$RUN/docker.sock
EXEC_ROOT=$RUN/x # short: containerd's shim sockets live under it and unix socket paths are short
DATA_ROOT=/var/lib/hurrynet-engine2
PIDFILE=$RUN/dockerd.pid
LOG=/var/log/hurrynet-engine2.log
BRIDGE=hn2docker0
BIP=10.246.0.1/24
ADDRESS_POOL=base=10.247.0.0/16,size=24
# hurrynet's own pool for lab links on this engine (the first engine's default is 10.250.0.0/16):
# the two engines do not see each other's networks, so each gets a range of its own.
SUBNET_POOL=10.249.0.0/16
DOCKER_PKG=docker.io/trixie
CONTAINERD_PKG=containerd/trixie

say() { printf '\033[1m[engine2]\033[0m %s\n' "$*" >&2; }
e2() { DOCKER_HOST=unix://$SOCK docker "$@"; }
# The first engine: whatever DOCKER_HOST names, unless it names this one (then the default socket).
e1() { if [ "${DOCKER_HOST:-}" = "unix://$SOCK" ]; then env -u DOCKER_HOST docker "$@"; else docker "$@"; fi; }

env_lines() {
  echo "export DOCKER_HOST=unix://$SOCK"
  echo "export HURRYNET_SUBNET_POOL=$SUBNET_POOL"
}

running() { [ -S "$SOCK" ] && e2 version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install() {
  [ -x "$PREFIX/usr/sbin/dockerd" ] && [ -x "$PREFIX/usr/bin/containerd" ] && return 0
  [ "$(id -u)" = 0 ] || { say "run as root to install and start the second engine"; exit 1; }
  command -v runc >/dev/null || { say "runc is missing (bookworm's runc comes with docker.io: npm run setup)"; exit 1; }
  if [ ! -f /etc/apt/sources.list.d/hurrynet-trixie.sources ]; then
    say "Debian trixie's apt suite is not configured: run npm run setup first (it adds it with pin priority 1)"
    exit 1
  fi
  say "installing Docker 26.1 (trixie's $DOCKER_PKG and $CONTAINERD_PKG) into $PREFIX..."
  local tmp
  tmp=$(mktemp -d)
  # apt-get download as root warns that _apt cannot write the directory: harmless.
  if ! (cd "$tmp" && apt-get download -qq "$DOCKER_PKG" "$CONTAINERD_PKG" 2>/dev/null); then
    apt-get update -qq
    (cd "$tmp" && apt-get download -qq "$DOCKER_PKG" "$CONTAINERD_PKG" 2>/dev/null)
  fi
  mkdir -p "$PREFIX.new"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$PREFIX.new"; done
  rm -rf "$tmp" "$PREFIX"
  mv "$PREFIX.new" "$PREFIX"
  # trixie's runc needs glibc 2.38; bookworm's (2.36) runc is used instead, found on PATH.
  "$PREFIX/usr/sbin/dockerd" --version >&2
}

start() {
  if running; then
    say "Docker $(e2 version --format '{{.Server.Version}}') is already running on $SOCK"
  else
    install
    mkdir -p "$RUN" "$DATA_ROOT"
    # Its own default bridge, so that its docker0 never meets the first engine's. dockerd refuses
    # --bridge together with --bip: the bridge gets its address here and dockerd takes it.
    ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
    ip -4 addr show dev "$BRIDGE" | grep -q "${BIP%/*}/" || ip addr add "$BIP" dev "$BRIDGE"
    rm -f "$SOCK" "$PIDFILE"
    # dockerd 26.1 restarted on a data root it used before deletes the host's docker0 (measured:
    # not on its first start), which the first engine's builds need: remember it and put it back.
    docker0_addrs=$(ip -o -4 addr show dev docker0 2>/dev/null | awk '{print $4}' || true)
    docker0_seen=$(ip link show docker0 >/dev/null 2>&1 && echo 1 || true)
    say "starting dockerd 26.1 on $SOCK (log: $LOG)..."
    # PATH: trixie's containerd and shims first (dockerd starts its managed containerd from PATH,
    # under --exec-root and --data-root), then the host's runc and iptables.
    # setsid: the daemon must not die with this script's session.
    PATH="$PREFIX/usr/bin:$PREFIX/usr/sbin:$PATH" setsid nohup "$PREFIX/usr/sbin/dockerd" \
      --host "unix://$SOCK" \
      --data-root "$DATA_ROOT" \
      --exec-root "$EXEC_ROOT" \
      --pidfile "$PIDFILE" \
      --bridge "$BRIDGE" \
      --default-address-pool "$ADDRESS_POOL" \
      --storage-driver overlay2 \
      --log-level warn \
      >>"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 120); do running && break; sleep 0.5; done
    running || { say "dockerd 26.1 did not answer on $SOCK; the end of $LOG:"; tail -20 "$LOG" >&2; exit 1; }
    if [ -n "$docker0_seen" ] && ! ip link show docker0 >/dev/null 2>&1; then
      say "putting back the first engine's docker0, which dockerd 26.1 removed"
      ip link add docker0 type bridge
      for a in $docker0_addrs; do ip addr add "$a" dev docker0; done
      ip link set docker0 up
    fi
    say "Docker $(e2 version --format '{{.Server.Version}}') (API $(e2 version --format '{{.Server.APIVersion}}')) is running"
  fi
  images
  say "point hurrynet at it with: eval \"\$(scripts/engine2.sh env)\""
  env_lines
}

# The current lab images (their content-hash tags, as ensureImages names them) and the root image:
# whatever the first engine has and this one lacks is copied with docker save | docker load, which
# keeps tags and labels, so ensureImages sees them as up to date and builds nothing.
images() {
  running || { say "the second engine is not running"; exit 1; }
  [ -f dist/orchestrator/runtime/images.js ] || { say "no dist/ yet (npm ci builds it): images not copied"; return 0; }
  local tags missing=()
  tags=$(node --input-type=module -e "
    import { imageSet, rootImageRef } from './dist/orchestrator/runtime/images.js';
    const s = imageSet();
    console.log([rootImageRef(), s.base, ...Object.values(s.roles)].join('\n'));")
  for t in $tags; do
    e2 image inspect "$t" >/dev/null 2>&1 && continue
    if e1 image inspect "$t" >/dev/null 2>&1; then
      missing+=("$t")
    else
      say "the first engine has no $t either: ensureImages will build it on whichever engine runs first"
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "lab images are up to date"
    return 0
  fi
  say "copying ${#missing[@]} images from the first engine (docker save | docker load)..."
  local t0=$SECONDS
  e1 save "${missing[@]}" | e2 load -q >/dev/null
  # ":latest" names the current content, as ensureImages tags it (docker-compose.yml uses it).
  for t in "${missing[@]}"; do
    case $t in */root:*) ;; *) e2 tag "$t" "${t%%:*}:latest" ;; esac
  done
  say "copied in $((SECONDS - t0)) s"
}

stop() {
  if [ ! -f "$PIDFILE" ]; then
    say "not running (no $PIDFILE)"
    return 0
  fi
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd 26.1 (pid $pid); its containers stop with it..."
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid did not stop in 30 s"; exit 1; }
  fi
  rm -f "$PIDFILE" "$SOCK"
  say "stopped (data kept in $DATA_ROOT; rm -rf it and $PREFIX to remove everything)"
}

status() {
  if running; then
    echo "running: Docker $(e2 version --format '{{.Server.Version}}') on $SOCK"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_lines ;;
  images) images ;;
  status) status ;;
  *)
    echo "usage: scripts/engine2.sh start|stop|env|images|status" >&2
    exit 2
    ;;
esac
