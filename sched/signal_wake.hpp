// The wake that ends a signal (Event, Notification): the condition is set,
// so the waiter must not be left asleep even when the hart named is refused.
#pragma once

#include "sched/scheduler.hpp"

#include <cstdint>

namespace sched {

// What a signal found. Parked: a pinned waiter whose hart is offline waits
// there. InvalidCpu, Pinned: `cpu` was refused (offline, or not a pinned
// waiter's own hart) and the waiter was woken where it may run instead.
enum class Signalled : std::uint32_t { NoWaiter, Woken, NotBlocked, InvalidCpu, Parked, Pinned };

// Wakes a waiter seen under the signaller's lock (the caller holds a
// reference) on `cpu` (kAnyCpu: where it last ran).
Signalled wake_signalled(Task& w, std::uint32_t cpu);

} // namespace sched
