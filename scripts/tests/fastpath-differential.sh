#!/usr/bin/env bash
# The IPC fast path against the general path (issue 18): the gate's ladder runs user/ipcdiff, a
# seeded script of calls between two processes that hashes every result of every call. Booted
# with the fast path on and with `ipc_fastpath=off`, the same seed must print the same hash at
# SMP=1, where the fast path takes most of the calls (the KSELFTEST says how many); at SMP=8
# both boots must pass (on: the gate's gate-smp8; off: below, on request). The counterfactual: `kfault=fastpath-drop-badge` (a fast path that
# delivers no badge) must print another hash (its own reply checks fail the gate as well).
# SMP=8 with the fast path off: FASTPATH_DIFF_SMP8=1.
#
#   scripts/tests/fastpath-differential.sh        (KERNEL/BUILD_DIR as for the gate)
#
# Prints one line per check and ends with "N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
gate="$here/../qemu-test.sh"
seed=${IPCDIFF_SEED:-7}
passed=0
failed=0

verdict() { # ok(0/1) text [output]
    if (($1 == 0)); then
        echo "fastpath-differential: $2"
        passed=$((passed + 1))
    else
        echo "fastpath-differential: WRONG ($2)"
        [[ -n ${3:-} ]] && tail -n 15 <<<"$3" | sed 's/^/  | /'
        failed=$((failed + 1))
    fi
}

# boot <smp> <bootargs>: runs the gate; sets rc, out, hash (ipcdiff's) and fast (the fast path's line)
boot() {
    local log
    out=$(SMP=$1 REQUIRE_SMP=$(($1 > 1 ? 1 : 0)) BOOTARGS="ipcdiff_seed=$seed $2 $KESTREL_LIGHT_LADDER" \
        RUN_UNTIL_MARKER=1 RUN_TIMEOUT=120s "$gate" 2>&1)
    rc=$?
    log=$(grep -o 'log: [^) ]*' <<<"$out" | tail -n 1)
    log=${log#log: }
    hash=$(sed -n 's/^ULOG: ipcdiff .* hash=\(0x[0-9a-f]*\).*/\1/p' "$log" 2>/dev/null | head -n 1)
    fast=$(grep -m1 '^KLOG: ipc fast path o[nf]' "$log" 2>/dev/null)
}

boot 1 ""
on_rc=$rc on_hash=$hash
verdict $((on_rc != 0 || ${#hash} == 0)) "SMP=1 fast path on: gate exit $on_rc, hash ${hash:-none}; ${fast:-no count line}" "$out"
boot 1 "ipc_fastpath=off"
verdict $((rc != 0 || ${#hash} == 0)) "SMP=1 fast path off: gate exit $rc, hash ${hash:-none}; ${fast:-no count line}" "$out"
same=1
[[ -n $on_hash && $on_hash == "$hash" ]] && same=0
verdict $same "SMP=1 hashes equal (on ${on_hash:-none}, off ${hash:-none})"
boot 1 "kfault=fastpath-drop-badge"
differs=1
[[ -n $hash && $hash != "$on_hash" ]] && differs=0
verdict $differs "counterfactual fastpath-drop-badge: hash ${hash:-none} differs from $on_hash (gate exit $rc)" "$out"
# The SMP=8 boot with the fast path on is the gate's own (gate-smp8); off, on request (about
# 20 s more): FASTPATH_DIFF_SMP8=1.
if [[ ${FASTPATH_DIFF_SMP8:-0} == 1 ]]; then
    boot 8 "ipc_fastpath=off"
    verdict $((rc != 0)) "SMP=8 fast path off: gate exit $rc, hash ${hash:-none}; ${fast:-no count line}" "$out"
fi

echo "$passed passed, $failed failed"
((failed == 0))
