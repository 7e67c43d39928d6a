// RV64 implementation of the CPU HAL (see hal/cpu_concept.hpp).
#pragma once

#include "csr.hpp"
#include "hal/cpu_concept.hpp"
#include "hart_head.hpp"

#include <cstdint>

namespace k {
std::uint32_t current_cpu(); // validated tp hint -> stack range -> BOOT
}

namespace hal {

struct Cpu {
    static void irq_push() {
        std::uint64_t old = csr::swap_clear_sstatus(csr::kSstatusSie);
        HartHead* h = tp_head();
        if (h->irq_depth++ == 0) h->irq_saved = (old & csr::kSstatusSie) ? 1u : 0u;
    }
    static void irq_pop() {
        HartHead* h = tp_head();
        if (h->irq_depth == 0) return;
        if (--h->irq_depth == 0 && h->irq_saved) csr::set_sstatus(csr::kSstatusSie);
    }
    static bool irq_enabled() { return (csr::read_sstatus() & csr::kSstatusSie) != 0; }
    static std::uint32_t irq_depth() { return tp_head()->irq_depth; }
    // Zihintpause `pause`, encoded by hand for assemblers without the extension.
    static void relax() { asm volatile(".word 0x0100000f" ::: "memory"); }
    static std::uint32_t id() { return k::current_cpu(); }
    // One load from the block tp names: what irq_push() just wrote through.
    static std::uint32_t lock_id() { return tp_head()->cpu; }
    // The ranked locks this hart holds (k::LockRank), a bit per level.
    static std::uint32_t& lock_ranks() { return tp_head()->lock_ranks; }
};

static_assert(CpuHal<Cpu>);

inline void wait_for_interrupt() {
    asm volatile("wfi" ::: "memory");
}

} // namespace hal
