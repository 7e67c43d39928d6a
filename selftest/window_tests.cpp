// Handshake windows: the storm finds races by chance; this test opens the
// window of a race on purpose and walks the other party through it, so a
// broken handshake fails every boot, not most of them.
//
// A hook on the jitter sites (base/jitter.hpp) holds one chosen task at one
// step, on whatever hart it is on, until the test lets go. Two windows:
//  - switch-out: the task has blocked and its registers are saved, but its
//    hart has not yet cleared on_cpu. The test wakes it naming its own hart.
//    The wake must go to the hart the task is leaving, which takes it only
//    after on_cpu is clear; a wake that ignores on_cpu hands it to us while it
//    is live there, and the dispatch check panics.
//  - sleep: a Notification waiter has decided to sleep and dropped the lock.
//    The test signals it there. The waiter must already be Blocked (published
//    under the lock), so the signal wakes it; a waiter that publishes Blocked
//    only after the unlock misses the wake and sleeps forever.
#include <atomic>

#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "sched/notification.hpp"
#include "selftest/hook_scope.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

using jitter::Site;

// A hold longer than this lets go by itself, so a test that lost track of
// its partner cannot wedge a hart for ever (interrupts may be masked in the
// window). It is the "eventually" bound, not less: the host may keep the
// waker's vCPU from running for a while, and a window that closes before the
// waker acts proves nothing (seen: 1 boot in 30 at SMP=8 with a 200 ms bound
// while two other builds loaded the host).
constexpr std::uint64_t kHoldMaxUs = kEventuallyUs;
constexpr std::uint32_t kRoundsPerCpu = 3;
constexpr std::uint32_t kMinRounds = 6;

struct Window {
    Site site = Site::Block;
    bool only_blocked = false; // hold only when the victim is Blocked there
    std::atomic<const void*> victim{nullptr};
    std::atomic<std::uint32_t> holding{0};
    std::atomic<std::uint32_t> held_cpu{0};
    std::atomic<std::uint32_t> release{0};
};

Window g_window;

void hold_hook(Site s, const void* subject) {
    HookScope::chained(s, subject);
    if (s != g_window.site || !subject) return;
    const void* want = subject;
    if (g_window.victim.load(std::memory_order_acquire) != subject) return;
    const auto* t = static_cast<const sched::Task*>(subject);
    if (g_window.only_blocked && t->state.state() != sched::TaskState::Blocked) return;
    // Masked for the whole hold: at the sleep site the victim is already Blocked with
    // interrupts on, so a tick would switch it out for good, in the middle of the hold (the
    // sleeper also holds a PreemptGuard; this keeps the hold itself atomic on any path).
    hal::Cpu::irq_push();
    if (!g_window.victim.compare_exchange_strong(want, nullptr, std::memory_order_acq_rel)) {
        hal::Cpu::irq_pop();
        return; // held once per round
    }
    g_window.held_cpu.store(current_cpu_masked(), std::memory_order_relaxed);
    g_window.holding.store(1, std::memory_order_release);
    // Interrupts are masked: spin on the clock.
    const std::uint64_t end = time::now() + time::from_us(kHoldMaxUs);
    while (!g_window.release.load(std::memory_order_acquire) && time::now() < end) {
    }
    g_window.holding.store(0, std::memory_order_release);
    hal::Cpu::irq_pop();
}

struct Sleeper {
    sched::Notification note;
    std::atomic<std::uint32_t> go{0};
    std::atomic<std::uint32_t> woke_on{0}; // cpu + 1 once wait() returned
};

void sleeper_body(void* arg) {
    auto* s = static_cast<Sleeper*>(arg);
    // Wait for the test to arm the window without switching out (a switch
    // here would be a different window).
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!s->go.load(std::memory_order_acquire) && time::now() < end) {
    }
    {
        // No tick may switch us out between wait()'s unlock (we are Blocked from there) and
        // the hook that holds the window: it would put us to sleep before the window opens,
        // and the round would wait 10 s for nothing (seen 2 times in about 150 SMP=8 boots).
        // wait() still switches out by itself when it blocks.
        sched::PreemptGuard no_tick;
        (void)s->note.wait();
    }
    s->woke_on.store(current_cpu() + 1, std::memory_order_release);
}

enum class Kind { SwitchOut, Sleep };

// One round: a sleeper on `cpu`, this (pinned) task on another hart as the
// waker. Null when the round held its window and every check passed; `held`
// says whether the window was really open when we woke it.
const char* round(Kind kind, std::uint32_t cpu, bool& held) {
    held = false;
    Sleeper s;
    sched::Task* sleeper = nullptr;
    auto release = [&s, &sleeper] {
        g_window.victim.store(nullptr, std::memory_order_release);
        g_window.release.store(1, std::memory_order_release);
        s.go.store(1, std::memory_order_release);
        if (!sleeper) return; // nothing was spawned
        // A lost wake-up is ended here, after the verdict: once the sleeper
        // has really blocked, a second signal wakes it.
        (void)await(kEventuallyUs, [&] {
            const sched::TaskState st = sleeper->state.state();
            return st == sched::TaskState::Blocked || st == sched::TaskState::Exited;
        });
        (void)s.note.signal(1);
    };
    TaskScope scope(release);
    sched::Spawned sp = scope.spawn(&sleeper_body, &s,
                                    sched::SpawnOptions{sched::Qos::Normal, cpu, false, "window"});
    if (sp.error != sched::SpawnError::None) return "spawn failed";
    sleeper = sp.task.get();

    g_window.site = kind == Kind::SwitchOut ? Site::FinishSwitch : Site::Block;
    g_window.only_blocked = kind == Kind::SwitchOut;
    g_window.release.store(0, std::memory_order_relaxed);
    g_window.holding.store(0, std::memory_order_relaxed);
    g_window.victim.store(sp.task.get(), std::memory_order_release);
    s.go.store(1, std::memory_order_release);

    if (!await(kEventuallyUs,
               [] { return g_window.holding.load(std::memory_order_acquire) != 0; })) {
        // Say where the sleeper is, for the one boot in a hundred or so that gets here.
        println("KLOG: handshake windows: ", kind == Kind::SwitchOut ? "switch-out" : "sleep",
                " round on cpu", cpu, ": sleeper state ",
                sched::task_state_name(sleeper->state.state()), " on_cpu ",
                sleeper->on_cpu.load(std::memory_order_relaxed), " runs ",
                __atomic_load_n(&sleeper->ctx.run, __ATOMIC_RELAXED), " go ",
                s.go.load(std::memory_order_relaxed), " victim ",
                g_window.victim.load(std::memory_order_relaxed) ? "armed" : "taken", " waiter ",
                s.note.waiter() ? "set" : "none");
        sched::dump_state("handshake windows: the window never opened");
        return "the window never opened";
    }
    const std::uint32_t self = current_cpu();
    if (g_window.held_cpu.load(std::memory_order_relaxed) == self)
        return "held on the waker's hart";
    const std::uint32_t live = sp.task->on_cpu.load(std::memory_order_acquire);
    const sched::Signalled r = s.note.signal(1, self);
    // Let our hart schedule whatever the wake queued here (it must be nothing).
    (void)sched::yield();
    held = g_window.holding.load(std::memory_order_acquire) != 0;
    g_window.release.store(1, std::memory_order_release);

    if (kind == Kind::Sleep && r != sched::Signalled::Woken)
        return "lost wake-up: the waiter was not Blocked when signalled after its unlock";
    if (!await(kEventuallyUs, [&s] { return s.woke_on.load(std::memory_order_acquire) != 0; }))
        return "lost wake-up: the signalled waiter never ran";
    if (kind == Kind::SwitchOut && held && live != 0 &&
        s.woke_on.load(std::memory_order_relaxed) != live)
        return "a wake during switch-out did not go to the hart the task was leaving";
    return nullptr;
}

} // namespace

KSELFTEST(WIN0001, "handshake windows") {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    KCHECK(current_cpu() == on.cpu[0]);
    NoStealing no_stealing; // the sleeper stays on the hart it was spawned on
    HookScope hook(&hold_hook);
    for (Kind kind : {Kind::SwitchOut, Kind::Sleep}) {
        std::uint32_t held_rounds = 0, rounds = 0;
        for (std::uint32_t i = 0; rounds < kMinRounds || i < (on.count - 1) * kRoundsPerCpu; ++i) {
            bool held = false;
            if (const char* why = round(kind, on.cpu[1 + i % (on.count - 1)], held))
                return Result::fail(why);
            ++rounds;
            if (held) ++held_rounds;
        }
        // Proof that the window was really open when the other party acted:
        // a round where the hold had already timed out proves nothing.
        if (held_rounds != rounds) {
            println("KLOG: handshake windows: ", held_rounds, " of ", rounds,
                    " rounds held their window");
            return Result::fail("a window closed before the waker acted");
        }
        println("KLOG: handshake windows: ", kind == Kind::SwitchOut ? "switch-out" : "sleep",
                " window held open in ", rounds, " of ", rounds, " rounds");
    }
    return Result::pass();
}

} // namespace k::selftest
