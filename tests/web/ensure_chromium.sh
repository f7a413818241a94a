#!/bin/sh
# The browser tests drive Debian's Chromium (never a browser download): install it when it is missing.
# Usage: sh tests/web/ensure_chromium.sh   (needs root or sudo; a no-op when /usr/bin/chromium exists)
set -e
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x "$CHROMIUM"
