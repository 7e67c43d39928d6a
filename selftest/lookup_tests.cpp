// Lookups under a move: sched::current() and k::current_cpu() mask interrupts across the lookup
// (RFC-0021 "Races closed"), so a task cannot leave its hart between finding the hart and
// reading that hart's state. Luck would rarely show it (a tick must land in a window of a few
// instructions, and the task must then be stolen before it runs again), so the test holds a task
// inside each lookup (a hook on the jitter site there, base/jitter.hpp) and meanwhile does from
// outside what a preemption in the window leads to: a pinned Interactive task is spawned on the
// held task's hart (a resched IPI there), and once the held task is queued behind it, the test
// steals it to its own hart. Masked, none of that can reach the held task before the lookup
// ends: it stays Running for the whole wait, and its answer is its own task, its own hart, with
// no cpu-id fallback. Unmasked (the bug), the IPI preempts it inside the hold, it resumes on
// another hart and reads the old hart's current task, or finds tp and its stack on two harts.
#include <atomic>

#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "selftest/hook_scope.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

using jitter::Site;

// How long the held task may be left exposed to the resched and the steal. Unmasked, the IPI
// preempts it in microseconds (a tick of its hart would do it within 10 ms); masked, the test
// spends all of it waiting for what cannot happen: the cost of each round.
constexpr std::uint64_t kMoveWaitUs = 20'000;

// The probe's frames inside the lookup lie within this many bytes below its own frame; a trap
// taken on its stack just before the call (a tick's handler also looks up its cpu) starts with a
// 304-byte trap frame, so it falls outside.
constexpr std::uintptr_t kLookupFramesBytes = 256;

struct Hold {
    std::atomic<Site> site{Site::CurrentLookup};
    std::atomic<std::uintptr_t> lo{0}, hi{0}; // the probe's lookup frames: the hook's victim
    std::atomic<std::uint32_t> armed{0};      // holds once per round
    std::atomic<std::uint32_t> holding{0};
    std::atomic<std::uint32_t> held_cpu{0};
    std::atomic<std::uint32_t> release{0};
};

Hold g_hold;

// Runs at every jitter site on every hart while the test lives: it must not look up a cpu id
// itself (it is called from inside that lookup), so it tells its victim by the stack pointer:
// the probe's call, not another lookup on its stack (its start, a trap).
void lookup_hook(Site s, const void* subject) {
    HookScope::chained(s, subject);
    if (s != g_hold.site.load(std::memory_order_relaxed) ||
        g_hold.armed.load(std::memory_order_acquire) == 0)
        return;
    const std::uintptr_t sp = hal::read_sp();
    if (sp < g_hold.lo.load(std::memory_order_relaxed) ||
        sp >= g_hold.hi.load(std::memory_order_relaxed))
        return;
    std::uint32_t one = 1;
    if (!g_hold.armed.compare_exchange_strong(one, 0, std::memory_order_acq_rel)) return;
    g_hold.held_cpu.store(hal::tp_head()->cpu, std::memory_order_relaxed);
    g_hold.holding.store(1, std::memory_order_release);
    // Interrupts as the lookup left them: that is what is under test.
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!g_hold.release.load(std::memory_order_acquire) && time::now() < end) {
    }
    g_hold.holding.store(0, std::memory_order_release);
}

struct Probe {
    Site site = Site::CurrentLookup;
    std::atomic<std::uint32_t> go{0};
    std::atomic<std::uint32_t> done{0};
    std::atomic<sched::Task*> answer_task{nullptr}; // current()'s answer
    std::atomic<std::uint32_t> answer_cpu{0};       // current_cpu()'s answer
    std::atomic<std::uint64_t> fallbacks{0};        // cpu-id fallbacks counted by the call
};

void probe_body(void* arg) {
    auto* p = static_cast<Probe*>(arg);
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!p->go.load(std::memory_order_acquire) && time::now() < end) {
    }
    const std::uintptr_t sp = hal::read_sp();
    g_hold.lo.store(sp - kLookupFramesBytes, std::memory_order_relaxed);
    g_hold.hi.store(sp, std::memory_order_relaxed);
    g_hold.armed.store(1, std::memory_order_release);
    if (p->site == Site::CurrentLookup) {
        p->answer_task.store(sched::current(), std::memory_order_relaxed);
    } else {
        // Its answer can only be compared with the hart it was held on: once the call has
        // unmasked, the resched waiting there may move the probe at once.
        const std::uint64_t before = cpuid_fallback_total();
        const std::uint32_t c = current_cpu();
        p->fallbacks.store(cpuid_fallback_total() - before, std::memory_order_relaxed);
        p->answer_cpu.store(c, std::memory_order_relaxed);
    }
    p->done.store(1, std::memory_order_release);
}

std::atomic<std::uint32_t> g_spin_release{0};

void spin_body(void*) {
    const std::uint64_t end = time::now() + time::from_us(kEventuallyUs);
    while (!g_spin_release.load(std::memory_order_acquire) && time::now() < end) {
    }
}

struct RoundResult {
    const char* fail = nullptr;
    bool moved = false; // the held task became Ready inside the lookup
    std::uint32_t held_cpu = 0;
};

RoundResult round(Site site, std::uint32_t cpu, std::uint32_t self) {
    RoundResult out;
    Probe p;
    p.site = site;
    auto release = [&p] {
        g_hold.armed.store(0, std::memory_order_release);
        g_hold.release.store(1, std::memory_order_release);
        g_spin_release.store(1, std::memory_order_release);
        p.go.store(1, std::memory_order_release);
    };
    TaskScope scope(release);
    g_hold.site.store(site, std::memory_order_relaxed);
    g_hold.holding.store(0, std::memory_order_relaxed);
    g_hold.release.store(0, std::memory_order_relaxed);
    g_spin_release.store(0, std::memory_order_relaxed);
    sched::Spawned probe =
        scope.spawn(&probe_body, &p, sched::SpawnOptions{sched::Qos::Normal, cpu, false, "lookup"});
    if (probe.error != sched::SpawnError::None) {
        out.fail = "spawn of the probe failed";
        return out;
    }
    sched::Task* t = probe.task.get();
    p.go.store(1, std::memory_order_release);
    if (!await(kEventuallyUs, [] { return g_hold.holding.load(std::memory_order_acquire) != 0; })) {
        out.fail = "the probe never reached the lookup";
        return out;
    }
    out.held_cpu = g_hold.held_cpu.load(std::memory_order_relaxed);
    if (out.held_cpu == self) {
        out.fail = "the probe was held on the test's own hart";
        return out;
    }
    // What a preemption inside the lookup would lead to: a higher class on its hart...
    sched::Spawned spin =
        scope.spawn(&spin_body, nullptr,
                    sched::SpawnOptions{sched::Qos::Interactive, out.held_cpu, true, "nudge"});
    if (spin.error != sched::SpawnError::None) {
        out.fail = "spawn of the pinned Interactive task failed";
        return out;
    }
    // ...and, once the probe is queued there behind it, a steal to this hart.
    out.moved = await(kMoveWaitUs, [t] {
        return t->state.state() == sched::TaskState::Ready &&
               t->on_cpu.load(std::memory_order_acquire) == 0;
    });
    if (out.moved) {
        std::uint32_t taken = 0;
        (void)sched::steal_now(sched::StealRequest{1, sched::Qos::Normal}, out.held_cpu, taken);
    }
    release();
    if (!await(kEventuallyUs, [&p] { return p.done.load(std::memory_order_acquire) != 0; })) {
        out.fail = "the probe never finished";
        return out;
    }
    if (out.moved) {
        out.fail = site == Site::CurrentLookup
                       ? "current(): preempted between finding its hart and reading its task"
                       : "current_cpu(): preempted between reading tp and checking its block";
        return out;
    }
    if (site == Site::CurrentLookup) {
        if (p.answer_task.load(std::memory_order_relaxed) != t)
            out.fail = "current() returned another task than the caller";
    } else if (p.fallbacks.load(std::memory_order_relaxed) != 0) {
        out.fail = "current_cpu() counted a fallback";
    } else if (p.answer_cpu.load(std::memory_order_relaxed) != out.held_cpu) {
        out.fail = "current_cpu() named another hart than the one it was held on";
    }
    return out;
}

} // namespace

KSELFTEST(WIN0002, "lookups under a move") {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    const std::uint32_t self = current_cpu();
    HookScope hook(&lookup_hook);
    RoundResult r[2];
    const Site sites[2] = {Site::CurrentLookup, Site::CpuIdLookup};
    for (std::uint32_t i = 0; i < 2; ++i) {
        r[i] = round(sites[i], on.after(self), self);
        if (r[i].fail) return Result::fail(r[i].fail);
    }
    println("KLOG: lookups under a move: held in current() on cpu", r[0].held_cpu,
            " and in current_cpu() on cpu", r[1].held_cpu, ", a resched and a steal waiting ",
            kMoveWaitUs / 1000, " ms each: moved=", r[0].moved || r[1].moved ? 1 : 0,
            ", answers their own, no fallback");
    return Result::pass();
}

} // namespace k::selftest
