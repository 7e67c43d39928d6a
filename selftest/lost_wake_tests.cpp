// The lost-wake-up monitor's own proof (sched/wake_monitor.hpp): a sleeper whose condition is
// made true behind its back, with no wake, is found, and only after the grace.
#include "base/console.hpp"
#include "base/spin_lock.hpp"
#include "base/time.hpp"
#include "sched/wait_channel.hpp"
#include "sched/wake_monitor.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

std::atomic<std::uint32_t> g_condition{0};
std::atomic<std::uint32_t> g_found{0};
std::atomic<std::uint64_t> g_held_us{0};
SpinLock g_lock{"lost wake probe"};

bool probe_holds(const void* c) {
    return static_cast<const std::atomic<std::uint32_t>*>(c)->load() != 0;
}
constexpr sched::WaitKind kProbeWait{"probe", &probe_holds};

void found(const sched::Task&, const char*, std::uint64_t held_us) {
    if (g_found.fetch_add(1) == 0) g_held_us.store(held_us);
}

// Sleeps once, as a primitive does, and ends at the first wake whatever the condition.
void sleeper(void*) {
    sched::Task* me = sched::current();
    {
        SpinGuard g(g_lock);
        sched::block_on(*me, sched::BlockReason::Event, kProbeWait, &g_condition, g_lock);
    }
    while (me->state.state() != sched::TaskState::Running)
        (void)sched::yield();
}

} // namespace

KSELFTEST(LIFE0004, "lost wake monitor") {
    using sched::wake_monitor::kGraceUs;
    KCHECK(sched::wake_monitor::enabled());
    g_condition.store(0);
    g_found.store(0);
    const OnlineCpus on = online_cpus();
    sched::Task* sleeping = nullptr;
    auto release = [&] {
        // A failed check ends the test with the sleeper maybe asleep: wake it until it is done.
        sched::wake_monitor::set_probe(nullptr, nullptr);
        while (sleeping && sleeping->state.state() != sched::TaskState::Exited) {
            (void)sched::wake(*sleeping);
            (void)sched::yield();
        }
    };
    TaskScope scope(release);
    const sched::Spawned s =
        scope.spawn(&sleeper, nullptr, SpawnOptions{Qos::Normal, on.at(1), true, "sleeper"});
    KCHECK(s.error == sched::SpawnError::None);
    sched::Task& t = *s.task;
    sleeping = &t;
    sched::wake_monitor::set_probe(&t, &found);
    KCHECK(await(kEventuallyUs, [&] { return t.state.state() == sched::TaskState::Blocked; }));
    // Asleep on a condition that does not hold: nothing to find, however long.
    const std::uint64_t scans0 = sched::wake_monitor::scans();
    KCHECK(await(kEventuallyUs, [&] { return sched::wake_monitor::scans() >= scans0 + 3; }));
    const std::uint32_t found_while_false = g_found.load();
    // The condition holds and nobody wakes it: a lost wake-up, found after the grace.
    const std::uint64_t t0 = time::now();
    g_condition.store(1);
    const bool found_it = await(kEventuallyUs, [] { return g_found.load() != 0; });
    const std::uint64_t waited_us = time::to_us(time::now() - t0);
    const bool woken = sched::wake(t) == sched::WakeResult::Woken;
    // A scan that looked before the wake may still be reporting: let two more go by first.
    const std::uint64_t scans1 = sched::wake_monitor::scans();
    (void)await(kEventuallyUs, [&] { return sched::wake_monitor::scans() >= scans1 + 2; });
    sched::wake_monitor::set_probe(nullptr, nullptr);
    println("KLOG: lost wake monitor: found after ", waited_us / 1000, " ms (held ",
            g_held_us.load() / 1000, " ms, grace ", kGraceUs / 1000, " ms), scans ",
            sched::wake_monitor::scans());
    KCHECK(found_while_false == 0);
    KCHECK(found_it);
    KCHECK(g_held_us.load() >= kGraceUs);
    KCHECK(waited_us >= kGraceUs);
    KCHECK(woken);
    return Result::pass();
}

} // namespace k::selftest
