#!/usr/bin/env bash
# Build and run every test (README command 2; .ci/run calls this).
#
#   scripts/test.sh [extra meson test args, e.g. --suite host]
#
# deps -> meson setup (only if needed) -> the QEMU 10 lane (scripts/lane-qemu10.sh) -> ninja ->
# meson test (host suite and
# the qemu gate suite in one invocation; the qemu tests are not parallel) ->
# the second compiler: BUILD_DIR-clang (cross/riscv64-clang.ini and
# cross/native-clang.ini) builds kernel.elf and the host tests without
# sanitizers (alias host-tests-plain), runs those and gates its kernel at
# SMP=1, 2 and 8 -> counts the results of both testlog.json files. The very
# last line is "N passed, N failed" (", N skipped" appended when N>0). Exit
# status is non-zero if any test failed or no test ran.
# Environment: BUILD_DIR (default build), SKIP_DEPS=1 skips the package check,
# CLANG=auto|0|1: the Clang stage (auto: only when no meson test arguments
# were given, i.e. for the full run).
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
# The second QEMU lane's binaries (bookworm-backports, unpacked beside the system's).
"$here/lane-qemu10.sh" "$build/lanes/qemu10" || no_tests "fetching the QEMU 10 lane failed (scripts/lane-qemu10.sh)"
echo "+ ninja -C $build"
ninja -C "$build" || no_tests "build failed"

testlog=$build/meson-logs/testlog.json
rm -f -- "$testlog"
echo "+ meson test -C $build --print-errorlogs $*"
mrc=0
meson test -C "$build" --print-errorlogs "$@" || mrc=$?

# The Clang build: same sources and strict flags, its kernel through the gate.
clang_tests=(dtb dtb-libfdt elf ipc mm sched base time-math gate-smp1 gate-smp2 gate-smp8)
logs=("$testlog")
case ${CLANG:-auto} in
    auto) (($# == 0)) && clang=1 || clang=0 ;;
    0 | 1) clang=$CLANG ;;
    *) no_tests "CLANG must be auto, 0 or 1 (got '$CLANG')" ;;
esac
if ((clang == 1)); then
    cbuild=$build-clang
    clog=$cbuild/meson-logs/testlog.json
    rm -f -- "$clog"
    logs+=("$clog")
    t0=$SECONDS
    if ! kestrel_configure "$cbuild" --cross-file cross/riscv64-clang.ini \
        --native-file cross/native-clang.ini; then
        echo "test: clang: meson setup failed"
        mrc=1
    else
        echo "+ ninja -C $cbuild kernel.elf host-tests-plain"
        if ! ninja -C "$cbuild" kernel.elf host-tests-plain; then
            echo "test: clang: build failed"
            mrc=1
        else
            echo "+ meson test -C $cbuild --no-rebuild --print-errorlogs ${clang_tests[*]}"
            meson test -C "$cbuild" --no-rebuild --print-errorlogs "${clang_tests[@]}" || mrc=1
        fi
    fi
    echo "test: clang stage took $((SECONDS - t0)) s"
    # A stage that never ran a test still counts as a failure.
    mkdir -p -- "$cbuild/meson-logs"
    [[ -f $clog ]] || printf '{"name": "clang-build", "result": "FAIL"}\n' >"$clog"
fi

crc=0
kestrel_count_testlog "${logs[@]}" || crc=$?
if ((crc != 0)); then
    exit 1
fi
exit "$mrc"
