#!/usr/bin/env bash
# The instruction-count benchmark (RFC-0023): boots the kernel with
# `mode=bench` under `qemu-system-riscv64 -icount shift=0`, where rdinstret
# counts retired instructions deterministically, at 1, 2, 4 and 8 harts.
#
#   scripts/bench.sh            the full run: table, CSV, plot
#   scripts/bench.sh --probe    the counter probe alone, with and without -icount:
#                               it must tell the two apart (a figure from a boot
#                               without -icount is not an instruction count)
#   scripts/bench.sh --short    the check run of `meson test` (SMP 1 and 2,
#                               fewer batches): figures non-zero, a same-hart
#                               wake cheaper than a cross-hart one, and the user
#                               rows (user/ipcbench) present at each hart count
#
# Environment: KERNEL (default $BUILD_DIR/kernel.elf), BUILD_DIR (default
# build), HARTS (default "1 2 4 8"; --short: "1 2"), QEMU, OPENSBI_FW,
# RUN_TIMEOUT (per boot, default 600s; --short 120s).
# Output: the table on stdout; $BUILD_DIR/bench/bench.csv and
# $BUILD_DIR/bench/scaling.png (gnuplot). The last line is the verdict.
# No figure here is time: nothing is asserted about speed, only sanity.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
root=$KESTREL_ROOT
short=0
probe=0
case ${1:-} in
--short) short=1 ;;
--probe) probe=1 ;;
"") ;;
*)
    echo "usage: scripts/bench.sh [--short | --probe]" >&2
    exit 2
    ;;
esac

build=${BUILD_DIR:-$root/build}
kernel=${KERNEL:-$build/kernel.elf}
qemu=${QEMU:-qemu-system-riscv64}
fw=${OPENSBI_FW:-$KESTREL_FW_DEFAULT}
if ((short)); then
    harts=${HARTS:-1 2}
    kargs="mode=bench bench=short"
    timeout_s=${RUN_TIMEOUT:-120s}
else
    harts=${HARTS:-1 2 4 8}
    kargs="mode=bench"
    timeout_s=${RUN_TIMEOUT:-600s}
fi
out=$build/bench
mkdir -p "$out"
csv=$out/bench.csv
[[ -f $kernel ]] || {
    echo "bench: FAIL no kernel at $kernel (build it: ninja -C build kernel.elf)"
    exit 1
}

fail() {
    echo "bench: FAIL $*"
    exit 1
}

# --probe: the counter probe alone (`bench=probe`), once under -icount shift=0, where it must
# say rdinstret counts instructions, and once without, where it must warn that it does not.
if ((probe)); then
    for icount in 1 0; do
        log=$out/bench-probe-icount$icount.log
        extra=()
        ((icount)) && extra=(-icount shift=0)
        rc=0
        timeout "${RUN_TIMEOUT:-120s}" "$qemu" -machine virt -smp 1 -m 256M -nographic -bios "$fw" \
            -kernel "$kernel" -no-reboot "${extra[@]}" -append "mode=bench bench=probe" \
            >"$log" 2>&1 || rc=$?
        grep -q "^KBENCH: done harts=1 (probe only)" "$log" ||
            fail "probe (icount=$icount): no 'KBENCH: done' (exit $rc): $(tail -n 1 "$log")"
        if ((icount)); then
            grep -q "^KBENCH: counter probe: rdinstret counts instructions" "$log" ||
                fail "under -icount the probe did not see instructions: $(grep -m1 '^KBENCH: WARNING' "$log")"
        else
            grep -q "^KBENCH: WARNING rdinstret does not count instructions" "$log" ||
                fail "without -icount the probe saw instructions: $(grep -m1 '^KBENCH: counter' "$log")"
        fi
        grep -m1 -E "^KBENCH: (counter probe|WARNING)" "$log" | tr -d '\r'
    done
    echo "bench: PASS probe (icount seen, and its absence said)"
    exit 0
fi

echo "op,harts,tasks,rq,median,min,max,batches,iters" >"$csv"
for n in $harts; do
    log=$out/bench-smp$n.log
    rc=0
    # -icount shift=0: one instruction per virtual ns; QEMU runs the harts
    # round robin in one thread, so the count is deterministic.
    timeout "$timeout_s" "$qemu" -machine virt -smp "$n" -m 256M -nographic -bios "$fw" \
        -kernel "$kernel" -no-reboot -icount shift=0 -append "$kargs" >"$log" 2>&1 || rc=$?
    grep -q "^KBENCH: done harts=$n" "$log" ||
        fail "SMP=$n: no 'KBENCH: done' (exit $rc): $(grep -m1 -E 'KBENCH: FAIL|KPANIC' "$log" || tail -n 1 "$log")"
    grep -q "^KBENCH: counter probe: rdinstret counts instructions" "$log" ||
        fail "SMP=$n: rdinstret does not count instructions under this QEMU: $(grep -m1 '^KBENCH: WARNING' "$log")"
    ((rc == 0)) || fail "SMP=$n: QEMU exited $rc after 'KBENCH: done'"
    sed -n 's/^KBENCH: op=\([a-z_]*\) harts=\([0-9]*\) tasks=\([0-9]*\) rq=\([0-9]*\) median=\([0-9]*\) min=\([0-9]*\) max=\([0-9]*\) batches=\([0-9]*\) iters=\([0-9]*\).*/\1,\2,\3,\4,\5,\6,\7,\8,\9/p' \
        "$log" | tr -d '\r' >>"$csv"
done

rows=$(($(wc -l <"$csv") - 1))
((rows > 0)) || fail "no KBENCH rows"

# The table: one line per figure.
echo "Instructions per operation (median of the batches; min-max), -icount shift=0:"
awk -F, 'NR > 1 { printf "  %-18s harts=%s tasks=%-4s rq=%-2s %8s  (%s-%s)\n", $1, $2, $3, $4, $5, $6, $7 }' "$csv"
echo "csv: $csv"

# Sanity (not speed): every figure is non-zero; at each hart count a same-hart
# wake costs less than a cross-hart one; the user rows are there (the remote
# ones from 2 harts on) and an IPC round trip costs more than a null syscall.
zero=$(awk -F, 'NR > 1 && $5 == 0 { print $1 " harts=" $2 " tasks=" $3 }' "$csv")
[[ -z $zero ]] || fail "a zero figure: $zero"
row() { # op harts -> the median, or nothing
    awk -F, -v op="$1" -v n="$2" 'NR > 1 && $1 == op && $2 == n { print $5; exit }' "$csv"
}
for n in $harts; do
    user_ops="null_syscall ipc_call_local notify_wake irq_wake"
    ((n < 2)) || user_ops+=" ipc_call_remote notify_wake_remote irq_wake_remote"
    for op in $user_ops; do
        [[ -n $(row "$op" "$n") ]] || fail "SMP=$n: no $op row"
    done
    null=$(row null_syscall "$n") ipc=$(row ipc_call_local "$n")
    ((null < ipc)) || fail "SMP=$n: null syscall ($null) not cheaper than an IPC round trip ($ipc)"
    ((n >= 2)) || continue
    local_w=$(awk -F, -v n="$n" 'NR > 1 && $1 == "wake_local" && $2 == n && $3 == 2 { print $5 }' "$csv")
    remote_w=$(awk -F, -v n="$n" 'NR > 1 && $1 == "wake_remote" && $2 == n { print $5 }' "$csv")
    [[ -n $local_w && -n $remote_w ]] || fail "SMP=$n: no wake_local/wake_remote rows"
    ((local_w < remote_w)) || fail "SMP=$n: same-hart wake ($local_w) not cheaper than cross-hart ($remote_w)"
done

if ((short == 0)); then
    if command -v gnuplot >/dev/null 2>&1; then
        png=$out/scaling.png
        # Two panels: cost against live tasks (SMP=1), and against harts.
        for op in yield spawn_join wake_local lock current_cpu; do
            awk -F, -v op="$op" 'NR > 1 && $1 == op && $2 == 1 { print $3, $5 }' "$csv" >"$out/tasks-$op.dat"
            awk -F, -v op="$op" 'NR > 1 && $1 == op && $3 == 2 { print $2, $5 }' "$csv" >"$out/harts-$op.dat"
        done
        for op in wake_remote ipi_chain timer_irq null_syscall ipc_call_local notify_wake \
            ipc_call_remote notify_wake_remote; do
            awk -F, -v op="$op" 'NR > 1 && $1 == op { print $2, $5 }' "$csv" >"$out/harts-$op.dat"
        done
        gnuplot <<EOF
set terminal png size 1400,500 noenhanced
set output "$png"
set logscale y
set multiplot layout 1,2 title "Kestrel: instructions per operation (-icount shift=0)"
set logscale x
set xlabel "live tasks (the rest blocked), 1 hart"
set ylabel "instructions"
set key top left
set grid
plot for [op in "yield spawn_join wake_local lock current_cpu"] "$out/tasks-".op.".dat" using 1:2 with linespoints title op
unset logscale x
set key outside right top
set xlabel "harts (2 live tasks; cross-hart rows count every hart)"
set xtics (1, 2, 4, 8)
plot for [op in "yield spawn_join wake_local lock current_cpu wake_remote ipi_chain timer_irq null_syscall ipc_call_local notify_wake ipc_call_remote notify_wake_remote"] "$out/harts-".op.".dat" using 1:2 with linespoints title op
unset multiplot
EOF
        echo "plot: $png"
    else
        echo "bench: gnuplot not installed (scripts/deps.sh installs it): no plot"
    fi
fi
echo "bench: PASS ($rows figures at harts: $harts)"
