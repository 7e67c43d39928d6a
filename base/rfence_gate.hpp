// No SBI RFENCE in flight to a hart while it stops (RFC-0032 "The fuzzer and hart control").
// OpenSBI 1.1 (Debian bookworm's) can lose a fence queued to a hart that enters hart_stop before
// it served it: the sender then waits in the firmware for ever, with the space's lock held.
// A sender counts itself in flight on each target cpu (begin/end); a leaving hart first closes
// its gate and waits until nothing is in flight to it (quiesce), then stops. A sender that finds
// the gate closed leaves that hart out: it runs no user code until it starts again, and a
// started hart flushes its whole TLB (kspace::activate_this_hart). The gate opens again before
// the hart is started (reopen), when the firmware already leaves it out of every fence.
//
// The order (all seq_cst, a Dekker pair): begin() counts, then reads the gate; quiesce()
// closes, then reads the count. Either the sender sees the gate closed, or the leaving hart
// sees the sender's count and waits until the sender's fence returned, which it does: the
// leaving hart is still started in the firmware's eyes and serves it.
#pragma once

#include "hal_cpu.hpp"

#include <atomic>
#include <cstdint>

namespace k::rfence {

// One gate per cpu: at least k::kMaxCpus (base/percpu.hpp; checked in mm/user_space.cpp, which
// sees both; this header stays portable for its host test).
inline constexpr std::uint32_t kCpus = 8;

namespace detail {
inline std::atomic<std::uint32_t> g_in_flight[kCpus];
inline std::atomic<bool> g_closed[kCpus];
} // namespace detail

// True: `cpu` may be a target, counted in flight until end(cpu). False: it is stopping.
[[nodiscard]] inline bool begin(std::uint32_t cpu) {
    detail::g_in_flight[cpu].fetch_add(1, std::memory_order_seq_cst);
    if (!detail::g_closed[cpu].load(std::memory_order_seq_cst)) return true;
    detail::g_in_flight[cpu].fetch_sub(1, std::memory_order_seq_cst);
    return false;
}

inline void end(std::uint32_t cpu) {
    detail::g_in_flight[cpu].fetch_sub(1, std::memory_order_seq_cst);
}

// The leaving hart, interrupts off, just before hart_stop: no fence to it in flight from here.
inline void quiesce(std::uint32_t cpu) {
    detail::g_closed[cpu].store(true, std::memory_order_seq_cst);
    while (detail::g_in_flight[cpu].load(std::memory_order_seq_cst) != 0)
        hal::Cpu::relax();
}

// Before `cpu` is started again (the firmware leaves a stopped or starting hart out).
inline void reopen(std::uint32_t cpu) {
    detail::g_closed[cpu].store(false, std::memory_order_seq_cst);
}

} // namespace k::rfence
