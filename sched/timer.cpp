// Per-hart timer queues: arm, cancel, fire, the hot-plug close, and the timed wait (RFC-0030).
#include "sched/timer.hpp"

#include "base/fault.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/spin_lock.hpp"
#include "base/time.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/timer_list.hpp"

namespace sched {

namespace {

using List = TimerList<TimerEntry, &TimerEntry::link, &TimerEntry::deadline>;

struct alignas(64) TimerQueue {
    // Taken with interrupts masked (a SpinLock masks them), also by the timer interrupt. The
    // fire signals a notification under it: this lock, then a notification's, then an inbox's.
    k::SpinLock lock{"timer-queue"};
    List list;          // guarded by lock
    bool closed = true; // guarded by lock: the hart is not taking work (not joined, or leaving)
    std::uint64_t armed = 0, fired = 0, cancelled = 0, fired_early = 0; // guarded by lock
};

TimerQueue g_queues[k::kMaxCpus];

TimerQueue& queue(std::uint32_t cpu) {
    return g_queues[cpu < k::kMaxCpus ? cpu : 0];
}

// Under q.lock: the entry's signal.
void fire(TimerQueue& q, TimerEntry& e, bool early) {
    ++q.fired;
    if (early) ++q.fired_early;
    (void)e.target->signal(e.bits);
}

} // namespace

void timer_arm(TimerEntry& e) {
    hal::Cpu::irq_push(); // the hart must not change between the look and the insert
    std::uint32_t cpu = k::current_cpu_masked();
    for (;;) {
        TimerQueue& q = queue(cpu);
        k::SpinGuard g(q.lock);
        if (q.closed && cpu != 0) { // leaving: the boot hart never does
            cpu = 0;
            continue;
        }
        e.cpu = cpu;
        q.list.insert(e);
        ++q.armed;
        break;
    }
    // Our own hart: its timer fires at the deadline if that comes before its next tick (another
    // hart's queue, only while this one leaves, is served at that hart's next tick).
    if (cpu == k::current_cpu_masked()) {
        const std::uint64_t tick = detail::local().next_tick;
        k::time::arm(e.deadline < tick ? e.deadline : tick);
    }
    hal::Cpu::irq_pop();
}

bool timer_cancel(TimerEntry& e) {
    TimerQueue& q = queue(e.cpu);
    k::SpinGuard g(q.lock);
    if (!q.list.remove(e)) return false; // fired: its signal ran under this lock, before us
    ++q.cancelled;
    return true;
}

std::uint64_t timer_fire_due(std::uint32_t cpu, std::uint64_t now) {
    TimerQueue& q = queue(cpu);
    // kfault=time-late: every entry fires two ticks after its deadline.
    const std::uint64_t late =
        k::fault::is(k::fault::Fault::TimeLate) ? 2 * k::time::from_us(kTickUs) : 0;
    k::SpinGuard g(q.lock);
    while (TimerEntry* e = q.list.pop_due(now > late ? now - late : 0))
        fire(q, *e, false);
    const std::uint64_t next = q.list.next_deadline();
    return next == kNoDeadline || late == 0 ? next : next + late;
}

std::uint64_t timer_next(std::uint32_t cpu) {
    TimerQueue& q = queue(cpu);
    k::SpinGuard g(q.lock);
    return q.list.next_deadline();
}

void timer_close(std::uint32_t cpu) {
    TimerQueue& q = queue(cpu);
    k::SpinGuard g(q.lock);
    q.closed = true;
    // kfault=time-strand: the entries stay on a queue no interrupt serves any more.
    if (k::fault::is(k::fault::Fault::TimeStrand)) return;
    while (TimerEntry* e = q.list.pop_any())
        fire(q, *e, true);
}

void timer_open(std::uint32_t cpu) {
    TimerQueue& q = queue(cpu);
    k::SpinGuard g(q.lock);
    q.closed = false;
}

TimerStats timer_stats(std::uint32_t cpu) {
    TimerQueue& q = queue(cpu);
    k::SpinGuard g(q.lock);
    return TimerStats{q.armed, q.fired, q.cancelled, q.fired_early, q.list.size()};
}

std::uint64_t timed_wait(Notification& n, std::uint64_t deadline, std::uint64_t timer_bit,
                         const WaitKind* kind, const void* object) {
    return timed_wait(*current(), n, deadline, timer_bit, nullptr, kind, object);
}

std::uint64_t timed_wait(Task& me, Notification& n, std::uint64_t deadline, std::uint64_t timer_bit,
                         Task* handoff_to, const WaitKind* kind, const void* object) {
    for (;;) {
        TimerEntry e;
        e.deadline = deadline;
        e.target = &n;
        e.bits = timer_bit;
        timer_arm(e);
        std::uint64_t bits = n.wait(me, handoff_to, kind, object);
        handoff_to = nullptr; // handed over (or queued) at the first block
        k::jitter::point(k::jitter::Site::TimerWoke, &e);
        // Exactly one of the fire and this cancel unlinks e. Fired: its signal is complete, and
        // its bit is in `bits` or still in the word, where no later wait may find it.
        if (!timer_cancel(e) && (bits & timer_bit) == 0 &&
            !k::fault::is(k::fault::Fault::TimeStaleBit))
            n.clear(timer_bit);
        // A timer bit before the deadline: a leaving hart fired its queue early.
        if ((bits & timer_bit) != 0 && k::time::now() < deadline) bits &= ~timer_bit;
        if (bits != 0) return bits;
    }
}

void sleep_until(std::uint64_t deadline) {
    Notification n;
    while (k::time::now() < deadline)
        (void)timed_wait(n, deadline, 1);
}

} // namespace sched
