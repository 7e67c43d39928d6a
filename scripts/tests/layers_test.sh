#!/usr/bin/env bash
# Counterfactual test of the layer check (scripts/layers.py): on a copy of the tree's sources
# and layers.txt, the check must pass as it stands, and must fail, naming the file, the line
# and the rule, for each violation planted below, one at a time, in different rooms.
#
#   scripts/tests/layers_test.sh
#
# Prints one line per case and ends with "layers-test: N passed, N failed".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
checker="$root/scripts/layers.py"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0

# The copy: layers.txt and every C/C++/assembly source git knows of, uncommitted new files included.
{ git -C "$root" ls-files; git -C "$root" ls-files --others --exclude-standard; } |
    grep -E '(^layers\.txt|\.(cpp|hpp|h|c|S|inc))$' | sort -u |
    while IFS= read -r f; do
        [[ -f "$root/$f" ]] || continue # deleted in the working tree, not yet in the index
        mkdir -p "$scratch/$(dirname "$f")"
        cp "$root/$f" "$scratch/$f"
    done

run_checker() { # sets out and rc
    rc=0
    out=$(python3 "$checker" --root "$scratch" "$@" 2>&1) || rc=$?
}

report() { # report <name> <ok 0/1> <what was wanted>
    if (($2)); then
        echo "layers-test: $1 ok"
        passed=$((passed + 1))
    else
        echo "layers-test: $1 WRONG (checker exit $rc; wanted $3)"
        sed 's/^/  | /' <<<"$out"
        failed=$((failed + 1))
    fi
}

# The clean copy passes; its table prints too.
run_checker
report clean "$((rc == 0))" 'exit 0 on the unmodified tree'
run_checker --counts
report counts "$((rc == 0 && $(grep -c '^| from | to | includes |$' <<<"$out") == 2))" \
    'exit 0 and two "| from | to | includes |" tables'

# plant <name> <file> <include line> <regex for the rest of the error>: inserts the line after
# the file's first line (so at line 2), runs the checker, restores the file. The checker must
# exit 1 and print "<file>:2: <include line>: <regex>".
plant() {
    local name=$1 file=$2 line=$3 want=$4 ok=0
    if [[ ! -f "$scratch/$file" ]]; then
        rc=-; out="$file is not in the tree"
        report "$name" 0 "an existing $file"
        return
    fi
    cp "$scratch/$file" "$scratch/.saved"
    sed -i "1a\\$line" "$scratch/$file"
    run_checker
    mv "$scratch/.saved" "$scratch/$file"
    if ((rc == 1)) && grep -qE -- "^$(sed 's/[][\.*^$(){}+?|]/\\&/g' <<<"$file:2: $line"): $want" <<<"$out"; then
        ok=1
    fi
    report "$name" "$ok" "exit 1 and \"$file:2: $line: $want\""
}

plant base-up base/panic.cpp '#include "sched/scheduler.hpp"' \
    'points up: base \(5\) may use only hal, user, dtb, elf and itself; sched is layer 7'
plant mm-up mm/user_space.cpp '#include "proc/process.hpp"' 'points up: mm \(6\) .*; proc is layer 10'
plant sched-up sched/scheduler.cpp '#include "trap/trap.hpp"' 'points up: sched \(7\) .*; trap is layer 8'
plant hal-up hal/riscv64/sbi.cpp '#include "base/panic.hpp"' 'points up: hal \(1\) may use only itself; base is layer 5'
plant ipc-core-up ipc/cap_table.cpp '#include "proc/process.hpp"' 'points up: ipc \(9\) .*; proc is layer 10'
plant hal-sideways hal/riscv64/hal_cpu.hpp '#include "hal/host/hal_cpu.hpp"' \
    "denied: deny hal/riscv64/\*\* hal/host/\*\*: the kernel's HAL never sees the host fakes"
plant tests-used sched/event.cpp '#include "base/tests/harts.hpp"' \
    'denied: deny !\*\*/tests/\*\* \*\*/tests/\*\*: nothing uses its tests'
plant unresolved ipc/objects.cpp '#include "no/such/header.hpp"' 'unresolved'
plant angle-brackets trap/trap.cpp '#include <sched/task.hpp>' 'project header included with angle brackets'

# A source in a top-level directory that is not a room.
mkdir -p "$scratch/drivers"
echo '#include "base/panic.hpp"' >"$scratch/drivers/uart.cpp"
run_checker
rm -r "$scratch/drivers"
report no-room "$((rc == 1 && $(grep -c '^drivers/uart\.cpp:1: not in any room' <<<"$out") == 1))" \
    'exit 1 and "drivers/uart.cpp:1: not in any room"'

# A malformed layers.txt is a usage error, named by its line.
cp "$scratch/layers.txt" "$scratch/.saved"
echo 'bogus line without colon' >>"$scratch/layers.txt"
bogus_line=$(wc -l <"$scratch/layers.txt")
run_checker
mv "$scratch/.saved" "$scratch/layers.txt"
report malformed-layers "$((rc == 2 && $(grep -c "^layers: layers\.txt:$bogus_line: malformed line" <<<"$out") == 1))" \
    "exit 2 and \"layers.txt:$bogus_line: malformed line\""

echo "layers-test: $passed passed, $failed failed"
((failed == 0))
