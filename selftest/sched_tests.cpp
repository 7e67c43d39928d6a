// Scheduler selftests: switching, transitions, preemption, cross-hart runs.
#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/percpu.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/event.hpp"
#include "sched/task_state.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "trap/runtime.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

KSELFTEST(SCHED0001, "context switch") {
    // Two tasks on one hart yield to each other; every yield must hand the
    // cpu to the other task (its counter moved while we were away).
    constexpr std::uint64_t kRounds = 1000;
    const std::uint32_t cpu = sched::cpu_of_current();
    std::atomic<std::uint64_t> count[2] = {0, 0};
    std::atomic<std::uint64_t> handed[2] = {0, 0};
    std::atomic<std::uint32_t> started[2] = {0, 0};
    auto body = [&](int me) {
        sched::PreemptGuard no_tick; // only the yields switch...
        started[me].store(1);
        // ...once both are past their guard (a tick may still land before it).
        while (!started[1 - me].load())
            (void)sched::yield();
        for (std::uint64_t i = 0; i < kRounds; ++i) {
            const std::uint64_t other = count[1 - me].load();
            count[me].fetch_add(1);
            if (sched::yield() == sched::YieldResult::Switched && count[1 - me].load() != other)
                handed[me].fetch_add(1);
        }
    };
    auto a = [&] { body(0); };
    auto b = [&] { body(1); };
    Thunk<decltype(a)> ta{a};
    Thunk<decltype(b)> tb{b};
    TaskScope scope;
    const std::uint64_t switches = sched::stats(cpu).switches;
    hal::Cpu::irq_push(); // both queued before either runs
    sched::Spawned sa = scope.spawn(ta, SpawnOptions{Qos::Interactive, cpu, true, "ping"});
    sched::Spawned sb = scope.spawn(tb, SpawnOptions{Qos::Interactive, cpu, true, "pong"});
    hal::Cpu::irq_pop();
    KCHECK(sa.error == sched::SpawnError::None && sb.error == sched::SpawnError::None);
    (void)sched::join(sa.task);
    (void)sched::join(sb.task);
    KCHECK(count[0].load() == kRounds && count[1].load() == kRounds);
    // Every yield handed the cpu to the other task, except the last yield of
    // whichever finished first's partner: it finds the other already gone.
    println("KLOG: context switch: handed ", handed[0].load(), "+", handed[1].load(), " of ",
            2 * kRounds, " yields");
    KCHECK(handed[0].load() + handed[1].load() == 2 * kRounds - 1);
    KCHECK(handed[0].load() >= kRounds - 1 && handed[1].load() >= kRounds - 1);
    KCHECK(sched::stats(cpu).switches - switches >= 2 * kRounds);
    println("KLOG: context switch: ", 2 * kRounds, " yields, ",
            sched::stats(cpu).switches - switches, " switches on cpu", cpu);
    return Result::pass();
}

KSELFTEST(SCHED0002, "task transitions") {
    using sched::TaskState;
    using sched::Transition;
    // Illegal transitions are error values and write nothing.
    sched::TaskStateCell c{TaskState::Ready};
    KCHECK(c.exit() == Transition::Illegal && c.state() == TaskState::Ready);
    KCHECK(c.wake() == Transition::Illegal && c.state() == TaskState::Ready);
    KCHECK(c.dispatch() == Transition::Ok && c.state() == TaskState::Running);
    KCHECK(c.dispatch() == Transition::Illegal && c.state() == TaskState::Running);
    KCHECK(c.block(sched::BlockReason::Join) == Transition::Ok);
    KCHECK(c.reason() == sched::BlockReason::Join);
    KCHECK(c.preempt() == Transition::Illegal && c.state() == TaskState::Blocked);
    KCHECK(c.wake() == Transition::Ok && c.wake() == Transition::Illegal);
    // A real task after exit: still reachable through its TaskRef, not wakeable.
    auto noop = [] {};
    Thunk<decltype(noop)> t{noop};
    TaskScope scope;
    sched::Spawned s = scope.spawn(t, SpawnOptions{});
    KCHECK(s.error == sched::SpawnError::None);
    KCHECK(sched::join(s.task) == 0);
    KCHECK(s.task->state.state() == TaskState::Exited);
    KCHECK(sched::wake(*s.task) == sched::WakeResult::NotBlocked);
    KCHECK(s.task->state.state() == TaskState::Exited);

    // The kernel's irq nesting (hal/riscv64/hal_cpu.hpp, RFC-0021 "Locks"): only the outermost
    // irq_push() records SIE and only the outermost irq_pop() restores it; from a masked
    // start, push and pop leave it masked. (The host test checks hal/host's fake, not this.)
    KCHECK(hal::Cpu::irq_depth() == 0 && hal::Cpu::irq_enabled());
    hal::Cpu::irq_push();
    hal::Cpu::irq_push();
    const bool inner_masked = !hal::Cpu::irq_enabled() && hal::Cpu::irq_depth() == 2;
    hal::Cpu::irq_pop();
    const bool still_masked = !hal::Cpu::irq_enabled() && hal::Cpu::irq_depth() == 1;
    hal::Cpu::irq_pop();
    const bool restored = hal::Cpu::irq_enabled() && hal::Cpu::irq_depth() == 0;
    hal::csr::clear_sstatus(hal::csr::kSstatusSie); // masked without a push
    hal::Cpu::irq_push();
    hal::Cpu::irq_push();
    hal::Cpu::irq_pop();
    hal::Cpu::irq_pop();
    const bool kept_masked = !hal::Cpu::irq_enabled() && hal::Cpu::irq_depth() == 0;
    hal::csr::set_sstatus(hal::csr::kSstatusSie);
    KCHECK(inner_masked && still_masked && restored && kept_masked);

    // Exceptions do not preempt (RFC-0021 "The switch path"): only an interrupt's trap exit
    // may switch. With a task of our class queued here and need_resched set, an ebreak
    // (served by the trap runtime) comes back to us with no switch, need_resched still set.
    const std::uint32_t self = sched::cpu_of_current();
    sched::detail::CpuSched& cs = sched::detail::cpu_sched(self);
    Thunk<decltype(noop)> tq{noop};
    TaskScope queued_scope;
    hal::Cpu::irq_push();
    const sched::SpawnError queued_err =
        queued_scope.spawn(tq, SpawnOptions{Qos::Normal, self, true, "queued"}).error;
    sched::detail::drain_inbox(cs);
    const std::uint32_t queued = sched::queued_on(self, Qos::Normal);
    cs.need_resched.store(1);
    const std::uint64_t switches = sched::stats(self).switches, bps = trap::breakpoints();
    asm volatile("ebreak");
    const bool no_switch = sched::stats(self).switches == switches && cs.need_resched.load() == 1;
    const bool served = trap::breakpoints() == bps + 1;
    hal::Cpu::irq_pop();
    queued_scope.join_all();
    KCHECK(queued_err == sched::SpawnError::None && queued >= 1);
    KCHECK(served && no_switch);

    // handoff() is refused, changing nothing, when the caller is not Blocked (woken
    // meanwhile, or never asleep): a sleeper on this hart whose wake we won is not run; it
    // stays Ready and off every queue until enqueue_woken() places it (RFC-0021 "The switch
    // path"). The wait sees its event clear and sleeps again, as after any stale wake.
    sched::Event ev;
    auto sleeper_body = [&] { ev.wait(); };
    Thunk<decltype(sleeper_body)> tsl{sleeper_body};
    auto let_go = [&] { (void)ev.signal(); };
    TaskScope sleeper_scope(let_go);
    sched::Spawned sl = sleeper_scope.spawn(tsl, SpawnOptions{Qos::Normal, self, true, "sleeper"});
    KCHECK(sl.error == sched::SpawnError::None);
    sched::Task& st = *sl.task;
    auto asleep = [&] {
        return st.state.state() == TaskState::Blocked && st.on_cpu.load() == 0 &&
               ev.waiter() == &st;
    };
    KCHECK(await(kEventuallyUs, asleep));
    const std::uint64_t handoffs = sched::stats(self).handoffs;
    KCHECK(st.state.wake() == Transition::Ok); // we won its wake, as a waker does
    hal::Cpu::irq_push();
    const std::uint32_t queued_before = sched::queued_on(self, Qos::Normal);
    const bool handed = sched::handoff(st);
    const bool untouched = st.state.state() == TaskState::Ready && st.on_cpu.load() == 0 &&
                           sched::queued_on(self, Qos::Normal) == queued_before;
    hal::Cpu::irq_pop();
    sched::enqueue_woken(st);
    KCHECK(!handed && untouched && sched::stats(self).handoffs == handoffs);
    KCHECK(await(kEventuallyUs, asleep)); // it ran, saw the event clear, and slept again
    return Result::pass();
}

KSELFTEST(SCHED0003, "timer preemption") {
    // Two tasks of one class spin without yielding on one hart. Only the tick
    // can interleave them, so each spins until the tick has preempted both
    // (counted by the scheduler), bounded generously: the claim depends on
    // ticks arriving, not on how much wall time the host gives the hart.
    const std::uint32_t cpu = online_cpus().after(sched::cpu_of_current());
    struct Spin {
        std::atomic<sched::Task*> task{nullptr};
        std::uint64_t first = 0, last = 0;
    } spin[2];
    std::atomic<std::uint32_t> give_up{0};
    auto preempted = [&](int i) {
        sched::Task* t = spin[i].task.load();
        return t != nullptr && t->preempts.load() >= 1;
    };
    auto body = [&](int me) {
        spin[me].task.store(sched::current());
        spin[me].first = time::now();
        const std::uint64_t bound = spin[me].first + time::from_us(kEventuallyUs);
        while (!(preempted(0) && preempted(1)) && !give_up.load() && time::now() < bound)
            hal::Cpu::relax();
        spin[me].last = time::now();
    };
    auto a = [&] { body(0); };
    auto b = [&] { body(1); };
    Thunk<decltype(a)> ta{a};
    Thunk<decltype(b)> tb{b};
    auto stop = [&] { give_up.store(1); };
    TaskScope scope(stop);
    hal::Cpu::irq_push();
    sched::Spawned sa = scope.spawn(ta, SpawnOptions{Qos::Interactive, cpu, true, "spin-a"});
    sched::Spawned sb = scope.spawn(tb, SpawnOptions{Qos::Interactive, cpu, true, "spin-b"});
    hal::Cpu::irq_pop();
    KCHECK(sa.error == sched::SpawnError::None && sb.error == sched::SpawnError::None);
    (void)sched::join(sa.task);
    (void)sched::join(sb.task);
    println("KLOG: timer preemption on cpu", cpu, ": preempts ", sa.task->preempts.load(), "+",
            sb.task->preempts.load(), ", overlap ",
            time::to_us(spin[0].last < spin[1].last ? spin[0].last - spin[1].first
                                                    : spin[1].last - spin[0].first),
            " us");
    KCHECK(sa.task->preempts.load() >= 1 && sb.task->preempts.load() >= 1);
    KCHECK(spin[1].first < spin[0].last && spin[0].first < spin[1].last);

    // A task holding a PreemptGuard is not preempted (RFC-0021 "The switch path"): it spins,
    // interrupts on, through 2 ticks of its hart with a task of its class queued behind it
    // (spawned by itself once it holds the guard, so that no resched can come before); the
    // ticks' need_resched stays set for its next switch point, where the other one runs.
    std::atomic<std::uint32_t> other_ran{0}, other_ran_during{~0u}, two_ticks{0}, pending{0};
    std::atomic<std::uint64_t> guarded_preempts{~0ull};
    auto other = [&] { other_ran.store(1); };
    Thunk<decltype(other)> to{other};
    sched::Spawned so{sched::SpawnError::InvalidCpu, {}};
    auto guarded = [&] {
        sched::PreemptGuard no_tick;
        const std::uint32_t c = sched::cpu_of_current();
        so = sched::spawn(&Thunk<decltype(other)>::run, &to,
                          SpawnOptions{Qos::Normal, c, true, "queued"});
        const std::uint64_t p0 = sched::current()->preempts.load();
        const std::uint64_t t0 = sched::stats(c).ticks;
        const std::uint64_t bound = time::now() + time::from_us(kEventuallyUs);
        while (sched::stats(c).ticks < t0 + 2 && time::now() < bound)
            hal::Cpu::relax();
        two_ticks.store(sched::stats(c).ticks >= t0 + 2 ? 1 : 0);
        guarded_preempts.store(sched::current()->preempts.load() - p0);
        other_ran_during.store(other_ran.load());
        pending.store(sched::detail::cpu_sched(c).need_resched.load());
    };
    Thunk<decltype(guarded)> tg{guarded};
    sched::Spawned sg = sched::spawn(&Thunk<decltype(guarded)>::run, &tg,
                                     SpawnOptions{Qos::Normal, cpu, true, "guarded"});
    KCHECK(sg.error == sched::SpawnError::None);
    (void)sched::join(sg.task); // each joined before any check: neither outlives the frame
    if (so.error == sched::SpawnError::None) (void)sched::join(so.task);
    KCHECK(so.error == sched::SpawnError::None);
    println("KLOG: timer preemption on cpu", cpu,
            ": under a PreemptGuard through 2 ticks=", two_ticks.load(), ", preempts ",
            guarded_preempts.load(), ", queued task ran meanwhile=", other_ran_during.load(),
            ", need_resched left set=", pending.load());
    KCHECK(two_ticks.load() == 1 && guarded_preempts.load() == 0);
    KCHECK(other_ran_during.load() == 0 && pending.load() == 1 && other_ran.load() == 1);

    // Only a due deadline is a tick (RFC-0021 "Races closed"): a 30 ms wait_until() on this
    // hart, interrupts on, ends a 500 us step with a timer interrupt about 60 times; the tick
    // count may move only once per 10 ms slice that passed (+ 2 for the slices at the ends).
    const std::uint32_t here = sched::cpu_of_current();
    const sched::CpuStats before = sched::stats(here);
    const std::uint64_t exits_before = sched::detail::cpu_sched(here).trap_exits.load();
    const std::uint64_t t0 = time::now();
    (void)time::wait_until(t0 + time::from_us(30'000), [] { return false; });
    const std::uint64_t slices = time::to_us(time::now() - t0) / sched::kTickUs;
    const std::uint64_t ticks = sched::stats(here).ticks - before.ticks;
    const std::uint64_t interrupts =
        sched::detail::cpu_sched(here).trap_exits.load() - exits_before;
    println("KLOG: timer preemption: 30 ms wait on cpu", here, ": ", interrupts, " interrupts, ",
            ticks, " ticks, ", slices, " slices");
    KCHECK(ticks <= slices + 2);
    return Result::pass();
}

KSELFTEST(SCHED0004, "spawn on remote hart") {
    const std::uint32_t self = sched::cpu_of_current();
    const OnlineCpus on = online_cpus();
    for (std::uint32_t i = 0; i < on.count; ++i) {
        const std::uint32_t cpu = on.cpu[i];
        if (cpu == self) continue;
        std::uint32_t ran_on = ~0u, hart = ~0u;
        KCHECK(run_on(cpu, [&] {
            ran_on = sched::cpu_of_current();
            hart = hal::tp_head()->hart_id;
        }));
        KCHECK(ran_on == cpu);
        KCHECK(hart == cpu_block(cpu).head.hart_id);
    }
    // Placement of unpinned tasks (RFC-0021 "Task API"): a spawn goes to the hart it names,
    // a kAnyCpu wake to the hart the sleeper last ran on (its home), not to the caller's, and
    // a wake naming a hart (the hint) to that hart. Stealing is off, so only the placement
    // decides where they run.
    NoStealing no_stealing;
    for (std::uint32_t i = 0; i < on.count; ++i) {
        const std::uint32_t cpu = on.cpu[i], hinted = on.after(cpu);
        if (cpu == self) continue;
        sched::Event ev[2];
        std::atomic<std::uint32_t> ran[3] = {~0u, ~0u, ~0u};
        auto body = [&] {
            ran[0].store(sched::cpu_of_current());
            ev[0].wait();
            ran[1].store(sched::cpu_of_current());
            ev[1].wait();
            ran[2].store(sched::cpu_of_current());
        };
        Thunk<decltype(body)> tb{body};
        auto let_go = [&] {
            for (auto& e : ev)
                (void)e.signal();
        };
        TaskScope scope(let_go);
        sched::Spawned t = scope.spawn(tb, SpawnOptions{Qos::Normal, cpu, false, "unpinned"});
        KCHECK(t.error == sched::SpawnError::None);
        for (std::uint32_t w = 0; w < 2; ++w) {
            KCHECK(await(kEventuallyUs, [&] {
                return t.task->state.state() == sched::TaskState::Blocked &&
                       t.task->on_cpu.load() == 0 && ev[w].waiter() == t.task.get();
            }));
            KCHECK(ev[w].signal(w == 0 ? sched::kAnyCpu : hinted) ==
                   sched::Event::Signalled::Woken);
        }
        (void)sched::join(t.task);
        KCHECK(ran[0].load() == cpu && ran[1].load() == cpu && ran[2].load() == hinted);
    }
    return Result::pass();
}

KSELFTEST(SCHED0005, "remote wake") {
    // A task on hart B sleeps on an event 200 times; each time hart A wakes
    // it only once it is really asleep (Blocked, off its cpu), so every round
    // is a real cross-hart wake: it must succeed, go through B's inbox with a
    // resched IPI that B acknowledges, and resume the task on B.
    constexpr std::uint32_t kRounds = 200;
    const std::uint32_t self = sched::cpu_of_current();
    const std::uint32_t b = online_cpus().after(self);
    // Static: 200 events would take most of a 16 KiB task stack. Made anew for each run.
    static sched::Event events[kRounds];
    for (auto& e : events)
        new (&e) sched::Event();
    std::atomic<std::uint32_t> resumed_on_b{0};
    auto body = [&] {
        for (std::uint32_t i = 0; i < kRounds; ++i) {
            events[i].wait();
            if (sched::cpu_of_current() == b) resumed_on_b.fetch_add(1);
        }
    };
    Thunk<decltype(body)> t{body};
    auto release = [&] {
        for (auto& e : events)
            (void)e.signal();
    };
    TaskScope scope(release);
    sched::Spawned s = scope.spawn(t, SpawnOptions{Qos::Normal, b, true, "sleeper"});
    KCHECK(s.error == sched::SpawnError::None);
    sched::Task& sleeper = *s.task;
    auto asleep = [&] {
        return sleeper.state.state() == sched::TaskState::Blocked && sleeper.on_cpu.load() == 0;
    };
    std::uint32_t woken = 0;
    ipi::Snapshot before{};
    for (std::uint32_t i = 0; i < kRounds; ++i) {
        if (!await(kEventuallyUs, asleep)) {
            println("KDUMP: remote wake stalled at round ", i);
            sched::dump_state("remote wake: the sleeper never came back");
            return Result::fail("the sleeper did not get back to sleep");
        }
        if (i == 0) before = ipi::chain(b); // after the spawn's own IPI
        woken += events[i].signal(b) == sched::Event::Signalled::Woken ? 1 : 0;
    }
    (void)sched::join(s.task);
    // The last request may still be pending when the join returns: B can run
    // the woken task from an inbox drain with interrupts masked and take the
    // soft interrupt only afterwards (seen: acked 199 of 200 at the join).
    // Every request must be acked or coalesced eventually.
    (void)await(kEventuallyUs, [&] {
        const ipi::Snapshot now = ipi::chain(b);
        return now.acked - before.acked + now.coalesced - before.coalesced >=
               now.requested - before.requested;
    });
    const ipi::Snapshot after = ipi::chain(b);
    const std::uint64_t requested = after.requested - before.requested;
    const std::uint64_t acked = after.acked - before.acked;
    const std::uint64_t coalesced = after.coalesced - before.coalesced;
    println("KLOG: remote wake: ", woken, "/", kRounds, " wakes from cpu", self, " resumed on cpu",
            b, " (", resumed_on_b.load(), "), resched requests ", requested, " acked ", acked,
            " coalesced ", coalesced);
    KCHECK(woken == kRounds);
    KCHECK(resumed_on_b.load() == kRounds);
    // Every wake asked B to reschedule, and every request was either acked
    // by B's soft-interrupt trap or folded into one still pending (B may run
    // the task from a tick-time drain before it takes the earlier IPI).
    KCHECK(requested >= kRounds);
    KCHECK(acked + coalesced >= kRounds && acked >= 1);
    return Result::pass();
}

} // namespace k::selftest
