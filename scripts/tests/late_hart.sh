#!/usr/bin/env bash
# A hart that arrives after the boot hart gave up on it (RFC-0022 "Publish last"): of the
# hart's own claim and the boot hart's timeout claim exactly one wins, and here it must be
# the boot hart's. Two boots at SMP=3, each making the last secondary (cpu2) late on purpose
# (at SMP=2 the one hart left online would skip the smp-scoped selftests):
#
#   kfault=late-arrival  cpu2 waits, before its Starting -> Joining claim, until the boot
#                        hart's arrival bound (5 s) ran out and it claimed Starting -> Offline
#   kfault=late-join     cpu2 claims Joining, then waits until the boot hart stopped waiting
#                        for Online (5 s) and claimed Joining -> Offline
#
# Each boot must show the boot hart's verdict (`KINIT: cpu2 offline (...)`), the hart's own
# claim losing (its `KLOG: cpu2 ...; stopping` line), `smp online` as the only FAIL (cpu2
# stays offline), no KPANIC, the summary and `KSELFTEST: end` last, and QEMU exit 1.
# A hart that stored its state instead of claiming it would go online after the boot hart
# said offline: no `stopping` line, and `smp online` would pass.
#
#   scripts/tests/late_hart.sh        (KERNEL as for the gate)
#
# Prints one line per case and ends with "N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
root="$here/../.."
KERNEL=${KERNEL:-$root/build/kernel.elf}
passed=0
failed=0
log=$(mktemp "${TMPDIR:-/tmp}/late-hart.XXXXXX")
trap 'rm -f -- "$log" "$log.in"' EXIT

# late <case> <offline reason> <the hart's line>
late() {
    local name=$1 reason=$2 hart_line=$3 cmd rc text fails last
    kestrel_qemu_cmd cmd "${QEMU:-qemu-system-riscv64}" 3 "$KERNEL" \
        "${OPENSBI_FW:-$KESTREL_FW_DEFAULT}" "kfault=$name $KESTREL_LIGHT_LADDER"
    rm -f -- "$log.in"
    : >"$log"
    kestrel_serial_feeder "$log.in" "$log"
    timeout 150 "${cmd[@]}" <"$log.in" >"$log" 2>&1
    rc=$?
    kestrel_stop_pid "$KESTREL_FEEDER_PID"
    rm -f -- "$log.in"
    text=$(tr -d '\r' <"$log")
    fails=$(grep -c '^KSELFTEST: .* FAIL' <<<"$text")
    last=$(grep '^KSELFTEST: ' <<<"$text" | tail -n 1)
    if ((rc == 1)) && ! grep -q KPANIC <<<"$text" &&
        grep -qxF "KINIT: cpu2 offline ($reason)" <<<"$text" &&
        grep -qxF "$hart_line" <<<"$text" &&
        ((fails == 1)) && grep -q '^KSELFTEST: smp online FAIL' <<<"$text" &&
        grep -qE '^KSELFTEST: summary total=[0-9]+ passed=[0-9]+ failed=1$' <<<"$text" &&
        [[ $last == "KSELFTEST: end" ]]; then
        echo "late $name: the boot hart's claim won (cpu2 offline ($reason); '$hart_line'), one FAIL (smp online), no KPANIC, ends with KSELFTEST: end"
        passed=$((passed + 1))
    else
        echo "late $name: WRONG (QEMU exit $rc, $fails FAIL line(s), last marker '$last'; wanted 'KINIT: cpu2 offline ($reason)' and '$hart_line')"
        grep -E 'KINIT: cpu|KLOG: cpu2 |FAIL|KPANIC|summary' <<<"$text" | tail -n 15 | sed 's/^/  | /'
        failed=$((failed + 1))
    fi
}

late late-arrival 'did not arrive within 5000 ms' 'KLOG: cpu2 arrived after it was declared offline; stopping'
late late-join 'arrived but did not go online within 5000 ms' 'KLOG: cpu2 was declared offline while joining; stopping'

echo "$passed passed, $failed failed"
((failed == 0))
