#!/usr/bin/env bash
# The QEMU gate: boot the kernel under QEMU/OpenSBI and check its serial log
# against the selftest ladder (selftest/ladder.txt).
#
# Environment (all optional):
#   MACHINE=virt|virt-aplic|spike|sifive_u
#                      QEMU machine (default virt). virt-aplic: virt with
#                      aia=aplic (an APLIC instead of the PLIC: the kernel
#                      refuses it with a line, and the ladder's virt-scoped
#                      tests are not required). spike: SMP 1..8, console
#                      and exit through HTIF. sifive_u: SMP 2..5, hart 0 is the
#                      E51 monitor core without S-mode, so the kernel's cpus
#                      are SMP-1 and REQUIRE_SMP=1 needs SMP>=3.
#   SMP=N              harts, 1..16 (default 1)
#   REQUIRE_SMP=0|1    1: the ladder's smp markers and "KINIT: cpuK online" for
#                      every kernel cpu K >= 1 are required (needs 2+ cpus)
#   DTB=file           boot this device tree instead of QEMU's own (-dtb); it
#                      must describe the machine and SMP given
#   EXPECT_LINES=str   log line prefixes, separated by '|', that must each
#                      appear (anywhere) before the gate passes
#   RUN_UNTIL_MARKER=0|1
#                      1 (default): stop QEMU as soon as the final marker or a
#                      failure shows. 0: wait for the kernel to shut QEMU down;
#                      QEMU's exit status must then be 0.
#   RUN_TIMEOUT=90s    "N", "Ns", "Nm" or "Nh" (default 90s)
#   BUILD_DIR=dir      default <repo>/build; a relative value is taken relative
#                      to the current directory. Logs go to BUILD_DIR/qemu-logs/.
#   KERNEL=file        default $BUILD_DIR/kernel.elf
#   BOOTARGS=str       passed as -append
#   QEMU_EXTRA=str     extra QEMU arguments (word-split, no globbing)
#   QEMU=path          QEMU binary (default qemu-system-riscv64)
#   OPENSBI_FW=file    default /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
#   LADDER=file        default <repo>/selftest/ladder.txt
#   SERIAL_INPUT=file  the bytes "typed" into the console UART on QEMU's stdin
#                      (default <repo>/selftest/console_input.txt: the console
#                      driver's input test reads them), written once the log
#                      shows SERIAL_AFTER, before the driver starts: QEMU and
#                      the UART hold them until the driver reads. Typed at
#                      QEMU's start instead, they are lost: the firmware's
#                      UART init (OpenSBI's FIFO enable) flushes what came.
#   SERIAL_AFTER=str   default "SELFTEST: irq freed with last capability"
#   GATE_LOG=file      write the serial log here instead of an automatic name
#                      (BUILD_DIR/qemu-logs/smpN-<date>-<pid>.log, with the
#                      smpN-latest.log symlink updated; not updated with GATE_LOG)
#   ADDR2LINE=cmd      symbolizer (default riscv64-linux-gnu-addr2line)
#
# A failing log with KPANIC lines is symbolized (scripts/lib/symbolize.sh): the
# copy <log>.sym gives every backtrace frame and the panic's sepc as function,
# file and line, and the failure excerpt is taken from it (same line numbers);
# the log itself keeps the raw lines. Without addr2line the gate says so and
# the excerpt stays raw.
#
# Checks: the required markers appear in ladder order (a log line matches a
# marker when it starts with it, \r ignored). Fails fast on a line with
# " FAIL" after "KSELFTEST:"/"SELFTEST:", on "KPANIC", on a summary line with
# failed!=0 or passed!=total, on an "KSELFTEST: <name> ok" line whose name
# is not in the ladder, on an smp-scoped marker at SMP=1, and (REQUIRE_SMP=1)
# on "KINIT: cpuK offline" for a hart that never came online. From the kernel's
# first line on, fails on a line with a second tag inside it (two writers' bytes
# on one line, RFC-0031 "The console rule"), on a "KLOG: whole "/"ULOG: whole "
# line not in its exact form, and on a "whole-burst ... lines=N" summary when N
# differs from the whole burst lines counted since the last one.
#
# Exit status: 0 pass, 1 fail, 2 usage/setup error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=lib/ladder.sh
source "$here/lib/ladder.sh"
# shellcheck source-path=SCRIPTDIR source=lib/symbolize.sh
source "$here/lib/symbolize.sh"
ROOT=$KESTREL_ROOT

usage_error() {
    echo "gate: usage error: $*" >&2
    echo "gate: see the header of scripts/qemu-test.sh for the environment contract" >&2
    exit 2
}

abspath() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/$1" ;;
    esac
}

# ---------------------------------------------------------------- arguments
if (($# > 0)); then
    case $1 in
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) usage_error "no arguments expected (configure through the environment): $*" ;;
    esac
fi

MACHINE=${MACHINE:-virt}
SMP=${SMP:-1}
DTB=${DTB:-}
EXPECT_LINES=${EXPECT_LINES:-}
REQUIRE_SMP=${REQUIRE_SMP:-0}
RUN_UNTIL_MARKER=${RUN_UNTIL_MARKER:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-90s}
QEMU=${QEMU:-qemu-system-riscv64}
OPENSBI_FW=${OPENSBI_FW:-$KESTREL_FW_DEFAULT}
LADDER=${LADDER:-$ROOT/selftest/ladder.txt}
SERIAL_INPUT=${SERIAL_INPUT:-$ROOT/selftest/console_input.txt}
SERIAL_AFTER=${SERIAL_AFTER:-SELFTEST: irq freed with last capability}
if [[ ! -r $SERIAL_INPUT ]]; then
    echo "gate: SERIAL_INPUT=$SERIAL_INPUT is not a readable file" >&2
    exit 2
fi
BOOTARGS=${BOOTARGS:-}
QEMU_EXTRA=${QEMU_EXTRA:-}

if [[ ! $SMP =~ ^[0-9]+$ ]] || ((10#$SMP < 1 || 10#$SMP > 16)); then
    usage_error "SMP must be an integer 1..16 (got '$SMP')"
fi
SMP=$((10#$SMP))
# cpus: the harts that can run the kernel (S-mode); the ladder checks use it.
case $MACHINE in
    virt | virt-aplic) cpus=$SMP ;;
    spike)
        ((SMP <= 8)) || usage_error "MACHINE=spike supports SMP 1..8 (got SMP=$SMP)"
        cpus=$SMP
        ;;
    sifive_u)
        ((SMP >= 2 && SMP <= 5)) || usage_error "MACHINE=sifive_u needs SMP 2..5 (got SMP=$SMP)"
        cpus=$((SMP - 1))
        ;;
    *) usage_error "MACHINE must be virt, virt-aplic, spike or sifive_u (got '$MACHINE')" ;;
esac
case $REQUIRE_SMP in
    0 | 1) ;;
    *) usage_error "REQUIRE_SMP must be 0 or 1 (got '$REQUIRE_SMP')" ;;
esac
if ((REQUIRE_SMP == 1 && cpus < 2)); then
    usage_error "REQUIRE_SMP=1 needs SMP>=2 (got SMP=$SMP, $cpus kernel cpu(s) on $MACHINE)"
fi
if [[ -n $DTB ]]; then
    DTB=$(abspath "$DTB")
    [[ -f $DTB && -r $DTB ]] || usage_error "DTB is not a readable file: $DTB"
fi
if [[ $EXPECT_LINES == *$'\t'* || $EXPECT_LINES == *$'\n'* ]]; then
    usage_error "EXPECT_LINES must not contain tabs or newlines"
fi
case $RUN_UNTIL_MARKER in
    0 | 1) ;;
    *) usage_error "RUN_UNTIL_MARKER must be 0 or 1 (got '$RUN_UNTIL_MARKER')" ;;
esac
if ! timeout_s=$(kestrel_parse_duration "$RUN_TIMEOUT"); then
    usage_error "RUN_TIMEOUT must look like 90, 90s, 2m or 1h (got '$RUN_TIMEOUT')"
fi

if [[ -n ${BUILD_DIR:-} ]]; then
    BUILD_DIR=$(abspath "$BUILD_DIR")
else
    BUILD_DIR=$ROOT/build
fi
KERNEL=${KERNEL:-$BUILD_DIR/kernel.elf}
KERNEL=$(abspath "$KERNEL")

if [[ ! -f $KERNEL ]]; then
    echo "gate: kernel not found: $KERNEL" >&2
    echo "gate: build first: meson setup --cross-file cross/riscv64.ini build && ninja -C build" >&2
    exit 2
fi
if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "gate: QEMU binary not found: $QEMU (run scripts/deps.sh; the QEMU 10 lane: scripts/lane-qemu10.sh)" >&2
    exit 2
fi
if [[ ! -r $OPENSBI_FW ]]; then
    echo "gate: OpenSBI firmware not found: $OPENSBI_FW (run scripts/deps.sh; the QEMU 10 lane: scripts/lane-qemu10.sh)" >&2
    exit 2
fi
read -r -a qemu_extra <<<"$QEMU_EXTRA" || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-gate.XXXXXX")
qpid=""
fpid=""
cleanup() {
    local rc=$?
    if [[ -n $qpid ]]; then
        stop_qemu
    fi
    if [[ -n $fpid ]]; then
        kestrel_stop_pid "$fpid"
    fi
    if [[ -n ${latest_copy:-} ]]; then
        cp -f -- "$log" "$latest_copy" 2>/dev/null || true
    fi
    rm -rf -- "$tmp"
    return "$rc"
}
trap cleanup EXIT
trap 'echo "gate: interrupted" >&2; exit 130' INT
trap 'echo "gate: terminated" >&2; exit 143' TERM

ladder_norm=$tmp/ladder.tsv
kestrel_ladder_normalize "$LADDER" "$ladder_norm" || exit 2

# ---------------------------------------------------------------- log file
logdir=$BUILD_DIR/qemu-logs
mkdir -p -- "$logdir"
if [[ -n ${GATE_LOG:-} ]]; then
    log=$(abspath "$GATE_LOG")
    mkdir -p -- "$(dirname -- "$log")"
    : >"$log"
else
    tag=smp$SMP
    [[ $MACHINE == virt ]] || tag=$MACHINE-smp$SMP
    log=$logdir/$tag-$(date +%Y%m%d-%H%M%S)-$$.log
    : >"$log"
    latest=$logdir/$tag-latest.log
    if ! ln -sfn -- "$(basename -- "$log")" "$latest" 2>/dev/null; then
        # no symlinks here: keep a copy instead, refreshed on exit
        latest_copy=$latest
    fi
fi

# ---------------------------------------------------------------- the check
# One awk pass over a snapshot of the log. Input: the normalized ladder, then
# the log on stdin. A trailing line without "\n" is only judged when final=1
# (QEMU has stopped). Output: key=value lines.
cat >"$tmp/gate.awk" <<'AWK'
function starts(s, p) { return substr(s, 1, length(p)) == p }
function fail(reason, nr) { if (!failed) { failed = 1; freason = reason; fline = nr } }
function field(s, key,    re) {
    re = key "=[0-9]+"
    if (match(s, re)) return substr(s, RSTART + length(key) + 1, RLENGTH - length(key) - 1)
    return ""
}
function process(line, nr,    i, nm, t, p, f, k, rest) {
    if (failed) return
    if (index(line, "KPANIC")) { fail("kernel panic: " line, nr); return }
    if (line ~ /SELFTEST:.* FAIL/) { fail("selftest failed: " line, nr); return }
    if (starts(line, "KSELFTEST: summary")) {
        t = field(line, "total"); p = field(line, "passed"); f = field(line, "failed")
        if (t == "" || p == "" || f == "") { fail("malformed summary line: " line, nr); return }
        if (f + 0 != 0 || p + 0 != t + 0) { fail("selftest summary reports failures: " line, nr); return }
    }
    if (starts(line, "KSELFTEST: ") && match(line, / ok( |$)/)) {
        nm = substr(line, 12, RSTART - 12)
        if (!(nm in known)) { fail("selftest not in the ladder: " line, nr); return }
    }
    # The console's line rule (RFC-0031 "The console rule"), from the kernel's first line on: no
    # line carries a second tag (two writers' lines cut into each other), and each line of a
    # console burst has its exact form, as many as the burst's summary line says it wrote.
    if (!kstarted && starts(line, "KINIT: ")) kstarted = 1
    if (kstarted) {
        rest = line
        sub(/^[A-Z]+: /, "", rest)
        if (match(rest, /(KINIT|KSELFTEST|KLOG|KPANIC|KDUMP|KBENCH|KTORTURE|SELFTEST|ULOG): /)) {
            fail("console line broken (two lines cut into each other): " line, nr); return
        }
        if (starts(line, "KLOG: whole ") || starts(line, "ULOG: whole ")) {
            if (line !~ /^[KU]LOG: whole [kud][0-9]+ [0-9]+ 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX$/) {
                fail("console line broken (a burst line not in its exact form): " line, nr); return
            }
            whole[substr(line, 1, 1)]++
        }
        if (starts(line, "KLOG: whole-burst ") || starts(line, "ULOG: whole-burst ")) {
            k = substr(line, 1, 1); f = field(line, "lines")
            if (f == "" || f + 0 != whole[k] + 0) {
                fail("console burst: " f " lines written, " (whole[k] + 0) " arrived whole: " line, nr); return
            }
            whole[k] = 0
        }
    }
    if (smp == 1)
        for (i = 1; i <= nsmpm; i++)
            if (starts(line, smpm[i])) { fail("smp-only marker at SMP=1: " line, nr); return }
    if (reqsmp && match(line, /^KINIT: cpu[0-9]+ /)) {
        k = substr(line, 11, RLENGTH - 11) + 0
        rest = substr(line, RLENGTH + 1)
        if (starts(rest, "online")) { if (!(k in cpuon)) cpuon[k] = nr }
        else if (starts(rest, "offline") && !(k in cpuon) && k < smp) {
            fail("hart " k " did not come online: " line, nr); return
        }
    }
    if (idx <= nreq && starts(line, req[idx])) { at[idx] = nr; idx++ }
    for (i = 1; i <= nreq; i++)
        if (!(i in seen) && starts(line, req[i])) seen[i] = nr
    for (i = 1; i <= nexp; i++)
        if (!(i in expseen) && starts(line, expl[i])) expseen[i] = nr
    if (!finalseen && starts(line, finalm)) finalseen = nr
}
BEGIN {
    FS = "\t"; idx = 1; nreq = 0; nsmpm = 0; nlog = 0; nb = 0; pending = 0
    nexp = (expect == "") ? 0 : split(expect, expl, "|")
}
NR == FNR {
    scope = $1; m = substr($0, length($1) + 2)
    # virt and virt-smp: required on QEMU virt only (other machines' DTBs describe no PLIC or
    # no ns16550a, and the kernel and init skip those tests there).
    if (scope == "all" || (scope == "smp" && reqsmp) || (scope == "virt" && virt) ||
        (scope == "virt-smp" && virt && reqsmp)) { req[++nreq] = m; reqset[m] = 1 }
    if (scope == "smp" || scope == "virt-smp") smpm[++nsmpm] = m
    if (starts(m, "KSELFTEST: ")) { nm = substr(m, 12); sub(/ ok$/, "", nm); known[nm] = 1 }
    finalm = m
    next
}
{
    nb += length($0) + 1
    nlog++
    line = $0
    gsub(/\r/, "", line)
    if (pending) process(pline, pnr)
    pline = line; pnr = nlog; pending = 1
}
END {
    if (pending && (final || nb <= size)) process(pline, pnr)
    nmark = nreq
    if (reqsmp)
        for (k = 1; k < smp; k++)
            if (!(("KINIT: cpu" k " online") in reqset)) nmark++
    miss = ""; why = ""; wline = 0
    if (idx <= nreq) {
        miss = req[idx]
        if (idx in seen) {
            why = "marker out of order: '" miss "' (line " seen[idx] ") does not come after '" req[idx - 1] "' (line " at[idx - 1] ")"
            wline = seen[idx]
        } else {
            why = "missing marker: '" miss "'"
        }
    } else if (reqsmp) {
        for (k = 1; k < smp; k++)
            if (!(k in cpuon)) {
                miss = "KINIT: cpu" k " online"
                why = "hart " k " did not come online: missing '" miss "'"
                break
            }
    }
    # An expected line may follow the final marker (a shutdown message): it
    # keeps the verdict pending until QEMU stops or the timeout.
    expwait = 0
    if (miss == "")
        for (i = 1; i <= nexp; i++)
            if (!(i in expseen)) {
                miss = expl[i]
                why = "expected line missing (EXPECT_LINES): '" miss "'"
                expwait = !final
                break
            }
    nmark += nexp
    if (failed) status = "fail"
    else if (finalseen && miss == "") status = "pass"
    else if (finalseen && !expwait) { status = "fail"; freason = why; fline = wline ? wline : finalseen }
    else { status = "pending"; freason = why; fline = wline }
    print "status=" status
    print "reason=" freason
    print "missing=" miss
    print "line=" (fline + 0)
    print "markers=" nmark
    print "lines=" nlog
}
AWK

G_STATUS="" G_REASON="" G_MISSING="" G_LINE=0 G_MARKERS=0 G_LINES=0
evaluate() {
    local final=$1 size kv k v
    size=$(stat -c %s -- "$log")
    G_STATUS="" G_REASON="" G_MISSING="" G_LINE=0 G_MARKERS=0 G_LINES=0
    while IFS= read -r kv; do
        k=${kv%%=*}
        v=${kv#*=}
        case $k in
            status) G_STATUS=$v ;;
            reason) G_REASON=$v ;;
            missing) G_MISSING=$v ;;
            line) G_LINE=$v ;;
            markers) G_MARKERS=$v ;;
            lines) G_LINES=$v ;;
        esac
    done < <(head -c "$size" -- "$log" | LC_ALL=C awk -v smp="$cpus" -v reqsmp="$REQUIRE_SMP" -v expect="$EXPECT_LINES" \
        -v virt="$([[ $MACHINE == virt ]] && echo 1 || echo 0)" -v final="$final" -v size="$size" -f "$tmp/gate.awk" "$ladder_norm" -)
    if [[ -z $G_STATUS ]]; then
        echo "gate: internal error: log evaluation produced no verdict" >&2
        exit 2
    fi
}

# ---------------------------------------------------------------- QEMU
NOW=0
now() { NOW=${EPOCHREALTIME//[.,]/}; }

qemu_alive() {
    [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null
}

# Stop the QEMU this script started (by PID only) and reap it.
stop_qemu() {
    kestrel_stop_pid "$qpid"
    qpid=""
}

kestrel_qemu_cmd cmd "$QEMU" "$SMP" "$KERNEL" "$OPENSBI_FW" "$BOOTARGS" "$MACHINE"
[[ -n $DTB ]] && cmd+=(-dtb "$DTB")
cmd+=("${qemu_extra[@]}")

now
t_start=$NOW
deadline=$((t_start + timeout_s * 1000000))
# The host side of the console: a fifo on QEMU's stdin, written by a feeder of ours (ended by
# its PID at exit) once the log shows SERIAL_AFTER.
kestrel_serial_feeder "$tmp/serial_in" "$log" "$SERIAL_AFTER" "$SERIAL_INPUT" ||
    usage_error "cannot make the console fifo in $tmp"
fpid=$KESTREL_FEEDER_PID
"${cmd[@]}" <"$tmp/serial_in" >"$log" 2>&1 &
qpid=$!

elapsed() {
    now
    local e=$((NOW - t_start))
    printf '%d.%d' $((e / 1000000)) $((e / 100000 % 10))
}

what="SMP=$SMP"
[[ $MACHINE == virt ]] || what="MACHINE=$MACHINE SMP=$SMP"

report_fail() {
    local reason=$1 from to n excerpt
    echo "gate: FAIL $what: $reason"
    if [[ -n $G_MISSING ]]; then
        echo "gate: first missing marker: '$G_MISSING'"
    fi
    n=$G_LINES
    # A panic: the excerpt comes from a symbolized copy (one line per log line).
    excerpt=$log
    if grep -q '^KPANIC:' -- "$log" 2>/dev/null; then
        if kestrel_addr2line >/dev/null; then
            if tr -d '\r' <"$log" | kestrel_symbolize "$KERNEL" >"$log.sym"; then
                excerpt=$log.sym
                echo "gate: backtrace symbolized with $(kestrel_addr2line) (copy: $log.sym)"
            else
                echo "gate: symbolizing the backtrace failed: excerpt left raw"
            fi
        else
            echo "gate: ${ADDR2LINE:-riscv64-linux-gnu-addr2line} not found (binutils-riscv64-linux-gnu): backtrace left raw"
        fi
    fi
    if ((G_LINE > 0)); then
        from=$((G_LINE > 10 ? G_LINE - 10 : 1))
        to=$((from + 39))
        echo "gate: log lines $from-$((to < n ? to : n)) of $n (failure at line $G_LINE):"
    else
        from=$((n > 40 ? n - 39 : 1))
        to=$n
        echo "gate: last lines $from-$to of $n of the log:"
    fi
    if ((n > 0)); then
        sed -n "${from},${to}p" -- "$excerpt" | tr -d '\r' | cut -c1-400 | sed 's/^/  | /'
    fi
    echo "gate: qemu: ${cmd[*]}"
    echo "gate: log: $log"
    exit 1
}

report_pass() {
    echo "gate: PASS $what ($G_MARKERS markers, $(elapsed) s, log: $log)"
    exit 0
}

qstatus=""
while :; do
    exited=0
    if ! qemu_alive; then
        exited=1
        qstatus=0
        wait "$qpid" 2>/dev/null || qstatus=$?
        qpid=""
    fi
    evaluate "$exited"

    if [[ $G_STATUS == fail ]]; then
        if ((exited == 0)); then
            # Grace period: let a panic backtrace reach the log, or the
            # kernel shut QEMU down by itself, before we stop it.
            for ((i = 0; i < 10; i++)); do
                qemu_alive || break
                sleep 0.1
            done
            stop_qemu
            evaluate 1
        fi
        report_fail "$G_REASON"
    fi

    if ((exited == 1)); then
        if [[ $G_STATUS == pass ]]; then
            if ((RUN_UNTIL_MARKER == 0 && qstatus != 0)); then
                G_MISSING=""
                report_fail "QEMU exited with status $qstatus (the kernel reported failure)"
            fi
            if ((qstatus != 0)); then
                echo "gate: note: QEMU exited with status $qstatus after the final marker"
            fi
            report_pass
        fi
        report_fail "QEMU exited with status $qstatus before the final marker; ${G_REASON:-no markers}"
    fi

    if [[ $G_STATUS == pass && $RUN_UNTIL_MARKER == 1 ]]; then
        stop_qemu
        report_pass
    fi

    now
    if ((NOW >= deadline)); then
        stop_qemu
        evaluate 1
        if [[ $G_STATUS == fail ]]; then
            report_fail "$G_REASON"
        fi
        if [[ $G_STATUS == pass ]]; then
            report_fail "timeout after ${timeout_s}s: all markers seen but the kernel did not shut QEMU down"
        fi
        report_fail "timeout after ${timeout_s}s; ${G_REASON}"
    fi
    sleep 0.1
done
