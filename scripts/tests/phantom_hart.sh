#!/usr/bin/env bash
# A hart the machine lacks: boots virt-smp2-phantom5.dtb (dtc-built from
# dtb/tests/fixtures/virt-smp2-phantom5.dts into DTB_FIXTURES)
# (QEMU's virt -smp 2 tree plus a cpu node for hart 5) on a 2-hart machine.
# OpenSBI says hart_start succeeded; the hart never arrives and is reported
# offline. The SMP claims that need it must fail cleanly: a FAIL marker, no
# KPANIC, and the ladder still ends with the summary and `KSELFTEST: end`.
#
#   scripts/tests/phantom_hart.sh        (KERNEL/BUILD_DIR as for the gate)
#
# Prints one line per check and ends with "N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
root="$here/../.."
gate="$here/../qemu-test.sh"
dtb=${PHANTOM_DTB:-${DTB_FIXTURES:-$root/build/dtb/tests/fixtures}/virt-smp2-phantom5.dtb}
KERNEL=${KERNEL:-$root/build/kernel.elf}
passed=0
failed=0

verdict() { # ok(0/1) name text [output]
    if (($1 == 0)); then
        echo "phantom $2: $3"
        passed=$((passed + 1))
    else
        echo "phantom $2: WRONG ($3)"
        [[ -n ${4:-} ]] && tail -n 15 <<<"$4" | sed 's/^/  | /'
        failed=$((failed + 1))
    fi
}

# gate_fails <name> <require_smp> <regex the gate output must match>
gate_fails() {
    local out rc
    out=$(SMP=2 REQUIRE_SMP=$2 RUN_UNTIL_MARKER=1 RUN_TIMEOUT=90s QEMU_EXTRA="-dtb $dtb" \
        "$gate" 2>&1)
    rc=$?
    if ((rc == 1)) && grep -qE -- "$3" <<<"$out" && ! grep -q KPANIC <<<"$out"; then
        verdict 0 "$1" "gate failed as it must (matched: $3)"
    else
        verdict 1 "$1" "gate exit $rc, wanted exit 1 matching: $3, no KPANIC" "$out"
    fi
}

# With REQUIRE_SMP=1 the missing hart alone fails the gate; without it the
# first failure is the selftest that needs every listed hart.
gate_fails require-smp 1 'hart 1 did not come online: KINIT: cpu1 offline \(did not arrive within 5000 ms\)'
gate_fails selftests 0 'selftest failed: KSELFTEST: smp online FAIL check failed: online_count\(\) == want'

# The whole ladder, booted directly (the gate stops at the first failure):
# one FAIL (smp online), every other test ok over the online harts, no
# KPANIC, the summary, `KSELFTEST: end` last, and QEMU's exit status 1.
log=$(mktemp "${TMPDIR:-/tmp}/phantom.XXXXXX")
fifo_dir=$(mktemp -d "${TMPDIR:-/tmp}/phantom-fifo.XXXXXX")
trap 'kestrel_stop_pid "${KESTREL_FEEDER_PID:-}"; rm -rf -- "$log" "$fifo_dir"' EXIT
kestrel_qemu_cmd cmd "${QEMU:-qemu-system-riscv64}" 2 "$KERNEL" "${OPENSBI_FW:-$KESTREL_FW_DEFAULT}" \
    "$KESTREL_LIGHT_LADDER"
kestrel_serial_feeder "$fifo_dir/serial_in" "$log"
timeout 150 "${cmd[@]}" -dtb "$dtb" <"$fifo_dir/serial_in" >"$log" 2>&1
rc=$?
text=$(tr -d '\r' <"$log")
fails=$(grep -c '^KSELFTEST: .* FAIL' <<<"$text")
last=$(grep '^KSELFTEST: ' <<<"$text" | tail -n 1)
if ((rc == 1)) && ! grep -q KPANIC <<<"$text" && ((fails == 1)) &&
    grep -q '^KSELFTEST: smp online FAIL' <<<"$text" &&
    grep -qE '^KSELFTEST: summary total=([0-9]+) passed=[0-9]+ failed=1$' <<<"$text" &&
    [[ $last == "KSELFTEST: end" ]]; then
    verdict 0 ladder "QEMU exit 1, one FAIL (smp online), no KPANIC, $(grep '^KSELFTEST: summary' <<<"$text"), ends with KSELFTEST: end"
else
    verdict 1 ladder "QEMU exit $rc, $fails FAIL line(s), last marker '$last'" "$(grep -E 'KINIT|KSELFTEST|KPANIC' <<<"$text")"
fi

echo "$passed passed, $failed failed"
((failed == 0))
