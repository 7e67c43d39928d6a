// Exit's window (RFC-0021 "Task API"): between `Exited` and the pop of its node, a joiner that
// a stale wake sets running finds `Exited` with its node still linked; it must unlink the node
// itself and drop the node's reference, or exit would later read a node in a frame that is gone.
// And exit pops each joiner and adopts its reference inside the critical section: once the node
// is off the list a stale-woken joiner may return and reuse that frame at once.
//
// A hook on the jitter sites in exit() (base/jitter.hpp) holds the exiting target, masked, at one
// of two points, while the test stale-wakes its joiner there:
//  - ExitJoiners (Exited, nothing popped): the joiner must return 42 with the list empty while
//    the target is still held (it unlinked itself), and its slot must come back to the pool;
//  - ExitPopped (its node popped, its reference adopted, not yet woken): the joiner returns 42
//    and overwrites the stack where its node was; exit, let go, must wake it through the
//    reference it adopted, not through the node.
#include <atomic>

#include "base/jitter.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "sched/event.hpp"
#include "selftest/hook_scope.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

using jitter::Site;

struct Hold {
    std::atomic<Site> site{Site::ExitJoiners};
    std::atomic<const void*> victim{nullptr}; // the exiting task; taken once per round
    std::atomic<std::uint32_t> holding{0};
    std::atomic<std::uint32_t> release{0};
};

Hold g_hold;

void exit_hook(Site s, const void* subject) {
    HookScope::chained(s, subject);
    if (s != g_hold.site.load(std::memory_order_relaxed) || !subject) return;
    const void* want = subject;
    if (!g_hold.victim.compare_exchange_strong(want, nullptr, std::memory_order_acq_rel)) return;
    g_hold.holding.store(1, std::memory_order_release);
    // exit() masked interrupts before Exited: spin on the clock.
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!g_hold.release.load(std::memory_order_acquire) && time::now() < end) {
    }
    g_hold.holding.store(0, std::memory_order_release);
}

std::uint32_t joiners_of(sched::Task& t) {
    SpinGuard g(t.lock);
    return t.joiners.size();
}

// Overwrites the stack below the caller's frame, where join()'s frame and its node were.
[[gnu::noinline]] void scribble() {
    volatile std::uint64_t junk[256];
    for (auto& w : junk)
        w = 0xdeadbeefdeadbeefull;
}

struct Round {
    sched::Event go;
    sched::TaskRef target;
    std::atomic<std::int64_t> got{-1};
    std::atomic<std::uint32_t> returned{0};
};

void target_body(void* arg) {
    static_cast<Round*>(arg)->go.wait();
    sched::exit(42);
}

void joiner_body(void* arg) {
    auto* r = static_cast<Round*>(arg);
    r->got.store(sched::join(r->target), std::memory_order_relaxed);
    scribble();
    r->returned.store(1, std::memory_order_release);
}

// Null when the round held its window and every check passed.
const char* round(Site site, std::uint32_t target_cpu, std::uint32_t joiner_cpu) {
    Round r;
    auto release = [&r] {
        g_hold.victim.store(nullptr, std::memory_order_release);
        g_hold.release.store(1, std::memory_order_release);
        (void)r.go.signal();
    };
    // The last round's hook may still be spinning on its hart: its target published Exited
    // before the hook, so that round's join returned without waiting for it. Its release must
    // stay set until the hook has seen it and left; cleared earlier, the hook would hold that
    // hart masked for kEventuallyUs, and this round's target, pinned there, would never run
    // (seen under host load, where a vCPU thread can miss a short window).
    if (!await(kEventuallyUs, [] { return g_hold.holding.load(std::memory_order_acquire) == 0; }))
        return "the last round's hook never let go";
    TaskScope scope(release);
    g_hold.site.store(site, std::memory_order_relaxed);
    g_hold.release.store(0, std::memory_order_relaxed);
    sched::Spawned target = scope.spawn(
        &target_body, &r, sched::SpawnOptions{sched::Qos::Normal, target_cpu, true, "exiter"});
    if (target.error != sched::SpawnError::None) return "spawn of the target failed";
    r.target = target.task;
    sched::Task& tg = *target.task;
    sched::Spawned joiner = scope.spawn(
        &joiner_body, &r, sched::SpawnOptions{sched::Qos::Normal, joiner_cpu, true, "joiner"});
    if (joiner.error != sched::SpawnError::None) return "spawn of the joiner failed";
    sched::Task& j = *joiner.task;
    if (!await(kEventuallyUs, [&] {
            return j.state.state() == sched::TaskState::Blocked &&
                   j.state.reason() == sched::BlockReason::Join && joiners_of(tg) == 1;
        }))
        return "the joiner never slept in join";
    g_hold.victim.store(&tg, std::memory_order_release);
    (void)r.go.signal();
    if (!await(kEventuallyUs, [] { return g_hold.holding.load(std::memory_order_acquire) != 0; }))
        return "the target never reached the window";
    const std::uint32_t linked = joiners_of(tg);
    if (tg.state.state() != sched::TaskState::Exited) return "held before Exited";
    if (linked != (site == Site::ExitJoiners ? 1u : 0u)) return "the window held the wrong list";
    // The stale wake: not from exit, which is held.
    if (sched::wake(j) != sched::WakeResult::Woken) return "the stale wake found no sleeper";
    const bool came_back =
        await(kEventuallyUs, [&r] { return r.returned.load(std::memory_order_acquire) != 0; });
    const bool still_held = g_hold.holding.load(std::memory_order_acquire) != 0;
    const std::uint32_t left = joiners_of(tg);
    release();
    if (!came_back) return "the stale-woken joiner never returned";
    if (!still_held) return "the window closed before the joiner returned";
    if (r.got.load() != 42) return "join returned another value than the exit value";
    if (left != 0) return "the joiner returned with its node still on the exiting task's list";
    return nullptr;
}

} // namespace

KSELFTEST(LIFE0005, "exit window") {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    const std::uint32_t self = current_cpu();
    const std::uint32_t target_cpu = on.after(self);
    HookScope hook(&exit_hook);
    for (Site site : {Site::ExitJoiners, Site::ExitPopped}) {
        // The joiner on this hart at SMP=2 (the target's hart is held), else on a third.
        const std::uint32_t joiner_cpu = on.count > 2 ? on.after(target_cpu) : self;
        if (const char* why = round(site, target_cpu, joiner_cpu)) return Result::fail(why);
    }
    // Every slot back: the joiner's node reference was dropped once, by the joiner or by exit.
    const bool refilled = await(kEventuallyUs, pool_quiescent);
    println("KLOG: exit window: held after Exited and after a pop on cpu", target_cpu,
            ", each time a stale-woken joiner returned 42 with its node off the list; pool "
            "refilled=",
            refilled);
    KCHECK(refilled);
    return Result::pass();
}

} // namespace k::selftest
