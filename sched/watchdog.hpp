// A progress watchdog polled from every hart's tick: a stalled selftest or
// boot step ends in KPANIC with a scheduler dump, never a silent hang.
#pragma once

#include <cstdint>

namespace k::watchdog {

// The longest bound the watchdog accepts (µs); 0 or anything larger means this.
inline constexpr std::uint64_t kMaxBoundUs = 600'000'000;

// Expect `what` to finish within `timeout_us` (1 .. kMaxBoundUs µs); re-arming
// replaces the bound. It fires from the first timer interrupt on any hart
// after the bound (time::arm never arms more than kMaxArmAheadUs ahead).
void arm(const char* what, std::uint64_t timeout_us);
void disarm();
// Called from the timer tick of any hart.
void poll();

} // namespace k::watchdog
