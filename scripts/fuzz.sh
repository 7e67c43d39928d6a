#!/usr/bin/env bash
# The syscall fuzzer at length (issue 22): boots the kernel once per seed with
# fuzz_seed=, fuzz_calls=, fuzz_procs= on the boot line (through scripts/qemu-test.sh, under the
# shared QEMU lock) and prints one table row per seed: seed, calls, procs, the gate's verdict,
# whether every summary adds up, ok, errors by code, leaks (frames and records before -> after)
# and the time the fuzzers took.
#
#   SEEDS="7 99 31337"   seeds (default "12345")
#   CALLS=100000         calls per fuzzer process
#   PROCS=1              fuzzer processes (1..8; several need SMP >= PROCS)
#   SMP=8                harts
#   BUILD_DIR=build      the build whose kernel.elf boots
# The whole-test watchdog is raised to 600 s (watchdog_ms=) and the boot's time bound to
# 60 s + 100 us per call. Exit status: 0 when every boot passed and every summary added up.
set -u
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-12345}
CALLS=${CALLS:-100000}
PROCS=${PROCS:-1}
SMP=${SMP:-8}
BUILD_DIR=${BUILD_DIR:-build}
LOCK=${KESTREL_QEMU_LOCK:-/tmp/kestrel-qemu.lock}
timeout_s=$((60 + CALLS * PROCS / 10000))
status=0
locked=()
command -v flock >/dev/null && locked=(flock "$LOCK")
printf '%-10s %-9s %-5s %-5s %-7s %-9s %-9s %s\n' seed calls procs gate adds-up ok fuzz-s "errors by code | leaks"
for seed in $SEEDS; do
    out=$(mktemp)
    "${locked[@]}" env SMP="$SMP" REQUIRE_SMP=1 BUILD_DIR="$BUILD_DIR" RUN_TIMEOUT="${timeout_s}s" \
        BOOTARGS="fuzz_seed=$seed fuzz_calls=$CALLS fuzz_procs=$PROCS watchdog_ms=600000" \
        scripts/qemu-test.sh >"$out" 2>&1
    rc=$?
    log=$(grep -o "log: [^ )]*" "$out" | tail -1 | cut -c6-)
    gate=$([ $rc -eq 0 ] && echo PASS || echo FAIL)
    [ $rc -eq 0 ] || status=1
    adds=yes
    grep -q "adds-up=yes" "$log" 2>/dev/null || adds=NO
    grep -q "adds-up=NO\|SELFTEST: syscall fuzzer FAIL" "$log" 2>/dev/null && adds=NO
    [ "$adds" = yes ] || status=1
    # Errors by code and ok, summed over the fuzzer processes' own lines.
    errs=$(grep -h "^ULOG: fuzz seed=" "$log" 2>/dev/null | tr ' ' '\n' |
        awk -F= '/^ok=/{ok+=$2} /^err\[/{e[$1]+=$2} /^us=/{if ($2>us) us=$2}
                 END{printf "%d %.1f ", ok, us/1e6; for (k in e) printf "%s=%d ", k, e[k]}')
    leaks=$(grep -h "^ULOG: fuzz leaks" "$log" 2>/dev/null | sed 's/^ULOG: fuzz leaks //; s/ init-ipc.*//')
    read -r ok secs codes <<<"$errs"
    codes=$(tr ' ' '\n' <<<"${codes:-}" | grep . | sort -t- -k2 -n | tr '\n' ' ')
    printf '%-10s %-9s %-5s %-5s %-7s %-9s %-9s %s| %s\n' "$seed" "$CALLS" "$PROCS" "$gate" "$adds" \
        "${ok:--}" "${secs:--}" "${codes:-}" "${leaks:-no leak line}"
    rm -f "$out"
done
exit $status
