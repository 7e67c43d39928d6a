#!/usr/bin/env bash
# Counterfactual test of the document path check (scripts/doc_paths.py): on a copy of the tree
# (every file git knows of, uncommitted new ones included), the check must pass as it stands,
# must fail naming the document and the line for each stale path planted below, one at a time,
# in different documents and token shapes, and must stay quiet for the tokens its rules skip.
#
#   scripts/tests/doc_paths_test.sh
#
# Prints one line per case and ends with "doc-paths-test: N passed, N failed".
# shellcheck disable=SC2016 # the backticks in the planted lines are markdown, not expansions
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
root=$KESTREL_ROOT
checker="$root/scripts/doc_paths.py"
scratch="$(mktemp -d)"
saves="$(mktemp -d)" # the originals of planted documents, outside the copy
trap 'rm -rf "$scratch" "$saves"' EXIT
passed=0
failed=0

# The copy: outside a git work tree, so the checker walks it as it stands.
kestrel_copy_tree "$scratch"

run_checker() { # sets out and rc
    rc=0
    out=$(python3 "$checker" --root "$scratch" 2>&1) || rc=$?
}

report() { # report <name> <ok 0/1> <what was wanted>
    if (($2)); then
        echo "doc-paths-test: $1 ok"
        passed=$((passed + 1))
    else
        echo "doc-paths-test: $1 WRONG (checker exit $rc; wanted $3)"
        sed 's/^/  | /' <<<"$out"
        failed=$((failed + 1))
    fi
}

# append <file> <line>: appends the line (saving the file first); sets at to its line number.
append() {
    mkdir -p "$saves/$(dirname "$1")"
    cp "$scratch/$1" "$saves/$1"
    printf '%s\n' "$2" >>"$scratch/$1"
    at=$(wc -l <"$scratch/$1")
}
restore() { mv "$saves/$1" "$scratch/$1"; }

# The clean copy passes.
run_checker
report clean "$((rc == 0 && $(grep -c '^doc-paths: ok ([0-9]* documents, [0-9]* paths)$' <<<"$out") == 1))" \
    'exit 0 and "doc-paths: ok (N documents, M paths)"'

# plant <name> <document> <line> <token>: the document gains the line; the checker must exit 1
# and name exactly that one stale path, "<document>:<line number>: names <token>, ...".
plant() {
    local name=$1 doc=$2 line=$3 token=$4 ok=0
    if [[ ! -f "$scratch/$doc" ]]; then
        rc=-; out="$doc is not in the tree"
        report "$name" 0 "an existing $doc"
        return
    fi
    append "$doc" "$line"
    run_checker
    restore "$doc"
    local want="$doc:$at: names $token, which does not exist"
    if ((rc == 1)) && grep -qxF -- "$want" <<<"$out" && grep -qx 'doc-paths: FAIL 1 stale path(s)' <<<"$out"; then
        ok=1
    fi
    report "$name" "$ok" "exit 1, \"$want\" and one stale path"
}

plant readme-moved README.md 'The per-hart block is in `kernel/percpu.cpp`.' kernel/percpu.cpp
plant task-moved tasks/TASK-0012-smp-v1-scheduler.md '- [x] Proof: sched/cpu_id.hpp, bare.' sched/cpu_id.hpp
plant rfc-line-suffix docs/rfcs/RFC-0021-smp-v1-percpu-runqueues-ipi.md \
    'See kernel/time.cpp:42, where the tick was.' kernel/time.cpp
plant task-line-placeholder tasks/TASK-0001-bootable-smp-foundation.md \
    '      `[sepc: ...bad_trap_task(void*) at kernel/fault.cpp:N]`' kernel/fault.cpp
plant rfc-glob docs/rfcs/RFC-0001-boot-and-hart-bringup.md 'Faults (`kernel/fault.*`).' 'kernel/fault.*'
plant rfc-braces docs/rfcs/RFC-0028-capabilities-and-ipc.md \
    '| `kernel/ipc/objects.{hpp,cpp}` | gone |' 'kernel/ipc/objects.{hpp,cpp}'
plant dir-gone tasks/TASK-0018-capability-ipc.md 'The locks were in `kernel/sync/`.' kernel/sync/
plant file-as-dir docs/rfcs/RFC-0022-smp-v1b-hardening.md 'Under `base/panic.cpp/`.' base/panic.cpp/
plant fixture-readme dtb/tests/fixtures/README.md 'Made by `kernel/dtb/tests/fixtures/regen.sh`.' \
    kernel/dtb/tests/fixtures/regen.sh
plant anchor docs/rfcs/RFC-0027-processes-syscalls-user-faults.md \
    'See [the copies](trap/user_copies.cpp#checked).' trap/user_copies.cpp

# What the rules skip must not fail: placeholders, build outputs, ninja targets, paths outside
# the repository or relative to a subdirectory, prose with a slash, existing paths in every shape.
skips='`<build>/mm/tests/fixtures/*.dtb`, `build/kernel.elf`, `build-clang/dtb/x.dtb`,
`docs/rfcs/RFC-NNNN-*.md`, `dtb/tests/fixtures/<name>.dts`, `mm/.../gone.cpp`, I/O, tp/sp,
`../shared/CONTRACT.md`, `regen.sh`, `tests/fixtures/`,
    ninja -C build kernel.elf mm/mm_tests ipc/libipc-kernel-check.a
`kernel/main.cpp:65`, **base/ipi.cpp**, `mm/user_space.{hpp,cpp}`, `kernel/task_faults.*`,
`sched/`, (`trap/trap.cpp`), `./scripts/qemu-test.sh`, `.ci/run`, kernel/task_faults.cpp:N.'
append tasks/TASK-0013-bench.md "$skips"
run_checker
restore tasks/TASK-0013-bench.md
report skipped "$((rc == 0))" 'exit 0: every token there is skipped or exists'

# A document may name gone paths on purpose, in its own "gone" comment, and only for itself.
gone='`kernel/ipc/` is gone.
<!-- doc-paths: gone kernel/ipc/ -->'
append tasks/TASK-0013-bench.md "$gone"
run_checker
report gone-listed "$((rc == 0))" 'exit 0: the document lists kernel/ipc/ as gone'
plant gone-elsewhere tasks/TASK-0014-torture.md '`kernel/ipc/` is gone.' kernel/ipc/
restore tasks/TASK-0013-bench.md

echo "doc-paths-test: $passed passed, $failed failed"
((failed == 0))
