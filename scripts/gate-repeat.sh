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
# Prints one line per run, then the flake report: a table with one row per
# SMP value (runs, passed, failed, mean and max seconds of the passing runs,
# the first failure's reason), and finally "N passed, N failed".
# Exit status: 0 all passed, 1 some run failed, 2 usage error.
#
# LOAD=N keeps N other host cores busy during the runs (shell busy loops,
# started before the first run and ended by their pids when the script
# exits, however it exits), so the emulated harts get less host time than
# they would on an idle machine. LOAD=0 (default): no load; N at most the
# host's cores minus one.
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
host_cores=$(nproc 2>/dev/null || echo 1)
max_load=$((host_cores > 1 ? host_cores - 1 : 1))
if [[ ! $LOAD =~ ^[0-9]+$ ]] || ((10#$LOAD > max_load)); then
    usage "LOAD must be 0..$max_load (busy host cores; got '$LOAD')"
fi
LOAD=$((10#$LOAD))

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
load_pids=()
stop_load() {
    local p
    for p in "${load_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        echo "gate-repeat: host load (pid $p) stopped"
    done
    load_pids=()
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
for ((l = 0; l < LOAD; l++)); do
    # A subshell spinning on builtins only: one host core busy, nothing else.
    (while :; do :; done) &
    load_pids+=($!)
    echo "gate-repeat: host load on (busy loop pid $!)"
done

declare -A tally_pass=() tally_fail=() tally_ms=() tally_max=() first_fail=()
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
                if [[ $t =~ ^([0-9]+)\.([0-9])$ ]]; then
                    ms=$((10#${BASH_REMATCH[1]} * 1000 + 10#${BASH_REMATCH[2]} * 100))
                    tally_ms[$s]=$((${tally_ms[$s]:-0} + ms))
                    ((ms > ${tally_max[$s]:-0})) && tally_max[$s]=$ms
                fi
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
                [[ -n ${first_fail[$s]:-} ]] || first_fail[$s]=${reason:-see report}
                tally_fail[$s]=$((tally_fail[$s] + 1))
                total_fail=$((total_fail + 1))
                ;;
        esac
    done
done

stop_load
sec() { printf '%d.%d' $(($1 / 1000)) $(($1 / 100 % 10)); }
tallies=()
echo "gate-repeat: flake report ($runs run(s) per SMP, LOAD=$LOAD of $host_cores host cores, BOOTARGS='${BOOTARGS:-}')"
echo "| SMP | runs | passed | failed | mean s | max s | first failure |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
for s in "${smps[@]}"; do
    s=$((10#$s))
    [[ -n ${tally_pass[$s]+x} ]] || continue
    p=${tally_pass[$s]} f=${tally_fail[$s]}
    mean=- max=-
    if ((p > 0)) && [[ -n ${tally_ms[$s]:-} ]]; then
        mean=$(sec $((tally_ms[$s] / p)))
        max=$(sec "${tally_max[$s]:-0}")
    fi
    echo "| $s | $((p + f)) | $p | $f | $mean | $max | ${first_fail[$s]:--} |"
    tallies+=("SMP=$s: $p/$((p + f)) passed")
    unset "tally_pass[$s]"
done
printf '%s\n' "${tallies[@]}"
if ((total_fail > 0)); then
    echo "gate-repeat: failing logs kept in $repdir"
else
    rmdir -- "$repdir" 2>/dev/null || true
fi
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
