# Shared helpers for scripts/run and scripts/test: installing what is missing, building, timing.
# Sourced, not run. Everything here is idempotent: a second run installs nothing new.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARTIFACTS="$ROOT/artifacts"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The Tauri app is built with its UI embedded (custom-protocol), in every step that builds it, so
# tests, lints and the binary share one set of compiled crates.
CARGO_FEATURES=(--features chatr-desktop/custom-protocol)

# Debian packages needed to build the desktop app (WebKitGTK, tray, D-Bus).
BUILD_DEBS=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev libdbus-1-dev)
# Debian packages the tests need on top: a virtual display and session bus, the WebKit WebDriver,
# Chromium for the UI tests, ImageMagick for screenshots, and a Secret Service for the keyring tests.
TEST_DEBS=(xvfb xauth dbus dbus-x11 at-spi2-core webkit2gtk-driver chromium imagemagick xdotool x11-utils
  gnome-keyring)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_debs PKG...: installs the Debian packages that are not installed yet.
ensure_debs() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}"
}

# ensure_toolchains: cargo and Node.js 20+ with npm.
ensure_toolchains() {
  command -v cargo >/dev/null ||
    die "Rust is not installed: install it with rustup (https://rustup.rs), then run this again"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    ensure_debs nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] ||
    die "Node.js $(node --version) is too old: Chatr's UI tools need Node.js 20 or newer"
}

# ensure_npm DIR: `npm ci` in DIR unless its node_modules already matches package-lock.json.
ensure_npm() {
  local dir="$ROOT/$1" stamp="$ROOT/$1/node_modules/.chatr-lock"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "npm ci in $1"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

# ensure_cargo_tool BINARY CRATE: `cargo install --locked CRATE` unless BINARY is on PATH.
ensure_cargo_tool() {
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v "$1" >/dev/null && return 0
  log "cargo install $2"
  cargo install --locked "$2"
}

# build_ui: the UI bundle the app embeds (ui/dist).
build_ui() {
  (cd "$ROOT/ui" && npm run --silent build)
}

# build_bins [cargo flags...]: every binary of the workspace (desktop app with its UI embedded,
# chatr-backend, chatr-hub). Always the whole workspace with the same features, so no step
# recompiles what another step built.
build_bins() {
  (cd "$ROOT" && cargo build --workspace --bins "${CARGO_FEATURES[@]}" "$@")
}

# build_app [cargo flags...]: the UI bundle, then the binaries; debug unless flags say.
build_app() {
  build_ui
  build_bins "$@"
}

# Step timing: `step NAME CMD...` runs CMD and records how long it took; `print_timings` prints them.
STEP_NAMES=()
STEP_SECONDS=()
step() {
  local name="$1" start end
  shift
  log "$name"
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  STEP_NAMES+=("$name")
  STEP_SECONDS+=("$((end - start))")
}
print_timings() {
  local total=0 i
  printf '\n%-40s %8s\n' "step" "seconds"
  for i in "${!STEP_NAMES[@]}"; do
    printf '%-40s %8s\n' "${STEP_NAMES[$i]}" "${STEP_SECONDS[$i]}"
    total=$((total + STEP_SECONDS[i]))
  done
  printf '%-40s %8s\n' "total" "$total"
}
