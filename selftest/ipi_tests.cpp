// Resched IPI selftests: the causal chain, its counterfactual, the rejects,
// and hart hot-plug (SMP only).
#include "kernel/console.hpp"
#include "kernel/percpu.hpp"
#include "sbi.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "trap/ipi.hpp"

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

bool same_chain(const ipi::Snapshot& a, const ipi::Snapshot& b) {
    return a.requested == b.requested && a.sent == b.sent && a.trapped == b.trapped &&
           a.acked == b.acked;
}

std::uint32_t last_cpu() {
    return cpu_count() - 1;
}

} // namespace

KSELFTEST(IPI0001, "ipi counterfactual") {
    // With the SBI send forced to fail, the request is withdrawn and the
    // target neither traps nor acks. Without the switch, the same request
    // completes the chain: the send is what causes the trap.
    const std::uint32_t t = 1;
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
    // request -> sent -> S-mode soft interrupt trapped -> acked, per target.
    for (std::uint32_t t = 1; t < cpu_count(); ++t) {
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
    sched::Spawned s =
        sched::spawn([](void*) {}, nullptr, SpawnOptions{Qos::Normal, cpu_count(), false, "bad"});
    KCHECK(s.error == sched::SpawnError::InvalidCpu);
    return Result::pass();
}

KSELFTEST(IPI0004, "test_reject_offline_cpu_resched") {
    // Make a hart offline on purpose (SBI HSM stop), prove a resched to it is
    // rejected with nothing counted, then bring it back.
    const std::uint32_t x = last_cpu();
    KCHECK(sched::take_offline(x) == sched::Hotplug::Ok);
    KCHECK(!cpu_online(x));
    const ipi::Snapshot before = ipi::chain(x);
    const std::uint64_t rejected = ipi::rejected_offline();
    const ipi::Resched r = ipi::request_resched(x);
    const ipi::Snapshot after = ipi::chain(x);
    sched::Spawned s =
        sched::spawn([](void*) {}, nullptr, SpawnOptions{Qos::Normal, x, false, "to-offline"});
    const sched::Hotplug back = sched::bring_online(x);
    KCHECK(r == ipi::Resched::OfflineCpu);
    KCHECK(ipi::rejected_offline() == rejected + 1);
    KCHECK(same_chain(after, before));
    KCHECK(s.error == sched::SpawnError::InvalidCpu);
    KCHECK(back == sched::Hotplug::Ok);
    KCHECK(ipi::request_resched(x) == ipi::Resched::Sent);
    return Result::pass();
}

KSELFTEST(IPI0005, "hart offline online") {
    // Queue work on a hart behind a blocker that keeps the hart busy, take
    // the hart offline: the blocker and every queued task move to other
    // harts and run exactly once there. Bring the hart back and run a task
    // on it again.
    constexpr std::uint32_t kTasks = 6;
    const std::uint32_t x = last_cpu();
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
        // Preemptible (the tick still comes); once migrated it stops, so it
        // cannot starve the hart it lands on.
        while (!release.load() && sched::cpu_of_current() == x)
            hal::Cpu::relax();
    };
    Thunk<decltype(blocker)> tb{blocker};
    sched::Spawned b = spawn_fn(tb, SpawnOptions{Qos::PerfBurst, x, true, "blocker"});
    KCHECK(b.error == sched::SpawnError::None);
    KCHECK(await(kEventuallyUs, [&] { return blocker_on_x.load() != 0; }));
    sched::Spawned tasks[kTasks];
    for (std::uint32_t i = 0; i < kTasks; ++i) {
        tasks[i] =
            sched::spawn(&Work::run, &work[i], SpawnOptions{Qos::Normal, x, true, "hotplug"});
        KCHECK(tasks[i].error == sched::SpawnError::None);
    }
    const sched::Hotplug off = sched::take_offline(x);
    const long status = hal::sbi::hart_status(cpu_block(x).head.hart_id).value;
    release.store(1);
    (void)sched::join(b.task);
    for (auto& t : tasks)
        (void)sched::join(t.task);
    std::uint32_t once = 0, elsewhere = 0;
    for (auto& w : work) {
        once += w.ran.load() == 1 ? 1 : 0;
        elsewhere += w.cpu.load() != x ? 1 : 0;
    }
    const sched::Hotplug on = sched::bring_online(x);
    std::uint32_t ran_on = ~0u;
    const bool ran =
        on == sched::Hotplug::Ok && run_on(x, [&] { ran_on = sched::cpu_of_current(); });
    println("KLOG: hotplug cpu", x, ": offline=", sched::hotplug_name(off), " (HSM status ", status,
            "), queued tasks ran once=", once, "/", kTasks, " all elsewhere=", elsewhere == kTasks,
            ", online=", sched::hotplug_name(on), ", ran there again=", ran && ran_on == x);
    KCHECK(off == sched::Hotplug::Ok);
    KCHECK(status == static_cast<long>(hal::sbi::HartState::Stopped));
    KCHECK(once == kTasks);
    KCHECK(elsewhere == kTasks);
    KCHECK(on == sched::Hotplug::Ok);
    KCHECK(ran && ran_on == x);
    return Result::pass();
}

} // namespace k::selftest
