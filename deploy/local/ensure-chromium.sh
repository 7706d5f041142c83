#!/usr/bin/env bash
# The console's browser test (tests/e2e/test_console.py) drives Debian's Chromium through
# Playwright (never Playwright's own browser download). Installs it when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "ensure-chromium: installing Debian's chromium (apt)" >&2
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null
command -v chromium >/dev/null
