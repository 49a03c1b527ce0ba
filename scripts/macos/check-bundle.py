#!/usr/bin/env python3
"""Checks the macOS bundle configuration as far as Linux allows (what `plutil -lint` and a look at
the icon set would do on a Mac): the Info.plist Chatr merges into the bundle parses and holds the
keys it must, tauri.conf.json points at it, the app icon set has every size macOS asks for, and
the menu bar icon is a template image (black on transparent). Prints what it checked; any
problem exits non-zero.

    check-bundle.py            (from the repository root)
"""

import json
import plistlib
import struct
import subprocess
import sys

TAURI = "src-tauri"
problems = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        problems.append(what)


conf = json.load(open(f"{TAURI}/tauri.conf.json"))
mac = conf["bundle"]["macOS"]
identifier = conf["identifier"]
check(
    identifier.count(".") >= 2 and not identifier.endswith(".app"),
    f"bundle id {identifier!r} is reverse-DNS and does not end in .app",
)
check(mac.get("minimumSystemVersion") == "10.15", "minimum macOS 10.15 (Tauri 2's floor)")
check(mac.get("hardenedRuntime") is True, "hardened runtime on (required for notarization)")
# No App Sandbox, so no entitlements: the keychain, loopback sockets and notifications need none
# outside the sandbox, and WKWebView's JIT runs in WebKit's own processes.
check("entitlements" not in mac, "no entitlements file (no sandbox; none needed)")

plist_path = f"{TAURI}/{mac['infoPlist']}"
with open(plist_path, "rb") as f:
    info = plistlib.load(f)
check(isinstance(info, dict), f"{plist_path} parses as a property list dictionary")
expected = {
    "LSUIElement": False,
    "NSUserNotificationAlertStyle": "banner",
    "NSSupportsAutomaticTermination": False,
    "NSSupportsSuddenTermination": False,
}
for key, value in expected.items():
    check(info.get(key) == value and type(info.get(key)) is type(value), f"Info.plist {key} = {value!r}")
# Keys the bundler writes from tauri.conf.json must not be overridden here by mistake.
for key in ("CFBundleIdentifier", "CFBundleShortVersionString", "CFBundleExecutable", "LSMinimumSystemVersion"):
    check(key not in info, f"Info.plist leaves {key} to the bundler")

icns = open(f"{TAURI}/icons/icon.icns", "rb").read()
check(icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns), "icon.icns is an icon family")
types, i = set(), 8
while i + 8 <= len(icns):
    kind, length = struct.unpack(">4sI", icns[i : i + 8])
    types.add(kind.decode("ascii", "replace"))
    i += max(length, 8)
# 16, 32, 128, 256, 512 at 1x and 2x (ic04..ic14 as Apple's iconutil writes them, or the legacy
# is32/il32 for the small ones).
for kind, size in [("ic07", "128"), ("ic08", "256"), ("ic09", "512"), ("ic10", "512@2x"), ("ic11", "16@2x"), ("ic12", "32@2x"), ("ic13", "128@2x"), ("ic14", "256@2x")]:
    check(kind in types, f"icon.icns has {size} ({kind})")
check(bool({"is32", "ic04"} & types) and bool({"il32", "ic05"} & types), "icon.icns has 16 and 32")
check(f"icons/icon.icns" in conf["bundle"]["icon"], "tauri.conf.json lists icon.icns")

tray = f"{TAURI}/icons/tray-template.png"
size = subprocess.run(["identify", "-format", "%w %h", tray], capture_output=True, text=True, check=True).stdout
check(size.strip() == "44 44", f"menu bar template icon is 44x44 (22 pt at 2x), got {size.strip()}")
# A template image is drawn only with alpha: every colour channel is black.
stats = subprocess.run(
    ["convert", tray, "-alpha", "on", "-format", "%[fx:maxima.r] %[fx:maxima.g] %[fx:maxima.b] %[fx:maxima.a]", "info:"],
    capture_output=True, text=True, check=True,
).stdout.split()
check(stats[:3] == ["0", "0", "0"] and float(stats[3]) > 0, f"menu bar icon is black on transparent (max r g b a = {' '.join(stats)})")

if problems:
    print(f"{len(problems)} problem(s) in the macOS bundle configuration", file=sys.stderr)
    sys.exit(1)
