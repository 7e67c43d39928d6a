// The per-hart block: the asm-visible head first, so tp points at both.
#pragma once

#include "base/cpu_id.hpp"
#include "base/stack_guard.hpp"
#include "hart_head.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace k {

inline constexpr std::uint32_t kMaxCpus = 8;

// Each state is published only once what it promises is true:
// Starting: the boot hart asked the firmware to start it;
// Joining: the hart runs on its block (claimed by the hart) but takes no work;
// Online: it takes work: inbox open, offline request cleared, IPI chain
//   reset, tick armed, interrupts on (published last by the hart itself);
// Stopping: it left the scheduler and is on its way into the HSM stop;
// Offline: stopped (published by whoever saw HSM report it stopped), or it
//   never arrived. Appended values keep the KDUMP numbers stable.
enum class CpuState : std::uint32_t { Absent, Starting, Online, Offline, Joining, Stopping };

// Blocks are kPerCpuStride bytes apart, a power of two, so the hot path turns
// a tp hint into an index with a subtraction, a mask and a shift.
inline constexpr std::size_t kPerCpuStride = 256;

struct alignas(kPerCpuStride) PerCpu {
    hal::HartHead head{}; // must stay first: tp == &head == this
    std::atomic<std::uint32_t> state{static_cast<std::uint32_t>(CpuState::Absent)};
    std::uintptr_t boot_stack_lo = 0; // this hart's boot/idle stack
    std::uintptr_t boot_stack_hi = 0;
    std::atomic<std::uint64_t> cpuid_fallbacks{0}; // tp hint rejected on this hart
    bool timer_sstc = false;        // this hart programs stimecmp (probed), else SBI TIME
    bool timer_probed = false;      // time::init_this_hart() ran on this hart
    std::uint32_t timer_source = 0; // its time::TimerSource, written before going Online
};

static_assert(__builtin_offsetof(PerCpu, head) == 0, "tp points at the head and the block");
static_assert(sizeof(PerCpu) == kPerCpuStride, "blocks are one stride apart");
static_assert((kPerCpuStride & (kPerCpuStride - 1)) == 0, "the stride is a power of two");

PerCpu& cpu_block(std::uint32_t cpu);
std::uint32_t current_cpu(); // validated tp hint -> stack range -> BOOT; fallbacks counted
// The same, for a caller that has interrupts masked already (the switch
// path): no SIE save and restore of its own. Panics if interrupts are on.
std::uint32_t current_cpu_masked();
// The same resolution for given tp/sp values, without counting (selftests).
k::CpuIdResult cpu_id_probe(std::uintptr_t tp, std::uintptr_t sp);

// Cpus with a block assigned (online or not), and the online ones.
std::uint32_t cpu_count();
bool cpu_online(std::uint32_t cpu);
std::uint32_t online_count();
std::uint64_t cpuid_fallback_total();

// Boot-time setup of a block, its stacks and tp (for the calling hart).
void percpu_prepare(std::uint32_t cpu, std::uint32_t hart_id);
void percpu_install(std::uint32_t cpu);
// The guard page below every boot/idle stack (left unmapped by the kernel's address space).
GuardPages cpu_stack_guard_pages();
void set_cpu_count(std::uint32_t n);
void set_cpu_state(std::uint32_t cpu, CpuState s);
CpuState cpu_state(std::uint32_t cpu);
// from -> to if the state still is `from`; exactly one of two racing claims wins.
[[nodiscard]] bool claim_cpu_state(std::uint32_t cpu, CpuState from, CpuState to);

// Points this hart's stack bounds at the stack it is about to run on.
inline void set_running_stack(std::uintptr_t lo, std::uintptr_t hi) {
    hal::HartHead* h = hal::tp_head();
    h->stack_lo = lo;
    h->stack_hi = hi;
}

} // namespace k
