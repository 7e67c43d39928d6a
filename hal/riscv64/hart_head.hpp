// The asm-visible head of each hart's per-cpu block; tp points at it.
#pragma once

#include "asm_offsets.hpp"

#include <cstddef>
#include <cstdint>

namespace hal {

struct HartHead {
    std::uint64_t magic;         // kHartMagic once the block is initialised
    std::uint32_t cpu;           // dense logical index, 0 = boot hart
    std::uint32_t hart_id;       // firmware hart id (sparse, any value)
    std::uintptr_t stack_lo;     // lowest legal sp of the running stack
    std::uintptr_t stack_hi;     // top of the running stack
    std::uintptr_t emergency_sp; // trap stack used when stack_lo is crossed
    std::uintptr_t user_scratch; // user sp while in a trap from U-mode
    std::uint32_t irq_depth;     // irq_push() nesting on this hart
    std::uint32_t irq_saved;     // SIE as it was at the outermost irq_push()
    std::uint64_t trap_t0;       // trap entry parks t0 here while it checks the stack
    std::uintptr_t user_ksp;     // while in U-mode: top of the running task's kernel stack
    std::uint64_t trap_sum;      // trap exit's frame check: the sum over the frame's slots
    std::uint64_t trap_t2;       // the frame check parks t2 here (entry: t2 as it came in)
    std::uint32_t lock_ranks;    // levels of the ranked spin locks this hart holds (a bit each)
};

inline constexpr std::uint64_t kHartMagic = 0x4b45535452454c31ull; // "KESTREL1"

static_assert(offsetof(HartHead, magic) == HART_MAGIC);
static_assert(offsetof(HartHead, cpu) == HART_CPU);
static_assert(offsetof(HartHead, hart_id) == HART_HART_ID);
static_assert(offsetof(HartHead, stack_lo) == HART_STACK_LO);
static_assert(offsetof(HartHead, stack_hi) == HART_STACK_HI);
static_assert(offsetof(HartHead, emergency_sp) == HART_EMERGENCY_SP);
static_assert(offsetof(HartHead, user_scratch) == HART_USER_SCRATCH);
static_assert(offsetof(HartHead, irq_depth) == HART_IRQ_DEPTH);
static_assert(offsetof(HartHead, irq_saved) == HART_IRQ_SAVED);
static_assert(offsetof(HartHead, trap_t0) == HART_TRAP_T0);
static_assert(offsetof(HartHead, user_ksp) == HART_USER_KSP);
static_assert(offsetof(HartHead, trap_sum) == HART_TRAP_SUM);
static_assert(offsetof(HartHead, trap_t2) == HART_TRAP_T2);
static_assert(offsetof(HartHead, lock_ranks) == HART_LOCK_RANKS);
static_assert(sizeof(HartHead) == HART_HEAD_SIZE);

inline HartHead* tp_head() {
    HartHead* h;
    asm volatile("mv %0, tp" : "=r"(h));
    return h;
}

inline std::uintptr_t read_tp() {
    std::uintptr_t v;
    asm volatile("mv %0, tp" : "=r"(v));
    return v;
}

inline void write_tp(std::uintptr_t v) {
    asm volatile("mv tp, %0" ::"r"(v) : "memory");
}

inline std::uintptr_t read_sp() {
    std::uintptr_t v;
    asm volatile("mv %0, sp" : "=r"(v));
    return v;
}

} // namespace hal
