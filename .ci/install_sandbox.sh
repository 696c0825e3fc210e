#!/usr/bin/env bash
# Install what the grader's sandbox needs: Debian's bubblewrap (`bwrap`), with apt-get, only when it is missing.
# Then check that a sandbox can actually be made here (user and PID namespaces); CI runs the grader's tests with
# COURSE_REQUIRE_SANDBOX=1, so they fail instead of skipping when it cannot.
#
# Usage: bash .ci/install_sandbox.sh
set -euo pipefail

if ! command -v bwrap >/dev/null 2>&1; then
    echo "install_sandbox: installing Debian's bubblewrap (apt-get)"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
fi
if ! command -v bwrap >/dev/null 2>&1; then
    echo "install_sandbox: bwrap is still missing after apt-get" >&2
    exit 1
fi
if ! bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
        --symlink usr/lib64 /lib64 --proc /proc --dev /dev /bin/true; then
    echo "install_sandbox: bwrap is installed but cannot create a sandbox here (user namespaces disabled?)" >&2
    exit 1
fi
echo "install_sandbox: $(bwrap --version)"
