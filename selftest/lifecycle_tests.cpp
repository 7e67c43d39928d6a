// Task life-cycle selftests: the post-mortem's exit scenario and a churn.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "sched/event.hpp"
#include "sched/task_pool.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

constexpr std::uint32_t kExitRounds = 1000;
constexpr std::uint32_t kMaxWaiters = 3;

struct ExitRound {
    sched::TaskRef target;
    std::int64_t value = 0;
    std::atomic<std::uint32_t> resumed{0};
    std::atomic<std::uint32_t> wrong{0};
    std::atomic<std::uint32_t> cross{0}; // waiters resumed on a hart other than the target's
    std::uint32_t target_cpu = 0;
};

const char* signalled_name(sched::Signalled s) {
    switch (s) {
    case sched::Signalled::NoWaiter:
        return "no waiter";
    case sched::Signalled::Woken:
        return "woken";
    case sched::Signalled::NotBlocked:
        return "not blocked";
    case sched::Signalled::InvalidCpu:
        return "invalid cpu";
    case sched::Signalled::Parked:
        return "parked";
    case sched::Signalled::Pinned:
        return "pinned (woken on its own hart)";
    }
    return "?";
}

std::uint32_t joiners_of(sched::Task& t) {
    SpinGuard g(t.lock);
    return t.joiners.size();
}

} // namespace

KSELFTEST(LIFE0001, "exit wakes waiters") {
    // A task exits while waiters are blocked on it from other harts (the
    // crash of the seed post-mortem): every waiter must resume, on any hart,
    // exactly once, and see the exit value. 1000 rounds per boot.
    const OnlineCpus on = online_cpus();
    const std::uint32_t n = on.count;
    const std::uint32_t waiters = n > 1 ? (n - 1 < kMaxWaiters ? n - 1 : kMaxWaiters) : 2;
    std::uint64_t total_resumed = 0, total_wrong = 0, total_cross = 0, raced = 0;
    KCHECK(await(kEventuallyUs, pool_quiescent));
    for (std::uint32_t r = 0; r < kExitRounds; ++r) {
        ExitRound round;
        round.value = static_cast<std::int64_t>(r) * 7 + 1;
        round.target_cpu = on.at(r);
        std::atomic<std::uint32_t> go{0}, abandon{0};
        auto target_body = [&] {
            // Exit once every waiter is linked and asleep (or after the bound,
            // or when the round is abandoned).
            const bool all_linked = await(kEventuallyUs, [&] {
                return joiners_of(*sched::current()) == waiters || abandon.load() != 0;
            });
            go.store(all_linked && abandon.load() == 0 ? 1 : 0);
            sched::exit(round.value);
        };
        Thunk<decltype(target_body)> tt{target_body};
        auto waiter_body = [&] {
            const std::int64_t v = sched::join(round.target);
            if (v != round.value) round.wrong.fetch_add(1);
            if (sched::cpu_of_current() != round.target_cpu) round.cross.fetch_add(1);
            round.resumed.fetch_add(1);
        };
        Thunk<decltype(waiter_body)> tw{waiter_body};
        auto give_up = [&] { abandon.store(1); };
        TaskScope scope(give_up);
        sched::Spawned target =
            scope.spawn(tt, SpawnOptions{Qos::Normal, round.target_cpu, true, "exiter"});
        KCHECK(target.error == sched::SpawnError::None);
        round.target = target.task;
        sched::Spawned w[kMaxWaiters];
        for (std::uint32_t i = 0; i < waiters; ++i) {
            const std::uint32_t cpu = n > 1 ? on.at(r + 1 + i) : on.cpu[0];
            w[i] = scope.spawn(tw, SpawnOptions{Qos::Normal, cpu, true, "joiner"});
            KCHECK(w[i].error == sched::SpawnError::None);
        }
        for (std::uint32_t i = 0; i < waiters; ++i)
            (void)sched::join(w[i].task);
        KCHECK(sched::join(target.task) == round.value);
        raced += go.load();
        total_resumed += round.resumed.load();
        total_wrong += round.wrong.load();
        total_cross += round.cross.load();
        if (round.resumed.load() != waiters || round.wrong.load() != 0) break;
    }
    println("KLOG: exit scenario: rounds=", kExitRounds, " waiters/round=", waiters,
            " resumed=", total_resumed, " wrong=", total_wrong, " cross-hart=", total_cross,
            " all-linked-before-exit=", raced);
    KCHECK(total_resumed == static_cast<std::uint64_t>(kExitRounds) * waiters);
    KCHECK(total_wrong == 0);
    KCHECK(raced == kExitRounds);
    if (n > 1) KCHECK(total_cross == total_resumed);
    // Every stack came back: the last switch-out of each task may finish on
    // another hart just after its joiner resumed, so wait for it (bounded).
    if (!await(kEventuallyUs, pool_quiescent)) {
        sched::dump_tasks();
        return Result::fail("task pool did not refill after the exit rounds");
    }
    return Result::pass();
}

KSELFTEST(LIFE0002, "task churn") {
    // 512 tasks in waves of 64: created across harts, some yield, each sleeps
    // on an event and is woken towards the next hart (migration), all exit.
    // Each body must run exactly once; the pool must refill.
    constexpr std::uint32_t kTasks = 512, kMaxWave = 64;
    const OnlineCpus on = online_cpus();
    const std::uint32_t n = on.count;
    // At most 8 per class per hart in flight: well inside the run-queue bound,
    // so that this test measures churn, not saturation (that has its own test).
    const std::uint32_t wave = 16 * n < kMaxWave ? 16 * n : kMaxWave;
    KCHECK(await(kEventuallyUs, pool_quiescent));
    const std::uint32_t free_before = sched::task_pool_free();
    static std::atomic<std::uint32_t> ran[kTasks];
    static sched::Event events[kMaxWave];
    for (auto& r : ran)
        r.store(0);
    std::uint64_t migrated = 0;
    std::atomic<std::uint32_t> moved{0};
    for (std::uint32_t base = 0; base < kTasks; base += wave) {
        for (auto& e : events)
            new (&e) sched::Event();
        struct Arg {
            std::uint32_t index;
            std::atomic<std::uint32_t>* moved;
            std::uint32_t wave;
        } args[kMaxWave];
        sched::Spawned tasks[kMaxWave];
        auto release = [&] {
            for (auto& e : events)
                (void)e.signal();
        };
        TaskScope scope(release);
        for (std::uint32_t i = 0; i < wave; ++i) {
            args[i] = Arg{base + i, &moved, wave};
            const std::uint32_t cpu = on.at(base + i);
            tasks[i] = scope.spawn(
                [](void* p) {
                    auto* a = static_cast<Arg*>(p);
                    const std::uint32_t before = sched::cpu_of_current();
                    for (std::uint32_t y = 0; y < a->index % 3; ++y)
                        (void)sched::yield();
                    events[a->index % a->wave].wait();
                    if (sched::cpu_of_current() != before) a->moved->fetch_add(1);
                    ran[a->index].fetch_add(1);
                },
                // Normal and Interactive only: this hart's share must be able to
                // run while we wait below (an Idle task never outranks us).
                &args[i], SpawnOptions{static_cast<Qos>(1 + i % 2), cpu, false, "churn"});
            KCHECK(tasks[i].error == sched::SpawnError::None);
        }
        // Wake only sleepers, so that every wake is a real cross-hart move.
        KCHECK(await(kEventuallyUs, [&] {
            for (std::uint32_t i = 0; i < wave; ++i) {
                const sched::Spawned& t = tasks[i];
                if (t.task->state.state() != sched::TaskState::Blocked ||
                    t.task->on_cpu.load() != 0)
                    return false;
            }
            return true;
        }));
        for (std::uint32_t i = 0; i < wave; ++i)
            (void)events[i].signal(on.at(base + i + 1));
        for (std::uint32_t i = 0; i < wave; ++i)
            (void)sched::join(tasks[i].task);
    }
    migrated = moved.load();
    std::uint32_t wrong = 0;
    for (auto& r : ran)
        wrong += r.load() == 1 ? 0 : 1;
    const bool refilled = await(kEventuallyUs, pool_quiescent);
    println("KLOG: churn: tasks=", kTasks, " ran-once=", kTasks - wrong, " migrated=", migrated,
            " pool free before=", free_before, " after=", sched::task_pool_free(),
            " reclaimed total=", sched::task_pool_reclaimed());
    KCHECK(wrong == 0);
    KCHECK(refilled);
    if (n > 1) KCHECK(migrated > 0);

    // The pool's bound (RFC-0021 "Task API"): spawn pinned Idle tasks on this hart, masked so
    // that none of them runs meanwhile, until spawn says NoMemory: that happens exactly when
    // every free slot is in use, and changes nothing; then each runs once and the pool refills.
    // Raw, each with a reference counted by hand (a static TaskRef array would need atexit).
    static sched::Task* fill[sched::kMaxTasks];
    static std::atomic<std::uint32_t> fill_ran{0};
    fill_ran.store(0);
    const std::uint32_t self = sched::cpu_of_current();
    const std::uint32_t free_now = sched::task_pool_free();
    std::uint32_t filled = 0;
    sched::SpawnError refused = sched::SpawnError::None;
    hal::Cpu::irq_push();
    while (filled < sched::kMaxTasks) {
        sched::Spawned f = sched::spawn([](void*) { fill_ran.fetch_add(1); }, nullptr,
                                        SpawnOptions{Qos::Idle, self, true, "fill"});
        refused = f.error;
        if (refused != sched::SpawnError::None) break;
        f.task->refs.fetch_add(1, std::memory_order_relaxed); // adopted below
        fill[filled++] = f.task.get();
    }
    const std::uint32_t free_at_refusal = sched::task_pool_free();
    hal::Cpu::irq_pop();
    for (std::uint32_t i = 0; i < filled; ++i) {
        const sched::TaskRef ref = sched::TaskRef::adopt(fill[i]);
        (void)sched::join(ref);
        fill[i] = nullptr;
    }
    const bool refilled_again = await(kEventuallyUs, pool_quiescent);
    println("KLOG: churn: pool bound: ", filled, " spawns of ", free_now,
            " free slots, then NoMemory=", refused == sched::SpawnError::NoMemory,
            " with free=", free_at_refusal, ", ran once=", fill_ran.load(),
            ", refilled=", refilled_again);
    KCHECK(refused == sched::SpawnError::NoMemory);
    KCHECK(filled == free_now && free_at_refusal == 0);
    KCHECK(fill_ran.load() == filled);
    KCHECK(refilled_again);
    return Result::pass();
}

KSELFTEST(LIFE0003, "join survives stale wake") {
    // A joiner woken by someone other than the exiting task (a stale or
    // spurious wake) must go back to sleep, not return early; exit then
    // releases it with the right value. The same for the target asleep in
    // Event::wait (RFC-0021 Invariant 8). Also the refusals of wake() that
    // change nothing: a cpu out of range (InvalidCpu) and, at SMP >= 2, a
    // cpu other than a pinned task's own (Pinned); Event::signal to that
    // other cpu still wakes the pinned waiter, on its own hart.
    const OnlineCpus on = online_cpus();
    const std::uint32_t target_cpu = on.at(1), other = on.after(target_cpu);
    sched::Event go;
    sched::Spawned target, joiner;
    std::atomic<std::uint32_t> past_wait{0}, resumed_on{~0u};
    auto target_body = [&] {
        go.wait();
        resumed_on.store(sched::cpu_of_current());
        past_wait.store(1);
        sched::exit(42);
    };
    Thunk<decltype(target_body)> tt{target_body};
    std::atomic<std::int64_t> got{-1};
    std::atomic<std::uint32_t> early{0};
    auto joiner_body = [&] {
        const std::int64_t v = sched::join(target.task);
        if (target.task->state.state() != sched::TaskState::Exited) early.store(1);
        got.store(v);
    };
    Thunk<decltype(joiner_body)> tj{joiner_body};
    auto release = [&] { (void)go.signal(); };
    TaskScope scope(release);
    target = scope.spawn(tt, SpawnOptions{Qos::Normal, target_cpu, true, "target"});
    KCHECK(target.error == sched::SpawnError::None);
    sched::Task& tg = *target.task;
    auto asleep_in_event = [&] {
        return tg.state.state() == sched::TaskState::Blocked &&
               tg.state.reason() == sched::BlockReason::Event && tg.on_cpu.load() == 0;
    };
    constexpr std::uint32_t kStale = 5;
    std::uint32_t event_woken = 0;
    for (std::uint32_t i = 0; i < kStale; ++i) {
        KCHECK(await(kEventuallyUs, asleep_in_event));
        event_woken += sched::wake(tg) == sched::WakeResult::Woken ? 1 : 0; // go is not set
    }
    KCHECK(await(kEventuallyUs, asleep_in_event)); // back to sleep, every time
    KCHECK(past_wait.load() == 0);
    // Refused before the state word changes: still asleep in the same wait.
    KCHECK(sched::wake(tg, cpu_count()) == sched::WakeResult::InvalidCpu);
    KCHECK(asleep_in_event());
    if (other != target_cpu) {
        KCHECK(sched::wake(tg, other) == sched::WakeResult::Pinned);
        KCHECK(asleep_in_event());
    }
    joiner =
        scope.spawn(tj, SpawnOptions{Qos::Normal, on.count > 2 ? on.at(2) : 0u, true, "joiner"});
    KCHECK(joiner.error == sched::SpawnError::None);
    sched::Task& j = *joiner.task;
    auto asleep_in_join = [&] {
        return j.state.state() == sched::TaskState::Blocked &&
               j.state.reason() == sched::BlockReason::Join && j.on_cpu.load() == 0;
    };
    std::uint32_t woken = 0;
    for (std::uint32_t i = 0; i < kStale; ++i) {
        KCHECK(await(kEventuallyUs, asleep_in_join));
        woken += sched::wake(j) == sched::WakeResult::Woken ? 1 : 0; // nobody exited
    }
    KCHECK(await(kEventuallyUs, asleep_in_join)); // it went back to sleep
    KCHECK(sched::wake(j, cpu_count()) == sched::WakeResult::InvalidCpu);
    KCHECK(asleep_in_join());
    const std::int64_t before_exit = got.load();
    // To another hart than the target's own: refused as Pinned, then woken where it may run.
    const sched::Event::Signalled sig = go.signal(other);
    (void)sched::join(joiner.task);
    (void)sched::join(target.task);
    println("KLOG: stale wake: ", event_woken, " stale wakes of an event sleeper and ", woken,
            " of a joiner, each slept again; the joiner returned only after exit with ", got.load(),
            "; signal to cpu", other, " of a waiter pinned to cpu", target_cpu, ": ",
            signalled_name(sig), ", it resumed on cpu", resumed_on.load());
    KCHECK(event_woken == kStale);
    KCHECK(woken == kStale);
    KCHECK(before_exit == -1);
    KCHECK(got.load() == 42 && early.load() == 0);
    KCHECK(resumed_on.load() == target_cpu);
    KCHECK(sig == (other != target_cpu ? sched::Event::Signalled::Pinned
                                       : sched::Event::Signalled::Woken));
    return Result::pass();
}

} // namespace k::selftest
