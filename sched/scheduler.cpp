// The switch path: schedule(), finish_switch(), the idle loop and the tick.
//
// Handshake (closes the "re-queued before its registers are saved" race):
// a task's on_cpu is set before the switch to it and cleared, with release,
// only in finish_switch() on the next task's stack, after hal_context_switch
// stored its registers. A preempted task goes back on the run queue only
// there; a thief or an inbox drain takes a task only when on_cpu reads 0
// with acquire. A wake that finds on_cpu set pushes the task into that
// hart's inbox, which that hart drains after the switch completes.
#include "mm/user_space.hpp"
#include "sched/cpu_sched.hpp"

#include "base/fault.hpp"
#include "base/format.hpp"
#include "base/ipi.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/store_relaxed.hpp"
#include "base/time.hpp"
#include "sched/task_panic.hpp"
#include "sched/task_pool.hpp"
#include "sched/timer.hpp"
#include "sched/wake_monitor.hpp"
#include "sched/watchdog.hpp"

namespace sched::detail {

namespace {
CpuSched g_sched[k::kMaxCpus];
constexpr std::uint32_t kDrainMax = 32;
} // namespace

CpuSched& cpu_sched(std::uint32_t cpu) {
    return g_sched[cpu < k::kMaxCpus ? cpu : 0];
}
CpuSched& local() {
    return g_sched[k::current_cpu()];
}

void drain_inbox(CpuSched& s) {
    if (s.inbox.pending() == 0) return;
    (void)s.inbox.drain(
        [&s](Task& t) {
            k::jitter::point(k::jitter::Site::Drain, &t);
            if (t.on_cpu.load(std::memory_order_acquire) != 0 &&
                !k::fault::is(k::fault::Fault::WakeIgnoresOnCpu))
                return DrainAction::Keep;
            RqGuard g(s);
            EnqueueOutcome o = s.rq.enqueue(t, t.qos);
            if (o.ok()) return DrainAction::Take;
            // QueueFull: the wake waits here until a slot frees (the inbox is
            // bounded by the task pool, the run queue by its capacity).
            s.deferred.fetch_add(1, std::memory_order_relaxed);
            return DrainAction::Keep;
        },
        kDrainMax);
}

namespace {

// One buffer per hart for a reason that names a task (only the first panic prints; another
// hart's must not write over it meanwhile).

// A dispatch found a context that is not the save of its task's latest run: the task was made
// takeable before the save of that run finished (or a save was lost).
[[gnu::cold, gnu::noinline, noreturn]] void stale_context(const Task& t, std::uint64_t run,
                                                          std::uint32_t cpu) {
    task_panic("dispatch of a stale context", t, cpu, "holds the save of run",
               __atomic_load_n(&t.ctx.saved_run, __ATOMIC_RELAXED), "its latest run is", run);
}

} // namespace

void queued_remotely(const Task& t, std::uint32_t owner) {
    task_panic("a task was queued on another hart's run queue (not through its inbox)", t,
               k::current_cpu(), "owner", owner, "on_cpu",
               t.on_cpu.load(std::memory_order_relaxed));
}

void queued_live(const Task& t) {
    task_panic("a task entered a run queue with its registers live", t, k::current_cpu(), "on_cpu",
               t.on_cpu.load(std::memory_order_relaxed), "dispatches",
               __atomic_load_n(&t.ctx.run, __ATOMIC_RELAXED));
}

namespace {

// A task switched out neither running, nor exited, nor with a published wait.
[[gnu::cold, gnu::noinline, noreturn]] void unpublished_wait(const Task& t, std::uint32_t cpu) {
    task_panic("blocked without publishing its wait (block_on)", t, cpu, "state",
               static_cast<std::uint32_t>(t.state.state()), "transitions", t.state.transitions());
}

// finish_switch() found prev's on_cpu changed before the release that only it may make.
[[gnu::cold, gnu::noinline, noreturn]] void takeable_early(const Task& t, std::uint32_t cpu) {
    task_panic("prev made takeable before its registers were saved", t, cpu, "on_cpu",
               t.on_cpu.load(std::memory_order_relaxed), "saved on cpu", cpu);
}

// finish_switch(), inlined into schedule(): every switch runs it.
[[gnu::always_inline]] inline void finish_switch_here(CpuSched& s) {
    // Entered holding s.rq_lock, taken by the schedule() that switched here.
    Task* prev = s.prev.load(std::memory_order_relaxed);
    const Requeue requeue = s.prev_requeue;
    k::store_relaxed<Task*>(s.prev, nullptr);
    s.prev_requeue = Requeue::None;
    if (!prev) {
        RqGuard::release_switch_hold(s);
        return;
    }
    const bool exited = !prev->idle && prev->state.state_on_own_cpu() == TaskState::Exited;
    // A "lost" register: the slot no longer matches. Only while the switch
    // check runs (every boot but the benchmark's): without it the damage would
    // surface as some other failure, which proves nothing about the detector.
    if (!prev->idle && !exited && k::fault::is(k::fault::Fault::CtxLoseReg) &&
        __atomic_load_n(&hal_switch_check_on, __ATOMIC_RELAXED) != 0)
        prev->ctx.s[11] ^= 0x5a5a5a5a5a5a5a5aull;
    k::jitter::point(k::jitter::Site::FinishSwitch, prev);
    // prev's on_cpu has named this hart since its dispatch here, and only the release below
    // may change it: a task published as takeable anywhere between its dispatch and the end
    // of its save (the switch path, a sleeper, a waker) is caught here, on the first switch
    // that does it, wherever the early release sits.
    if (const std::uint32_t here = hal::tp_head()->cpu;
        prev->on_cpu.load(std::memory_order_relaxed) != here + 1) [[unlikely]]
        takeable_early(*prev, here);
    // Nothing may have queued prev here while its registers were live.
    if (!prev->idle && s.rq.holds(*prev))
        k::panic("sched: a task was queued before its registers were saved");
    // Registers saved: from here on another hart may run prev.
    k::store_release(prev->on_cpu, 0u);
    if (requeue == Requeue::Local) {
        EnqueueOutcome o = s.rq.enqueue(*prev, prev->qos);
        if (!o.ok()) k::panic("sched: reserved run-queue slot was taken");
    }
    RqGuard::release_switch_hold(s);
    if (requeue == Requeue::Elsewhere) {
        // Another hart, or (pinned) parked here until this hart is back.
        if (make_runnable(*prev, kAnyCpu, IfClosed::Park) == Placed::Refused)
            k::panic("sched: a parking requeue was refused");
    }
    // The scheduler's reference: after the final switch-out.
    if (exited && !k::fault::is(k::fault::Fault::EarlyRelease)) task_release(prev);
    drain_inbox(s);
}

// The second half of every switch: next is picked (dispatched here unless it is the idle
// context), s.rq_lock is held; returns once this thread runs again.
[[gnu::always_inline]] inline void switch_to(CpuSched& s, std::uint32_t cpu, Task* prev, Task* next,
                                             Requeue requeue, bool slice_over) {
    if (requeue != Requeue::None) {
        if (prev->state.preempt() != Transition::Ok)
            k::panic("sched: running task refused preempt");
        if (slice_over) prev->preempts.fetch_add(1, std::memory_order_relaxed);
        if (slice_over) s.preempts.fetch_add(1, std::memory_order_relaxed);
    } else if (!prev->idle && prev->wait_kind.load(std::memory_order_relaxed) == nullptr &&
               prev->state.state_on_own_cpu() != TaskState::Exited) [[unlikely]] {
        // Blocked without block_on() (sched/wait_channel.hpp): nothing says which lock its
        // waker takes, and the lost-wake-up monitor could not judge its wait.
        unpublished_wait(*prev, cpu);
    }
    if (!next->idle) {
        // The context about to be loaded must be the save of next's latest run (the save
        // stamps it last, hal/riscv64/context_switch.S): a task made takeable before its
        // registers were saved is refused here, whichever line published it too early. A
        // relaxed load is enough: a correct handshake orders the stamp before this through
        // the on_cpu release and acquire and the run-queue lock.
        const std::uint64_t run = next->ctx.run;
        if (__atomic_load_n(&next->ctx.saved_run, __ATOMIC_RELAXED) != run) [[unlikely]]
            stale_context(*next, run, cpu);
        __atomic_store_n(&next->ctx.run, run + 1, __ATOMIC_RELAXED); // its dispatches so far
        // Its last wait is over: the next block must publish its own (checked at switch-out).
        next->wait_kind.store(nullptr, std::memory_order_relaxed);
        if (next->state.dispatch() != Transition::Ok)
            k::panic("sched: dispatch of a task not ready");
        k::store_relaxed(next->home_cpu, cpu);
        k::store_relaxed(next->last_cpu, cpu);
        // Only a task whose registers are saved may be dispatched: a queued task
        // with on_cpu set is one that something made runnable too early.
        if (next->on_cpu.load(std::memory_order_acquire) != 0)
            k::panic("sched: dispatch of a task whose registers are live on another cpu");
    }
    k::store_relaxed(next->on_cpu, cpu + 1);
    check_stack_guard(*prev);
    k::store_relaxed(s.prev, prev);
    s.prev_requeue = requeue;
    k::store_relaxed(s.current, next);
    s.switches.fetch_add(1, std::memory_order_relaxed);
    if (requeue == Requeue::Local && k::fault::is(k::fault::Fault::RequeueEarly)) {
        // The bug of CONTRACT §6 on purpose: prev becomes stealable while its
        // registers are still live on this hart.
        s.prev_requeue = Requeue::None;
        prev->on_cpu.store(0, std::memory_order_release);
        if (!s.rq.enqueue(*prev, prev->qos).ok()) k::panic("sched: reserved slot taken");
    }

    // irq_saved belongs to the thread, not the hart: carry ours across the
    // switch. The depth is 1 on both sides (the rq lock is taken masked).
    const std::uint32_t irq_saved = hal::tp_head()->irq_saved;
    k::set_running_stack(next->stack_lo, next->stack_hi);
    // next's root before any of its instructions: a user thread's space, else the kernel's.
    k::uspace::activate_switch(cpu, next->space, next->satp);
    // prev's f registers to memory if it changed them, next's (or none, FS = Off) to the hart:
    // before the save below, so before anyone can take prev and run it elsewhere. Neither
    // with state (kernel tasks, threads that never used the FPU): FS is Off already.
    if (prev->fp || next->fp) [[unlikely]]
        hal::fp::switch_state(prev->fp, next->fp, !k::fault::is(k::fault::Fault::FpNoSave));
    k::jitter::point(k::jitter::Site::SwitchOut, prev);
    // Until the switch below saves them, prev's registers are live here: finish_switch()
    // checks that nothing published prev as takeable meanwhile.
    // We resume on whichever hart switches back to us: it passes its block.
    auto* here = static_cast<CpuSched*>(hal_context_switch(&prev->ctx, &next->ctx, &s));
    hal::tp_head()->irq_saved = irq_saved;
    finish_switch_here(*here);
}

// schedule(), inlined into yield() (the hottest switch point: one frame, not two).
[[gnu::always_inline]] inline YieldResult schedule_here() {
    // Every switch point holds exactly one level of masking: the thread we
    // switch to resumes expecting the depth it left with.
    if (hal::Cpu::irq_depth() != 1) k::panic("schedule: irq depth is not 1 (a lock held?)");
    const std::uint32_t cpu = k::current_cpu_masked(); // masked: depth 1, checked above
    // current_cpu_masked() returns a valid index (< kMaxCpus, a power of
    // two): the mask is cpu_sched()'s clamp without its branch. The pointer
    // is made opaque to the compiler: one register for the block, not the
    // index arithmetic redone at every use (and more callee-saved registers).
    static_assert((k::kMaxCpus & (k::kMaxCpus - 1)) == 0);
    CpuSched* sp = &g_sched[cpu & (k::kMaxCpus - 1)];
    asm("" : "+r"(sp));
    CpuSched& s = *sp;
    const bool slice_over = s.slice_over.exchange(0, std::memory_order_relaxed) != 0;
    k::store_relaxed(s.need_resched, 0u);
    const bool leaving = s.offline_req.load(std::memory_order_acquire) != 0;
    drain_inbox(s);

    Task* prev = s.current.load(std::memory_order_relaxed);
    Task* next = nullptr;
    Requeue requeue = Requeue::None;
    // The rq lock is held from the pick to finish_switch() on the far side of
    // hal_context_switch, as Linux holds rq->lock across context_switch():
    // one lock round per switch. Thieves only try-lock, so a switching hart
    // is skipped, never waited for.
    s.rq_lock.lock_masked(); // interrupts are masked (depth 1, checked above)
    {
        const bool runnable = !prev->idle && prev->state.state_on_own_cpu() == TaskState::Running;
        if (runnable && leaving) {
            requeue = Requeue::Elsewhere;
            next = &s.idle;
        } else if (runnable) {
            Qos top;
            if (!s.rq.top(top) || qos_index(top) < qos_index(prev->qos)) {
                RqGuard::release_switch_hold(s);
                return YieldResult::NothingBetter;
            }
            // Picking from prev's own class frees the slot prev goes back to,
            // so only a pick from a higher class can find prev's class full
            // (then prev keeps the cpu). Refusing whenever the class was full
            // left a never-blocking task on its hart for ever, 16 tasks
            // queued behind it (found by the torture run, RFC-0024).
            if (top != prev->qos && !s.rq.has_room(prev->qos)) {
                s.yields_full.fetch_add(1, std::memory_order_relaxed);
                RqGuard::release_switch_hold(s);
                return YieldResult::QueueFull; // saturated: the current task keeps the cpu
            }
            next = s.rq.pick_from(top);
            requeue = Requeue::Local; // the slot checked above stays free: only we add here
        } else {
            next = leaving ? nullptr : s.rq.pick();
            if (!next) next = &s.idle;
        }
    }
    if (next == prev) {
        // Only the idle context picks itself; a task can come out of the run
        // queue while it runs only if something queued it on a cpu.
        if (!prev->idle) k::panic("sched: picked the running task from its run queue");
        RqGuard::release_switch_hold(s);
        return YieldResult::NothingBetter;
    }

    switch_to(s, cpu, prev, next, requeue, slice_over);
    return YieldResult::Switched;
}

} // namespace

bool handoff(Task& next, const Task* me) {
    if (hal::Cpu::irq_depth() != 1) k::panic("handoff: irq depth is not 1 (a lock held?)");
    // The hart: where the caller was dispatched (its last_cpu, exact while it runs), if that
    // hart's current task is the caller; else the validated lookup.
    std::uint32_t cpu = me ? me->last_cpu.load(std::memory_order_relaxed) & (k::kMaxCpus - 1) : 0;
    if (!me || g_sched[cpu].current.load(std::memory_order_relaxed) != me) [[unlikely]]
        cpu = k::current_cpu_masked();
    CpuSched& s = g_sched[cpu & (k::kMaxCpus - 1)];
    Task* prev = s.current.load(std::memory_order_relaxed);
    // Registers saved, last ran here, a class not below ours, and this hart stays.
    if (prev->idle || k::fault::is(k::fault::Fault::NoHandoff) ||
        next.on_cpu.load(std::memory_order_acquire) != 0 ||
        next.home_cpu.load(std::memory_order_relaxed) != cpu ||
        qos_index(next.qos) < qos_index(prev->qos) ||
        s.offline_req.load(std::memory_order_acquire) != 0)
        return false;
    drain_inbox(s); // a remote wake waiting there counts as queued
    s.rq_lock.lock_masked();
    Qos top;
    // Any queued task of next's class or above runs first: a handoff past it would let a
    // call/reply pair on this hart starve it for as long as the pair ran (the fuzzer's
    // same-hart task waited for ever). Then the partner queues behind it, as a wake would.
    if ((s.rq.top(top) && qos_index(top) >= qos_index(next.qos)) ||
        prev->state.state_on_own_cpu() != TaskState::Blocked) { // woken meanwhile
        RqGuard::release_switch_hold(s);
        return false;
    }
    k::store_relaxed(s.need_resched, 0u);
    s.handoffs.fetch_add(1, std::memory_order_relaxed);
    switch_to(s, cpu, prev, &next, Requeue::None, false);
    return true;
}

YieldResult schedule() {
    return schedule_here();
}

void finish_switch(CpuSched& s) {
    finish_switch_here(s);
}

namespace {

// Work queued on some hart (an idle hart would steal it at its next tick).
bool queued_anywhere() {
    const std::uint32_t n = k::cpu_count();
    for (std::uint32_t c = 0; c < n && c < k::kMaxCpus; ++c)
        if (g_sched[c].queued_hint.load(std::memory_order_relaxed) != 0 ||
            g_sched[c].inbox.pending() != 0)
            return true;
    return false;
}

// Tickless idle (RFC-0030 "Tickless idle"): with nothing to run here and nothing queued
// anywhere, this hart's timer is armed for its next timer deadline, at most kIdleMaxUs ahead,
// instead of the next tick. Any interrupt (an IPI that brings work, the deadline) ends the
// wfi; the tick then runs as usual and the next idle pass arms again.
void idle_sleep(CpuSched& s) {
    if (k::fault::is(k::fault::Fault::TimeTicking) || queued_anywhere()) {
        // Work to steal somewhere: tick again (at once if the tick is overdue), so that the
        // steal gate opens at the next tick.
        if (s.idle_long.load(std::memory_order_relaxed) != 0) {
            s.idle_long.store(0, std::memory_order_relaxed);
            k::time::arm(s.next_tick);
        }
        return;
    }
    const std::uint64_t now = k::time::now();
    std::uint64_t until = now + k::time::from_us(sched::kIdleMaxUs);
    const std::uint64_t head = sched::timer_next(hal::tp_head()->cpu);
    if (head < until) until = head;
    if (until > s.next_tick) {
        s.idle_long.store(1, std::memory_order_relaxed);
        k::time::arm(until);
    }
}

} // namespace

void idle_loop() {
    for (;;) {
        hal::Cpu::irq_push();
        CpuSched& s = local();
        if (s.offline_req.load(std::memory_order_acquire)) go_offline(s);
        drain_inbox(s);
        bool work = s.queued_hint.load(std::memory_order_relaxed) != 0;
        if (!work && s.steal_gate.try_begin(s.ticks)) work = try_steal(s);
        if (work) {
            (void)schedule();
        } else {
            idle_sleep(s);
            hal::wait_for_interrupt(); // wakes on a pending tick or IPI even while masked
        }
        hal::Cpu::irq_pop();
    }
}

} // namespace sched::detail

namespace sched {

YieldResult yield() {
    hal::Cpu::irq_push();
    const YieldResult r = detail::schedule_here();
    hal::Cpu::irq_pop();
    return r;
}

} // namespace sched

namespace k {

namespace {
void kick_idle(std::uint32_t self) {
    const std::uint32_t n = cpu_count();
    for (std::uint32_t i = 1; i < n && i < kMaxCpus; ++i) {
        const std::uint32_t c = (self + i) % n;
        const sched::detail::CpuSched& t = sched::detail::cpu_sched(c);
        if (t.idle_long.load(std::memory_order_relaxed) == 0 || !cpu_online(c) ||
            t.offline_req.load(std::memory_order_relaxed) != 0)
            continue;
        (void)ipi::request_resched(c); // refused (offline): nothing to kick
        return;
    }
}
} // namespace

void sched_timer_tick() {
    using namespace sched::detail;
    CpuSched& s = local();
    // The watchdog is polled on every timer interrupt, not only on due ticks,
    // so a bad next_tick cannot keep it from ever looking (time::arm bounds
    // every deadline, so timer interrupts keep coming).
    watchdog::poll();
    sched::wake_monitor::poll();
    // Timer interrupts also end time::wait_until() steps; only a due deadline
    // is a tick (slice end, steal gate).
    s.timer_irqs.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t now = time::now();
    // Due timed waits first (sched/timer.hpp): the hart's timer is armed for the earlier of
    // the next tick and the next deadline on its queue.
    const std::uint64_t due = sched::timer_fire_due(hal::tp_head()->cpu, now);
    if (now < s.next_tick) {
        time::arm(due < s.next_tick ? due : s.next_tick);
        return;
    }
    s.next_tick = now + time::from_us(sched::kTickUs);
    time::arm(due < s.next_tick ? due : s.next_tick);
    ++s.ticks;
    s.tick_count.fetch_add(1, std::memory_order_relaxed);
    sched::Task* cur = s.current.load(std::memory_order_relaxed);
    // Work queued here while a hart idles without its tick: kick one such hart (a resched
    // IPI), which then ticks again and may steal (RFC-0030 "Tickless idle").
    if (s.queued_hint.load(std::memory_order_relaxed) != 0) kick_idle(hal::tp_head()->cpu);
    if (cur && !cur->idle && !fault::is(fault::Fault::NoPreempt)) {
        s.slice_over.store(1, std::memory_order_relaxed);
        s.need_resched.store(1, std::memory_order_relaxed);
    }
}

void sched_resched_request() {
    sched::detail::CpuSched& s = sched::detail::local();
    s.resched_irqs.fetch_add(1, std::memory_order_relaxed);
    s.need_resched.store(1, std::memory_order_relaxed);
}

void sched_trap_exit() {
    using namespace sched::detail;
    CpuSched& s = local();
    s.trap_exits.fetch_add(1, std::memory_order_relaxed);
    if (!s.started || !s.need_resched.load(std::memory_order_relaxed)) return;
    if (s.current.load(std::memory_order_relaxed)->preempt_off)
        return; // need_resched stays set for its next switch point
    // The trap was taken with interrupts enabled, so no spin lock is held here.
    hal::Cpu::irq_push();
    (void)schedule();
    hal::Cpu::irq_pop();
}

} // namespace k

// First activation of every task (from hal_thread_trampoline).
extern "C" [[noreturn]] void hal_thread_start(void (*entry)(void*), void* arg, void* carry) {
    sched::detail::finish_switch(*static_cast<sched::detail::CpuSched*>(carry));
    hal::tp_head()->irq_saved = 1; // a new thread starts with interrupts on
    hal::Cpu::irq_pop();
    entry(arg);
    sched::exit(0);
}
