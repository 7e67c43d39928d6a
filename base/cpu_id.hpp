// Portable CPU-id resolution: validate the tp hint, else the stack range, else BOOT.
#pragma once

#include <cstdint>

namespace k {

// One row per cpu with a block assigned, index == logical cpu id. `magic` is
// the word read from that cpu's block when the table was built.
struct CpuSlot {
    std::uintptr_t block; // address of the per-hart block (what tp should hold)
    std::uint64_t magic;
    std::uintptr_t stack_lo; // [stack_lo, stack_hi): the stack the hart runs on
    std::uintptr_t stack_hi;
    bool running; // its hart runs on this block (joining, online or stopping)
};

enum class CpuIdPath : std::uint32_t { TpFast, StackRange, Boot };

struct CpuIdResult {
    std::uint32_t cpu;
    CpuIdPath path;
};

inline constexpr std::uint32_t kBootCpu = 0;

[[nodiscard]] constexpr bool stack_contains(const CpuSlot& s, std::uintptr_t sp) {
    return s.stack_lo < s.stack_hi && sp >= s.stack_lo && sp < s.stack_hi;
}

// The TpFast rule for the one slot tp names: the hart runs on that block, its
// magic matches and sp lies in its stack. resolve_cpu_id() applies it to
// every slot; the kernel's hot path applies it to the block tp names only.
// The same rule for a block already known to be the one tp names, from its
// fields (the kernel's hot path reads them in place).
[[nodiscard]] constexpr bool block_valid(std::uint64_t magic, bool running, std::uintptr_t stack_lo,
                                         std::uintptr_t stack_hi, std::uintptr_t sp,
                                         std::uint64_t expected_magic) {
    return running && magic == expected_magic && stack_lo < stack_hi && sp >= stack_lo &&
           sp < stack_hi;
}

[[nodiscard]] constexpr bool tp_fast_valid(const CpuSlot& s, std::uintptr_t tp, std::uintptr_t sp,
                                           std::uint64_t expected_magic) {
    return s.block == tp &&
           block_valid(s.magic, s.running, s.stack_lo, s.stack_hi, sp, expected_magic);
}

// tp is only a hint: it is never dereferenced, only compared with the known
// block addresses. Linear scans, chosen over computing an index from tp:
// blocks need not be contiguous, and for <= 32 cpus a scan is a few compares.
// TpFast: tp equals a slot's block, its hart runs on it, its magic matches,
// and sp lies in its stack. StackRange: the first cpu whose stack holds sp
// (running not required: a hart has its stack before it claims its block).
// Boot: nothing matched. The caller counts the fallbacks.
[[nodiscard]] constexpr CpuIdResult resolve_cpu_id(std::uintptr_t tp, std::uintptr_t sp,
                                                   const CpuSlot* slots, std::uint32_t count,
                                                   std::uint64_t expected_magic) {
    if (slots == nullptr) return {kBootCpu, CpuIdPath::Boot};
    if (tp != 0) {
        for (std::uint32_t i = 0; i < count; ++i) {
            if (tp_fast_valid(slots[i], tp, sp, expected_magic)) return {i, CpuIdPath::TpFast};
        }
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        if (stack_contains(slots[i], sp)) return {i, CpuIdPath::StackRange};
    }
    return {kBootCpu, CpuIdPath::Boot};
}

[[nodiscard]] constexpr const char* cpu_id_path_name(CpuIdPath p) {
    switch (p) {
    case CpuIdPath::TpFast:
        return "tp";
    case CpuIdPath::StackRange:
        return "stack";
    case CpuIdPath::Boot:
        return "boot";
    }
    return "invalid";
}

} // namespace k
