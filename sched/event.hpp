// A one-shot event with a single waiter: the sleep/wake protocol in its
// smallest form (publish Blocked, re-check, then switch out).
#pragma once

#include "sched/scheduler.hpp"

#include <atomic>

namespace sched {

class Event final {
  public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    // Blocks the calling task until signal(); returns at once if already signalled.
    void wait();
    // Sets the event and wakes the waiter, if any, on `cpu` (kAnyCpu: where it ran).
    void signal(std::uint32_t cpu = kAnyCpu);
    bool signalled() const { return signalled_.load(std::memory_order_seq_cst) != 0; }

  private:
    // seq_cst on both sides: the sleeper's (waiter store, block, signalled
    // load) against the waker's (signalled store, waiter load, wake) is a
    // store-buffering pair; one total order forbids both missing each other.
    std::atomic<std::uint32_t> signalled_{0};
    std::atomic<Task*> waiter_{nullptr};
};

} // namespace sched
