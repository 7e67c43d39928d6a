// A progress watchdog polled from every hart's tick: a stalled selftest or
// boot step ends in KPANIC with a scheduler dump, never a silent hang.
#pragma once

#include <cstdint>

namespace k::watchdog {

// Expect `what` to finish within `timeout_us`; re-arming replaces the bound.
void arm(const char* what, std::uint64_t timeout_us);
void disarm();
// Called from the timer tick of any hart.
void poll();

} // namespace k::watchdog
