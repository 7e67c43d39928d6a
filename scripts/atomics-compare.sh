#!/usr/bin/env bash
# Prints the RV64 code GCC and Clang make for C++ seq_cst (and acquire/release)
# atomics, with the kernel's code-generation flags (RFC-0021, "Two compilers").
#
#   scripts/atomics-compare.sh
#
# Needs riscv64-linux-gnu-g++, clang and riscv64-linux-gnu-objdump (scripts/deps.sh).
set -euo pipefail

tmp=$(mktemp -d "${TMPDIR:-/tmp}/atomics.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
cat >"$tmp/a.cpp" <<'CPP'
#include <atomic>
#include <cstdint>
std::atomic<std::uint32_t> flag;
std::atomic<std::uint64_t> word;
extern "C" {
void store_seq_cst(std::uint32_t v) { flag.store(v); }
std::uint32_t load_seq_cst() { return flag.load(); }
std::uint32_t exchange_seq_cst(std::uint32_t v) { return flag.exchange(v); }
bool cas_seq_cst(std::uint64_t e, std::uint64_t d) { return word.compare_exchange_strong(e, d); }
void store_release(std::uint32_t v) { flag.store(v, std::memory_order_release); }
std::uint32_t load_acquire() { return flag.load(std::memory_order_acquire); }
// The sleeper's half of a lost wake-up: publish with a CAS, then re-check a flag.
std::uint32_t cas_then_load(std::uint64_t e, std::uint64_t d) {
    word.compare_exchange_strong(e, d);
    return flag.load();
}
}
CPP
flags=(-std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -fno-pic -mcmodel=medany
    -march=rv64gc -mabi=lp64d -c)
riscv64-linux-gnu-g++ "${flags[@]}" "$tmp/a.cpp" -o "$tmp/gcc.o"
clang++ --target=riscv64-linux-gnu "${flags[@]}" "$tmp/a.cpp" -o "$tmp/clang.o"
for c in gcc clang; do
    case $c in
        gcc) echo "== $(riscv64-linux-gnu-g++ --version | head -1)" ;;
        clang) echo "== $(clang++ --version | head -1)" ;;
    esac
    # Function labels and the instructions, without address-load noise.
    riscv64-linux-gnu-objdump -d --no-show-raw-insn "$tmp/$c.o" |
        awk '/^[0-9a-f]+ <[a-z_]+>:$/ { sub(/^[0-9a-f]+ /, ""); print; next }
             /^ +[0-9a-f]+:\t/ { sub(/^ +[0-9a-f]+:\t/, "    "); if ($1 != "auipc" && $1 != "mv") print }'
done
