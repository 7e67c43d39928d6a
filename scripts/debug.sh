#!/usr/bin/env bash
# Boot the kernel under QEMU's gdbstub, halted at the first instruction, and
# attach gdb-multiarch with the kernel's symbols and the Kestrel helpers
# (scripts/gdb/kestrel.py: `help kestrel`). QEMU's harts are gdb threads.
#
#   scripts/debug.sh                         interactive; console in the log file
#   SMP=4 BOOTARGS=kfault=bad-trap scripts/debug.sh
#   scripts/debug.sh -batch -x cmds.gdb      extra arguments go to gdb (after
#                                            the connect, so -ex/-x run attached)
#
# Environment (the gate's, see scripts/qemu-test.sh --help): MACHINE, SMP
# (default 2), BOOTARGS, DTB, QEMU_EXTRA, BUILD_DIR, KERNEL, QEMU, OPENSBI_FW;
# and:
#   GDB=cmd          default gdb-multiarch
#   GDB_PORT=N       gdbstub TCP port on 127.0.0.1 (default: a free one)
#   DEBUG_LOG=file   the serial console (default
#                    BUILD_DIR/qemu-logs/debug-smpN-<date>-<pid>.log)
#   DEBUG_AFTER=stop|wait
#                    when gdb exits with QEMU still running: stop it (default),
#                    or let the kernel run to its own shutdown, bounded by
#                    RUN_TIMEOUT (default 90s); detach in gdb for that
#
# Exit status: gdb's (stop), QEMU's (wait; 124 when RUN_TIMEOUT expired),
# 2 usage/setup error. Only the QEMU this script started is ever stopped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
ROOT=$KESTREL_ROOT

usage_error() {
    echo "debug: usage error: $*" >&2
    echo "debug: see the header of scripts/debug.sh" >&2
    exit 2
}
abspath() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/$1" ;;
    esac
}

if (($# > 0)) && [[ $1 == -h || $1 == --help ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi

MACHINE=${MACHINE:-virt}
SMP=${SMP:-2}
DEBUG_AFTER=${DEBUG_AFTER:-stop}
GDB=${GDB:-gdb-multiarch}
QEMU=${QEMU:-qemu-system-riscv64}
OPENSBI_FW=${OPENSBI_FW:-$KESTREL_FW_DEFAULT}
case $MACHINE in virt | spike | sifive_u) ;; *) usage_error "MACHINE must be virt, spike or sifive_u (got '$MACHINE')" ;; esac
if [[ ! $SMP =~ ^[0-9]+$ ]] || ((10#$SMP < 1 || 10#$SMP > 16)); then
    usage_error "SMP must be an integer 1..16 (got '$SMP')"
fi
SMP=$((10#$SMP))
case $DEBUG_AFTER in stop | wait) ;; *) usage_error "DEBUG_AFTER must be stop or wait (got '$DEBUG_AFTER')" ;; esac
timeout_s=$(kestrel_parse_duration "${RUN_TIMEOUT:-90s}") ||
    usage_error "RUN_TIMEOUT must look like 90, 90s, 2m or 1h (got '$RUN_TIMEOUT')"
if [[ -n ${GDB_PORT:-} ]] && { [[ ! $GDB_PORT =~ ^[0-9]+$ ]] || ((GDB_PORT < 1 || GDB_PORT > 65535)); }; then
    usage_error "GDB_PORT must be a TCP port (got '$GDB_PORT')"
fi

BUILD_DIR=$(abspath "${BUILD_DIR:-$ROOT/build}")
KERNEL=$(abspath "${KERNEL:-$BUILD_DIR/kernel.elf}")
[[ -f $KERNEL ]] || {
    echo "debug: kernel not found: $KERNEL (build it: ninja -C build kernel.elf)" >&2
    exit 2
}
for tool in "$QEMU" "$GDB" python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "debug: $tool not found (run scripts/deps.sh)" >&2
        exit 2
    }
done
[[ -r $OPENSBI_FW ]] || {
    echo "debug: OpenSBI firmware not found: $OPENSBI_FW" >&2
    exit 2
}
DTB=${DTB:-}
if [[ -n $DTB ]]; then
    DTB=$(abspath "$DTB")
    [[ -r $DTB ]] || usage_error "DTB is not a readable file: $DTB"
fi
read -r -a qemu_extra <<<"${QEMU_EXTRA:-}" || true

# A free port: the kernel picks it, QEMU binds it a moment later.
port=${GDB_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

if [[ -n ${DEBUG_LOG:-} ]]; then
    log=$(abspath "$DEBUG_LOG")
    mkdir -p -- "$(dirname -- "$log")"
else
    mkdir -p -- "$BUILD_DIR/qemu-logs"
    log=$BUILD_DIR/qemu-logs/debug-smp$SMP-$(date +%Y%m%d-%H%M%S)-$$.log
fi
: >"$log"

kestrel_qemu_cmd cmd "$QEMU" "$SMP" "$KERNEL" "$OPENSBI_FW" "${BOOTARGS:-}" "$MACHINE"
[[ -n $DTB ]] && cmd+=(-dtb "$DTB")
cmd+=("${qemu_extra[@]}" -S -gdb "tcp:127.0.0.1:$port")

qpid=""
fifo_dir=$(mktemp -d "${TMPDIR:-/tmp}/kestrel-debug.XXXXXX")
kestrel_serial_feeder "$fifo_dir/serial_in" "$log"
stop_qemu() {
    kestrel_stop_pid "$qpid"
    qpid=""
    kestrel_stop_pid "$KESTREL_FEEDER_PID"
    rm -rf -- "$fifo_dir"
}
trap stop_qemu EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "debug: ${cmd[*]}"
echo "debug: console: $log"
"${cmd[@]}" <"$fifo_dir/serial_in" >"$log" 2>&1 &
qpid=$!

# QEMU listens before it runs anything (-S); gdb retries a refused connect
# by itself (tcp auto-retry), this only catches a QEMU that died at once.
sleep 0.2
if ! kill -0 "$qpid" 2>/dev/null; then
    echo "debug: QEMU exited at once:" >&2
    sed 's/^/  | /' "$log" >&2
    exit 2
fi

gdb_cmd=("$GDB" -q -nx "$KERNEL"
    -ex "set pagination off"
    -ex "set confirm off"
    -ex "set tcp connect-timeout 20"
    -x "$ROOT/scripts/gdb/kestrel.py"
    -ex "target remote 127.0.0.1:$port"
    "$@")
# Interactive gdb owns the terminal; Ctrl-C reaches it, not this script.
grc=0
"${gdb_cmd[@]}" || grc=$?

if [[ $DEBUG_AFTER == wait ]]; then
    for ((i = 0; i < timeout_s * 10; i++)); do
        kill -0 "$qpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$qpid" 2>/dev/null; then
        echo "debug: QEMU still running after ${timeout_s}s: stopped" >&2
        stop_qemu
        exit 124
    fi
    qrc=0
    wait "$qpid" || qrc=$?
    qpid=""
    echo "debug: QEMU exited with status $qrc (gdb: $grc)"
    exit "$qrc"
fi
exit "$grc"
