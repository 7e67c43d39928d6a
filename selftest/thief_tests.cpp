// An idle thief never waits for a victim's rq lock (RFC-0022 invariant 6, "Bounded stealing"):
// it skips a victim whose queued_hint is 0 and only try-locks the others. A thief that waited
// would spin masked behind the lock for as long as it is held, and its own tick would stop.
//
// The scene: a pinned Interactive task on the victim hart, with a pinned Normal task queued
// behind it (so the victim's hint is 1 and no thief may take what it finds), takes its own
// hart's rq lock and holds it, masked, until every other online hart has ticked 3 times while
// the lock was held (a tick there is a steal attempt at the victim: their queues are empty, the
// test task is asleep in join). Each of them must tick and attempt a steal meanwhile; a thief
// that waits for the lock ticks no more, and the hold ends at its bound instead.
#include <atomic>

#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "sched/cpu_sched.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

constexpr std::uint64_t kTicksHeld = 3;
// Masked holds longer than this would be a stall of their own: 3 ticks take 30 ms when the host
// runs every vCPU; this bound is only reached when a thief stops ticking.
constexpr std::uint64_t kHoldBoundUs = 2'000'000;

struct Scene {
    std::uint32_t victim = 0;
    std::atomic<std::uint32_t> ready{0};      // the Normal task is queued behind the holder
    std::atomic<std::uint32_t> done{0};       // the hold is over
    std::atomic<std::uint32_t> bad_cpu{~0u};  // the first thief that fell short
    std::atomic<std::uint64_t> bad_ticks{0};  // its ticks during the hold
    std::atomic<std::uint64_t> bad_steals{0}; // its steal attempts during the hold
    std::atomic<std::uint64_t> held_us{0};
    std::atomic<std::uint64_t> min_steals{~0ull}; // fewest attempts by any thief
    std::atomic<std::uint32_t> queued_ran{0};
};

void holder_body(void* arg) {
    auto* sc = static_cast<Scene*>(arg);
    sched::detail::CpuSched& v = sched::detail::cpu_sched(sc->victim);
    // The Normal task arrives through our inbox; our tick's schedule() queues it behind us.
    const std::uint64_t ready_end = time::now() + time::from_us(kEventuallyUs);
    while (v.queued_hint.load(std::memory_order_relaxed) == 0 && time::now() < ready_end) {
    }
    if (v.queued_hint.load(std::memory_order_relaxed) == 0) {
        sc->done.store(1, std::memory_order_release);
        return;
    }
    sc->ready.store(1, std::memory_order_release);
    const std::uint32_t n = cpu_count();
    std::uint64_t ticks0[kMaxCpus] = {}, steals0[kMaxCpus] = {};
    {
        // Our own hart's rq lock: no other rq lock may be taken under it, so the thieves'
        // counters are read as the atomics they are, not through sched::stats().
        SpinGuard g(v.rq_lock);
        for (std::uint32_t c = 0; c < n; ++c) {
            ticks0[c] = sched::detail::cpu_sched(c).tick_count.load(std::memory_order_relaxed);
            steals0[c] = sched::detail::cpu_sched(c).steals.load(std::memory_order_relaxed);
        }
        const std::uint64_t start = time::now();
        const std::uint64_t end = start + time::from_us(kHoldBoundUs);
        auto all_ticked = [&] {
            for (std::uint32_t c = 0; c < n; ++c) {
                if (c == sc->victim || !cpu_online(c)) continue;
                if (sched::detail::cpu_sched(c).tick_count.load(std::memory_order_relaxed) <
                    ticks0[c] + kTicksHeld)
                    return false;
            }
            return true;
        };
        while (!all_ticked() && time::now() < end) {
        }
        sc->held_us.store(time::to_us(time::now() - start), std::memory_order_relaxed);
        for (std::uint32_t c = 0; c < n; ++c) {
            if (c == sc->victim || !cpu_online(c)) continue;
            sched::detail::CpuSched& t = sched::detail::cpu_sched(c);
            const std::uint64_t ticks = t.tick_count.load(std::memory_order_relaxed) - ticks0[c];
            const std::uint64_t steals = t.steals.load(std::memory_order_relaxed) - steals0[c];
            if (steals < sc->min_steals.load(std::memory_order_relaxed))
                sc->min_steals.store(steals, std::memory_order_relaxed);
            // A tick of an idle hart with an empty queue opens its steal gate: at least one
            // attempt per tick but the first (it may have attempted in the tick it was in).
            if ((ticks < kTicksHeld || steals + 1 < kTicksHeld) &&
                sc->bad_cpu.load(std::memory_order_relaxed) == ~0u) {
                sc->bad_cpu.store(c, std::memory_order_relaxed);
                sc->bad_ticks.store(ticks, std::memory_order_relaxed);
                sc->bad_steals.store(steals, std::memory_order_relaxed);
            }
        }
    }
    sc->done.store(1, std::memory_order_release);
}

void queued_body(void* arg) {
    static_cast<Scene*>(arg)->queued_ran.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

KSELFTEST(STEAL0004, "idle thief skips a busy victim") {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    const std::uint32_t self = current_cpu();
    Scene sc;
    sc.victim = on.after(self);
    TaskScope scope; // the hold ends by itself, within its bound
    sched::Spawned holder =
        scope.spawn(&holder_body, &sc,
                    sched::SpawnOptions{sched::Qos::Interactive, sc.victim, true, "rq-holder"});
    KCHECK(holder.error == sched::SpawnError::None);
    sched::Spawned queued = scope.spawn(
        &queued_body, &sc, sched::SpawnOptions{sched::Qos::Normal, sc.victim, true, "queued"});
    KCHECK(queued.error == sched::SpawnError::None);
    // Asleep in join: this hart idles, so it is a thief too (the only one at SMP=2).
    (void)sched::join(holder.task);
    KCHECK(await(kEventuallyUs, [&sc] { return sc.queued_ran.load() == 1; }));
    KCHECK(sc.ready.load() == 1);
    if (sc.bad_cpu.load() != ~0u) {
        println("KLOG: idle thief: cpu", sc.bad_cpu.load(), " ticked ", sc.bad_ticks.load(),
                " times and tried ", sc.bad_steals.load(), " steals in ", sc.held_us.load(),
                " us while cpu", sc.victim, "'s rq lock was held");
        return Result::fail("an idle thief stopped ticking while a victim's rq lock was held");
    }
    println("KLOG: idle thief: cpu", sc.victim, "'s rq lock held masked ", sc.held_us.load() / 1000,
            " ms with a task queued: every other hart ticked ", kTicksHeld,
            "+ times and tried at least ", sc.min_steals.load(), " steals meanwhile");
    return Result::pass();
}

} // namespace k::selftest
