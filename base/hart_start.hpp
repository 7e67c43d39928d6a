// One hart started or stopped through SBI HSM, each wait bounded (5 s); the per-hart states
// it moves are base/percpu.hpp's. Used by the boot (kernel/smp.cpp) and by hot-plug (sched).
#pragma once

#include <cstdint>

namespace k::smp {

// Starts the assigned cpu `cpu` (its block prepared, state Starting set here) and waits for it
// to publish Online. nullptr when it did, else the reason it did not (it is then Offline).
// A hart that came up at _start instead of its start address is started again, once.
const char* start_cpu(std::uint32_t cpu);

// Bring one already-assigned cpu back (after an HSM stop). Returns true when it
// is Online (taking work) within the bound.
bool restart_cpu(std::uint32_t cpu);

// The joining hart's last step: Joining -> Online. False when the boot hart
// declared it offline first (it must then stop).
[[nodiscard]] bool publish_online(std::uint32_t cpu);

// kfault=early-online: publishes Online at once and waits 20 ms before the
// hart sets anything up (the bug publish_online's ordering prevents).
void inject_early_online(std::uint32_t cpu);

// kfault=late-arrival, on the last secondary: before its Starting -> Joining claim, waits
// until the boot hart has claimed Starting -> Offline (its arrival bound, 5 s, ran out), at
// most twice that bound. kfault=late-join: the same between that claim and joining the
// scheduler, until the boot hart's Joining -> Offline claim. Both sleep in wfi on the timer.
// The hart then makes its own claim, which must lose (RFC-0022 "Publish last").
void inject_late_arrival(std::uint32_t cpu);
void inject_late_join(std::uint32_t cpu);

// A stopping hart cannot say it has stopped: whoever sees the firmware report
// it stopped publishes Stopping -> Offline. True when the cpu is Offline.
bool confirm_stopped(std::uint32_t cpu);

} // namespace k::smp
