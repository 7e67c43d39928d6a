#!/usr/bin/env bash
# Build the kernel and boot it to the shell's prompt (README "A shell", RFC-0032).
#
#   scripts/shell.sh                SMP=4 by default
#   SMP=2 scripts/shell.sh
#
# deps -> meson setup (only if build/ is not configured) -> ninja -> QEMU -nographic with
# bootargs mode=shell: init starts the user-space console driver (user/console) and the shell
# instead of the ladder; what you type reaches the shell through the driver.
# `shutdown` ends the shell and powers the machine off; Ctrl-A X quits QEMU by hand.
# Environment: SMP, BOOTARGS (appended), QEMU_EXTRA, QEMU, OPENSBI_FW, BUILD_DIR, SKIP_DEPS=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
build=build
if [[ -n ${BUILD_DIR:-} ]]; then
    case $BUILD_DIR in /*) build=$BUILD_DIR ;; *) build=$PWD/$BUILD_DIR ;; esac
fi
cd "$KESTREL_ROOT"

SMP=${SMP:-4}
if [[ ! $SMP =~ ^[0-9]+$ ]] || ((10#$SMP < 1 || 10#$SMP > 16)); then
    echo "shell: SMP must be an integer 1..16 (got '$SMP')" >&2
    exit 2
fi
SMP=$((10#$SMP))
if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    "$here/deps.sh"
fi
kestrel_configure "$build"
ninja -C "$build" >/dev/null
read -r -a extra <<<"${QEMU_EXTRA:-}" || true
kestrel_qemu_cmd cmd "${QEMU:-qemu-system-riscv64}" "$SMP" "$build/kernel.elf" \
    "${OPENSBI_FW:-$KESTREL_FW_DEFAULT}" "mode=shell ${BOOTARGS:-}"
cmd+=("${extra[@]}")
echo "shell: SMP=$SMP; type help at the prompt; shutdown powers off; Ctrl-A X quits QEMU"
# No symbolizer pipe here (scripts/boot.sh has one): it reads whole lines, and the prompt
# has no newline. QEMU keeps the terminal as its stdin and stdout.
exec "${cmd[@]}"
