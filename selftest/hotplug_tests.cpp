// Hot-plug selftests: what pinned tasks do while their hart is offline (SMP only).
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/event.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

// Where a pinned task ran: every run must be on its own hart.
struct Runs {
    std::uint32_t home = 0;
    std::atomic<std::uint32_t> ran{0};
    std::atomic<std::uint32_t> away{0}; // runs on another hart
    void note() {
        if (sched::cpu_of_current() != home) away.fetch_add(1);
        ran.fetch_add(1);
    }
    static void run(void* self) { static_cast<Runs*>(self)->note(); }
};

// Takes one hart offline from inside make_runnable(), at the jitter site just before a
// pinned task's push (Site::Wake), for the one spawn whose argument is `arg`: that spawn
// passed its check while the hart was online and meets its inbox closed. The hook found
// when ours went in is chained; it is put back when the hold goes.
struct CloseAtPush {
    std::atomic<const void*> arg{nullptr}; // one shot: cleared by the push it closes
    std::uint32_t cpu = 0;
    std::atomic<std::uint32_t> fired{0};
    sched::Hotplug off = sched::Hotplug::Timeout; // take_offline's answer, once fired
    jitter::Hook chained = nullptr;
};
CloseAtPush g_close;

void close_at_push_hook(jitter::Site s, const void* subject) {
    if (g_close.chained) g_close.chained(s, subject);
    if (s != jitter::Site::Wake || !subject) return;
    const void* want = static_cast<const sched::Task*>(subject)->arg;
    if (!want || !g_close.arg.compare_exchange_strong(want, nullptr)) return;
    g_close.off = sched::take_offline(g_close.cpu);
    g_close.fired.store(1);
}

class CloseAtPushHold final {
  public:
    CloseAtPushHold(std::uint32_t cpu, const void* arg) {
        g_close.cpu = cpu;
        g_close.fired.store(0);
        g_close.off = sched::Hotplug::Timeout;
        g_close.chained = jitter::g_hook.load();
        g_close.arg.store(arg);
        jitter::g_hook.store(&close_at_push_hook);
    }
    ~CloseAtPushHold() {
        g_close.arg.store(nullptr);
        jitter::g_hook.store(g_close.chained);
    }
    CloseAtPushHold(const CloseAtPushHold&) = delete;
    CloseAtPushHold& operator=(const CloseAtPushHold&) = delete;
};

} // namespace

KSELFTEST(HOT0001, "pinned tasks wait for their hart") {
    // A pinned task is never moved. Take its hart offline while one pinned
    // task runs there (a spinning blocker), some are queued behind it and one
    // sleeps: none runs anywhere while the hart is away; they wait, parked
    // in its closed inbox. A wake meanwhile parks the sleeper too, and a new
    // pinned spawn there is refused. Bring the hart back: each runs there,
    // exactly once. Last, a pinned spawn whose hart goes offline between
    // spawn's check and its push is refused and freed, and never runs.
    constexpr std::uint32_t kQueued = 4;
    const std::uint32_t x = online_cpus().last_secondary();
    KCHECK(x != 0);
    Runs queued[kQueued], sleeper, blocker;
    for (auto& q : queued)
        q.home = x;
    sleeper.home = blocker.home = x;
    std::atomic<std::uint32_t> blocker_started{0}, release{0};
    sched::Event wakeup;
    auto blocker_body = [&] {
        blocker_started.store(1);
        while (!release.load()) {
            if (sched::cpu_of_current() != x) blocker.away.store(1);
            hal::Cpu::relax();
        }
        blocker.note();
    };
    auto sleeper_body = [&] {
        wakeup.wait();
        sleeper.note();
    };
    Thunk<decltype(blocker_body)> tb{blocker_body};
    Thunk<decltype(sleeper_body)> ts{sleeper_body};
    auto let_go = [&] {
        release.store(1);
        (void)wakeup.signal();
        if (!cpu_online(x)) (void)sched::bring_online(x);
    };
    TaskScope scope(let_go);

    sched::Spawned s = scope.spawn(ts, SpawnOptions{Qos::Normal, x, true, "sleeper"});
    KCHECK(s.error == sched::SpawnError::None);
    auto sleeping = [&] {
        return s.task->state.state() == sched::TaskState::Blocked && s.task->on_cpu.load() == 0;
    };
    KCHECK(await(kEventuallyUs, sleeping));

    // A hart with an offline request is not a target (RFC-0021 "Task API", RFC-0022 "Hart
    // offline and online"): with x held masked, so that it cannot act on the request, spawn
    // and wake to it are refused (InvalidCpu) and the sleeper stays asleep; the request is
    // then withdrawn as a timed-out take_offline withdraws it.
    std::atomic<std::uint32_t> held{0}, let_held_go{0};
    auto hold_body = [&] {
        hal::Cpu::irq_push();
        held.store(1);
        while (!let_held_go.load())
            hal::Cpu::relax();
        hal::Cpu::irq_pop();
    };
    Thunk<decltype(hold_body)> th{hold_body};
    sched::detail::CpuSched& xs = sched::detail::cpu_sched(x);
    auto unhold = [&] { // on every path: no request left behind, the hold let go
        std::uint32_t asked = sched::detail::kOfflineAsked;
        (void)xs.offline_req.compare_exchange_strong(asked, 0);
        let_held_go.store(1);
    };
    std::uint32_t withdrawn = 0, req_after = ~0u;
    sched::Hotplug timed = sched::Hotplug::Ok;
    sched::SpawnError spawn_req = sched::SpawnError::None, pinned_req = sched::SpawnError::None;
    sched::WakeResult wake_req = sched::WakeResult::Woken;
    {
        TaskScope hold_scope(unhold);
        KCHECK(hold_scope.spawn(th, SpawnOptions{Qos::PerfBurst, x, true, "hold"}).error ==
               sched::SpawnError::None);
        KCHECK(await(kEventuallyUs, [&] { return held.load() != 0; }));
        xs.offline_req.store(sched::detail::kOfflineAsked);
        TaskScope req_scope;
        spawn_req =
            req_scope.spawn(&Runs::run, &sleeper, SpawnOptions{Qos::Normal, x, false, "req"}).error;
        pinned_req =
            req_scope.spawn(&Runs::run, &sleeper, SpawnOptions{Qos::Normal, x, true, "req"}).error;
        wake_req = sched::wake(*s.task, x);
        std::uint32_t asked = sched::detail::kOfflineAsked;
        withdrawn = xs.offline_req.compare_exchange_strong(asked, 0) ? 1 : 0;
        // take_offline waits at most its bound (RFC-0022 "Hart offline and online"): x,
        // held masked, cannot act on the request in 50 ms, so it is withdrawn and x runs on.
        timed = sched::take_offline(x, 50'000);
        req_after = xs.offline_req.load();
        let_held_go.store(1);
    }
    KCHECK(withdrawn == 1);
    KCHECK(spawn_req == sched::SpawnError::InvalidCpu &&
           pinned_req == sched::SpawnError::InvalidCpu);
    KCHECK(wake_req == sched::WakeResult::InvalidCpu);
    KCHECK(sleeping() && sleeper.ran.load() == 0);
    KCHECK(timed == sched::Hotplug::Timeout && req_after == 0);

    // Refusals of take_offline and bring_online that change nothing (RFC-0022 "Hart offline
    // and online"): the boot cpu never goes offline, a cpu out of range is invalid, and only
    // an Offline hart is brought online.
    KCHECK(sched::take_offline(0) == sched::Hotplug::BootCpu);
    KCHECK(sched::take_offline(cpu_count()) == sched::Hotplug::InvalidCpu);
    KCHECK(sched::bring_online(cpu_count()) == sched::Hotplug::InvalidCpu);
    KCHECK(sched::bring_online(x) == sched::Hotplug::NotOnline);
    KCHECK(cpu_online(x) && run_on(x, [] {}));
    sched::Spawned b = scope.spawn(tb, SpawnOptions{Qos::PerfBurst, x, true, "blocker"});
    KCHECK(b.error == sched::SpawnError::None);
    KCHECK(await(kEventuallyUs, [&] { return blocker_started.load() != 0; }));
    for (auto& q : queued)
        KCHECK(scope.spawn(&Runs::run, &q, SpawnOptions{Qos::Normal, x, true, "queued"}).error ==
               sched::SpawnError::None);

    const sched::Hotplug off = sched::take_offline(x);
    const sched::Hotplug off_again = sched::take_offline(x); // not online: refused
    const sched::Event::Signalled woke = wakeup.signal();
    TaskScope refused_scope;
    const sched::SpawnError refused =
        refused_scope.spawn(&Runs::run, &sleeper, SpawnOptions{Qos::Normal, x, true, "late"}).error;
    // Sampled while the hart is offline: nothing ran, everything waits there.
    std::uint32_t ran_while_off = blocker.ran.load() + sleeper.ran.load();
    for (auto& q : queued)
        ran_while_off += q.ran.load();
    const sched::CpuStats st = sched::stats(x);
    const sched::Hotplug on = sched::bring_online(x);
    release.store(1);
    scope.join_all();
    std::uint32_t once = 0, away = blocker.away.load() + sleeper.away.load();
    once += blocker.ran.load() == 1 ? 1 : 0;
    once += sleeper.ran.load() == 1 ? 1 : 0;
    for (auto& q : queued) {
        once += q.ran.load() == 1 ? 1 : 0;
        away += q.away.load();
    }
    println("KLOG: pinned on cpu", x, ": offline=", sched::hotplug_name(off),
            ", parked in its inbox ", st.inbox, ", ran while offline=", ran_while_off,
            ", wake while offline parked=", woke == sched::Event::Signalled::Parked,
            ", spawn refused=", refused == sched::SpawnError::InvalidCpu,
            ", online=", sched::hotplug_name(on), ", ran once there=", once, "/", kQueued + 2,
            ", runs elsewhere=", away);
    KCHECK(off == sched::Hotplug::Ok);
    KCHECK(off_again == sched::Hotplug::NotOnline);
    KCHECK(woke == sched::Event::Signalled::Parked);
    KCHECK(refused == sched::SpawnError::InvalidCpu);
    KCHECK(ran_while_off == 0);
    KCHECK(st.inbox == kQueued + 2); // blocker, queued, sleeper
    KCHECK(on == sched::Hotplug::Ok);
    KCHECK(once == kQueued + 2);
    KCHECK(away == 0);

    // A pinned spawn whose hart closes its inbox after spawn's check (RFC-0022 "Pinned
    // tasks", IfClosed::Refuse): the hook takes x offline at the push, so x was a valid
    // target at the check and its inbox is closed at the push. The spawn must be refused
    // with InvalidCpu and its task freed at once (the pool count back), never parked or run
    // anywhere. A task that a broken spawn placed anyway is joined by the scope (x back).
    Runs raced;
    raced.home = x;
    s.task.reset(); // joined: every task of this test goes back to the pool
    b.task.reset();
    KCHECK(await(kEventuallyUs, pool_quiescent));
    const std::uint32_t free_before = sched::task_pool_free();
    sched::SpawnError raced_err = sched::SpawnError::None;
    std::uint32_t free_after = 0;
    sched::Hotplug raced_on = sched::Hotplug::Timeout;
    {
        TaskScope race_scope(let_go);
        {
            CloseAtPushHold hold(x, &raced);
            raced_err =
                race_scope.spawn(&Runs::run, &raced, SpawnOptions{Qos::Normal, x, true, "raced"})
                    .error;
            free_after = sched::task_pool_free();
        }
        raced_on = sched::bring_online(x);
    }
    const bool fired = g_close.fired.load() != 0;
    const sched::Hotplug raced_off = g_close.off;
    // x back and taking work; a task placed on another hart would have run by now too.
    const bool back = cpu_online(x) && run_on(x, [] {});
    println("KLOG: pinned spawn to cpu", x,
            " that went offline at its push: offline=", sched::hotplug_name(raced_off),
            ", spawn refused=", raced_err == sched::SpawnError::InvalidCpu,
            ", pool back=", free_after == free_before, ", ran=", raced.ran.load(),
            ", online=", sched::hotplug_name(raced_on));
    KCHECK(fired && raced_off == sched::Hotplug::Ok);
    KCHECK(raced_err == sched::SpawnError::InvalidCpu);
    KCHECK(free_after == free_before);
    KCHECK(raced_on == sched::Hotplug::Ok && back);
    KCHECK(raced.ran.load() == 0);
    return Result::pass();
}

} // namespace k::selftest
