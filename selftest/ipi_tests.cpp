// Resched IPI selftests: the causal chain, its counterfactual, the rejects,
// and hart hot-plug (SMP only).
#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "sbi.hpp"
#include "sched/cpu_sched.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

constexpr std::uint64_t kAckTimeoutUs = kEventuallyUs;

ipi::Snapshot chain_sum() {
    ipi::Snapshot sum{};
    for (std::uint32_t c = 0; c < kMaxCpus; ++c) {
        ipi::Snapshot s = ipi::chain(c);
        sum.requested += s.requested;
        sum.sent += s.sent;
        sum.trapped += s.trapped;
        sum.acked += s.acked;
    }
    return sum;
}

// Holds one soft-interrupt trap of hart `cpu` at Site::SoftIrq (SSIP cleared, the pending
// word not yet taken) until released, or for at most kEventuallyUs; the hook found when ours
// went in is chained.
struct SoftIrqHold {
    std::atomic<std::uint32_t> cpu{~0u}, armed{0}, holding{0}, release{0};
    jitter::Hook chained = nullptr;
};
SoftIrqHold g_sirq;

void softirq_hold_hook(jitter::Site s, const void* subject) {
    if (g_sirq.chained) g_sirq.chained(s, subject);
    if (s != jitter::Site::SoftIrq || hal::tp_head()->cpu != g_sirq.cpu.load()) return;
    if (g_sirq.armed.exchange(0) == 0) return;
    g_sirq.holding.store(1);
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!g_sirq.release.load() && time::now() < end)
        hal::Cpu::relax();
    g_sirq.holding.store(0);
}

bool same_chain(const ipi::Snapshot& a, const ipi::Snapshot& b) {
    return a.requested == b.requested && a.sent == b.sent && a.trapped == b.trapped &&
           a.acked == b.acked;
}

// A hart just brought back must take work at once (Online is published
// last): a resched request sent right away is acked, and a pinned task
// spawned right away is accepted and runs there. Prints what it saw.
bool ready_after_restart(std::uint32_t x) {
    const ipi::Snapshot before = ipi::chain(x);
    const ipi::Resched r = ipi::request_resched(x);
    std::uint32_t ran_on = ~0u;
    const bool spawned = run_on(x, [&] { ran_on = sched::cpu_of_current(); });
    const bool acked =
        await(kAckTimeoutUs, [&] { return ipi::chain(x).acked >= before.acked + 1; });
    println("KLOG: restarted cpu", x, ": first resched request ", ipi::resched_name(r),
            ", acked=", acked, "; pinned spawn accepted=", spawned, ", ran there=", ran_on == x);
    return r == ipi::Resched::Sent && acked && spawned && ran_on == x;
}

} // namespace

KSELFTEST(IPI0001, "ipi counterfactual") {
    // With the SBI send forced to fail, the request is withdrawn and the
    // target neither traps nor acks. Without the switch, the same request
    // completes the chain: the send is what causes the trap.
    const std::uint32_t t = online_cpus().first_secondary();
    KCHECK(t != 0);
    const ipi::Snapshot before = ipi::chain(t);
    ipi::force_send_failure(true);
    const ipi::Resched r = ipi::request_resched(t);
    ipi::force_send_failure(false);
    const bool moved = time::wait_until(time::now() + time::from_us(50'000), [&] {
        return ipi::chain(t).trapped != before.trapped || ipi::chain(t).acked != before.acked;
    });
    const ipi::Snapshot mid = ipi::chain(t);
    KCHECK(r == ipi::Resched::SendFailed);
    KCHECK(!moved);
    KCHECK(mid.requested == before.requested + 1 && mid.send_failed == before.send_failed + 1);
    KCHECK(mid.sent == before.sent && mid.trapped == before.trapped && mid.acked == before.acked);
    const ipi::Resched again = ipi::request_resched(t);
    KCHECK(again == ipi::Resched::Sent);
    KCHECK(await(kAckTimeoutUs, [&] { return ipi::chain(t).acked == mid.acked + 1; }));
    KCHECK(ipi::chain(t).trapped >= mid.trapped + 1);
    return Result::pass();
}

KSELFTEST(IPI0002, "ipi resched") {
    // request -> sent -> S-mode soft interrupt trapped -> acked, per online
    // target (a hart that never came up fails `smp online`, not this).
    const OnlineCpus on = online_cpus();
    for (std::uint32_t i = 1; i < on.count; ++i) {
        const std::uint32_t t = on.cpu[i];
        const ipi::Snapshot b = ipi::chain(t);
        const ipi::Resched r = ipi::request_resched(t);
        KCHECK(r == ipi::Resched::Sent);
        KCHECK(await(kAckTimeoutUs, [&] { return ipi::chain(t).acked >= b.acked + 1; }));
        const ipi::Snapshot a = ipi::chain(t);
        KCHECK(a.requested >= b.requested + 1 && a.sent >= b.sent + 1);
        KCHECK(a.trapped >= b.trapped + 1);
        println("KLOG: ipi chain cpu", t, ": requested=", a.requested, " sent=", a.sent,
                " trapped=", a.trapped, " acked=", a.acked, " coalesced=", a.coalesced);
    }
    // Coalescing (RFC-0022 "Causal IPI chain"): with the last target held masked, so that it
    // cannot trap, a second request finds the first one's pending bit and is Coalesced, not
    // sent again; once unmasked the target traps and acks. Then, per target, every request
    // has exactly one outcome counted: requested = sent + coalesced + send_failed (a request
    // still in flight on another hart makes it unequal for a moment, hence the wait).
    const std::uint32_t t = on.last_secondary();
    std::atomic<std::uint32_t> held{0}, let_go{0};
    auto hold_body = [&] {
        hal::Cpu::irq_push();
        held.store(1);
        while (!let_go.load())
            hal::Cpu::relax();
        hal::Cpu::irq_pop();
    };
    Thunk<decltype(hold_body)> th{hold_body};
    auto release = [&] { let_go.store(1); };
    ipi::Resched first = ipi::Resched::InvalidCpu, second = ipi::Resched::InvalidCpu;
    ipi::Snapshot held_before{}, held_after{};
    {
        TaskScope scope(release);
        KCHECK(scope.spawn(th, SpawnOptions{Qos::PerfBurst, t, true, "ipi-hold"}).error ==
               sched::SpawnError::None);
        KCHECK(await(kAckTimeoutUs, [&] { return held.load() != 0; }));
        held_before = ipi::chain(t);
        first = ipi::request_resched(t); // Coalesced if the spawn's own request is still pending
        second = ipi::request_resched(t);
        held_after = ipi::chain(t);
        let_go.store(1);
    }
    KCHECK(await(kAckTimeoutUs, [&] { return ipi::chain(t).acked >= held_after.acked + 1; }));
    auto balanced = [&] {
        for (std::uint32_t i = 1; i < on.count; ++i) {
            const ipi::Snapshot c = ipi::chain(on.cpu[i]);
            if (c.requested != c.sent + c.coalesced + c.send_failed) return false;
        }
        return true;
    };
    const bool balance = await(kAckTimeoutUs, balanced);
    println("KLOG: ipi chain cpu", t, " masked: requests ", ipi::resched_name(first), ", ",
            ipi::resched_name(second), ", trapped while masked ",
            held_after.trapped - held_before.trapped,
            "; requested = sent + coalesced + "
            "send_failed on every target: ",
            balance);
    KCHECK(first == ipi::Resched::Sent || first == ipi::Resched::Coalesced);
    KCHECK(second == ipi::Resched::Coalesced);
    KCHECK(held_after.trapped == held_before.trapped);
    KCHECK(held_after.coalesced >= held_before.coalesced + 1);
    KCHECK(balance);

    // The trap path clears SSIP before it takes the pending word (RFC-0022 "Causal IPI
    // chain"): t is held in a soft-interrupt trap between the two steps while another request
    // is made, which must find the pending bit still set (Coalesced: the word about to be
    // taken answers it). Once t has taken the word and acked, a new request must be sent and
    // acked. (In the other order that request would have been sent, its SSIP then cleared,
    // and every later request would coalesce into the bit left set, unanswered.)
    const ipi::Snapshot before_hold = ipi::chain(t);
    g_sirq.release.store(0);
    g_sirq.cpu.store(t);
    g_sirq.armed.store(1);
    g_sirq.chained = jitter::g_hook.load();
    jitter::g_hook.store(&softirq_hold_hook);
    const ipi::Resched to_hold = ipi::request_resched(t);
    const bool was_held = await(kAckTimeoutUs, [] { return g_sirq.holding.load() != 0; });
    const ipi::Resched in_window = ipi::request_resched(t);
    g_sirq.release.store(1);
    const bool acked_hold =
        await(kAckTimeoutUs, [&] { return ipi::chain(t).acked >= before_hold.acked + 1; });
    (void)await(kAckTimeoutUs, [] { return g_sirq.holding.load() == 0; });
    g_sirq.armed.store(0);
    jitter::g_hook.store(g_sirq.chained);
    const ipi::Snapshot after_hold = ipi::chain(t);
    const ipi::Resched after_window = ipi::request_resched(t);
    const bool acked_after =
        await(kAckTimeoutUs, [&] { return ipi::chain(t).acked >= after_hold.acked + 1; });
    println("KLOG: ipi chain cpu", t, ": held between SSIP clear and the pending word: a request ",
            ipi::resched_name(in_window), "; afterwards a request ",
            ipi::resched_name(after_window), ", acked=", acked_after);
    KCHECK(to_hold == ipi::Resched::Sent || to_hold == ipi::Resched::Coalesced);
    KCHECK(was_held && acked_hold);
    KCHECK(in_window == ipi::Resched::Coalesced);
    KCHECK(after_window == ipi::Resched::Sent && acked_after);

    // A resched IPI sets need_resched (RFC-0021 "The switch path"): a task on t, masked and
    // under a PreemptGuard, clears t's need_resched, then one request is sent; it unmasks,
    // takes the soft interrupt, and must find need_resched set. A round in which a tick also
    // landed (it sets need_resched too) or no ack came proves nothing and is not counted: of
    // up to 20 rounds at least one must count, and every counted one must find it set.
    constexpr std::uint32_t kRounds = 20;
    std::atomic<std::uint32_t> ready{0}, requested{0}, counted{0}, found_set{0};
    auto round_body = [&] {
        sched::PreemptGuard no_tick;
        sched::detail::CpuSched& cs = sched::detail::cpu_sched(t);
        for (std::uint32_t r = 1; r <= kRounds; ++r) {
            hal::Cpu::irq_push();
            cs.need_resched.store(0);
            const std::uint64_t tick0 = cs.tick_count.load(), ack0 = ipi::chain(t).acked;
            ready.store(r);
            while (requested.load() < r) // ~0u: the test ended early, finish the rounds
                hal::Cpu::relax();
            hal::Cpu::irq_pop(); // the soft interrupt is taken here
            hal::Cpu::irq_push();
            const bool set = cs.need_resched.load() != 0;
            if (cs.tick_count.load() == tick0 && ipi::chain(t).acked > ack0) {
                counted.fetch_add(1);
                found_set.fetch_add(set ? 1 : 0);
            }
            hal::Cpu::irq_pop();
        }
    };
    Thunk<decltype(round_body)> tr{round_body};
    auto finish_rounds = [&] { requested.store(~0u); };
    {
        TaskScope rounds_scope(finish_rounds);
        KCHECK(rounds_scope.spawn(tr, SpawnOptions{Qos::Normal, t, true, "ipi-rounds"}).error ==
               sched::SpawnError::None);
        for (std::uint32_t r = 1; r <= kRounds; ++r) {
            KCHECK(await(kAckTimeoutUs, [&] { return ready.load() == r; }));
            (void)ipi::request_resched(t);
            requested.store(r);
        }
    }
    println("KLOG: ipi chain cpu", t, ": need_resched set by the soft interrupt in ",
            found_set.load(), " of ", counted.load(), " rounds without a tick");
    KCHECK(counted.load() >= 1 && found_set.load() == counted.load());

    // An idle hart makes at most one steal attempt per tick (RFC-0022 Invariant 1): 50
    // requests, each acked, wake t's idle loop 50 times; its steal attempts may grow by at
    // most its ticks + 1.
    const sched::CpuStats idle_before = sched::stats(t);
    for (std::uint32_t i = 0; i < 50; ++i) {
        const std::uint64_t acked = ipi::chain(t).acked;
        (void)ipi::request_resched(t);
        KCHECK(await(kAckTimeoutUs, [&] { return ipi::chain(t).acked >= acked + 1; }));
    }
    const sched::CpuStats idle_after = sched::stats(t);
    const std::uint64_t attempts = idle_after.steals - idle_before.steals;
    const std::uint64_t ticks = idle_after.ticks - idle_before.ticks;
    println("KLOG: ipi chain cpu", t, ": 50 acked requests woke its idle loop; steal attempts ",
            attempts, ", ticks ", ticks);
    KCHECK(attempts <= ticks + 1);
    return Result::pass();
}

KSELFTEST(IPI0003, "test_reject_invalid_ipi_target_cpu") {
    const ipi::Snapshot before = chain_sum();
    const std::uint64_t rejected = ipi::rejected_invalid();
    const std::uint32_t bad[] = {cpu_count(), kMaxCpus, kMaxCpus + 5, 0xffffffffu};
    for (std::uint32_t cpu : bad)
        KCHECK(ipi::request_resched(cpu) == ipi::Resched::InvalidCpu);
    KCHECK(ipi::rejected_invalid() == rejected + 4);
    KCHECK(same_chain(chain_sum(), before)); // rejected before anything counted
    TaskScope scope;
    sched::Spawned s =
        scope.spawn([](void*) {}, nullptr, SpawnOptions{Qos::Normal, cpu_count(), false, "bad"});
    KCHECK(s.error == sched::SpawnError::InvalidCpu);
    return Result::pass();
}

KSELFTEST(IPI0004, "test_reject_offline_cpu_resched") {
    // Make a hart offline on purpose (SBI HSM stop), prove a resched to it is
    // rejected with nothing counted and a pinned spawn to it is refused, then
    // bring it back: at once it acks a request and runs a pinned task.
    const std::uint32_t x = online_cpus().last_secondary();
    KCHECK(x != 0);
    KCHECK(sched::take_offline(x) == sched::Hotplug::Ok);
    KCHECK(!cpu_online(x));
    const ipi::Snapshot before = ipi::chain(x);
    const std::uint64_t rejected = ipi::rejected_offline();
    const ipi::Resched r = ipi::request_resched(x);
    const ipi::Snapshot after = ipi::chain(x);
    TaskScope scope;
    sched::Spawned s =
        scope.spawn([](void*) {}, nullptr, SpawnOptions{Qos::Normal, x, true, "to-offline"});
    const sched::Hotplug back = sched::bring_online(x);
    const bool ready = back == sched::Hotplug::Ok && ready_after_restart(x);
    KCHECK(r == ipi::Resched::OfflineCpu);
    KCHECK(ipi::rejected_offline() == rejected + 1);
    KCHECK(same_chain(after, before));
    KCHECK(s.error == sched::SpawnError::InvalidCpu);
    KCHECK(back == sched::Hotplug::Ok);
    KCHECK(ready);
    return Result::pass();
}

KSELFTEST(IPI0005, "hart offline online") {
    // Queue unpinned work on a hart behind an unpinned blocker that keeps it
    // busy, with stealing off, and take the hart offline: the blocker and
    // every queued task move to other harts (only the offline path can move
    // them) and run exactly once there. Bring the hart back: at once it acks
    // a request and runs a pinned task.
    constexpr std::uint32_t kTasks = 6;
    const std::uint32_t x = online_cpus().last_secondary();
    KCHECK(x != 0);
    struct Work {
        std::atomic<std::uint32_t> ran{0};
        std::atomic<std::uint32_t> cpu{0};
        static void run(void* p) {
            auto* w = static_cast<Work*>(p);
            w->cpu.store(sched::cpu_of_current());
            w->ran.fetch_add(1);
        }
    } work[kTasks];
    std::atomic<std::uint32_t> blocker_on_x{0}, release{0};
    auto blocker = [&] {
        blocker_on_x.store(sched::cpu_of_current() == x ? 1u : 0u);
        // Preemptible (the tick still comes); once moved it stops, so it
        // cannot starve the hart it lands on.
        while (!release.load() && sched::cpu_of_current() == x)
            hal::Cpu::relax();
    };
    Thunk<decltype(blocker)> tb{blocker};
    sched::Spawned tasks[kTasks];
    NoStealing no_stealing;
    auto let_go = [&] {
        release.store(1);
        if (!cpu_online(x)) (void)sched::bring_online(x);
    };
    TaskScope scope(let_go);
    sched::Spawned b = scope.spawn(tb, SpawnOptions{Qos::PerfBurst, x, false, "blocker"});
    KCHECK(b.error == sched::SpawnError::None);
    KCHECK(await(kEventuallyUs, [&] { return blocker_on_x.load() != 0; }));
    for (std::uint32_t i = 0; i < kTasks; ++i) {
        tasks[i] =
            scope.spawn(&Work::run, &work[i], SpawnOptions{Qos::Normal, x, false, "hotplug"});
        KCHECK(tasks[i].error == sched::SpawnError::None);
    }
    const sched::Hotplug off = sched::take_offline(x);
    const long status = hal::sbi::hart_status(cpu_block(x).head.hart_id).value;
    (void)sched::join(b.task);
    for (auto& t : tasks)
        (void)sched::join(t.task);
    std::uint32_t once = 0, elsewhere = 0;
    for (auto& w : work) {
        once += w.ran.load() == 1 ? 1 : 0;
        elsewhere += w.cpu.load() != x ? 1 : 0;
    }
    const sched::Hotplug on = sched::bring_online(x);
    const bool ready = on == sched::Hotplug::Ok && ready_after_restart(x);
    println("KLOG: hotplug cpu", x, ": offline=", sched::hotplug_name(off), " (HSM status ", status,
            "), queued tasks ran once=", once, "/", kTasks, " all elsewhere=", elsewhere == kTasks,
            ", online=", sched::hotplug_name(on), ", ready at once=", ready);
    KCHECK(off == sched::Hotplug::Ok);
    KCHECK(status == static_cast<long>(hal::sbi::HartState::Stopped));
    KCHECK(once == kTasks);
    KCHECK(elsewhere == kTasks);
    KCHECK(on == sched::Hotplug::Ok);
    KCHECK(ready);
    return Result::pass();
}

} // namespace k::selftest
