#!/usr/bin/env bash
# Run the QEMU gate repeatedly to shake out flaky SMP behaviour.
#
#   scripts/gate-repeat.sh K [SMP...]      e.g. scripts/gate-repeat.sh 20 1 2 4 8
#
# Runs scripts/qemu-test.sh K times for each SMP value (default 1 2 4 8) with
# REQUIRE_SMP=1 for SMP>=2, RUN_UNTIL_MARKER=1 and RUN_TIMEOUT from the
# environment (default 120s). Other gate variables (KERNEL, BUILD_DIR, QEMU,
# BOOTARGS, QEMU_EXTRA, ...) pass through. Logs go to
# BUILD_DIR/qemu-logs/repeat-<date>-<pid>/; logs of passing runs are deleted,
# failing ones are kept with the gate's report next to them (<log>.report).
# Prints one line per run, a per-SMP tally, and finally "N passed, N failed".
# Exit status: 0 all passed, 1 some run failed, 2 usage error.
#
# LOAD=1 keeps one other host core busy during the runs (a shell busy loop,
# started before the first run and ended by its pid when the script exits,
# however it exits), so the emulated harts get less host time than they
# would on an idle machine. LOAD=0 (default): no load.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
gate=$here/qemu-test.sh

usage() {
    echo "usage: scripts/gate-repeat.sh K [SMP...]   (K >= 1 runs per SMP value; SMP in 1..16)" >&2
    [[ -n ${1:-} ]] && echo "gate-repeat: $1" >&2
    exit 2
}

(($# >= 1)) || usage "missing K"
if [[ ! $1 =~ ^[0-9]+$ ]] || ((10#$1 < 1)); then
    usage "K must be a positive integer (got '$1')"
fi
runs=$((10#$1))
shift
smps=("$@")
((${#smps[@]} > 0)) || smps=(1 2 4 8)
for s in "${smps[@]}"; do
    if [[ ! $s =~ ^[0-9]+$ ]] || ((10#$s < 1 || 10#$s > 16)); then
        usage "bad SMP value '$s'"
    fi
done

LOAD=${LOAD:-0}
case $LOAD in
    0 | 1) ;;
    *) usage "LOAD must be 0 or 1 (got '$LOAD')" ;;
esac

export RUN_TIMEOUT=${RUN_TIMEOUT:-120s}
kestrel_parse_duration "$RUN_TIMEOUT" >/dev/null || usage "bad RUN_TIMEOUT '$RUN_TIMEOUT'"
if [[ -n ${BUILD_DIR:-} ]]; then
    case $BUILD_DIR in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
else
    BUILD_DIR=$KESTREL_ROOT/build
fi
export BUILD_DIR
unset GATE_LOG

repdir=$BUILD_DIR/qemu-logs/repeat-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p -- "$repdir"
load_pid=""
stop_load() {
    if [[ -n $load_pid ]]; then
        kill -TERM "$load_pid" 2>/dev/null || true
        wait "$load_pid" 2>/dev/null || true
        echo "gate-repeat: host load (pid $load_pid) stopped"
        load_pid=""
    fi
}
gate_pid=""
stop_gate() {
    if [[ -n $gate_pid ]]; then
        kill -TERM "$gate_pid" 2>/dev/null || true # the gate then stops its own QEMU
        wait "$gate_pid" 2>/dev/null || true
        gate_pid=""
    fi
}
trap 'stop_gate; stop_load' EXIT
trap 'echo "gate-repeat: interrupted" >&2; exit 130' INT TERM
if ((LOAD == 1)); then
    # A subshell spinning on builtins only: one host core busy, nothing else.
    (while :; do :; done) &
    load_pid=$!
    echo "gate-repeat: host load on (busy loop pid $load_pid)"
fi

declare -A tally_pass=() tally_fail=()
total_pass=0
total_fail=0
for s in "${smps[@]}"; do
    s=$((10#$s))
    tally_pass[$s]=${tally_pass[$s]:-0}
    tally_fail[$s]=${tally_fail[$s]:-0}
    req=0
    ((s >= 2)) && req=1
    for ((i = 1; i <= runs; i++)); do
        log=$repdir/smp$s-run$i.log
        rc=0
        # In the background and waited for, so that INT/TERM are handled at
        # once (and stop this gate run) instead of after the run.
        SMP=$s REQUIRE_SMP=$req RUN_UNTIL_MARKER=1 GATE_LOG=$log "$gate" >"$log.out" 2>&1 &
        gate_pid=$!
        wait "$gate_pid" || rc=$?
        gate_pid=""
        out=$(<"$log.out")
        rm -f -- "$log.out"
        case $rc in
            0)
                t=$(sed -n 's/^gate: PASS .*markers, \([0-9.]*\) s,.*/\1/p' <<<"$out")
                echo "run $i/$runs SMP=$s: PASS (${t:-?} s)"
                rm -f -- "$log"
                tally_pass[$s]=$((tally_pass[$s] + 1))
                total_pass=$((total_pass + 1))
                ;;
            2)
                printf '%s\n' "$out" >&2
                echo "gate-repeat: the gate reported a usage/setup error (exit 2); stopping" >&2
                rmdir -- "$repdir" 2>/dev/null || true
                exit 2
                ;;
            130 | 143)
                echo "gate-repeat: interrupted" >&2
                exit "$rc"
                ;;
            *)
                reason=$(sed -n 's/^gate: FAIL SMP=[0-9]*: //p' <<<"$out" | head -n 1)
                printf '%s\n' "$out" >"$log.report"
                echo "run $i/$runs SMP=$s: FAIL (exit $rc): ${reason:-see report} (log: $log)"
                tally_fail[$s]=$((tally_fail[$s] + 1))
                total_fail=$((total_fail + 1))
                ;;
        esac
    done
done

stop_load
for s in "${smps[@]}"; do
    s=$((10#$s))
    [[ -n ${tally_pass[$s]+x} ]] || continue
    echo "SMP=$s: ${tally_pass[$s]}/$((tally_pass[$s] + tally_fail[$s])) passed"
    unset "tally_pass[$s]"
done
if ((total_fail > 0)); then
    echo "gate-repeat: failing logs kept in $repdir"
else
    rmdir -- "$repdir" 2>/dev/null || true
fi
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
