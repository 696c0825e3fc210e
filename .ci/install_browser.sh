#!/usr/bin/env bash
# Install what the browser test suite (pytest -m browser, tests/browser/) needs:
#   * Debian's chromium at /usr/bin/chromium (apt-get, only when missing);
#   * the Python package `playwright` into the Python that runs the tests (pip, only when missing).
# Playwright drives the system chromium through `executable_path`; `playwright install` (a browser download) is
# never used, because it cannot reach its download host here.
#
# Usage: bash .ci/install_browser.sh [PYTHON]     (PYTHON defaults to python3; pass the CI venv's python)
set -euo pipefail

PYTHON="${1:-python3}"
CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
    echo "install_browser: installing Debian's chromium (apt-get)"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "install_browser: $CHROMIUM is still missing after apt-get" >&2
    exit 1
fi

if ! "$PYTHON" -c "import playwright.sync_api" 2>/dev/null; then
    echo "install_browser: installing the playwright Python package"
    "$PYTHON" -m pip install --quiet "playwright>=1.45"
fi

echo "install_browser: $("$CHROMIUM" --version 2>/dev/null | head -n 1); playwright $("$PYTHON" -m pip show playwright 2>/dev/null | sed -n 's/^Version: //p')"
