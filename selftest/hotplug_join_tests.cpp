// A wake that races a hart's restart (RFC-0022 "Causal IPI chain"): the hart is Joining, its
// inbox already open, so a pinned wake lands there, but its resched request is refused as
// OfflineCpu. make_runnable() counts on the joining hart's idle loop to drain the inbox; the
// woken task must run there. (SMP only.)
#include "base/console.hpp"
#include "base/ipi.hpp"
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

// Under the arrival bound (5 s) after which the boot hart declares a Joining hart offline.
constexpr std::uint64_t kJoinHoldUs = 3'000'000;

// Holds hart `cpu` once at Site::HartJoin (inbox open, not yet Online) until released, or
// for at most kJoinHoldUs; the hook found when ours went in is chained and put back after.
struct JoinHold {
    std::atomic<std::uint32_t> cpu{~0u}, armed{0}, holding{0}, release{0}, held_to_end{0};
    jitter::Hook chained = nullptr;
};
JoinHold g_join;

void join_hold_hook(jitter::Site s, const void* subject) {
    if (g_join.chained) g_join.chained(s, subject);
    if (s != jitter::Site::HartJoin || hal::tp_head()->cpu != g_join.cpu.load()) return;
    if (g_join.armed.exchange(0) == 0) return;
    g_join.holding.store(1);
    const std::uint64_t end = time::now() + time::from_us(kJoinHoldUs);
    while (!g_join.release.load() && time::now() < end)
        hal::Cpu::relax();
    g_join.held_to_end.store(g_join.release.load() ? 0u : 1u);
    g_join.holding.store(0);
}

class JoinHoldScope final {
  public:
    explicit JoinHoldScope(std::uint32_t cpu) {
        g_join.cpu.store(cpu);
        g_join.release.store(0);
        g_join.held_to_end.store(0);
        g_join.chained = jitter::g_hook.load();
        g_join.armed.store(1);
        jitter::g_hook.store(&join_hold_hook);
    }
    ~JoinHoldScope() {
        g_join.armed.store(0);
        g_join.release.store(1);
        jitter::g_hook.store(g_join.chained);
    }
    JoinHoldScope(const JoinHoldScope&) = delete;
    JoinHoldScope& operator=(const JoinHoldScope&) = delete;
};

} // namespace

KSELFTEST(HOT0002, "wake while its hart joins") {
    // A pinned sleeper on x; x goes offline (the sleeper stays Blocked, on no list). A helper
    // on this hart brings x back while the hook holds x at Site::HartJoin. There, the event
    // is signalled: the wake is pushed into x's open inbox and the resched request is refused
    // (OfflineCpu: x's chain unchanged, rejected_offline + 1). Released, x publishes Online
    // and must run the sleeper, with nothing else sent to it meanwhile.
    const std::uint32_t x = online_cpus().last_secondary();
    const std::uint32_t self = sched::cpu_of_current();
    KCHECK(x != 0 && x != self);
    sched::Event ev;
    std::atomic<std::uint32_t> ran{0}, ran_on{~0u};
    auto sleeper_body = [&] {
        ev.wait();
        ran_on.store(sched::cpu_of_current());
        ran.store(1);
    };
    Thunk<decltype(sleeper_body)> ts{sleeper_body};
    std::atomic<std::uint32_t> back_done{0};
    sched::Hotplug back = sched::Hotplug::Timeout;
    auto bring_back = [&] {
        back = sched::bring_online(x);
        back_done.store(1);
    };
    Thunk<decltype(bring_back)> tb{bring_back};
    auto let_go = [&] { // on every path: x released and back, the sleeper run
        g_join.release.store(1);
        (void)await(kEventuallyUs, [&] { return back_done.load() != 0; });
        if (!cpu_online(x)) (void)sched::bring_online(x);
        (void)ev.signal();
        if (!ran.load()) (void)run_on(x, [] {}); // a resched IPI: its drain runs the sleeper
    };
    TaskScope scope(let_go);
    sched::Spawned s = scope.spawn(ts, SpawnOptions{Qos::Normal, x, true, "sleeper"});
    KCHECK(s.error == sched::SpawnError::None);
    sched::Task& st = *s.task;
    KCHECK(await(kEventuallyUs, [&] {
        return st.state.state() == sched::TaskState::Blocked && st.on_cpu.load() == 0 &&
               ev.waiter() == &st;
    }));
    KCHECK(sched::take_offline(x) == sched::Hotplug::Ok);

    CpuState at_wake = CpuState::Absent;
    sched::Event::Signalled woke = sched::Event::Signalled::NoWaiter;
    std::uint64_t rejected = 0, inbox = 0;
    bool chain_same = false;
    bool held = false;
    {
        JoinHoldScope hold(x);
        KCHECK(scope.spawn(tb, SpawnOptions{Qos::Normal, self, true, "bring-back"}).error ==
               sched::SpawnError::None);
        held = await(kEventuallyUs, [] { return g_join.holding.load() != 0; });
        if (held) {
            const ipi::Snapshot before = ipi::chain(x);
            const std::uint64_t rejected_before = ipi::rejected_offline();
            woke = ev.signal();
            rejected = ipi::rejected_offline() - rejected_before;
            const ipi::Snapshot after = ipi::chain(x);
            chain_same = after.requested == before.requested && after.sent == before.sent;
            at_wake = cpu_state(x);
            inbox = sched::stats(x).inbox;
        }
    }
    const bool window_kept = g_join.held_to_end.load() == 0;
    KCHECK(await(kEventuallyUs, [&] { return back_done.load() != 0; }));
    const bool ran_there = await(kEventuallyUs, [&] { return ran.load() != 0; });
    println("KLOG: wake while cpu", x, " joins: held=", held, ", state at the wake ",
            static_cast<std::uint32_t>(at_wake),
            ", signal woke=", woke == sched::Event::Signalled::Woken,
            ", refused as offline=", rejected, ", chain unchanged=", chain_same, ", inbox=", inbox,
            ", online=", sched::hotplug_name(back), ", ran=", ran_there, " on cpu", ran_on.load());
    KCHECK(held && window_kept);
    KCHECK(at_wake == CpuState::Joining);
    KCHECK(woke == sched::Event::Signalled::Woken);
    KCHECK(rejected == 1 && chain_same && inbox == 1);
    KCHECK(back == sched::Hotplug::Ok);
    KCHECK(ran_there && ran_on.load() == x);
    return Result::pass();
}

} // namespace k::selftest
