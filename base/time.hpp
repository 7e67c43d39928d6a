// The `time` CSR, this hart's timer, and bounded waits that sleep in wfi.
#pragma once

#include "base/time_math.hpp"
#include "hal_cpu.hpp"

#include <cstdint>

namespace k::time {

// Boot hart, once, before any conversion: the timebase in Hz. A value outside
// kMinTimebaseHz..kMaxTimebaseHz is refused (the 10 MHz default stays); returns
// the frequency in use.
std::uint64_t init(std::uint64_t timebase_hz);
std::uint64_t hz();

// Which timer this hart programs.
enum class [[nodiscard]] TimerSource : std::uint32_t{
    Sstc,          // stimecmp, probed on this hart
    SbiNotListed,  // SBI TIME: riscv,isa does not list sstc for this hart
    SbiProbeFault, // SBI TIME: listed, but stimecmp traps (firmware left menvcfg.STCE off)
};
// Each hart, once, after its trap vector is installed and before it arms its
// timer: probes stimecmp with a trap-protected write when the DTB lists Sstc.
TimerSource init_this_hart(bool isa_lists_sstc);
bool this_hart_has_sstc();
// What init_this_hart() found on `cpu` (read after the cpu went Online).
TimerSource source_on(std::uint32_t cpu);
const char* source_name(TimerSource s);

inline std::uint64_t now() {
    return hal::csr::read_time();
}
// Overflow-safe conversions at the boot timebase (see time_math.hpp), in µs and ticks.
std::uint64_t from_us(std::uint64_t us);
std::uint64_t to_us(std::uint64_t ticks);
// now() + from_us(us), saturating: a deadline `us` µs from now.
std::uint64_t deadline_in_us(std::uint64_t us);

// Programs this hart's timer (Sstc stimecmp, else SBI TIME) for `deadline`
// (ticks), clamped to at most kMaxArmAheadUs ahead.
void arm(std::uint64_t deadline);
// No timer interrupt at all: only for a hart about to leave (HSM stop).
void disarm();

// Waits until done() or the deadline, sleeping in wfi with the timer armed
// (never a loop-iteration budget). Interrupts may stay masked: wfi wakes on
// a pending interrupt. Returns done(). Leaves the timer firing soon so the
// scheduler tick re-arms itself.
template <typename Done>
bool wait_until(std::uint64_t deadline, Done done) {
    constexpr std::uint64_t kStepUs = 500;
    hal::csr::set_sie(hal::csr::kIntTimer | hal::csr::kIntSoft);
    bool ok = done();
    while (!ok && now() < deadline) {
        std::uint64_t step = deadline_in_us(kStepUs);
        arm(step < deadline ? step : deadline);
        hal::wait_for_interrupt();
        ok = done();
    }
    arm(now());
    return ok;
}

} // namespace k::time
