#!/bin/sh
# The web app's checks (ESLint; axe-core, injected by the browser tests) come from npm, pinned in
# tests/web/package-lock.json. Install Debian's Node.js and npm when they are missing (never a download of
# Node or of a browser through npm), then the pinned packages with `npm ci` when the lock file is newer than them.
# Usage: sh tests/web/ensure_node.sh   (installing Node needs root or sudo; a no-op when all is in place)
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
STAMP="$HERE/node_modules/.ci-stamp"
if [ ! -f "$STAMP" ] || [ "$HERE/package-lock.json" -nt "$STAMP" ]; then
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$STAMP"
fi
