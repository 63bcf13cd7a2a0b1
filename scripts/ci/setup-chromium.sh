#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests of the live view (test/view), which drive it through
# playwright-core; nothing is downloaded by playwright itself. Idempotent: does nothing when
# /usr/bin/chromium exists. Needs root (or sudo) and a Debian/Ubuntu apt.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "setup-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup-chromium: /usr/bin/chromium is missing and this user cannot install packages; run: apt-get install -y chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
echo "setup-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
