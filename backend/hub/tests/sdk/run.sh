#!/usr/bin/env bash
# Runs the SDK conformance suite against the chatr-hub binary (CHATR_HUB_BIN, default the debug
# build in the workspace target dir). Installs the SDKs from the lockfile first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
exec npm test
