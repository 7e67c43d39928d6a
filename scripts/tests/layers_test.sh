#!/usr/bin/env bash
# Counterfactual test of the layer check (scripts/layers.py): on a copy of the tree's sources
# and layers.txt, the check must pass as it stands, and must fail, naming the file, the line
# and the rule, for each violation planted below, one at a time, in different rooms.
#
#   scripts/tests/layers_test.sh     (BUILD_DIR: a configured build with kernel.elf, for the
#                                     link cases; default build/)
#
# Prints one line per case and ends with "layers-test: N passed, N failed".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
root=$KESTREL_ROOT
checker="$root/scripts/layers.py"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0

# The copy: layers.txt and every C/C++/assembly source git knows of, uncommitted new files included.
kestrel_copy_tree "$scratch" '(^layers\.txt|\.(cpp|hpp|h|c|S|inc))$'

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
plant() { # [shown]: how the checker prints the include, when not as written
    local name=$1 file=$2 line=$3 want=$4 shown=${5:-$3} ok=0
    if [[ ! -f "$scratch/$file" ]]; then
        rc=-; out="$file is not in the tree"
        report "$name" 0 "an existing $file"
        return
    fi
    cp "$scratch/$file" "$scratch/.saved"
    sed -i "1a\\$line" "$scratch/$file"
    run_checker
    mv "$scratch/.saved" "$scratch/$file"
    if ((rc == 1)) && grep -qE -- "^$(sed 's/[][\.*^$(){}+?|]/\\&/g' <<<"$file:2: $shown"): $want" <<<"$out"; then
        ok=1
    fi
    report "$name" "$ok" "exit 1 and \"$file:2: $shown: $want\""
}

plant base-up base/panic.cpp '#include "sched/scheduler.hpp"' \
    'points up: base \(5\) may use only hal, user, dtb, elf and itself; sched is layer 7'
plant mm-up mm/user_space.cpp '#include "proc/process.hpp"' 'points up: mm \(6\) .*; proc is layer 11'
plant sched-up sched/scheduler.cpp '#include "trap/trap.hpp"' 'points up: sched \(7\) .*; trap is layer 8'
plant hal-up hal/riscv64/sbi.cpp '#include "base/panic.hpp"' 'points up: hal \(1\) may use only itself; base is layer 5'
plant ipc-core-up ipc/cap_table.cpp '#include "proc/process.hpp"' 'points up: ipc \(9\) .*; proc is layer 11'
plant hal-sideways hal/riscv64/hal_cpu.hpp '#include "hal/host/hal_cpu.hpp"' \
    "denied: deny hal/riscv64/\*\* hal/host/\*\*: the kernel's HAL never sees the host fakes"
plant tests-used sched/event.cpp '#include "base/tests/harts.hpp"' \
    'denied: deny !\*\*/tests/\*\* \*\*/tests/\*\*: nothing uses its tests'
plant unresolved ipc/objects.cpp '#include "no/such/header.hpp"' 'unresolved'
plant angle-brackets trap/trap.cpp '#include <sched/task.hpp>' 'project header included with angle brackets'
# Include forms that must not slip past: a comment inside the directive, a HAL header found
# through the include path with angle brackets, a computed include.
plant commented-up elf/elf.cpp '#include /* a note */ "mm/frames.hpp"' 'points up: elf \(4\) .*; mm is layer 6' \
    '#include "mm/frames.hpp"'
plant angled-sideways hal/host/hal_cpu.hpp '#include <sbi.hpp>' \
    "denied: deny hal/host/\*\* hal/riscv64/\*\*: the host fakes stand in for the target HAL; they do not use it"
plant computed dtb/fdt.cpp '#include KESTREL_HEADER' 'names no file'

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

# What no include shows: the kernel's objects (scripts/layers.py --link). The scratch build
# directory's compile_commands.json names the real objects of BUILD_DIR as if built from the
# scratch sources, plus objects planted here.
build=${BUILD_DIR:-$root/build}
mkdir -p "$scratch/build/kernel.elf.p"
link_commands() { # link_commands [planted source]: writes scratch/build/compile_commands.json
    python3 - "$build" "$scratch" "$@" <<'PY'
import json, os, sys
build, scratch, planted = sys.argv[1], sys.argv[2], sys.argv[3:]
out = []
for c in json.load(open(os.path.join(build, 'compile_commands.json'))):
    if c['output'].startswith('kernel.elf.p/'):
        out.append({'directory': os.path.join(scratch, 'build'), 'file': c['file'],
                    'output': os.path.join(c['directory'], c['output'])})
for src in planted:
    out.append({'directory': os.path.join(scratch, 'build'), 'file': '../' + src,
                'output': os.path.join(scratch, 'build', 'kernel.elf.p', src.replace('/', '_') + '.o')})
json.dump(out, open(os.path.join(scratch, 'build', 'compile_commands.json'), 'w'))
PY
}
if [[ -f $build/compile_commands.json ]] && command -v riscv64-linux-gnu-g++ >/dev/null; then
    link_commands
    run_checker --link "$scratch/build"
    report link-clean "$((rc == 0))" 'exit 0 with the real kernel objects'

    # Without its upcall lines, every call up the order is named.
    cp "$scratch/layers.txt" "$scratch/.saved"
    sed -i '/^upcall /d' "$scratch/layers.txt"
    run_checker --link "$scratch/build"
    mv "$scratch/.saved" "$scratch/layers.txt"
    n=$(grep -cE '^(hal/riscv64/(entry|trap_entry|context_switch)\.S|kernel/main\.cpp): calls up: ' <<<"$out" || true)
    report link-no-upcalls "$((rc == 1 && n >= 9 && $(grep -c 'selftest_task is defined in selftest' <<<"$out") == 1))" \
        'exit 1 naming the HAL entry points and the boot task (9 or more calls up)'

    # An upcall that nothing makes is stale.
    cp "$scratch/layers.txt" "$scratch/.saved"
    echo 'upcall base sched sched::schedule: planted' >>"$scratch/layers.txt"
    stale_line=$(wc -l <"$scratch/layers.txt")
    run_checker --link "$scratch/build"
    mv "$scratch/.saved" "$scratch/layers.txt"
    report link-stale-upcall "$((rc == 1 && $(grep -c "^layers\.txt:$stale_line: upcall base sched sched::schedule: no object makes this call" <<<"$out") == 1))" \
        "exit 1 and \"layers.txt:$stale_line: upcall ... no object makes this call\""

    # A hand-written declaration of a higher room's function, called from lower rooms: the
    # include check cannot see it, the link check must (three rooms, three callees).
    plant_call() { # plant_call <name> <source> <callee declaration> <callee call> <regex>
        local name=$1 src=$2 ok=0
        mkdir -p "$scratch/$(dirname "$src")"
        local obj="$scratch/build/kernel.elf.p/${src//\//_}.o"
        printf '%s\nvoid kestrel_planted_%s() { %s; }\n' "$3" "${name//-/_}" "$4" >"$scratch/$src"
        riscv64-linux-gnu-g++ -std=c++20 -ffreestanding -fno-exceptions -fno-rtti -c \
            "$scratch/$src" -o "$obj"
        link_commands "$src"
        run_checker --link "$scratch/build"
        rm -f "$scratch/$src" "$obj"
        if ((rc == 1)) && grep -qE -- "^$src: calls up: $5" <<<"$out"; then ok=1; fi
        report "$name" "$ok" "exit 1 and \"$src: calls up: $5\""
    }
    plant_call link-base-up base/planted.cpp 'namespace sched { void dump_state(const char*); }' \
        'sched::dump_state("x")' 'sched::dump_state is defined in sched \(7, sched/steal_hotplug\.cpp\) and base is layer 5'
    plant_call link-mm-up mm/planted.cpp 'namespace k::user { void thread_main(void*); }' \
        'k::user::thread_main(nullptr)' 'k::user::thread_main is defined in proc \(11, proc/process\.cpp\) and mm is layer 6'
    plant_call link-ipc-up ipc/planted.cpp 'namespace k::user { void process_ref(struct Process&); }' \
        'k::user::process_ref(*static_cast<k::user::Process*>(nullptr))' \
        'k::user::process_ref is defined in proc \(11, proc/task_caps\.cpp\) and ipc is layer 9'
    link_commands
else
    echo "layers-test: link cases need $build/compile_commands.json and riscv64-linux-gnu-g++"
    failed=$((failed + 1))
fi

echo "layers-test: $passed passed, $failed failed"
((failed == 0))
