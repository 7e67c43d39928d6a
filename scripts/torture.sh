#!/usr/bin/env bash
# The torture run (mode=torture, RFC-0024): boot the kernel under
# multi-threaded TCG for DURATION seconds of torture, then check its summary.
#
#   scripts/torture.sh [DURATION [SMP [SEED]]]
#   SMP=8 DURATION=600 SEED=42 scripts/torture.sh
#
# Arguments override the environment. SMP 1..8 (default 8), DURATION whole
# seconds 1..3600 (default 30), SEED a decimal u64 (default: random, printed).
# HOTPLUG=0 leaves every hart online. BOOTARGS are appended (e.g. kfault=...).
# KERNEL, BUILD_DIR, QEMU, OPENSBI_FW, QEMU_EXTRA pass to scripts/qemu-test.sh,
# which boots and checks the torture ladder (selftest/torture_ladder.txt) and
# waits for the kernel's own exit status. The log is kept as
# BUILD_DIR/qemu-logs/torture-smpN-<date>-<pid>.log.
#
# Verdict: PASS only when the gate passed, the summary line is there and says
# lost=0 duplicated=0 leaked=0 corrupt=0. Exit 0 pass, 1 fail, 2 usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"

usage() {
    echo "usage: scripts/torture.sh [DURATION [SMP [SEED]]]   (or the same as environment variables)" >&2
    [[ -n ${1:-} ]] && echo "torture: $1" >&2
    exit 2
}
case ${1:-} in -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
(($# <= 3)) || usage "too many arguments"
DURATION=${1:-${DURATION:-30}}
SMP=${2:-${SMP:-8}}
SEED=${3:-${SEED:-}}
HOTPLUG=${HOTPLUG:-1}
[[ $DURATION =~ ^[0-9]+$ ]] && ((10#$DURATION >= 1 && 10#$DURATION <= 3600)) ||
    usage "DURATION must be whole seconds 1..3600 (got '$DURATION')"
[[ $SMP =~ ^[0-9]+$ ]] && ((10#$SMP >= 1 && 10#$SMP <= 8)) || usage "SMP must be 1..8 (got '$SMP')"
[[ $HOTPLUG == 0 || $HOTPLUG == 1 ]] || usage "HOTPLUG must be 0 or 1 (got '$HOTPLUG')"
if [[ -z $SEED ]]; then
    SEED=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
fi
[[ $SEED =~ ^[0-9]{1,19}$ ]] || usage "SEED must be a decimal number of at most 19 digits (got '$SEED')"
DURATION=$((10#$DURATION))
SMP=$((10#$SMP))

if [[ -n ${BUILD_DIR:-} ]]; then
    case $BUILD_DIR in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
else
    BUILD_DIR=$KESTREL_ROOT/build
fi
export BUILD_DIR
mkdir -p -- "$BUILD_DIR/qemu-logs"
log=$BUILD_DIR/qemu-logs/torture-smp$SMP-$(date +%Y%m%d-%H%M%S)-$$.log
req=0
((SMP >= 2)) && req=1
args="mode=torture torture_ms=$((DURATION * 1000)) torture_seed=$SEED torture_hotplug=$HOTPLUG"
[[ -n ${BOOTARGS:-} ]] && args="$args $BOOTARGS"
# Boot (up to ~10 s), the run, its bounded coverage grace (20 s) and wind-down.
timeout_s=$((DURATION + 120))

echo "torture: SMP=$SMP DURATION=${DURATION}s SEED=$SEED HOTPLUG=$HOTPLUG (log: $log)"
rc=0
out=$(SMP=$SMP REQUIRE_SMP=$req RUN_UNTIL_MARKER=0 RUN_TIMEOUT=${timeout_s}s \
    LADDER=$KESTREL_ROOT/selftest/torture_ladder.txt BOOTARGS=$args GATE_LOG=$log \
    "$here/qemu-test.sh" 2>&1) || rc=$?
if ((rc == 2)); then
    printf '%s\n' "$out" >&2
    exit 2
fi
summary=$(tr -d '\r' <"$log" | grep -m1 '^KTORTURE: summary ' || true)
tr -d '\r' <"$log" | grep '^KTORTURE: ' | grep -v '^KTORTURE: summary ' | sed 's/^/  /' || true
verdict=PASS
why=""
if [[ -z $summary ]]; then
    verdict=FAIL why="no summary line"
else
    for f in lost duplicated leaked corrupt; do
        if [[ ! $summary =~ (^| )$f=0( |$) ]]; then
            verdict=FAIL why="$f is not 0"
            break
        fi
    done
fi
if [[ $verdict == PASS ]] && ((rc != 0)); then
    verdict=FAIL why="the gate failed"
fi
echo "  ${summary:-KTORTURE: summary (missing)}"
if [[ $verdict == FAIL ]]; then
    printf '%s\n' "$out" | sed 's/^/  | /' | tail -n 60
    echo "torture: FAIL SMP=$SMP DURATION=${DURATION}s SEED=$SEED: $why (log: $log)"
    exit 1
fi
echo "torture: PASS SMP=$SMP DURATION=${DURATION}s SEED=$SEED (log: $log)"
