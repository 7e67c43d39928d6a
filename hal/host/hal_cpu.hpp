// Host fake of the CPU HAL: one thread plays one hart.
#pragma once

#include "hal/cpu_concept.hpp"

#include <cstdint>
#include <thread>

namespace hal {

namespace host {
inline thread_local std::uint32_t cpu_id = 0;
inline thread_local std::uint32_t irq_depth = 0;
inline thread_local bool irq_on = true;
inline thread_local bool irq_saved = true;
inline thread_local std::uint32_t lock_ranks = 0;

// Tests pin a thread to a logical cpu before touching per-cpu state.
inline void set_cpu(std::uint32_t id) {
    cpu_id = id;
}
} // namespace host

struct Cpu {
    static void irq_push() {
        if (host::irq_depth++ == 0) host::irq_saved = host::irq_on;
        host::irq_on = false;
    }
    static void irq_pop() {
        if (host::irq_depth == 0) return;
        if (--host::irq_depth == 0) host::irq_on = host::irq_saved;
    }
    static bool irq_enabled() { return host::irq_on; }
    static std::uint32_t irq_depth() { return host::irq_depth; }
    static void relax() { std::this_thread::yield(); }
    static std::uint32_t id() { return host::cpu_id; }
    static std::uint32_t lock_id() { return host::cpu_id; }
    static std::uint32_t& lock_ranks() { return host::lock_ranks; }
};

static_assert(CpuHal<Cpu>);

} // namespace hal
