// Bounded work stealing by idle harts, and hart offline/online with SBI HSM.
#include "base/console.hpp"
#include "base/hart_start.hpp"
#include "base/ipi.hpp"
#include "base/panic.hpp"
#include "base/rfence_gate.hpp"
#include "base/time.hpp"
#include "sbi.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/task_pool.hpp"
#include "sched/timer.hpp"

namespace sched {

using namespace detail;

namespace {

enum class LockMode { Wait, SkipIfBusy };

// Moves up to req.max_tasks from victim to s; the caller checked the request.
std::uint32_t steal_from(CpuSched& s, std::uint32_t victim, const StealRequest& req,
                         LockMode mode) {
    Task* got[kStealMaxPerAttempt];
    std::uint32_t taken;
    {
        CpuSched& v = cpu_sched(victim);
        if (mode == LockMode::Wait) {
            RqGuard g(v);
            taken = v.rq.steal(got, req, can_steal);
        } else {
            RqGuard g(v, RqGuard::Try{});
            if (!g.held()) return 0;
            taken = v.rq.steal(got, req, can_steal);
        }
    }
    if (!taken) return 0;
    const std::uint32_t self = k::current_cpu();
    RqGuard g(s);
    for (std::uint32_t i = 0; i < taken; ++i) {
        got[i]->home_cpu.store(self, std::memory_order_relaxed);
        EnqueueOutcome o = s.rq.enqueue(*got[i], got[i]->qos);
        // Thieves steal only into an empty queue, whose owner is us.
        if (!o.ok()) k::panic("steal: no room for a stolen task");
    }
    s.stolen.fetch_add(taken, std::memory_order_relaxed);
    return taken;
}

// A task leaving a hart that goes offline: unpinned ones go to another hart,
// pinned ones are parked in this hart's closed inbox until it is back.
void move_off(Task& t) {
    switch (make_runnable(t, kAnyCpu, IfClosed::Park)) {
    case Placed::Queued:
    case Placed::Parked:
        return;
    case Placed::Refused:
        break;
    }
    k::panic("hotplug: a parking placement was refused");
}

} // namespace

namespace detail {

bool try_steal(CpuSched& s) {
    const std::uint32_t self = k::current_cpu(), n = k::cpu_count();
    s.steals.fetch_add(1, std::memory_order_relaxed);
    const StealRequest req{kStealMaxPerAttempt, s.steal_limit.load(std::memory_order_relaxed)};
    for (std::uint32_t i = 1; i < n; ++i) {
        const std::uint32_t victim = (self + i) % n;
        if (!k::cpu_online(victim)) continue;
        if (cpu_sched(victim).queued_hint.load(std::memory_order_relaxed) == 0) continue;
        if (steal_from(s, victim, req, LockMode::SkipIfBusy)) return true;
    }
    return false;
}

std::atomic<OfflineHook> g_offline_hook{nullptr};

void go_offline(CpuSched& s) {
    std::uint32_t asked = kOfflineAsked;
    if (!s.offline_req.compare_exchange_strong(asked, kOfflineTaken, std::memory_order_acq_rel))
        return; // withdrawn by a requester that gave up waiting
    const std::uint32_t self = k::current_cpu();
    // Close first: from now on unpinned wakes go elsewhere and pinned ones
    // park here; then move out what is here.
    s.inbox.close();
    // Its timed waits fire now (RFC-0030 "Hot-plug"): each waiter re-arms on the hart it runs
    // on; no entry is left on a queue whose interrupt stops.
    timer_close(self);
    for (;;) {
        Task* t;
        {
            RqGuard g(s);
            t = s.rq.pick();
        }
        if (!t) break;
        move_off(*t);
    }
    // Take the unpinned ones out of the inbox under its lock and hand them on
    // outside it; pinned ones stay parked, in order.
    k::IntrusiveList<Task, &Task::link> leftovers;
    (void)s.inbox.drain(
        [&leftovers](Task& t) {
            if (t.pinned) return DrainAction::Keep;
            leftovers.push_back(t);
            return DrainAction::Take;
        },
        ~0u);
    while (Task* t = leftovers.pop_front())
        move_off(*t);
    if (const OfflineHook h = g_offline_hook.load(std::memory_order_acquire)) h(self);
    s.started = false;
    k::time::disarm();
    hal::csr::clear_sstatus(hal::csr::kSstatusSie);
    // No RFENCE to this hart in flight from here (base/rfence_gate.hpp): OpenSBI 1.1 can lose
    // one it had not served when the hart stops.
    k::rfence::quiesce(self);
    // Stopping, not Offline: the hart cannot say it has stopped. Whoever sees
    // the firmware report it stopped publishes Offline (confirm_stopped).
    k::set_cpu_state(self, k::CpuState::Stopping);
    (void)hal::sbi::hart_stop();
    k::panic("hotplug: SBI hart_stop returned");
}

} // namespace detail

StealCheck steal_now(const StealRequest& req, std::uint32_t victim, std::uint32_t& taken) {
    taken = 0;
    hal::Cpu::irq_push(); // the thief's own hart must not change under us
    CpuSched& s = local();
    const StealCheck c = check_steal(req, s.steal_limit.load(std::memory_order_relaxed));
    if (c != StealCheck::Ok) {
        hal::Cpu::irq_pop();
        return c;
    }
    if (victim < k::cpu_count() && k::cpu_online(victim) && victim != k::current_cpu()) {
        bool empty;
        {
            RqGuard g(s);
            empty = s.rq.size() == 0;
        }
        if (empty) taken = steal_from(s, victim, req, LockMode::Wait);
    }
    hal::Cpu::irq_pop();
    return StealCheck::Ok;
}

Qos steal_limit(std::uint32_t cpu) {
    return cpu_sched(cpu).steal_limit.load(std::memory_order_relaxed);
}

void set_steal_limit(std::uint32_t cpu, Qos q) {
    cpu_sched(cpu).steal_limit.store(q, std::memory_order_relaxed);
}

const char* hotplug_name(Hotplug h) {
    switch (h) {
    case Hotplug::Ok:
        return "ok";
    case Hotplug::InvalidCpu:
        return "invalid cpu";
    case Hotplug::BootCpu:
        return "boot cpu";
    case Hotplug::NotOnline:
        return "not online";
    case Hotplug::Timeout:
        return "timeout";
    }
    return "?";
}

Hotplug take_offline(std::uint32_t cpu, std::uint64_t timeout_us) {
    if (cpu >= k::cpu_count()) return Hotplug::InvalidCpu;
    if (cpu == 0) return Hotplug::BootCpu;
    if (!k::cpu_online(cpu)) return Hotplug::NotOnline;
    cpu_sched(cpu).offline_req.store(kOfflineAsked, std::memory_order_release);
    cpu_sched(cpu).need_resched.store(1, std::memory_order_relaxed);
    (void)k::ipi::request_resched(cpu); // a lost IPI only delays to its next tick
    const std::uint64_t deadline = k::time::now() + k::time::from_us(timeout_us);
    if (k::time::wait_until(deadline, [cpu] { return k::smp::confirm_stopped(cpu); }))
        return Hotplug::Ok;
    // Withdraw the request unless the hart already committed to it; then it
    // will stop shortly, so wait for that instead of leaving it half-done.
    std::uint32_t asked = kOfflineAsked;
    if (cpu_sched(cpu).offline_req.compare_exchange_strong(asked, 0, std::memory_order_acq_rel))
        return Hotplug::Timeout;
    return k::time::wait_until(k::time::now() + k::time::from_us(kHotplugTimeoutUs),
                               [cpu] { return k::smp::confirm_stopped(cpu); })
               ? Hotplug::Ok
               : Hotplug::Timeout;
}

void set_offline_hook(OfflineHook h) {
    detail::g_offline_hook.store(h, std::memory_order_release);
}

Hotplug bring_online(std::uint32_t cpu) {
    if (cpu >= k::cpu_count()) return Hotplug::InvalidCpu;
    if (cpu == 0) return Hotplug::BootCpu;
    if (!k::smp::confirm_stopped(cpu)) return Hotplug::NotOnline;
    return k::smp::restart_cpu(cpu) ? Hotplug::Ok : Hotplug::Timeout;
}

} // namespace sched

namespace sched {

void dump_state(const char* why) {
    k::LineBuffer head;
    head.put("KDUMP: watchdog on cpu");
    head.put(k::current_cpu());
    head.put(" while running: ");
    head.put(why ? why : "?");
    k::console::write_line_forced(head);
    for (std::uint32_t c = 0; c < k::cpu_count(); ++c) {
        CpuSched& s = cpu_sched(c);
        Task* cur = s.current.load(std::memory_order_relaxed);
        const k::ipi::Snapshot ch = k::ipi::chain(c);
        k::LineBuffer l;
        l.put("KDUMP: cpu");
        l.put(c);
        l.put(" state=");
        l.put(static_cast<std::uint32_t>(k::cpu_state(c)));
        l.put(" current=");
        l.put(cur ? (cur->idle ? "idle" : cur->name) : "none");
        if (cur && !cur->idle) {
            l.put("#");
            l.put(cur->id);
            l.put("/");
            l.put(task_state_name(cur->state.state()));
        }
        l.put(" queued=");
        l.put(s.queued_hint.load());
        l.put(" inbox=");
        l.put(s.inbox.pending());
        l.put(" need_resched=");
        l.put(s.need_resched.load());
        l.put(" ticks=");
        l.put(s.tick_count.load());
        l.put(" switches=");
        l.put(s.switches.load());
        l.put(" traps=");
        l.put(s.trap_exits.load());
        l.put(" resched_irqs=");
        l.put(s.resched_irqs.load());
        l.put(" ipi req/sent/trap/ack=");
        l.put(ch.requested);
        l.put("/");
        l.put(ch.sent);
        l.put("/");
        l.put(ch.trapped);
        l.put("/");
        l.put(ch.acked);
        k::console::write_line_forced(l);
    }
    dump_tasks();
}

} // namespace sched
