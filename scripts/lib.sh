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
# Chromium for the UI tests, ImageMagick for screenshots, a Secret Service and the kernel keyring's
# tool for the keyring tests, and a notification server for the notification tests.
TEST_DEBS=(xvfb xauth dbus dbus-x11 at-spi2-core webkit2gtk-driver chromium imagemagick xdotool x11-utils
  gnome-keyring keyutils dunst libnotify-bin)

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

# ensure_venv NAME REQUIREMENTS: a Python virtual environment at .cache/NAME with the pinned
# packages of REQUIREMENTS (reinstalled only when that file changes); prints its path.
ensure_venv() {
  local venv="$ROOT/.cache/$1" requirements="$ROOT/$2" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -f "$venv/.chatr-requirements" ] && [ "$(cat "$venv/.chatr-requirements")" = "$want" ]; then
    echo "$venv"
    return 0
  fi
  command -v python3 >/dev/null || ensure_debs python3
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    ensure_debs python3-venv
  fi
  log "Python packages from $2 into .cache/$1"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$want" >"$venv/.chatr-requirements"
  echo "$venv"
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

# The largest .deb we accept (the issue's budget): a bigger one fails the run.
MAX_DEB_BYTES=$((15 * 1024 * 1024))

# package_desktop: the .deb and .rpm of the desktop app from the `dist` profile, under
# target/dist/bundle (AppImage is left out: its tooling downloads from GitHub).
package_desktop() {
  ensure_toolchains
  ensure_debs "${BUILD_DEBS[@]}"
  ensure_npm ui
  rm -rf "$ROOT/target/dist/bundle"
  # The CLI builds the UI itself (beforeBuildCommand) and passes the profile on to cargo.
  (cd "$ROOT/src-tauri" && ../ui/node_modules/.bin/tauri build --ci --bundles deb rpm -- --profile dist)
}

# report_packages: prints each package and its size; fails if the .deb is over budget.
report_packages() {
  local bundle="$ROOT/target/dist/bundle" pkg size status=0
  for pkg in "$bundle"/deb/*.deb "$bundle"/rpm/*.rpm; do
    [ -f "$pkg" ] || die "no package at $pkg"
    size=$(stat -c %s "$pkg")
    printf '%-60s %6.1f MB\n' "${pkg#"$ROOT"/}" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')"
    if [[ "$pkg" == *.deb && "$size" -gt "$MAX_DEB_BYTES" ]]; then
      printf 'error: %s is over the 15 MB budget\n' "$pkg" >&2
      status=1
    fi
  done
  return "$status"
}

# check_packages: sizes within budget; the .deb holds the app and a desktop entry that declares
# notifications.
check_packages() {
  local deb entry
  report_packages
  deb="$(ls "$ROOT"/target/dist/bundle/deb/*.deb)"
  dpkg-deb -c "$deb" | grep -Eq ' (\./)?usr/bin/chatr-desktop$' || die "$deb has no usr/bin/chatr-desktop"
  entry="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*usr/share/applications/*.desktop')"
  grep -qx 'X-GNOME-UsesNotifications=true' <<<"$entry" || die "the desktop entry does not declare notifications"
  grep -qx 'Exec=chatr-desktop %u' <<<"$entry" || die "the desktop entry does not start chatr-desktop"
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
