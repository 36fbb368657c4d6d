#!/usr/bin/env bash
# One-time set-up of a fresh machine for hurrynet: a running Docker engine, mmdebstrap when no
# image registry is reachable (the base image is then bootstrapped offline), npm ci, and a second
# engine (Docker 26.1, scripts/engine2.sh) that the tests also run on.
# Safe to run again: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null && SUDO="sudo" || { say "not root and no sudo: install docker.io and mmdebstrap yourself"; }
fi
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Docker engine
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing the Docker engine (docker.io)..."
    apt_install docker.io
  fi
  if ! docker info >/dev/null 2>&1; then
    say "starting dockerd..."
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      $SUDO systemctl start docker || true
    fi
    if ! docker info >/dev/null 2>&1; then
      $SUDO sh -c 'nohup dockerd >/var/log/hurrynet-dockerd.log 2>&1 &'
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  docker info >/dev/null 2>&1 || { say "Docker did not start; see /var/log/hurrynet-dockerd.log"; exit 1; }
fi
say "Docker engine $(docker version --format '{{.Server.Version}}') is running"

# 2. The root image: debian:bookworm-slim if present or pullable, else mmdebstrap is needed.
if ! docker image inspect hurrynet/root:bookworm >/dev/null 2>&1 \
   && ! docker image inspect debian:bookworm-slim >/dev/null 2>&1 \
   && ! timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    say "no image registry reachable: installing mmdebstrap to bootstrap the base image offline..."
    apt_install mmdebstrap
  fi
fi

# 3. Compose v2 (the docker CLI plugin), for "docker compose" with the generated docker-compose.yml.
#    Debian bookworm has only Compose v1; trixie's docker-compose package holds a static plugin that
#    runs on bookworm. Its suite is added with pin priority 1, so nothing else is ever taken from it.
if ! docker compose version >/dev/null 2>&1 && command -v apt-get >/dev/null && [ "${HURRYNET_SETUP_NO_COMPOSE:-}" != 1 ]; then
  say "installing the Compose v2 plugin (from Debian trixie's docker-compose package)..."
  if [ ! -f /etc/apt/sources.list.d/hurrynet-trixie.sources ]; then
    $SUDO tee /etc/apt/sources.list.d/hurrynet-trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 1\n' | $SUDO tee /etc/apt/preferences.d/hurrynet-trixie >/dev/null
    apt_updated=""
  fi
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download -qq docker-compose/trixie >/dev/null 2>&1 && dpkg-deb -x docker-compose_*.deb x); then
    $SUDO install -D -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose
  fi
  rm -rf "$tmp"
  docker compose version >/dev/null 2>&1 || say "could not install Compose v2: the compose test will be skipped"
fi

# 4. Tools the tests use: xmllint validates JUnit reports, Chromium renders the HTML report.
missing=()
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ] && [ "${HURRYNET_SETUP_NO_TEST_TOOLS:-}" != 1 ]; then
  say "installing test tools: ${missing[*]}..."
  apt_install "${missing[@]}" || say "could not install ${missing[*]}: the report tests will fail until they are installed"
fi

# 5. Node dependencies (also compiles the TypeScript sources through "prepare").
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing Node dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi
# 6. The second engine the tests can also run on (Docker 26.1 from Debian trixie, beside this one;
#    see docs/engines.md). Only when asked: a learner running labs needs one engine, not two. CI
#    asks (HURRYNET_REQUIRE_ENGINE2=1 in .ci/run); anyone can with HURRYNET_SETUP_ENGINE2=1.
if { [ "${HURRYNET_SETUP_ENGINE2:-}" = 1 ] || [ "${HURRYNET_REQUIRE_ENGINE2:-}" = 1 ]; } \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if bash scripts/engine2.sh status >/dev/null 2>&1; then
    say "second engine: $(bash scripts/engine2.sh status)"
  else
    say "starting the second engine (Docker 26.1, scripts/engine2.sh start)..."
    bash scripts/engine2.sh start >/dev/null || say "the second engine did not start: npm test will skip its smoke files (CI fails)"
  fi
fi
# 7. The host seal's rules (docs/seal.md): whatever a lab bridge (hn-*) would deliver to this
#    machine's own stack is dropped. hurrynet adds them too when a world starts; here they are in
#    place before the first lab.
if [ "$(id -u)" = 0 ] && command -v iptables >/dev/null 2>&1; then
  iptables -w -C INPUT -i hn-+ -j DROP 2>/dev/null || iptables -w -I INPUT 1 -i hn-+ -j DROP || true
  if ip6tables -w -L INPUT -n >/dev/null 2>&1; then
    ip6tables -w -C INPUT -i hn-+ -j DROP 2>/dev/null || ip6tables -w -I INPUT 1 -i hn-+ -j DROP || true
  fi
  say "host sealed from the lab bridges (iptables INPUT -i hn-+ -j DROP)"
fi
say "ready: npm run lab 1 starts a lab, npm test runs the tests"
