// A one-shot event with a single waiter: the sleep/wake protocol in its
// smallest form (publish Blocked under the lock the waker takes, then switch).
#pragma once

#include "base/spin_lock.hpp"
#include "base/wake_condition.hpp"
#include "sched/scheduler.hpp"
#include "sched/signal_wake.hpp"

#include <atomic>

namespace sched {

class Event final {
  public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    // Blocks the calling task until signal(); returns at once if already signalled.
    void wait();
    // Sets the event and wakes the waiter, if any, on `cpu` (kAnyCpu: where it
    // ran). Says what it found (sched/signal_wake.hpp).
    using Signalled = sched::Signalled;
    Signalled signal(std::uint32_t cpu = kAnyCpu);
    Task* waiter() const { return waiter_.racy(); } // diagnostics
    bool signalled() const { return signalled_.racy() != 0; }

  private:
    // The sleeper publishes Blocked while holding lock_, and the waker reads
    // the waiter while holding it: either the waker finds a Blocked waiter
    // or the sleeper finds the event set. (A lock-free seq_cst version, a
    // store-buffering pair, lost a wake-up under QEMU MTTCG; see RFC-0021.)
    k::SpinLock lock_{"event"};
    k::SleeperSlot<Task*> waiter_{lock_, nullptr};
    k::WakeCondition<std::uint32_t, Task*> signalled_{waiter_, 0};
};

} // namespace sched
