// Per-hart timer queues and the timed wait built on them (RFC-0030 "The timer queue").
//
// A timed waiter arms a TimerEntry (on its own stack) on the queue of the hart it runs on; the
// hart's timer interrupt (k::sched_timer_tick) fires every due entry: it signals the entry's
// notification with the entry's bits, under the queue's lock. The waiter, woken by that signal
// or by anything else, cancels the entry under the same lock: exactly one of the fire and the
// cancel unlinks it, and a cancel that comes second returns only after the fire's signal is
// complete, so no entry is touched once its waiter has returned.
#pragma once

#include "base/intrusive_list.hpp"
#include "sched/notification.hpp"

#include <cstdint>

namespace sched {

struct WaitKind;

struct TimerEntry {
    k::ListLink link;               // on one hart's queue; guarded by that queue's lock
    std::uint64_t deadline = 0;     // ticks of the time CSR
    Notification* target = nullptr; // signalled with `bits` when the deadline passes
    std::uint64_t bits = 0;         // non-zero
    std::uint32_t cpu = 0;          // the queue it was armed on (set by timer_arm)
};

// Arms `e` (not armed; target and bits set, deadline in ticks) on the calling hart's queue, or
// on the boot hart's when this hart is leaving (its queue is closed). The hart's timer is
// programmed for the deadline when it comes before the next tick.
void timer_arm(TimerEntry& e);
// Disarms `e`: true when it was still armed (it never fires now), false when it has fired
// (its signal is complete when this returns).
[[nodiscard]] bool timer_cancel(TimerEntry& e);

// Blocks the calling task on `n` until a signal or until `deadline` (ticks) passes, whichever
// comes first; `timer_bit` is the bit the deadline posts (a bit nothing else posts to n).
// Returns the word taken from n; it holds `timer_bit` only when the deadline has passed
// (a hart taken offline fires its entries early: the wait re-arms on the hart it runs on).
// No timer bit is left behind in n. `kind`/`object`: as Notification::wait.
std::uint64_t timed_wait(Notification& n, std::uint64_t deadline, std::uint64_t timer_bit,
                         const WaitKind* kind = nullptr, const void* object = nullptr);
// As timed_wait, for the task `me` (the caller), handing its hart to `handoff_to` at its first
// block as Notification::wait does (nullptr: none).
std::uint64_t timed_wait(Task& me, Notification& n, std::uint64_t deadline, std::uint64_t timer_bit,
                         Task* handoff_to, const WaitKind* kind, const void* object);
// A kernel task sleeps until `deadline` (ticks), blocked, costing no cpu.
void sleep_until(std::uint64_t deadline);

// The hart's own timer interrupt, interrupts masked: fires every entry due at `now` on `cpu`'s
// queue; returns the earliest deadline left there (kNoDeadline: none).
std::uint64_t timer_fire_due(std::uint32_t cpu, std::uint64_t now);
// The earliest deadline on `cpu`'s queue (kNoDeadline: none).
std::uint64_t timer_next(std::uint32_t cpu);
// Hot-plug: a leaving hart closes its queue and fires every entry on it (their waiters re-arm
// where they run); a joining hart opens its queue.
void timer_close(std::uint32_t cpu);
void timer_open(std::uint32_t cpu);

struct TimerStats {
    std::uint64_t armed, fired, cancelled, fired_early;
    std::uint32_t queued;
};
TimerStats timer_stats(std::uint32_t cpu);

} // namespace sched
