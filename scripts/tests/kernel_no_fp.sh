#!/usr/bin/env bash
# The kernel executes no F or D instruction but those of hal/riscv64/fp.S, which move a user
# thread's registers (RFC-0027 "Floating point"): the kernel is built for rv64gc, so nothing
# but this check stops the compiler from using f registers, whose contents are a user
# thread's while the kernel runs on its behalf.
#
#   scripts/tests/kernel_no_fp.sh KERNEL_ELF
#
# Disassembles the image (binutils' objdump) and lists every instruction whose mnemonic is an
# F/D one (f..., c.f..., but not fence) by function. Fails on any outside hal_fp_save and
# hal_fp_load. The check's own counterfactual: with no function allowed, it must find those
# two functions' instructions (33 each), or it sees nothing and proves nothing.
set -euo pipefail

elf=${1:?usage: kernel_no_fp.sh KERNEL_ELF}
objdump=${OBJDUMP:-riscv64-linux-gnu-objdump}

# fp_by_function: "count function" lines for every F/D instruction.
fp_by_function() {
    "$objdump" -d --no-show-raw-insn "$elf" |
        awk '/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3) }
             /^ +[0-9a-f]+:\t/ { split($0, a, "\t"); m = a[2]
                                 if (m ~ /^(c\.)?f/ && m !~ /^fence/) print fn }' |
        sort | uniq -c
}

all=$(fp_by_function)
allowed='^ *33 (hal_fp_save|hal_fp_load)$'
if [[ $(grep -cE "$allowed" <<<"$all") != 2 ]]; then
    echo "kernel-no-fp: WRONG: the scan did not find fp.S's 33 + 33 instructions:"
    printf '%s\n' "$all" | sed 's/^/  /'
    exit 1
fi
others=$(grep -vE "$allowed" <<<"$all" || true)
if [[ -n $others ]]; then
    echo "kernel-no-fp: FAIL: F/D instructions outside hal/riscv64/fp.S (count, function):"
    printf '%s\n' "$others" | sed 's/^/  /'
    exit 1
fi
echo "kernel-no-fp: ok (66 F/D instructions, all in hal_fp_save and hal_fp_load)"
