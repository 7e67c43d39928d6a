// Small helpers for kernel selftests: run a lambda as a task, a scope that
// outlives every task a test spawned, bounded waits, the online harts.
#pragma once

#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "sched/scheduler.hpp"
#include "sched/task_pool.hpp"

namespace k::selftest {

template <typename Fn>
struct Thunk {
    Fn fn;
    static void run(void* self) { static_cast<Thunk*>(self)->fn(); }
};

// Every task but the selftest task itself is back in the pool. Tasks of an
// earlier test may still be finishing their final switch-out on another hart.
inline bool pool_quiescent() {
    return sched::task_pool_free() == sched::kMaxTasks - 1;
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

// Every task a test spawns goes through one. On every return path (a failed
// KCHECK included) its destructor first runs the release hook, so that tasks
// waiting on the test can finish, then joins every task it spawned: no test
// returns while its tasks can still touch its frame. Declare it after all
// the data and thunks those tasks use (it is then destroyed first).
class TaskScope final {
  public:
    static constexpr std::uint32_t kMaxTasks = 64;

    TaskScope() = default;
    // `release` must make every spawned task able to finish; it may run more
    // than once (the normal path usually releases by itself first).
    template <typename Fn>
    explicit TaskScope(Fn& release) : release_(&call<Fn>), release_arg_(&release) {}
    ~TaskScope() { join_all(); }
    TaskScope(const TaskScope&) = delete;
    TaskScope& operator=(const TaskScope&) = delete;

    // NoMemory when the scope is full (nothing was spawned then).
    sched::Spawned spawn(sched::TaskEntry entry, void* arg, const sched::SpawnOptions& opts) {
        if (count_ == kMaxTasks) return sched::Spawned{sched::SpawnError::NoMemory, {}};
        sched::Spawned s = sched::spawn(entry, arg, opts);
        if (s.error == sched::SpawnError::None) tasks_[count_++] = s.task;
        return s;
    }
    template <typename Fn>
    sched::Spawned spawn(Thunk<Fn>& thunk, const sched::SpawnOptions& opts) {
        return spawn(&Thunk<Fn>::run, &thunk, opts);
    }

    // Releases and joins every task spawned so far.
    void join_all() {
        if (release_) release_(release_arg_);
        const bool done = await(kEventuallyUs, [this] {
            for (std::uint32_t i = 0; i < count_; ++i)
                if (tasks_[i]->state.state() != sched::TaskState::Exited) return false;
            return true;
        });
        if (!done) {
            // Not a verdict (the test's own marker is that): say who holds the
            // frame, then keep waiting; the watchdog bounds the whole test.
            println("KLOG: selftest: a spawned task is still running ", kEventuallyUs / 1000,
                    " ms after its test ended; waiting for it");
            sched::dump_tasks();
        }
        for (std::uint32_t i = 0; i < count_; ++i) {
            (void)sched::join(tasks_[i]);
            tasks_[i].reset();
        }
        count_ = 0;
    }

  private:
    template <typename Fn>
    static void call(void* fn) {
        (*static_cast<Fn*>(fn))();
    }

    void (*release_)(void*) = nullptr;
    void* release_arg_ = nullptr;
    sched::TaskRef tasks_[kMaxTasks];
    std::uint32_t count_ = 0;
};

// Spins (no yield, no wfi) until the tick preempts the calling task or
// `us` µs pass; true when it was preempted. The storm's and torture's
// "spin into preemption" step.
inline bool spin_until_preempted(std::uint64_t us) {
    sched::Task* me = sched::current();
    const std::uint64_t before = me->preempts.load(std::memory_order_relaxed);
    const std::uint64_t end = time::now() + time::from_us(us);
    while (time::now() < end && me->preempts.load(std::memory_order_relaxed) == before) {
    }
    return me->preempts.load(std::memory_order_relaxed) != before;
}

// Runs fn as a pinned task on `cpu` and waits for it. False if it could not start.
template <typename Fn>
bool run_on(std::uint32_t cpu, Fn fn, sched::Qos qos = sched::Qos::Normal) {
    Thunk<Fn> thunk{fn};
    TaskScope scope;
    return scope.spawn(thunk, sched::SpawnOptions{qos, cpu, true, "run_on"}).error ==
           sched::SpawnError::None;
}

// The harts online when it was taken, in index order. Selftests work over
// these: a hart the DTB lists but that never came up is not among them.
struct OnlineCpus {
    std::uint32_t cpu[kMaxCpus] = {};
    std::uint32_t count = 0;

    // The i-th online cpu, wrapping.
    std::uint32_t at(std::uint32_t i) const { return cpu[i % count]; }
    // The online cpu after `self` (wrapping); self when it is the only one.
    std::uint32_t after(std::uint32_t self) const {
        for (std::uint32_t i = 0; i < count; ++i)
            if (cpu[i] > self) return cpu[i];
        return cpu[0] != self ? cpu[0] : self;
    }
    // The lowest and highest online cpu other than the boot cpu (0 if none).
    std::uint32_t first_secondary() const { return count > 1 ? cpu[1] : 0; }
    std::uint32_t last_secondary() const { return count > 1 ? cpu[count - 1] : 0; }
};

inline OnlineCpus online_cpus() {
    OnlineCpus on;
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        if (cpu_online(c)) on.cpu[on.count++] = c;
    return on;
}

// Steal limits of every hart at Idle while it lives (only explicit moves
// then take a test's queued Normal tasks elsewhere); restored on every path.
class NoStealing final {
  public:
    NoStealing() {
        for (std::uint32_t c = 0; c < cpu_count(); ++c) {
            saved_[c] = sched::steal_limit(c);
            sched::set_steal_limit(c, sched::Qos::Idle);
        }
    }
    ~NoStealing() {
        for (std::uint32_t c = 0; c < cpu_count(); ++c)
            sched::set_steal_limit(c, saved_[c]);
    }
    NoStealing(const NoStealing&) = delete;
    NoStealing& operator=(const NoStealing&) = delete;

  private:
    sched::Qos saved_[kMaxCpus] = {};
};

} // namespace k::selftest
