// The lost-wake-up monitor: a look at every task slot every kScanUs, from the first timer
// interrupt of any hart that finds the scan due, for the whole boot. A task Blocked in one and
// the same block (sched/lost_wake.hpp) while the condition of its wait holds (its WaitKind,
// sched/wait_channel.hpp) for kGraceUs is reported and the kernel panics, naming the task and
// the wait. Every blocking primitive publishes its wait through block_on(), so every sleeper
// is covered: joiners, events, notifications, and what is built on them (IPC waits on a
// thread's completion notification, process waits on the anchor's event and join).
#pragma once

#include "sched/task.hpp"

#include <cstdint>

namespace sched::wake_monitor {

inline constexpr std::uint64_t kScanUs = 50'000;
// Longer than any waker spends between setting a condition and its wake, preempted or not,
// and than a host keeps a vCPU thread from running (selftest/util.hpp kEventuallyUs is the
// bound for that in the tests; 2 s has not been reached in any measured boot).
inline constexpr std::uint64_t kGraceUs = 2'000'000;

// On for the boot (kmain, except in bench mode, whose figures it would disturb).
void enable();
void disable();
[[nodiscard]] bool enabled();
// From the timer interrupt (k::sched_timer_tick): scans when a scan is due.
void poll();
// Scans done so far.
[[nodiscard]] std::uint64_t scans();

// A selftest's probe: while set, a finding about `task` is handed to `observer` (with how long
// the condition had held, in µs) instead of panicking; findings about other tasks still panic.
using Observer = void (*)(const Task& task, const char* wait, std::uint64_t held_us);
void set_probe(const Task* task, Observer observer);

} // namespace sched::wake_monitor
