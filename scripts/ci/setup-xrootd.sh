#!/usr/bin/env bash
# XRootD for the root:// tests (test/io/xrootd.test.ts). Idempotent: installs Debian's xrootd-server
# (the xrootd daemon) and xrootd-client (xrdcp, xrdfs) when missing, as root. Nothing is started here:
# each test suite starts its own xrootd on a free loopback port in a temp dir and stops it after.
# Prints one line per step.
set -euo pipefail

if command -v xrootd >/dev/null && command -v xrdfs >/dev/null; then
  echo "xrootd: $(xrootd -v 2>&1 | head -1) already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "xrootd: not installed and this is not root: apt-get install xrootd-server xrootd-client, or rerun as root" >&2
  exit 1
fi

echo "xrootd: installing xrootd-server and xrootd-client (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq xrootd-server xrootd-client >/dev/null
echo "xrootd: $(xrootd -v 2>&1 | head -1) installed"
