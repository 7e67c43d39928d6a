#!/usr/bin/env bash
# Build and run every test (README command 2; .ci/run calls this).
#
#   scripts/test.sh [extra meson test args, e.g. --suite host]
#
# deps -> meson setup (only if needed) -> ninja -> meson test (host suite and
# the qemu gate suite in one invocation; the qemu tests are not parallel) ->
# counts the results in build/meson-logs/testlog.json. The very last line is
# "N passed, N failed" (", N skipped" appended when N>0). Exit status is
# non-zero if any test failed or no test ran.
# Environment: BUILD_DIR (default build), SKIP_DEPS=1 skips the package check.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
# A relative BUILD_DIR is taken relative to the caller's directory (as in the
# gate); the default is build/ in the repository root.
build=build
if [[ -n ${BUILD_DIR:-} ]]; then
    case $BUILD_DIR in /*) build=$BUILD_DIR ;; *) build=$PWD/$BUILD_DIR ;; esac
fi
cd "$KESTREL_ROOT"

# Before any test ran: still end with the count line.
no_tests() {
    echo "test: $1"
    echo "0 passed, 0 failed"
    exit 1
}

if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    "$here/deps.sh" || no_tests "installing the packages failed (scripts/deps.sh)"
fi
kestrel_configure "$build" || no_tests "meson setup failed"
echo "+ ninja -C $build"
ninja -C "$build" || no_tests "build failed"

testlog=$build/meson-logs/testlog.json
rm -f -- "$testlog"
echo "+ meson test -C $build --print-errorlogs $*"
mrc=0
meson test -C "$build" --print-errorlogs "$@" || mrc=$?

crc=0
kestrel_count_testlog "$testlog" || crc=$?
if ((crc != 0)); then
    exit 1
fi
exit "$mrc"
