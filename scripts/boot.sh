#!/usr/bin/env bash
# Build the kernel and boot it on the console (README command 1).
#
#   scripts/boot.sh                 SMP=2 by default
#   SMP=4 BOOTARGS='...' scripts/boot.sh
#
# deps -> meson setup (only if build/ is not configured) -> ninja -> QEMU
# -nographic with the gate's machine arguments. The kernel shuts QEMU down by
# itself; this script exits with QEMU's status. Ctrl-C quits QEMU by hand (its stdin is the console fifo).
# The console goes through the KPANIC symbolizer (scripts/lib/symbolize.sh):
# a panic's backtrace frames and sepc get function, file and line appended;
# every other line passes unchanged. Without addr2line it says so and the
# backtrace stays raw.
# Environment: SMP, BOOTARGS, QEMU_EXTRA, QEMU, OPENSBI_FW, BUILD_DIR, ADDR2LINE
# (as for scripts/qemu-test.sh), SKIP_DEPS=1 skips the package check.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
# shellcheck source-path=SCRIPTDIR source=lib/symbolize.sh
source "$here/lib/symbolize.sh"
# A relative BUILD_DIR is taken relative to the caller's directory (as in the
# gate); the default is build/ in the repository root.
build=build
if [[ -n ${BUILD_DIR:-} ]]; then
    case $BUILD_DIR in /*) build=$BUILD_DIR ;; *) build=$PWD/$BUILD_DIR ;; esac
fi
cd "$KESTREL_ROOT"

SMP=${SMP:-2}
if [[ ! $SMP =~ ^[0-9]+$ ]] || ((10#$SMP < 1 || 10#$SMP > 16)); then
    echo "boot: SMP must be an integer 1..16 (got '$SMP')" >&2
    exit 2
fi
SMP=$((10#$SMP))

if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    "$here/deps.sh"
fi
kestrel_configure "$build"
echo "+ ninja -C $build"
ninja -C "$build"

kernel=$build/kernel.elf
if [[ ! -f $kernel ]]; then
    echo "boot: $kernel was not built" >&2
    exit 2
fi
read -r -a extra <<<"${QEMU_EXTRA:-}" || true
kestrel_qemu_cmd cmd "${QEMU:-qemu-system-riscv64}" "$SMP" "$kernel" \
    "${OPENSBI_FW:-$KESTREL_FW_DEFAULT}" "${BOOTARGS:-}"
cmd+=("${extra[@]}")
echo "+ ${cmd[*]}"
echo "boot: SMP=$SMP; the kernel powers off at the end; Ctrl-C quits QEMU"
if ! kestrel_addr2line >/dev/null; then
    echo "boot: ${ADDR2LINE:-riscv64-linux-gnu-addr2line} not found (binutils-riscv64-linux-gnu): a KPANIC backtrace stays raw"
fi
# QEMU's stdin is the host side of the console UART: the ladder's console-driver test reads
# the line the feeder types there (kestrel_serial_feeder); Ctrl-C stops QEMU. Its output goes
# through the symbolizer, which ends when QEMU closes the pipe.
work=$(mktemp -d "${TMPDIR:-/tmp}/kestrel-boot.XXXXXX")
: >"$work/console.log"
kestrel_serial_feeder "$work/serial_in" "$work/console.log"
trap 'kestrel_stop_pid "$KESTREL_FEEDER_PID"; rm -rf -- "$work"' EXIT
rc=0
"${cmd[@]}" <"$work/serial_in" | tee "$work/console.log" | kestrel_symbolize "$kernel" ||
    rc=${PIPESTATUS[0]}
exit "$rc"
