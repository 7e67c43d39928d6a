#!/usr/bin/env bash
# Self-tests of the QEMU gate (scripts/qemu-test.sh), scripts/gate-repeat.sh
# and the ladder/testlog helpers, WITHOUT a real kernel: a fake QEMU prints a
# scripted serial log.
#
#   scripts/tests/gate_test.sh [-v]     (-v: show the gate output of every case)
#
# Exit status non-zero if any case failed; the last line is "N passed, N failed".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
scripts=$(cd "$here/.." && pwd -P)
root=$(cd "$scripts/.." && pwd -P)
GATE=$scripts/qemu-test.sh
REPEAT=$scripts/gate-repeat.sh
verbose=0
[[ ${1:-} == -v ]] && verbose=1

work=$(mktemp -d "${TMPDIR:-/tmp}/gate-test.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

npass=0
nfail=0
failed_names=()

# ------------------------------------------------------------------ fixtures
# The fake QEMU. Log script lines (from $FAKE_LOG, or $FAKE_LOG_DIR/smpN.log
# where N is the -smp argument):
#   @sleep S     sleep S seconds
#   @nonl TEXT   print TEXT without a newline
#   anything else is printed as a line
# Then exits with $FAKE_STATUS (default 0), or with FAKE_HANG=1 turns into
# "sleep 1000" (same PID) so that the gate must stop it.
fake=$work/fake-qemu
cat >"$fake" <<'FAKE'
#!/usr/bin/env bash
set -euo pipefail
[[ -n ${FAKE_PIDFILE:-} ]] && echo $$ >"$FAKE_PIDFILE"
[[ -n ${FAKE_ARGSFILE:-} ]] && printf '%s\n' "$@" >"$FAKE_ARGSFILE"
smp=1
prev=""
for a in "$@"; do
    [[ $prev == -smp ]] && smp=$a
    prev=$a
done
script=${FAKE_LOG:-}
[[ -n ${FAKE_LOG_DIR:-} ]] && script=$FAKE_LOG_DIR/smp$smp.log
while IFS= read -r line || [[ -n $line ]]; do
    case $line in
        "@sleep "*) sleep "${line#@sleep }" ;;
        "@nonl "*) printf '%s' "${line#@nonl }" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$script"
if [[ ${FAKE_HANG:-0} == 1 ]]; then
    exec sleep 1000
fi
exit "${FAKE_STATUS:-0}"
FAKE
chmod +x "$fake"

touch "$work/kernel.elf" "$work/fw_dynamic.bin"

# The fake addr2line: records its arguments (one call per line) and answers
# from a table, as "-f -i" does (function, then file:line; inlined callers
# follow as further pairs). Unknown addresses get "??" as the real one says.
fake_a2l=$work/fake-addr2line
cat >"$fake_a2l" <<A2L
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$work/a2l-calls"
case \${*: -1} in
    0x0000000080204000 | 0x80204000) printf '%s\n' bad_trap_task "$root/build/../kernel/task_faults.cpp:66" ;;
    0x8020aaa9) printf '%s\n' __bss_start '??:?' ;;
    0x80201233) printf '%s\n' 'inner_fn()' '../kernel/a.hpp:10 (discriminator 2)' 'outer_fn(int)' '../kernel/b.cpp:20' ;;
    *) printf '%s\n' '??' '??:0' ;;
esac
A2L
chmod +x "$fake_a2l"

cat >"$work/ladder.txt" <<'EOF'
# test ladder
all KINIT: boot hart
smp KINIT: cpu1 online
smp KSELFTEST: smp online ok
all KSELFTEST: pmm ok
all KSELFTEST: summary total=
all KSELFTEST: end
EOF

banner='OpenSBI v1.2
Platform Name             : riscv-virtio,qemu'

# log NAME <<EOF ... : write a fake log script
mklog() { cat >"$work/$1.log"; }

mklog good1 <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF

mklog good4 <<EOF
$banner
KINIT: boot hart 0
KINIT: cpu2 online
KINIT: cpu1 online
KINIT: cpu3 online
KSELFTEST: smp online ok
KSELFTEST: pmm ok
KSELFTEST: summary total=2 passed=2 failed=0
KSELFTEST: end
EOF

mklog good2 <<EOF
$banner
KINIT: boot hart 1
KINIT: cpu1 online
KSELFTEST: smp online ok
KSELFTEST: pmm ok
KSELFTEST: summary total=2 passed=2 failed=0
KSELFTEST: end
EOF

# The console rule (RFC-0031): two writers' bytes on one line; a burst line cut short; a burst
# whose summary counts more lines than arrived whole; and what stays legal (a piece's rest on a
# line of its own, a tagless line, a tag before the kernel's first line).
payload=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX
mklog console_ok <<EOF
$banner
ULOG: a tag before the kernel: not judged KLOG: here
KINIT: boot hart 0
KLOG: whole k0 0 $payload
ULOG: whole u1 3 $payload
KLOG: whole-burst kernel writers=1 lines=1 overlapped=yes
ULOG: whole-burst user writers=1 lines=1
ULOG: piece p0 1 0123456789abcdefghijklmnopqrst
KLOG: user: task fault #7 faulted
uvwxyzABCDEFGHIJKLMNOPQRSTUVWX
  ID PARENT NAME
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF
mklog console_mixed <<EOF
$banner
KINIT: boot hart 0
ULOG: piece p0 1 0123456789abcKLOG: user: task fault #7 faulted
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF
mklog console_cut <<EOF
$banner
KINIT: boot hart 0
KLOG: whole k0 0 0123456789abcdefghijk
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF
mklog console_count <<EOF
$banner
KINIT: boot hart 0
KLOG: whole k0 0 $payload
KLOG: whole-burst kernel writers=1 lines=2 overlapped=yes
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF

mklog fail_line <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm FAIL frame count mismatch
EOF

mklog plain_selftest_fail <<EOF
$banner
KINIT: boot hart 0
SELFTEST: pmm FAIL legacy prefix
EOF

mklog panic <<EOF
$banner
KINIT: boot hart 0
KPANIC: assertion failed at kernel/pmm.cpp:42
@sleep 0.3
  #0 0x80201234 pmm_alloc
  #1 0x80205678 kmain
EOF

# base/panic.cpp's format: the panic line, then one frame per line.
mklog panic_bt <<EOF
$banner
KINIT: boot hart 0
KPANIC: hart 0 cpu 0 cause 0x0000000000000002 sepc 0x0000000080204000 stval 0x0000000000000000 reason: illegal instruction
KPANIC: backtrace
KPANIC:   #0 0x0000000080204000
KPANIC:   #1 0x0000000080201234
KPANIC:   #2 0x0000000080209999
KPANIC:   #3 0x8020aaaa
KPANIC: stop IPI sent to 0 other cpu(s); exiting with failure
EOF

mklog summary_failed <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=0 failed=1
KSELFTEST: end
EOF

mklog summary_mismatch <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: summary total=2 passed=1 failed=0
KSELFTEST: end
EOF

mklog summary_malformed <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: summary total=1
KSELFTEST: end
EOF

mklog out_of_order <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: pmm ok
KSELFTEST: end
EOF

mklog no_summary <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
EOF

mklog unknown_test <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: mystery ok
KSELFTEST: summary total=2 passed=2 failed=0
KSELFTEST: end
EOF

mklog smp_at_1 <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: smp online ok
KSELFTEST: pmm ok
KSELFTEST: summary total=2 passed=2 failed=0
KSELFTEST: end
EOF

mklog cpus_missing <<EOF
$banner
KINIT: boot hart 0
KINIT: cpu1 online
KINIT: cpu2 online
KSELFTEST: smp online ok
KSELFTEST: pmm ok
KSELFTEST: summary total=2 passed=2 failed=0
KSELFTEST: end
EOF

mklog cpu_offline <<EOF
$banner
KINIT: boot hart 0
KINIT: cpu1 online
KINIT: cpu3 offline (hart_start failed)
EOF

printf '%s\r\n' "OpenSBI v1.2" "KINIT: boot hart 0" "KSELFTEST: pmm ok" \
    "KSELFTEST: summary total=1 passed=1 failed=0" "KSELFTEST: end" >"$work/crlf.log"

mklog partial <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
@nonl KSELFTEST: summary total=1 passed=1 fai
@sleep 0.6
led=0
KSELFTEST: end
EOF

mklog slow_good <<EOF
$banner
KINIT: boot hart 0
@sleep 0.5
KSELFTEST: pmm ok
@sleep 0.5
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
EOF

# ------------------------------------------------------------------ harness
out=""
rc=0
dur=0
# run_gate LOGNAME [VAR=value...]: runs the gate with the fake QEMU
run_gate() {
    local name=$1 t0 t1
    shift
    rm -f "$work/pid" "$work/args"
    t0=${EPOCHREALTIME//[.,]/}
    rc=0
    out=$(cd / && env -u SMP -u REQUIRE_SMP -u RUN_UNTIL_MARKER -u BOOTARGS -u QEMU_EXTRA -u GATE_LOG \
        -u MACHINE -u DTB -u EXPECT_LINES -u ADDR2LINE ADDR2LINE="$fake_a2l" \
        QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
        BUILD_DIR="$work/build" LADDER="$work/ladder.txt" RUN_TIMEOUT=20s \
        FAKE_LOG="$work/$name.log" FAKE_PIDFILE="$work/pid" FAKE_ARGSFILE="$work/args" \
        "$@" "$GATE" 2>&1) || rc=$?
    t1=${EPOCHREALTIME//[.,]/}
    dur=$(((t1 - t0) / 1000))
    if ((verbose)); then
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

# check NAME COND...: COND is a shell test evaluated with eval
ok() {
    echo "PASS  $1"
    npass=$((npass + 1))
}
bad() {
    echo "FAIL  $1: $2"
    printf '%s\n' "$out" | sed 's/^/    | /' | head -n 60
    nfail=$((nfail + 1))
    failed_names+=("$1")
}
expect_rc() { # NAME RC [REGEX...]: rc must match, output must match each regex
    local name=$1 want=$2 re
    shift 2
    if [[ $rc != "$want" ]]; then
        bad "$name" "exit $rc, want $want"
        return
    fi
    for re in "$@"; do
        if ! grep -qE -- "$re" <<<"$out"; then
            bad "$name" "output does not match /$re/"
            return
        fi
    done
    ok "$name"
}
fake_gone() { # NAME: the fake QEMU started by the last gate run is gone
    local pid
    if [[ ! -s $work/pid ]]; then
        bad "$1" "fake QEMU never started"
        return
    fi
    pid=$(<"$work/pid")
    if kill -0 "$pid" 2>/dev/null; then
        bad "$1" "fake QEMU pid $pid still running"
        kill -KILL "$pid" 2>/dev/null || true
        return
    fi
    ok "$1"
}
faster_than() { # NAME MS
    if ((dur < $2)); then ok "$1"; else bad "$1" "took ${dur} ms (limit $2 ms)"; fi
}

# ------------------------------------------------------------------ passes
run_gate good1 SMP=1
expect_rc "pass: SMP=1 good log, QEMU exits 0" 0 '^gate: PASS SMP=1 \(4 markers, [0-9]+\.[0-9] s, log: .*\)$'
if [[ $(grep -c . <<<"$out") == 1 ]]; then
    ok "pass: prints exactly one line"
else
    bad "pass: prints exactly one line" "got more"
fi

run_gate good1 SMP=1 FAKE_HANG=1
expect_rc "pass: RUN_UNTIL_MARKER=1 stops a QEMU that keeps running" 0 '^gate: PASS SMP=1'
fake_gone "pass: fake QEMU is gone after the gate returns"
faster_than "pass: stops promptly at the final marker" 5000

run_gate good4 SMP=4 REQUIRE_SMP=1 FAKE_HANG=1
expect_rc "pass: SMP=4 REQUIRE_SMP=1, harts online in any order" 0 '^gate: PASS SMP=4 \(8 markers'
fake_gone "pass: SMP=4 fake QEMU gone"

run_gate good1 SMP=2
expect_rc "pass: SMP=2 without REQUIRE_SMP needs no smp markers" 0 '^gate: PASS SMP=2'

run_gate good2 SMP=2 REQUIRE_SMP=1
expect_rc "pass: SMP=2 REQUIRE_SMP=1" 0 '^gate: PASS SMP=2 \(6 markers'

run_gate good1 SMP=1 RUN_UNTIL_MARKER=0
expect_rc "pass: RUN_UNTIL_MARKER=0 and QEMU exit 0" 0 '^gate: PASS'

run_gate slow_good SMP=1 RUN_UNTIL_MARKER=0 FAKE_HANG=0
expect_rc "pass: RUN_UNTIL_MARKER=0 waits for a slow kernel" 0 '^gate: PASS'

run_gate crlf SMP=1
expect_rc "pass: CRLF line endings" 0 '^gate: PASS'

run_gate partial SMP=1 FAKE_HANG=1
expect_rc "pass: a half-written summary line is not judged early" 0 '^gate: PASS'

run_gate good1 SMP=1 FAKE_STATUS=3
expect_rc "pass: RUN_UNTIL_MARKER=1 ignores the exit status after the final marker" 0 '^gate: PASS'

# ------------------------------------------------------------------ failures
run_gate console_ok SMP=1 FAKE_HANG=1
expect_rc "console: whole lines, pieces, tagless lines pass" 0 '^gate: PASS SMP=1'
run_gate console_mixed SMP=1 FAKE_HANG=1
expect_rc "console: two writers on one line fail" 1 \
    '^gate: FAIL SMP=1: console line broken \(two lines cut into each other\): ULOG: piece p0 1'
run_gate console_cut SMP=1 FAKE_HANG=1
expect_rc "console: a burst line cut short fails" 1 \
    '^gate: FAIL SMP=1: console line broken \(a burst line not in its exact form\)'
run_gate console_count SMP=1 FAKE_HANG=1
expect_rc "console: a burst line missing fails" 1 \
    '^gate: FAIL SMP=1: console burst: 2 lines written, 1 arrived whole'
run_gate fail_line SMP=1 FAKE_HANG=1 RUN_TIMEOUT=30s
expect_rc "fail: KSELFTEST FAIL line" 1 '^gate: FAIL SMP=1: selftest failed: KSELFTEST: pmm FAIL frame count mismatch' \
    'gate: first missing marker' '  \| KSELFTEST: pmm FAIL' '^gate: log: '
fake_gone "fail: FAIL line: fake QEMU gone"
faster_than "fail: FAIL line fails fast (not at the timeout)" 8000

run_gate plain_selftest_fail SMP=1 FAKE_HANG=1
expect_rc "fail: SELFTEST: ... FAIL line" 1 'selftest failed: SELFTEST: pmm FAIL'

run_gate panic SMP=1 FAKE_HANG=1
expect_rc "fail: KPANIC, backtrace kept in the excerpt" 1 '^gate: FAIL SMP=1: kernel panic: KPANIC: assertion failed' \
    '  \|   #1 0x80205678 kmain'
fake_gone "fail: KPANIC: fake QEMU gone"

# ------------------------------------------------------------------ symbolized panics
rm -f "$work/a2l-calls"
run_gate panic_bt SMP=1 FAKE_HANG=1 GATE_LOG="$work/sym/panic.log"
expect_rc "symbolize: excerpt names function, file and line of each frame" 1 \
    '^gate: FAIL SMP=1: kernel panic: KPANIC: hart 0 cpu 0 ' \
    '^gate: backtrace symbolized with .*fake-addr2line \(copy: .*/sym/panic\.log\.sym\)$' \
    '^  \| KPANIC:   #1 0x0000000080201234 inner_fn\(\) at kernel/a\.hpp:10 \(inlined into outer_fn\(int\) at kernel/b\.cpp:20\)$' \
    '^  \| KPANIC: hart 0 cpu 0 .* reason: illegal instruction \[sepc: bad_trap_task at kernel/task_faults\.cpp:66\]$' \
    '^  \| KPANIC:   #0 0x0000000080204000 bad_trap_task at kernel/task_faults\.cpp:66$' \
    '^  \| KPANIC:   #2 0x0000000080209999$' '^  \| KPANIC:   #3 0x8020aaaa __bss_start \(no line info\)$' \
    '^  \| KPANIC: stop IPI sent'
# A frame is a return address: looked up at address-1; sepc as it is, also as frame #0.
if grep -qx -- "-f -i -C -e $work/kernel.elf 0x80201233" "$work/a2l-calls" 2>/dev/null &&
    grep -qx -- "-f -i -C -e $work/kernel.elf 0x0000000080204000" "$work/a2l-calls" &&
    grep -qx -- "-f -i -C -e $work/kernel.elf 0x80204000" "$work/a2l-calls"; then
    ok "symbolize: addr2line -f -i -C -e <kernel>, frames at return address-1, sepc as is"
else
    bad "symbolize: addr2line calls" "calls: $(tr '\n' ';' <"$work/a2l-calls" 2>/dev/null)"
fi
if cmp -s <(grep -v '^@' "$work/panic_bt.log") "$work/sym/panic.log" &&
    [[ $(wc -l <"$work/sym/panic.log.sym") == $(wc -l <"$work/sym/panic.log") ]] &&
    grep -q '^KPANIC:   #1 0x0000000080201234 inner_fn() at kernel/a.hpp:10' "$work/sym/panic.log.sym"; then
    ok "symbolize: the log keeps the raw lines; <log>.sym is the symbolized copy, line for line"
else
    bad "symbolize: log and .sym" "log or copy differ from what they must be"
fi

rm -f "$work/a2l-calls"
run_gate panic_bt SMP=1 FAKE_HANG=1 GATE_LOG="$work/sym2/panic.log" ADDR2LINE="$work/no-such-addr2line"
expect_rc "symbolize: without addr2line the gate says so and keeps the excerpt raw" 1 \
    'kernel panic: KPANIC: hart 0' "^gate: $work/no-such-addr2line not found \(binutils-riscv64-linux-gnu\): backtrace left raw$" \
    '^  \| KPANIC:   #1 0x0000000080201234$'
if [[ ! -e $work/sym2/panic.log.sym ]] && ! grep -q 'symbolized with' <<<"$out"; then
    ok "symbolize: no .sym copy without addr2line"
else
    bad "symbolize: no .sym copy without addr2line" "there is one"
fi

run_gate fail_line SMP=1 FAKE_HANG=1 GATE_LOG="$work/sym3/fail.log"
if [[ $rc == 1 && ! -e $work/sym3/fail.log.sym && ! -e $work/a2l-calls ]]; then
    ok "symbolize: a failure without KPANIC is not symbolized"
else
    bad "symbolize: failure without KPANIC" "rc=$rc, .sym or addr2line call present"
fi

# The real cross addr2line on a real RISC-V ELF (its flags and the output
# format the filter parses), when the cross toolchain is installed.
if command -v riscv64-linux-gnu-g++ >/dev/null && command -v riscv64-linux-gnu-addr2line >/dev/null; then
    mkdir -p "$work/real-sym"
    cat >"$work/real-sym/t.cpp" <<'CPP'
namespace demo {
__attribute__((noinline)) int callee(int x) {
    return x * 3;
}
} // namespace demo
extern "C" int _start() {
    return demo::callee(7);
}
CPP
    if riscv64-linux-gnu-g++ -g -O1 -nostdlib -static -o "$work/real-sym/t.elf" "$work/real-sym/t.cpp" 2>"$work/real-sym/cc.err"; then
        callee_addr=$(riscv64-linux-gnu-nm "$work/real-sym/t.elf" | awk '$3 == "_ZN4demo6calleeEi" { print $1 }')
        [[ $callee_addr =~ ^[0-9a-f]+$ ]] || callee_addr=0
        printf 'x\nKPANIC: hart 1 cpu 0 cause 0x2 sepc 0x%016x stval 0x0 reason: r\r\nKPANIC:   #0 0x%016x\n' \
            $((16#$callee_addr)) $((16#$callee_addr + 1)) >"$work/real-sym/log"
        # shellcheck source-path=SCRIPTDIR source=../lib/symbolize.sh
        out=$( (source "$scripts/lib/symbolize.sh" && unset ADDR2LINE &&
            kestrel_symbolize "$work/real-sym/t.elf" <"$work/real-sym/log") 2>&1) || true
        want_pc=$(printf 'KPANIC: hart 1 cpu 0 cause 0x2 sepc 0x%016x stval 0x0 reason: r [sepc: demo::callee(int) at ' $((16#$callee_addr)))
        if [[ $callee_addr != 0 && $(sed -n 1p <<<"$out") == x && $(sed -n 2p <<<"$out") == "$want_pc"*"/t.cpp:3]"$'\r' &&
            $(sed -n 3p <<<"$out") == "KPANIC:   #0 0x"*" demo::callee(int) at "*"/t.cpp:"[23] ]]; then
            ok "symbolize: real riscv64-linux-gnu-addr2line resolves a demangled function and line"
        else
            bad "symbolize: real addr2line" "callee at '$callee_addr'"
        fi
    else
        bad "symbolize: real addr2line" "cross compile failed: $(head -n 3 "$work/real-sym/cc.err")"
    fi
else
    echo "SKIP  symbolize: real addr2line (riscv64-linux-gnu-g++ or -addr2line not installed)"
fi

run_gate summary_failed SMP=1
expect_rc "fail: summary failed=1" 1 'summary reports failures: KSELFTEST: summary total=1 passed=0 failed=1'

run_gate summary_mismatch SMP=1
expect_rc "fail: summary passed!=total" 1 'summary reports failures'

run_gate summary_malformed SMP=1
expect_rc "fail: malformed summary" 1 'malformed summary line'

run_gate out_of_order SMP=1 FAKE_HANG=1
expect_rc "fail: out-of-order markers" 1 "marker out of order: 'KSELFTEST: summary total='" \
    "first missing marker: 'KSELFTEST: summary total='"
fake_gone "fail: out-of-order: fake QEMU gone"

run_gate no_summary SMP=1 FAKE_HANG=1 RUN_TIMEOUT=2s
expect_rc "fail: timeout names the first missing marker" 1 \
    "^gate: FAIL SMP=1: timeout after 2s; missing marker: 'KSELFTEST: summary total='" \
    "^gate: first missing marker: 'KSELFTEST: summary total='" '  \| KSELFTEST: pmm ok'
fake_gone "fail: timeout: fake QEMU gone"

run_gate good1 SMP=1 FAKE_HANG=1 RUN_TIMEOUT=2s RUN_UNTIL_MARKER=0
expect_rc "fail: RUN_UNTIL_MARKER=0 and the kernel never shuts QEMU down" 1 'did not shut QEMU down'
fake_gone "fail: RUN_UNTIL_MARKER=0 timeout: fake QEMU gone"

run_gate good1 SMP=1 RUN_UNTIL_MARKER=0 FAKE_STATUS=3
expect_rc "fail: RUN_UNTIL_MARKER=0 and QEMU exit status 3" 1 'QEMU exited with status 3'

run_gate no_summary SMP=1 FAKE_STATUS=1
expect_rc "fail: QEMU exits non-zero before the final marker" 1 \
    'QEMU exited with status 1 before the final marker' "first missing marker: 'KSELFTEST: summary total='"

run_gate no_summary SMP=1 FAKE_STATUS=0
expect_rc "fail: QEMU exits 0 before the final marker" 1 'QEMU exited with status 0 before the final marker'

run_gate unknown_test SMP=1
expect_rc "fail: ok line for a test the ladder does not know" 1 'selftest not in the ladder: KSELFTEST: mystery ok'

run_gate smp_at_1 SMP=1
expect_rc "fail: smp marker at SMP=1 (parity)" 1 'smp-only marker at SMP=1: KSELFTEST: smp online ok'

run_gate cpus_missing SMP=4 REQUIRE_SMP=1 FAKE_HANG=1
expect_rc "fail: SMP=4 with only cpu1..cpu2 online names cpu3" 1 \
    "hart 3 did not come online" "^gate: first missing marker: 'KINIT: cpu3 online'"
fake_gone "fail: missing hart: fake QEMU gone"

run_gate cpu_offline SMP=4 REQUIRE_SMP=1 FAKE_HANG=1 RUN_TIMEOUT=30s
expect_rc "fail: cpuK offline fails fast" 1 'hart 3 did not come online: KINIT: cpu3 offline'
faster_than "fail: cpu offline is fast" 8000

run_gate good1 SMP=4 REQUIRE_SMP=1
expect_rc "fail: REQUIRE_SMP=1 but no smp markers" 1 "first missing marker: 'KINIT: cpu1 online'"

# ------------------------------------------------------------------ usage
run_gate good1 SMP=1 REQUIRE_SMP=1
expect_rc "usage: REQUIRE_SMP=1 SMP=1" 2 'REQUIRE_SMP=1 needs SMP>=2'
if [[ ! -e $work/pid ]]; then
    ok "usage: QEMU not started on usage error"
else
    bad "usage: QEMU not started on usage error" "it was"
fi
run_gate good1 SMP=abc
expect_rc "usage: SMP=abc" 2 'SMP must be an integer'
run_gate good1 SMP=0
expect_rc "usage: SMP=0" 2 'SMP must be an integer'
run_gate good1 SMP=17
expect_rc "usage: SMP=17" 2 'SMP must be an integer'
run_gate good1 RUN_TIMEOUT=xyz
expect_rc "usage: RUN_TIMEOUT=xyz" 2 'RUN_TIMEOUT'
run_gate good1 RUN_TIMEOUT=0
expect_rc "usage: RUN_TIMEOUT=0" 2 'RUN_TIMEOUT'
run_gate good1 RUN_TIMEOUT=1.5s
expect_rc "usage: RUN_TIMEOUT=1.5s" 2 'RUN_TIMEOUT'
run_gate good1 RUN_UNTIL_MARKER=2
expect_rc "usage: RUN_UNTIL_MARKER=2" 2 'RUN_UNTIL_MARKER'
run_gate good1 REQUIRE_SMP=yes SMP=2
expect_rc "usage: REQUIRE_SMP=yes" 2 'REQUIRE_SMP must be 0 or 1'
run_gate good1 KERNEL="$work/nope.elf"
expect_rc "usage: missing kernel says to build first" 2 'kernel not found' 'build first'
run_gate good1 QEMU="$work/no-such-qemu"
expect_rc "usage: missing QEMU binary" 2 'QEMU binary not found'
printf 'all KINIT: boot hart\nbogus KSELFTEST: end\n' >"$work/bad-ladder.txt"
run_gate good1 LADDER="$work/bad-ladder.txt"
expect_rc "usage: malformed ladder" 2 "unknown scope 'bogus'"
printf 'all KINIT: boot hart\nsmp KINIT: cpu1 online\n' >"$work/bad-ladder2.txt"
run_gate good1 LADDER="$work/bad-ladder2.txt"
expect_rc "usage: ladder whose final marker is smp-scoped" 2 'final'

run_gate good1 MACHINE=bogus
expect_rc "usage: MACHINE=bogus" 2 "MACHINE must be virt, virt-aplic, spike or sifive_u \(got 'bogus'\)"
run_gate good1 MACHINE=spike SMP=9
expect_rc "usage: MACHINE=spike SMP=9" 2 'MACHINE=spike supports SMP 1..8'
run_gate good1 MACHINE=sifive_u SMP=1
expect_rc "usage: MACHINE=sifive_u SMP=1" 2 'MACHINE=sifive_u needs SMP 2..5'
run_gate good2 MACHINE=sifive_u SMP=2 REQUIRE_SMP=1
expect_rc "usage: sifive_u SMP=2 has one kernel cpu, REQUIRE_SMP=1 refused" 2 'REQUIRE_SMP=1 needs'
run_gate good1 DTB="$work/no-such.dtb"
expect_rc "usage: DTB not a readable file" 2 'DTB is not a readable file'

# ------------------------------------------------------------------ machines, EXPECT_LINES
# sifive_u: hart 0 has no S-mode, so SMP=3 means kernel cpus 0 and 1 only.
run_gate good2 MACHINE=sifive_u SMP=3 REQUIRE_SMP=1
expect_rc "pass: sifive_u SMP=3 requires cpu1 only" 0 '^gate: PASS MACHINE=sifive_u SMP=3'
run_gate good4 MACHINE=sifive_u SMP=2
expect_rc "fail: sifive_u SMP=2 (one kernel cpu) rejects smp markers" 1 'smp-only marker at SMP=1'

run_gate good1 SMP=1 EXPECT_LINES="KINIT: boot hart 0|KSELFTEST: pmm"
expect_rc "pass: EXPECT_LINES all present" 0 '^gate: PASS SMP=1 \(6 markers'
run_gate good1 SMP=1 EXPECT_LINES="KINIT: boot hart 0|KLOG: never printed"
expect_rc "fail: EXPECT_LINES names the missing line" 1 \
    "expected line missing \(EXPECT_LINES\): 'KLOG: never printed'"
mklog after_end <<EOF
$banner
KINIT: boot hart 0
KSELFTEST: pmm ok
KSELFTEST: summary total=1 passed=1 failed=0
KSELFTEST: end
@sleep 1
KLOG: shutdown (pass) did not take effect (SBI SRST: not supported); parking every hart
EOF
run_gate after_end SMP=1 FAKE_HANG=1 EXPECT_LINES="KLOG: shutdown (pass) did not take effect"
expect_rc "pass: an EXPECT_LINES line after the final marker is waited for" 0 '^gate: PASS SMP=1'
fake_gone "pass: the waited-for fake QEMU was stopped"
run_gate good1 SMP=1 FAKE_HANG=1 RUN_TIMEOUT=3s EXPECT_LINES="KLOG: shutdown"
expect_rc "fail: an EXPECT_LINES line that never comes ends at the timeout" 1 \
    "expected line missing \(EXPECT_LINES\): 'KLOG: shutdown'"

# ------------------------------------------------------------------ command line, logs
run_gate good1 SMP=4 REQUIRE_SMP=0 BOOTARGS="console=sbi loglevel=7" QEMU_EXTRA="-d guest_errors  -D /tmp/x.log"
# shellcheck disable=SC2054 # tcg,thread=multi is one argument
expected_args=(-machine virt -smp 4 -m 256M -nographic -bios "$work/fw_dynamic.bin" -kernel "$work/kernel.elf"
    -accel tcg,thread=multi -no-reboot -append "console=sbi loglevel=7" -d guest_errors -D /tmp/x.log)
if [[ $rc == 0 && -f $work/args && "$(cat "$work/args")" == "$(printf '%s\n' "${expected_args[@]}")" ]]; then
    ok "qemu: command line (machine, smp, bios, kernel, accel, -append, QEMU_EXTRA)"
else
    bad "qemu: command line" "args were: $(tr '\n' ' ' <"$work/args")"
fi

# MACHINE and DTB reach the command line; other machines' logs carry their name.
printf 'dtb' >"$work/board.dtb"
run_gate good2 MACHINE=spike SMP=2 REQUIRE_SMP=1 DTB="$work/board.dtb"
# shellcheck disable=SC2054 # tcg,thread=multi is one argument
expected_args=(-machine spike -smp 2 -m 256M -nographic -bios "$work/fw_dynamic.bin" -kernel "$work/kernel.elf"
    -accel tcg,thread=multi -no-reboot -dtb "$work/board.dtb")
if [[ $rc == 0 && -f $work/args && "$(cat "$work/args")" == "$(printf '%s\n' "${expected_args[@]}")" ]]; then
    ok "qemu: MACHINE=spike and DTB on the command line"
else
    bad "qemu: MACHINE/DTB command line" "args were: $(tr '\n' ' ' <"$work/args")"
fi
expect_rc "pass: MACHINE=spike names the machine and its log" 0 \
    '^gate: PASS MACHINE=spike SMP=2 .*log: .*/spike-smp2-[0-9-]+\.log\)$'

run_gate good1 SMP=1
logpath=$(sed -n 's/.*log: \(.*\))$/\1/p' <<<"$out")
if [[ -f $logpath && $logpath == "$work/build/qemu-logs/smp1-"*.log ]] && grep -q '^KSELFTEST: end' "$logpath" &&
    grep -q '^OpenSBI v1.2' "$logpath"; then
    ok "log: whole log kept under BUILD_DIR/qemu-logs with SMP in the name"
else
    bad "log: whole log kept" "log path '$logpath'"
fi
if [[ -L $work/build/qemu-logs/smp1-latest.log && "$(readlink -f "$work/build/qemu-logs/smp1-latest.log")" == "$(readlink -f "$logpath")" ]]; then
    ok "log: smp1-latest.log points at the newest log"
else
    bad "log: smp1-latest.log" "not a symlink to $logpath"
fi

run_gate good1 SMP=1 GATE_LOG="$work/custom/run.log"
if [[ $rc == 0 && -s $work/custom/run.log ]]; then ok "log: GATE_LOG honoured"; else bad "log: GATE_LOG honoured" "missing"; fi

# BUILD_DIR relative to the current directory
mkdir -p "$work/cwd"
rc=0
out=$(cd "$work/cwd" && env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR=rel-build LADDER="$work/ladder.txt" FAKE_LOG="$work/good1.log" SMP=1 "$GATE" 2>&1) || rc=$?
if [[ $rc == 0 && -d $work/cwd/rel-build/qemu-logs ]]; then ok "log: relative BUILD_DIR is relative to the cwd"; else bad "log: relative BUILD_DIR" "rc=$rc"; fi

# ------------------------------------------------------------------ signals
rm -f "$work/pid"
(cd / && exec env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR="$work/build" LADDER="$work/ladder.txt" FAKE_LOG="$work/no_summary.log" FAKE_HANG=1 \
    FAKE_PIDFILE="$work/pid" SMP=1 RUN_TIMEOUT=60s "$GATE" >"$work/sig.out" 2>&1) &
gpid=$!
for ((i = 0; i < 50; i++)); do
    [[ -s $work/pid ]] && break
    sleep 0.1
done
sleep 0.3
kill -TERM "$gpid" 2>/dev/null || true
rc=0
wait "$gpid" || rc=$?
out=$(<"$work/sig.out")
expect_rc "signal: SIGTERM to the gate" 143 'terminated'
fake_gone "signal: SIGTERM: fake QEMU gone"

# ------------------------------------------------------------------ the real ladder
# Synthesize the log the real ladder asks for and check the gate accepts it.
real_ladder=$root/selftest/ladder.txt
# synth_real SMP NOVIRT > log: every marker the real ladder asks for at SMP (virt-scoped ones
# left out when NOVIRT=1, as init and the kernel runner leave them out on spike or sifive_u).
synth_real() {
    local smp=$1 novirt=$2 n=0 l scope m k
    echo "OpenSBI v1.2"
    while IFS= read -r l || [[ -n $l ]]; do
        l=${l%$'\r'}
        [[ $l =~ ^[[:space:]]*(all|smp|virt|virt-smp)[[:space:]]+(.*[^[:space:]])[[:space:]]*$ ]] || continue
        scope=${BASH_REMATCH[1]} m=${BASH_REMATCH[2]}
        [[ ($scope == smp || $scope == virt-smp) && $smp == 1 ]] && continue
        [[ ($scope == virt || $scope == virt-smp) && $novirt == 1 ]] && continue
        if [[ $m == "KSELFTEST: summary"* ]]; then
            echo "KSELFTEST: summary total=$n passed=$n failed=0"
            continue
        fi
        [[ $m == "KSELFTEST: "*" ok" ]] && n=$((n + 1))
        echo "$m"
        if [[ $m == "KINIT: cpu1 online" ]]; then
            for ((k = 2; k < smp; k++)); do echo "KINIT: cpu$k online"; done
        fi
    done <"$real_ladder"
}
if [[ -f $real_ladder ]]; then
    for smp in 1 2 4; do
        req=0
        ((smp >= 2)) && req=1
        synth_real "$smp" 0 >"$work/real$smp.log"
        run_gate "real$smp" SMP=$smp REQUIRE_SMP=$req LADDER="$real_ladder" FAKE_HANG=1
        expect_rc "real ladder: synthesized log passes at SMP=$smp" 0 "^gate: PASS SMP=$smp"
    done
    # The virt scopes: required on virt (a test wrongly skipped there fails the gate).
    synth_real 2 1 >"$work/realnovirt2.log"
    run_gate "realnovirt2" SMP=2 REQUIRE_SMP=1 LADDER="$real_ladder" FAKE_HANG=1
    expect_rc "real ladder: virt-scoped markers missing on virt fail" 1 \
        "^gate: FAIL SMP=2: missing marker: '(KSELFTEST|SELFTEST): (irq|console)"
    run_gate "realnovirt2" MACHINE=spike SMP=2 REQUIRE_SMP=1 LADDER="$real_ladder" FAKE_HANG=1
    expect_rc "real ladder: virt-scoped markers not required on spike" 0 \
        "^gate: PASS MACHINE=spike SMP=2"
else
    bad "real ladder" "$real_ladder missing"
fi

# ------------------------------------------------------------------ gate-repeat
mkdir -p "$work/rep"
cp "$work/good1.log" "$work/rep/smp1.log"
cp "$work/good2.log" "$work/rep/smp2.log"
rc=0
out=$(cd / && env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR="$work/repbuild" LADDER="$work/ladder.txt" FAKE_LOG_DIR="$work/rep" \
    "$REPEAT" 2 1 2 2>&1) || rc=$?
((verbose)) && printf '%s\n' "$out" | sed 's/^/    /'
expect_rc "gate-repeat: all pass" 0 '^run 1/2 SMP=1: PASS' '^SMP=1: 2/2 passed$' '^SMP=2: 2/2 passed$'
if [[ $(tail -n 1 <<<"$out") == "4 passed, 0 failed" ]]; then
    ok "gate-repeat: last line '4 passed, 0 failed'"
else
    bad "gate-repeat: last line" "'$(tail -n 1 <<<"$out")'"
fi
if [[ -z $(find "$work/repbuild/qemu-logs" -name '*.log' 2>/dev/null) ]]; then
    ok "gate-repeat: passing logs removed"
else
    bad "gate-repeat: passing logs removed" "$(find "$work/repbuild/qemu-logs" -name '*.log')"
fi

cp "$work/cpus_missing.log" "$work/rep/smp4.log"
rc=0
out=$(cd / && env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR="$work/repbuild2" LADDER="$work/ladder.txt" FAKE_LOG_DIR="$work/rep" FAKE_HANG=1 \
    "$REPEAT" 2 1 4 2>&1) || rc=$?
((verbose)) && printf '%s\n' "$out" | sed 's/^/    /'
expect_rc "gate-repeat: failures counted" 1 '^run 2/2 SMP=4: FAIL \(exit 1\): hart 3 did not come online' \
    '^SMP=1: 2/2 passed$' '^SMP=4: 0/2 passed$' \
    '^\| 1 \| 2 \| 2 \| 0 \| [0-9]+\.[0-9] \| [0-9]+\.[0-9] \| - \|$' \
    '^\| 4 \| 2 \| 0 \| 2 \| - \| - \| hart 3 did not come online'
if [[ $(tail -n 1 <<<"$out") == "2 passed, 2 failed" ]]; then
    ok "gate-repeat: last line '2 passed, 2 failed'"
else
    bad "gate-repeat: last line" "'$(tail -n 1 <<<"$out")'"
fi
nkept=$(find "$work/repbuild2/qemu-logs" -name 'smp4-run*.log' | wc -l)
if [[ $nkept == 2 && -n $(find "$work/repbuild2/qemu-logs" -name 'smp4-run1.log.report') ]]; then
    ok "gate-repeat: failing logs and reports kept"
else
    bad "gate-repeat: failing logs kept" "found $nkept"
fi

rc=0
out=$("$REPEAT" 2>&1) || rc=$?
expect_rc "gate-repeat: usage without K" 2 'usage'
rc=0
out=$("$REPEAT" abc 1 2>&1) || rc=$?
expect_rc "gate-repeat: usage with K=abc" 2 'K must be a positive integer'
rc=0
out=$("$REPEAT" 1 99 2>&1) || rc=$?
expect_rc "gate-repeat: usage with SMP=99" 2 "bad SMP value '99'"
rc=0
out=$(LOAD=999 "$REPEAT" 1 1 2>&1) || rc=$?
expect_rc "gate-repeat: usage with LOAD=999" 2 "LOAD must be 0\.\.[0-9]+"
rc=0
out=$(LOAD=x "$REPEAT" 1 1 2>&1) || rc=$?
expect_rc "gate-repeat: usage with LOAD=x" 2 "LOAD must be 0\.\.[0-9]+"

# LOAD=1: the busy loop runs during the runs and is gone afterwards, also when
# the script is stopped in the middle of a run.
rc=0
out=$(cd / && env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR="$work/repbuild3" LADDER="$work/ladder.txt" FAKE_LOG="$work/good1.log" LOAD=1 \
    "$REPEAT" 1 1 2>&1) || rc=$?
loadpid=$(sed -n 's/^gate-repeat: host load on (busy loop pid \([0-9]*\))$/\1/p' <<<"$out")
if [[ $rc == 0 && -n $loadpid ]] && ! kill -0 "$loadpid" 2>/dev/null &&
    [[ $(tail -n 1 <<<"$out") == "1 passed, 0 failed" ]]; then
    ok "gate-repeat: LOAD=1 starts a busy loop and ends it by its pid"
else
    bad "gate-repeat: LOAD=1" "rc=$rc pid='$loadpid'"
fi
(cd / && exec env QEMU="$fake" OPENSBI_FW="$work/fw_dynamic.bin" KERNEL="$work/kernel.elf" \
    BUILD_DIR="$work/repbuild4" LADDER="$work/ladder.txt" FAKE_LOG="$work/good1.log" FAKE_HANG=1 \
    RUN_UNTIL_MARKER=0 RUN_TIMEOUT=30s LOAD=1 "$REPEAT" 1 1 >"$work/rep-term.out" 2>&1) &
reppid=$!
loadpid=""
for ((i = 0; i < 50; i++)); do
    # The background shell may not have opened rep-term.out yet.
    loadpid=$(sed -n 's/^gate-repeat: host load on (busy loop pid \([0-9]*\))$/\1/p' "$work/rep-term.out" 2>/dev/null || true)
    [[ -n $loadpid ]] && break
    sleep 0.1
done
sleep 0.5
kill -TERM "$reppid" 2>/dev/null || true
wait "$reppid" 2>/dev/null || true
# The EXIT trap ends the loop by its pid; give a loaded host time to reap it.
for ((i = 0; i < 100; i++)); do
    [[ -n $loadpid ]] && kill -0 "$loadpid" 2>/dev/null || break
    sleep 0.1
done
if [[ -n $loadpid ]] && ! kill -0 "$loadpid" 2>/dev/null; then
    ok "gate-repeat: LOAD=1 busy loop ended when the script is terminated"
else
    bad "gate-repeat: LOAD=1 on TERM" "busy loop pid '$loadpid' still there"
    [[ -n $loadpid ]] && kill -KILL "$loadpid" 2>/dev/null
fi

# ------------------------------------------------------------------ helpers
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$scripts/lib/ladder.sh"
cat >"$work/testlog.json" <<'EOF'
{"name": "pmm", "result": "OK", "duration": 0.1}
{"name": "gate-smp@1", "result": "FAIL"}
{"name": "xfail", "result": "EXPECTEDFAIL"}
{"name": "skipped", "result": "SKIP"}
{"name": "slow", "result": "TIMEOUT"}

EOF
rc=0
out=$(kestrel_count_testlog "$work/testlog.json") || rc=$?
if [[ $rc == 1 && $(tail -n 1 <<<"$out") == "2 passed, 2 failed, 1 skipped" ]]; then
    ok "testlog: counts OK/EXPECTEDFAIL, FAIL/TIMEOUT, SKIP"
else
    bad "testlog: counts" "rc=$rc"
fi
printf '{"name": "a", "result": "OK"}\n' >"$work/testlog.json"
rc=0
out=$(kestrel_count_testlog "$work/testlog.json") || rc=$?
if [[ $rc == 0 && $out == "1 passed, 0 failed" ]]; then
    ok "testlog: all passed"
else
    bad "testlog: all passed" "rc=$rc"
fi
# Two build directories (GCC and Clang): one count, a failure names its directory.
mkdir -p "$work/b1/meson-logs" "$work/b2/meson-logs"
printf '{"name": "a", "result": "OK"}\n{"name": "b", "result": "OK"}\n' >"$work/b1/meson-logs/testlog.json"
printf '{"name": "a", "result": "OK"}\n{"name": "gate-smp8", "result": "FAIL"}\n' >"$work/b2/meson-logs/testlog.json"
rc=0
out=$(kestrel_count_testlog "$work/b1/meson-logs/testlog.json" "$work/b2/meson-logs/testlog.json") || rc=$?
if [[ $rc == 1 && $(tail -n 1 <<<"$out") == "3 passed, 1 failed" && $out == *"failed: gate-smp8 (FAIL) [b2]"* ]]; then
    ok "testlog: two build directories counted together"
else
    bad "testlog: two build directories" "rc=$rc out=$out"
fi
rc=0
out=$(kestrel_count_testlog "$work/missing.json") || rc=$?
if [[ $rc == 1 && $out == "0 passed, 0 failed" ]]; then
    ok "testlog: no tests ran is a failure"
else
    bad "testlog: none ran" "rc=$rc"
fi

printf '# c\n\n  all   KINIT: boot hart   \r\nsmp KINIT: cpu1 online\nall KSELFTEST: end\n' >"$work/l.txt"
rc=0
kestrel_ladder_normalize "$work/l.txt" "$work/l.tsv" 2>/dev/null || rc=$?
out=$(cat "$work/l.tsv")
if [[ $rc == 0 && $out == $'all\tKINIT: boot hart\nsmp\tKINIT: cpu1 online\nall\tKSELFTEST: end' ]]; then
    ok "ladder: comments, blanks, CR and trailing blanks"
else
    bad "ladder: normalize" "rc=$rc"
fi

for d in 90:90 90s:90 2m:120 1h:3600; do
    [[ $(kestrel_parse_duration "${d%%:*}") == "${d#*:}" ]] || { bad "duration: ${d%%:*}" "wrong"; continue; }
done
ok "duration: 90, 90s, 2m, 1h"

# ------------------------------------------------------------------ done
if ((nfail > 0)); then
    echo "failed cases:"
    printf '  %s\n' "${failed_names[@]}"
fi
echo "$npass passed, $nfail failed"
((nfail == 0))
