// handoff() and the queued class (RFC-0021 "The switch path"): a Blocked caller may not hand
// its hart past a queued task of next's class or above. (The caller-not-Blocked refusal is
// in `task transitions`.)
#include "base/console.hpp"
#include "base/spin_lock.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/event.hpp"
#include "sched/task_state.hpp"
#include "sched/wait_channel.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;
using sched::TaskState;
using sched::Transition;

namespace {

// The selftest task's own wait: it publishes Blocked here with block_on(), and either a
// queued task ends the wait (sets `over`, wakes it) or it takes the block back itself
// (unblock_self), both under `lock`. Static: the monitor may read it at any time.
struct SelfWait {
    k::SpinLock lock{"handoff test"};
    std::atomic<std::uint32_t> over{0};
    std::atomic<sched::Task*> sleeper{nullptr}; // set while the wait is published
};
SelfWait g_wait;

bool self_wait_over(const void* w) {
    return static_cast<const SelfWait*>(w)->over.load() != 0;
}
constexpr sched::WaitKind kSelfWait{"handoff test", &self_wait_over};

// Ends the selftest task's wait if it is still published (the waker's half).
void end_self_wait() {
    k::SpinGuard g(g_wait.lock);
    sched::Task* t = g_wait.sleeper.load();
    if (!t) return;
    g_wait.over.store(1);
    sched::expect_condition_set(g_wait.over.load() != 0, kSelfWait.name);
    g_wait.sleeper.store(nullptr);
    (void)sched::wake(*t);
}

struct Attempt {
    bool spawned = false, won = false, handed = false, blocked_at_return = false;
    bool next_untouched = false, queue_untouched = false, took_back = false;
    std::uint64_t handoffs = 0; // handoffs counted on this hart by the attempt
    std::uint32_t queued_ran = 0;
};

} // namespace

KSELFTEST(SCHED0006, "handoff refused past a queued class") {
    // next: a sleeper on this hart, Normal, whose wake we win. A task of class `q` is queued
    // here (drained into the run queue, interrupts masked); we publish Blocked with
    // block_on() and call handoff(next). With q = Normal (next's class) it must be refused
    // with nothing changed: we are still Blocked, next Ready and on no queue, the queued
    // task still queued and not run, no handoff counted; we then take our block back under
    // the lock and queue next as a refused caller does. The control, q = Idle (below next's
    // class): the same handoff must go through (counted), next runs, and the Idle task, run
    // once nothing else is left, ends our wait.
    const std::uint32_t self = sched::cpu_of_current();
    sched::Task* me = sched::current();
    sched::detail::CpuSched& cs = sched::detail::cpu_sched(self);
    sched::Event ev;
    auto sleeper_body = [&] { ev.wait(); };
    Thunk<decltype(sleeper_body)> tsl{sleeper_body};
    std::atomic<std::uint32_t> queued_ran{0};
    auto queued_body = [&] {
        queued_ran.fetch_add(1);
        end_self_wait();
    };
    Thunk<decltype(queued_body)> tq{queued_body};
    auto let_go = [&] {
        end_self_wait();
        (void)ev.signal();
    };
    TaskScope scope(let_go);
    sched::Spawned sl = scope.spawn(tsl, SpawnOptions{Qos::Normal, self, true, "next"});
    KCHECK(sl.error == sched::SpawnError::None);
    sched::Task& st = *sl.task;
    auto asleep = [&] {
        return st.state.state() == TaskState::Blocked && st.on_cpu.load() == 0 &&
               ev.waiter() == &st;
    };

    auto attempt = [&](Qos q) {
        Attempt a;
        const std::uint32_t ran_before = queued_ran.load();
        if (!await(kEventuallyUs, asleep)) return a;
        a.won = st.state.wake() == Transition::Ok; // as a waker does
        hal::Cpu::irq_push();
        a.spawned =
            scope.spawn(tq, SpawnOptions{q, self, true, "queued"}).error == sched::SpawnError::None;
        sched::detail::drain_inbox(cs);
        const std::uint32_t queued_before = sched::queued_on(self, Qos::Normal);
        const std::uint32_t idle_before = sched::queued_on(self, Qos::Idle);
        const std::uint64_t handoffs = sched::stats(self).handoffs;
        {
            k::SpinGuard g(g_wait.lock);
            g_wait.over.store(0);
            g_wait.sleeper.store(me);
            sched::block_on(*me, sched::BlockReason::Event, kSelfWait, &g_wait, g_wait.lock);
        }
        a.handed = a.won && sched::handoff(st);
        a.blocked_at_return = me->state.state() == TaskState::Blocked;
        a.next_untouched = st.state.state() == TaskState::Ready && st.on_cpu.load() == 0;
        a.queue_untouched = sched::queued_on(self, Qos::Normal) == queued_before &&
                            sched::queued_on(self, Qos::Idle) == idle_before;
        a.handoffs = sched::stats(self).handoffs - handoffs;
        a.queued_ran = queued_ran.load() - ran_before;
        {
            k::SpinGuard g(g_wait.lock);
            if (g_wait.sleeper.load() == me) { // nobody ended the wait: take it back
                g_wait.sleeper.store(nullptr);
                a.took_back = me->state.unblock_self() == Transition::Ok;
            }
        }
        hal::Cpu::irq_pop();
        if (a.won && !a.handed) sched::enqueue_woken(st); // refused: queued, as a wake would
        // The queued task runs (and next sleeps again: its event is clear) before we go on.
        (void)await(kEventuallyUs, [&] { return queued_ran.load() != ran_before; });
        return a;
    };

    const Attempt control = attempt(Qos::Idle);
    const Attempt refused = attempt(Qos::Normal);
    println("KLOG: handoff: past a queued Idle task handed=", control.handed, " (counted ",
            control.handoffs, "); past a queued Normal task handed=", refused.handed, " (counted ",
            refused.handoffs, "), caller still Blocked=", refused.blocked_at_return,
            ", next Ready off queue=", refused.next_untouched,
            ", queue unchanged=", refused.queue_untouched,
            ", queued task ran=", refused.queued_ran);
    KCHECK(control.spawned && control.won && control.handed && control.handoffs == 1);
    KCHECK(!control.took_back && control.queued_ran == 1); // the Idle task ended our wait
    KCHECK(refused.spawned && refused.won);
    KCHECK(!refused.handed && refused.handoffs == 0);
    KCHECK(refused.blocked_at_return && refused.next_untouched && refused.queue_untouched);
    KCHECK(refused.queued_ran == 0 && refused.took_back);
    KCHECK(await(kEventuallyUs, asleep)); // next ran, saw its event clear, slept again
    return Result::pass();
}

} // namespace k::selftest
