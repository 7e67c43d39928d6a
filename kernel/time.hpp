// The `time` CSR, this hart's timer, and bounded waits that sleep in wfi.
#pragma once

#include "hal_cpu.hpp"

#include <cstdint>

namespace k::time {

void init(std::uint64_t timebase_hz, bool sstc);
std::uint64_t hz();
bool has_sstc();

inline std::uint64_t now() {
    return hal::csr::read_time();
}
std::uint64_t from_us(std::uint64_t us);
std::uint64_t to_us(std::uint64_t ticks);

// Programs this hart's timer (Sstc stimecmp, else SBI TIME).
void arm(std::uint64_t deadline);
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
        std::uint64_t step = now() + from_us(kStepUs);
        arm(step < deadline ? step : deadline);
        hal::wait_for_interrupt();
        ok = done();
    }
    arm(now());
    return ok;
}

} // namespace k::time
