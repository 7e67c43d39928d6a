// A notification word with a single waiter: signal ORs bits in, wait takes
// them all, blocking while the word is zero (seL4's notification object
// without the capability; IPC's notifications will build on it).
#pragma once

#include "base/spin_lock.hpp"
#include "base/wake_condition.hpp"
#include "sched/scheduler.hpp"
#include "sched/signal_wake.hpp"

#include <atomic>
#include <cstdint>

namespace sched {

class Notification final {
  public:
    Notification() = default;
    Notification(const Notification&) = delete;
    Notification& operator=(const Notification&) = delete;

    // Blocks the calling task until the word is non-zero, then returns it
    // and clears it. One waiter at a time (a second one panics).
    std::uint64_t wait() { return wait(nullptr); }
    // As wait(); at its first block the hart goes straight to `handoff_to` (a task whose wake
    // the caller won, see sched::handoff), or, refused or not blocking, that task is made
    // runnable as a wake would. The IPC fast path. `kind` and `object`, when given, are the
    // wait published for the lost-wake-up monitor instead of this word alone: a wait built on
    // this one (an IPC wait) whose condition also covers its own object; its test must hold
    // whenever pending() != 0 too.
    std::uint64_t wait(Task* handoff_to, const WaitKind* kind = nullptr,
                       const void* object = nullptr) {
        return wait(*current(), handoff_to, kind, object);
    }
    // As wait(handoff_to, kind, object), for a caller that knows its own task `me` (the
    // running one; the trap handler looked it up once): no second lookup.
    std::uint64_t wait(Task& me, Task* handoff_to, const WaitKind* kind = nullptr,
                       const void* object = nullptr);
    // ORs `bits` (non-zero) into the word and wakes the waiter, if one is
    // asleep, on `cpu` (kAnyCpu: where it last ran). Says what it found
    // (sched/signal_wake.hpp).
    Signalled signal(std::uint64_t bits, std::uint32_t cpu = kAnyCpu);
    // ORs `bits` in like signal() but wakes nobody: returns the waiter seen under the lock
    // (empty if none), whose wake the caller then does itself (the IPC fast path).
    TaskRef post(std::uint64_t bits);
    // Takes `bits` out of the word without waiting (a timed wait's stale timer bit,
    // sched/timer.hpp). Call only as the notification's one waiter, outside wait().
    void clear(std::uint64_t bits);

    // Racy snapshots for diagnostics and monitors.
    std::uint64_t pending() const { return word_.racy(); }
    Task* waiter() const { return waiter_.racy(); }

  private:
    // Protocol (no lost wake-up): the sleeper publishes Blocked while holding
    // lock_, and the signaller reads the waiter while holding it, so either
    // the signaller sees a Blocked waiter and wakes it, or the sleeper sees
    // the bits before it blocks.
    k::SpinLock lock_{"notification"};
    k::SleeperSlot<Task*> waiter_{lock_, nullptr};
    k::WakeCondition<std::uint64_t, Task*> word_{waiter_, 0};
};

} // namespace sched
