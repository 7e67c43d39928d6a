// Small helpers for kernel selftests: run a lambda as a task, bounded waits.
#pragma once

#include "kernel/time.hpp"
#include "sched/scheduler.hpp"

namespace k::selftest {

template <typename Fn>
struct Thunk {
    Fn fn;
    static void run(void* self) { static_cast<Thunk*>(self)->fn(); }
};

// Spawns fn as a task; the Thunk must outlive it (join before it goes).
template <typename Fn>
sched::Spawned spawn_fn(Thunk<Fn>& thunk, sched::SpawnOptions opts) {
    return sched::spawn(&Thunk<Fn>::run, &thunk, opts);
}

// Runs fn as a pinned task on `cpu` and waits for it. False if it could not start.
template <typename Fn>
bool run_on(std::uint32_t cpu, Fn fn, sched::Qos qos = sched::Qos::Normal) {
    Thunk<Fn> thunk{fn};
    sched::Spawned s = spawn_fn(thunk, sched::SpawnOptions{qos, cpu, true, "run_on"});
    if (s.error != sched::SpawnError::None) return false;
    (void)sched::join(s.task);
    return true;
}

// Bound for things that must happen soon but can be delayed by the host: a
// vCPU thread of an emulated hart may not run for a while. Waits end as soon
// as their condition holds, so a generous bound costs nothing when all is well.
inline constexpr std::uint64_t kEventuallyUs = 10'000'000;

// Waits for pred with wfi, yielding first so queued work on this hart runs.
template <typename Pred>
bool await(std::uint64_t timeout_us, Pred pred) {
    const std::uint64_t deadline = time::now() + time::from_us(timeout_us);
    while (!pred()) {
        if (time::now() >= deadline) return pred();
        if (sched::yield() != sched::YieldResult::Switched) {
            std::uint64_t step = time::now() + time::from_us(200);
            (void)time::wait_until(step < deadline ? step : deadline, pred);
        }
    }
    return true;
}

// A cpu other than `self` when there is one, else self.
inline std::uint32_t other_cpu(std::uint32_t self, std::uint32_t n) {
    return n > 1 ? (self + 1) % n : self;
}

} // namespace k::selftest
