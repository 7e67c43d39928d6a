#!/usr/bin/env bash
# Meson test gdb-debug: scripts/debug.sh in batch mode. gdb stops the kernel
# three times and reads its state through scripts/gdb/kestrel.py; the boot
# log, written by the kernel itself, must agree:
#   1. sched::start_boot_cpu: `kestrel cpu` / `kestrel harts` name cpu0 and
#      its hart id, which must equal "KINIT: boot hart N" (any hart can win
#      OpenSBI's lottery, so this is not a constant).
#   2. the first sched::queued_on of the Idle class (a1 == 0) once the capacity selftest
#      (HARD0001) runs (earlier tests ask about the Idle class too): it has just
#      filled the Idle class of its hart: `kestrel rq` must list exactly the
#      number the kernel then prints as "idle queued=N/", every one a Ready
#      "idle-fill" task with on_cpu=0, and `kestrel inbox` the "deferred=N".
#   3. the second sched::queued_on: the Normal class, "normal queued=N/", and
#      the selftest task itself (`kestrel task current`) Running on that cpu.
# Environment: KERNEL, BUILD_DIR (from meson), SMP (default 2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
SMP=${SMP:-2}
BUILD_DIR=${BUILD_DIR:-$root/build}
logdir=$BUILD_DIR/qemu-logs
mkdir -p -- "$logdir"
console=$logdir/gdb-debug-smp$SMP.log
transcript=$logdir/gdb-debug-smp$SMP.gdb.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gdb-debug.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

fail() {
    echo "gdb-debug: FAIL: $*"
    echo "gdb-debug: transcript $transcript, console $console"
    exit 1
}

cat >"$tmp/cmds.gdb" <<'EOF'
break sched::start_boot_cpu
continue
echo STOP1\n
kestrel cpu
kestrel harts
delete
break k::selftest::HARD0001_run
continue
delete
break sched::queued_on if $a1 == 0
continue
echo STOP2\n
kestrel cpu
kestrel rq
kestrel inbox
delete
break sched::queued_on
continue
echo STOP3\n
kestrel cpu
kestrel rq
kestrel task current
kestrel ipi
kestrel tasks
echo DONE\n
delete
detach
EOF

rc=0
DEBUG_AFTER=wait DEBUG_LOG=$console RUN_TIMEOUT=${RUN_TIMEOUT:-120s} SMP=$SMP \
    "$root/scripts/debug.sh" -batch -x "$tmp/cmds.gdb" >"$transcript" 2>&1 || rc=$?
tr -d '\r' <"$console" >"$tmp/console"

# Section N of the transcript: from STOPN up to the next marker line.
section() {
    awk -v want="$1" '/^(STOP[0-9]|DONE)$/ { on = ($0 == want) ; next } on' "$transcript"
}
# The value of key=VALUE in the first line of stdin matching a regex.
field() {
    grep -E -m1 -- "$1" | grep -oE "(^| )$2=[^ ]+" | head -1 | sed 's/^ //; s/^[^=]*=//'
}

grep -q '^DONE$' "$transcript" || fail "gdb did not reach the last stop (exit status $rc)"
if grep -nE 'Python Exception|Error occurred|Error in sourced' "$transcript"; then
    fail "a helper command failed"
fi
((rc == 0)) || fail "debug.sh exited with $rc (the boot under gdb must still pass)"
grep -q '^KSELFTEST: end' "$tmp/console" || fail "the boot did not reach KSELFTEST: end"

# 1. The boot hart.
log_hart=$(sed -n 's/^KINIT: boot hart \([0-9][0-9]*\)$/\1/p' "$tmp/console" | head -1)
[[ -n $log_hart ]] || fail "no 'KINIT: boot hart N' line in the console log"
s1=$(section STOP1)
cpu1=$(field '^thread=' cpu <<<"$s1")
hart1=$(field '^thread=' hart <<<"$s1")
[[ $cpu1 == 0 ]] || fail "start_boot_cpu stopped on cpu '$cpu1', not cpu0"
[[ $hart1 == "$log_hart" ]] || fail "helper: boot hart '$hart1', log: $log_hart"
[[ $(field '^cpu0 ' hart <<<"$s1") == "$log_hart" ]] || fail "kestrel harts: cpu0 hart differs from the log"
[[ $(field '^cpu0 ' magic <<<"$s1") == ok ]] || fail "kestrel harts: cpu0 magic not ok"
[[ $(field '^cpus=' cpus <<<"$s1") == "$SMP" ]] || fail "kestrel harts: cpu count is not $SMP"

# 2. The Idle class and the inbox at the capacity test's first check.
cap=$(grep -m1 '^KLOG: capacity:' "$tmp/console") || fail "no 'KLOG: capacity:' line in the log"
log_idle=$(sed -n 's/.*idle queued=\([0-9]*\)\/.*/\1/p' <<<"$cap")
log_deferred=$(sed -n 's/.* deferred=\([0-9]*\).*/\1/p' <<<"$cap")
log_normal=$(sed -n 's/.*normal queued=\([0-9]*\)\/.*/\1/p' <<<"$cap")
s2=$(section STOP2)
c=$(field '^thread=' cpu <<<"$s2")
[[ $c =~ ^[0-9]+$ ]] || fail "kestrel cpu: no cpu at the second stop"
idle=$(field "^cpu$c rq " Idle <<<"$s2")
listed=$(grep -cE '^  Idle: #[0-9]+ idle-fill Ready on_cpu=0 ' <<<"$s2" || true)
[[ $idle == "$log_idle" ]] || fail "kestrel rq: cpu$c Idle=$idle, log: idle queued=$log_idle"
[[ $listed == "$log_idle" ]] || fail "kestrel rq: $listed Ready idle-fill tasks with on_cpu=0 listed, log: $log_idle"
pending=$(field "^cpu$c inbox " pending <<<"$s2")
[[ $pending == "$log_deferred" ]] || fail "kestrel inbox: cpu$c pending=$pending, log: deferred=$log_deferred"

# 3. The Normal class and the selftest task running on that cpu.
s3=$(section STOP3)
normal=$(field "^cpu$c rq " Normal <<<"$s3")
[[ $normal == "$log_normal" ]] || fail "kestrel rq: cpu$c Normal=$normal, log: normal queued=$log_normal"
grep -qE '^  state=Running ' <<<"$s3" || fail "kestrel task current: not Running"
[[ $(field '^  on_cpu=' on_cpu <<<"$s3") == $((c + 1)) ]] || fail "kestrel task current: on_cpu is not cpu$c + 1"
for ((k = 0; k < SMP; k++)); do
    grep -qE "^cpu$k ipi pending=" <<<"$s3" || fail "kestrel ipi: no line for cpu$k"
done

echo "gdb-debug: PASS SMP=$SMP: boot hart $log_hart; cpu$c rq Idle=$idle Normal=$normal inbox=$pending as logged"
