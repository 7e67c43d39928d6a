// The handshake monitor's scan over the live scheduler state.
#include "sched/handshake_monitor.hpp"

#include "sched/cpu_sched.hpp"

namespace sched {

using namespace detail;

namespace {

// A hart's running stack lives in its asm-visible head, written by that hart
// only (plain fields): read them as relaxed atomics.
HartView view_of(std::uint32_t cpu) {
    CpuSched& s = cpu_sched(cpu);
    hal::HartHead& h = k::cpu_block(cpu).head;
    return HartView{s.current.load(std::memory_order_relaxed),
                    s.prev.load(std::memory_order_relaxed),
                    __atomic_load_n(&h.stack_lo, __ATOMIC_RELAXED),
                    __atomic_load_n(&h.stack_hi, __ATOMIC_RELAXED)};
}

QueuedView queued_view(const Task& t, bool in_rq) {
    // Acquire: pairs with finish_switch()'s release of on_cpu, which follows
    // its clearing of prev; a 0 here means that hart's prev is seen cleared.
    return QueuedView{&t, t.on_cpu.load(std::memory_order_acquire), t.stack_lo, t.stack_hi, in_rq};
}

} // namespace

HandshakeScan scan_handshake() {
    HandshakeScan out{0, HandshakeFinding{HandshakeRule::Ok, 0}, 0, 0};
    const std::uint32_t n = k::cpu_count();
    HartView harts[k::kMaxCpus];
    auto check = [&](const Task& t, bool in_rq, std::uint32_t cpu) {
        ++out.tasks_seen;
        if (out.finding.rule != HandshakeRule::Ok) return;
        const QueuedView q = queued_view(t, in_rq);
        // The harts are read after the task, under the same lock hold.
        for (std::uint32_t h = 0; h < n; ++h)
            harts[h] = view_of(h);
        const HandshakeFinding f = check_queued(q, harts, n);
        if (f.rule == HandshakeRule::Ok) return;
        out.finding = f;
        out.queued_cpu = cpu;
        out.task_id = t.id;
    };
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
        if (!k::cpu_online(cpu)) continue;
        CpuSched& s = cpu_sched(cpu);
        {
            RqGuard g(s);
            s.rq.for_each([&](const Task& t) { check(t, true, cpu); });
        }
        s.inbox.for_each([&](const Task& t) { check(t, false, cpu); });
        if (out.finding.rule != HandshakeRule::Ok) break;
    }
    return out;
}

} // namespace sched
