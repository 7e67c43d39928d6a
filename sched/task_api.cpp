// Task life cycle: spawn, wake, yield, join and exit.
#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/hart_start.hpp"
#include "base/ipi.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/time.hpp"
#include "mm/user_space.hpp"
#include "sbi.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/task_pool.hpp"
#include "sched/timer.hpp"
#include "sched/wait_channel.hpp"

namespace sched {

using namespace detail;

namespace {

// Online and not on its way out.
bool valid_target(std::uint32_t cpu) {
    return cpu < k::cpu_count() && k::cpu_online(cpu) &&
           cpu_sched(cpu).offline_req.load(std::memory_order_acquire) == 0;
}

// The first hart at or after `from` that may take work.
std::uint32_t first_valid_from(std::uint32_t from) {
    const std::uint32_t n = k::cpu_count();
    for (std::uint32_t i = 0; i < n; ++i)
        if (valid_target((from + i) % n)) return (from + i) % n;
    return 0; // the boot hart never goes offline
}

std::uint32_t choose_cpu(std::uint32_t hint, std::uint32_t home) {
    if (hint != kAnyCpu && valid_target(hint)) return hint;
    if (valid_target(home)) return home;
    return first_valid_from(k::current_cpu());
}

// Tells `target` that its inbox has work.
void notify(std::uint32_t target, std::uint32_t self) {
    if (target == self) {
        cpu_sched(target).need_resched.store(1, std::memory_order_relaxed);
        return;
    }
    switch (k::ipi::request_resched(target)) {
    case k::ipi::Resched::Sent:
    case k::ipi::Resched::Coalesced:
        return;
    case k::ipi::Resched::SendFailed: // drained at the target's next tick
        return;
    case k::ipi::Resched::OfflineCpu:
        // Joining: it drains its inbox before it idles (at the latest on its
        // first tick). Leaving: its offline path takes the inbox.
        return;
    case k::ipi::Resched::InvalidCpu:
        k::panic("sched: wake target out of range");
    }
}

} // namespace

namespace detail {

Placed make_runnable(Task& t, std::uint32_t hint, IfClosed if_closed) {
    const std::uint32_t self = k::current_cpu();
    if (t.pinned) {
        // Its own hart or nowhere (on_cpu, if still set, names that hart too).
        const std::uint32_t pin = t.home_cpu.load(std::memory_order_relaxed);
        CpuSched& s = cpu_sched(pin);
        const Admit admit = if_closed == IfClosed::Park ? Admit::ParkIfClosed : Admit::OpenOnly;
        // Its hart may close its inbox from here on (`pinned tasks wait for their hart`
        // holds a pinned spawn here while that happens).
        k::jitter::point(k::jitter::Site::Wake, &t);
        switch (s.inbox.try_push(t, admit)) {
        case PushResult::Queued:
        case PushResult::FirstPending:
            notify(pin, self);
            return Placed::Queued;
        case PushResult::Parked: // runs once its hart is back (its idle loop drains it)
            return Placed::Parked;
        case PushResult::Closed:
            return Placed::Refused;
        }
        return Placed::Refused;
    }
    const std::uint32_t oc = k::fault::is(k::fault::Fault::WakeIgnoresOnCpu)
                                 ? 0
                                 : t.on_cpu.load(std::memory_order_acquire);
    // Still switching out somewhere: that hart drains it after the switch.
    std::uint32_t target =
        oc ? oc - 1 : choose_cpu(hint, t.home_cpu.load(std::memory_order_relaxed));
    k::jitter::point(k::jitter::Site::Wake, &t);
    for (std::uint32_t tries = 0; tries < k::cpu_count(); ++tries) {
        switch (k::fault::is(k::fault::Fault::InboxesClosed)
                    ? PushResult::Closed
                    : cpu_sched(target).inbox.try_push(t)) {
        case PushResult::Queued:
        case PushResult::FirstPending:
            notify(target, self);
            return Placed::Queued;
        case PushResult::Closed: // its hart is not taking work: the next one that may
            target = first_valid_from(target + 1);
            break;
        case PushResult::Parked:
            k::panic("sched: an unpinned task was parked");
        }
    }
    k::panic("sched: no open inbox for a runnable task");
}

} // namespace detail

Spawned spawn(TaskEntry entry, void* arg, const SpawnOptions& opts) {
    const std::uint32_t cpu = opts.cpu == kAnyCpu ? k::current_cpu() : opts.cpu;
    if (!valid_target(cpu)) return Spawned{SpawnError::InvalidCpu, TaskRef{}};
    Task* t = task_alloc();
    if (!t) return Spawned{SpawnError::NoMemory, TaskRef{}};
    t->qos = opts.qos;
    t->pinned = opts.pinned;
    t->name = opts.name;
    t->entry = entry;
    t->arg = arg;
    t->home_cpu.store(cpu, std::memory_order_relaxed);
    t->space = opts.space;
    t->satp = opts.space ? k::uspace::satp(*opts.space) : 0;
    t->user = opts.user;
    t->wait_abort.store(0, std::memory_order_relaxed);
    hal::init_thread_context(t->ctx, opts.space ? t->stack_hi - TF_SIZE : t->stack_hi, entry, arg);
    t->refs.store(1, std::memory_order_relaxed); // the scheduler's, dropped after exit
    TaskRef ref(t);
    switch (make_runnable(*t, cpu, IfClosed::Refuse)) {
    case Placed::Queued:
        return Spawned{SpawnError::None, static_cast<TaskRef&&>(ref)};
    case Placed::Refused:
        // Pinned, and its hart closed its inbox since the check above: refused,
        // never placed elsewhere. It never ran: drop the scheduler's
        // reference; `ref` holds the last one and frees it.
        task_release(t);
        return Spawned{SpawnError::InvalidCpu, TaskRef{}};
    case Placed::Parked:
        break;
    }
    k::panic("spawn: a refusing placement parked a task");
}

WakeResult wake(Task& t, std::uint32_t cpu) {
    if (cpu != kAnyCpu && !valid_target(cpu)) return WakeResult::InvalidCpu;
    if (t.pinned && cpu != kAnyCpu && cpu != t.home_cpu.load(std::memory_order_relaxed))
        return WakeResult::Pinned;
    if (t.state.wake() != Transition::Ok) return WakeResult::NotBlocked;
    switch (make_runnable(t, cpu, IfClosed::Park)) {
    case Placed::Queued:
        return WakeResult::Woken;
    case Placed::Parked:
        return WakeResult::Parked;
    case Placed::Refused:
        break;
    }
    k::panic("wake: a parking placement was refused");
}

bool handoff(Task& next) {
    return detail::handoff(next);
}

void enqueue_woken(Task& t) {
    if (make_runnable(t, kAnyCpu, IfClosed::Park) == Placed::Refused)
        k::panic("wake: a parking placement was refused");
}

PreemptGuard::PreemptGuard() {
    ++current()->preempt_off;
}
PreemptGuard::~PreemptGuard() {
    --current()->preempt_off;
}

namespace {
bool join_holds(const void* target) {
    return static_cast<const Task*>(target)->state.state() == TaskState::Exited;
}
constexpr WaitKind kJoinWait{"join", &join_holds};
} // namespace

namespace {

// join() and join_abortable(): false when aborted (abortable only).
bool join_impl(const TaskRef& target, bool abortable, std::int64_t& value) {
    Task* me = current();
    JoinWaiter node{k::ListLink{}, me};
    bool linked = false;
    for (;;) {
        {
            k::SpinGuard g(target->lock);
            // Exit unlinks every joiner before it sets anyone running, so an
            // Exited target never still holds our node.
            if (target->state.state() == TaskState::Exited) {
                // A stale wake got us here before exit reached our node: take
                // it back ourselves. Otherwise exit already took it, and the
                // node's reference with it.
                if (linked && target->joiners.remove(node)) task_release(me);
                value = target->exit_value;
                return true;
            }
            if (abortable && me->wait_abort.load(std::memory_order_seq_cst) != 0) {
                // Killed: leave the list under the lock exit takes it under.
                if (linked && target->joiners.remove(node)) task_release(me);
                return false;
            }
            if (!linked) {
                me->refs.fetch_add(1, std::memory_order_relaxed); // the node's reference
                target->joiners.push_back(node);
                linked = true;
            }
            // "About to sleep" is published under the target's lock, before
            // exit can look at the joiners: exit either sees us or we saw Exited.
            block_on(*me, BlockReason::Join, kJoinWait, target.get(), target->lock);
            // The abort flag is set without this lock: look again after Blocked is published
            // (both seq_cst): abort_waits() either finds us Blocked and wakes us, or we see it.
            if (abortable && me->wait_abort.load(std::memory_order_seq_cst) != 0)
                (void)me->state.unblock_self(); // refused: its wake won, we are Ready already
        }
        k::jitter::point(k::jitter::Site::Block, me);
        hal::Cpu::irq_push();
        while (me->state.state() != TaskState::Running)
            (void)schedule();
        hal::Cpu::irq_pop();
        // Woken by exit, by an abort or by a stale wake: the target's state and the flag decide.
    }
}

} // namespace

std::int64_t join(const TaskRef& target) {
    std::int64_t value = 0;
    (void)join_impl(target, false, value);
    return value;
}

bool join_abortable(const TaskRef& target, std::int64_t& value) {
    return join_impl(target, true, value);
}

void abort_waits(Task& t) {
    t.wait_abort.store(1, std::memory_order_seq_cst);
    // kfault=time-kill-join: the flag is set, but a joiner already asleep is left there.
    if (k::fault::is(k::fault::Fault::TimeKillJoin)) return;
    if (t.state.reason() == BlockReason::Join) (void)wake(t); // NotBlocked: it saw the flag
}

void exit(std::int64_t value) {
    // No preemption from here on: a tick that switched us out between Exited
    // and the joiner wake-ups would strand the joiners.
    hal::Cpu::irq_push();
    Task* me = current();
    {
        k::SpinGuard g(me->lock);
        me->exit_value = value;
        if (me->state.exit() != Transition::Ok) k::panic("exit: task not running");
    }
    // Exited is final, so no joiner can link itself any more: release them all. A stale wake
    // may end a join from here on (held open by `exit window`).
    k::jitter::point(k::jitter::Site::ExitJoiners, me);
    for (;;) {
        TaskRef waiter;
        {
            // The node lives on the joiner's stack: read it under the lock,
            // the only thing that keeps a stale-woken joiner from leaving.
            k::SpinGuard g(me->lock);
            expect_condition_set(me->state.state_on_own_cpu() == TaskState::Exited, kJoinWait.name);
            JoinWaiter* w = me->joiners.pop_front();
            if (!w) break;
            waiter = TaskRef::adopt(w->waiter);
        }
        // The node is off the list and may be gone with its joiner's frame; `waiter` is ours.
        k::jitter::point(k::jitter::Site::ExitPopped, me);
        switch (wake(*waiter)) {
        case WakeResult::Woken:
        case WakeResult::Parked:     // pinned to an offline hart: resumes when it is back
        case WakeResult::NotBlocked: // a stale wake has it running; it re-checks Exited under our
                                     // lock
            break;
        case WakeResult::InvalidCpu:
        case WakeResult::Pinned:
            k::panic("exit: a joiner's wake to its own hart was refused");
        }
    }
    // The bug of CONTRACT §6 on purpose: the last reference may go while
    // this stack is still in use.
    if (k::fault::is(k::fault::Fault::EarlyRelease)) task_release(me);
    (void)schedule();
    k::panic("exit: an exited task was scheduled again");
}

Task* current() {
    // Masked: a preemption between finding our hart and reading its current
    // task could move us to another hart and return that hart's task.
    hal::Cpu::irq_push();
    CpuSched& s = local();
    k::jitter::point(k::jitter::Site::CurrentLookup); // held open by `lookups under a move`
    Task* t = s.current.load(std::memory_order_relaxed);
    hal::Cpu::irq_pop();
    return t;
}
Task* current_masked() {
    return cpu_sched(k::current_cpu_masked()).current.load(std::memory_order_relaxed);
}
Task* running_on(std::uint32_t cpu) {
    if (cpu >= k::kMaxCpus) return nullptr;
    return cpu_sched(cpu).current.load(std::memory_order_relaxed);
}

std::uint32_t cpu_of_current() {
    return k::current_cpu();
}

CpuStats stats(std::uint32_t cpu) {
    CpuSched& s = cpu_sched(cpu);
    CpuStats st{};
    st.switches = s.switches.load();
    st.preempts = s.preempts.load();
    st.yields_full = s.yields_full.load();
    st.deferred = s.deferred.load();
    st.steals = s.steals.load();
    st.stolen = s.stolen.load();
    st.ticks = s.tick_count.load();
    st.handoffs = s.handoffs.load();
    {
        RqGuard g(s);
        st.queued = s.rq.size();
    }
    st.inbox = s.inbox.pending();
    return st;
}

std::uint32_t queued_on(std::uint32_t cpu, Qos q) {
    CpuSched& s = cpu_sched(cpu);
    RqGuard g(s);
    return s.rq.size(q);
}

namespace {

// Sets this hart's scheduler up and only then, last, publishes Online: its
// inbox is open, its offline request cleared, its IPI chain reset, its tick
// armed and its interrupts on. False when the boot hart gave up waiting and
// declared it offline meanwhile.
bool join_scheduler(std::uint32_t cpu) {
    CpuSched& s = cpu_sched(cpu);
    k::PerCpu& c = k::cpu_block(cpu);
    s.rq.set_owner(cpu);
    s.idle.idle = true;
    s.idle.name = "idle";
    s.idle.stack_lo = c.boot_stack_lo;
    s.idle.stack_hi = c.boot_stack_hi;
    s.idle.on_cpu.store(cpu + 1, std::memory_order_relaxed);
    s.current.store(&s.idle, std::memory_order_relaxed);
    s.prev.store(nullptr, std::memory_order_relaxed);
    s.prev_requeue = Requeue::None;
    // A hart back from an HSM stop left from inside the idle loop's masked
    // section: its nesting count must start from zero again.
    hal::tp_head()->irq_depth = 0;
    hal::tp_head()->irq_saved = 0;
    // A resched request that reached this hart while it was stopping left its
    // pending bit (and maybe SSIP) set; either would swallow the next request.
    // Nobody can send one until Online, so clearing here loses none.
    (void)hal::csr::swap_clear_sip(hal::csr::kIntSoft);
    k::ipi::reset_target(cpu);
    s.offline_req.store(0, std::memory_order_release);
    // Pinned tasks parked here while the hart was offline are drained by the
    // idle loop first thing.
    s.inbox.open();
    timer_open(cpu);
    s.idle_long.store(0, std::memory_order_relaxed);
    // From here a pinned wake lands in the inbox, but its resched request is refused
    // (OfflineCpu) until Online: the idle loop's drain must find it.
    k::jitter::point(k::jitter::Site::HartJoin);
    s.started = true;
    s.next_tick = k::time::now() + k::time::from_us(kTickUs);
    k::time::arm(s.next_tick);
    hal::csr::set_sstatus(hal::csr::kSstatusSie);
    return k::smp::publish_online(cpu);
}

// Declared offline while joining: nothing could target this hart (it never
// was Online), so undo and stop; parked tasks stay parked.
[[noreturn]] void leave_unpublished(std::uint32_t cpu) {
    CpuSched& s = cpu_sched(cpu);
    hal::csr::clear_sstatus(hal::csr::kSstatusSie);
    k::time::disarm();
    // The boot hart's Joining -> Offline claim won; our Joining -> Online lost.
    k::println("KLOG: cpu", cpu, " was declared offline while joining; stopping");
    s.started = false;
    s.inbox.close();
    (void)hal::sbi::hart_stop();
    k::panic("hotplug: SBI hart_stop returned");
}

} // namespace

void start_secondary_cpu(std::uint32_t cpu) {
    if (!join_scheduler(cpu)) leave_unpublished(cpu);
    idle_loop();
}

} // namespace sched

namespace sched {

void start_boot_cpu(TaskEntry first, const char* name) {
    if (!join_scheduler(0)) k::panic("boot cpu: could not publish Online");
    Spawned s = spawn(first, nullptr, SpawnOptions{Qos::Normal, 0, true, name});
    if (s.error == SpawnError::NoMemory) k::panic("boot task: task pool empty");
    if (s.error == SpawnError::InvalidCpu) k::panic("boot task: boot cpu not valid");
    idle_loop();
}

} // namespace sched
