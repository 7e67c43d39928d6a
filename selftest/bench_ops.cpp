// mode=bench: the measured operations. Each batch reads rdinstret around a
// loop of operations and divides by how many it did; loop-only costs are
// subtracted where the operation is a handful of instructions.
#include <atomic>

#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/percpu.hpp"
#include "base/spin_lock.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "sched/notification.hpp"
#include "selftest/bench.hpp"
#include "selftest/util.hpp"

namespace k::selftest::bench {

namespace {

using sched::Qos;
using sched::SpawnOptions;

// ---- yield between two tasks, and among a full run queue ----------------

struct Yielders {
    std::atomic<std::uint32_t> stop{0};
    std::atomic<std::uint32_t> started{0};
    std::uint64_t yields[sched::kRqCapacity] = {}; // each partner counts its own
    std::uint32_t not_switched = 0;                // our yields that did not switch
};

struct YielderArg {
    Yielders* y;
    std::uint32_t index;
};

void yielder_body(void* arg) {
    auto* a = static_cast<YielderArg*>(arg);
    a->y->started.fetch_add(1, std::memory_order_relaxed);
    while (!a->y->stop.load(std::memory_order_relaxed)) {
        (void)sched::yield();
        ++a->y->yields[a->index];
    }
}

std::uint64_t partner_yields(const Yielders& y, std::uint32_t n) {
    std::uint64_t sum = 0;
    for (std::uint32_t i = 0; i < n; ++i)
        sum += y.yields[i];
    return sum;
}

struct YieldBatch {
    Yielders* y;
    std::uint32_t partners;
};

std::uint64_t yield_batch(void* ctx, std::uint32_t iters) {
    auto* b = static_cast<YieldBatch*>(ctx);
    const std::uint64_t before = partner_yields(*b->y, b->partners);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i)
        if (sched::yield() != sched::YieldResult::Switched) ++b->y->not_switched;
    const std::uint64_t t1 = instret();
    const std::uint64_t ops = iters + partner_yields(*b->y, b->partners) - before;
    return (t1 - t0) / ops;
}

// `partners` pinned yielders on this hart; rq = how many wait queued.
bool measure_yield(const Plan& plan, const char* op, std::uint32_t partners, std::uint32_t live) {
    Yielders y;
    YielderArg args[sched::kRqCapacity];
    auto release = [&y] { y.stop.store(1, std::memory_order_relaxed); };
    TaskScope scope(release);
    for (std::uint32_t i = 0; i < partners; ++i) {
        args[i] = YielderArg{&y, i};
        if (scope
                .spawn(&yielder_body, &args[i],
                       SpawnOptions{Qos::Normal, current_cpu(), true, "yielder"})
                .error != sched::SpawnError::None) {
            println("KBENCH: FAIL ", op, ": spawn failed");
            return false;
        }
    }
    if (!await(kEventuallyUs, [&] { return y.started.load() == partners; })) {
        println("KBENCH: FAIL ", op, ": partners never ran");
        return false;
    }
    YieldBatch b{&y, partners};
    const Figure f = measure(plan, &yield_batch, &b);
    if (y.not_switched != 0) {
        println("KBENCH: FAIL ", op, ": ", y.not_switched, " yields did not switch");
        return false;
    }
    report(op, live, partners, f);
    return true;
}

// ---- spawn + join of a trivial task ---------------------------------------

void trivial_body(void*) {}

std::uint64_t spawn_join_batch(void* ctx, std::uint32_t iters) {
    auto* failures = static_cast<std::uint32_t*>(ctx);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i) {
        sched::Spawned s = sched::spawn(&trivial_body, nullptr,
                                        SpawnOptions{Qos::Normal, current_cpu(), true, "trivial"});
        if (s.error != sched::SpawnError::None) {
            ++*failures;
            continue;
        }
        (void)sched::join(s.task);
    }
    return (instret() - t0) / iters;
}

// ---- wake of a blocked task until it runs (ping-pong) ---------------------

struct PingPong {
    sched::Notification to_partner, to_us;
    std::atomic<std::uint32_t> stop{0};
};

void pong_body(void* arg) {
    auto* p = static_cast<PingPong*>(arg);
    for (;;) {
        (void)p->to_partner.wait();
        if (p->stop.load(std::memory_order_relaxed)) return;
        (void)p->to_us.signal(1);
    }
}

// One round is two wakes, each ending when the woken task runs.
std::uint64_t ping_batch(void* ctx, std::uint32_t iters) {
    auto* p = static_cast<PingPong*>(ctx);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i) {
        (void)p->to_partner.signal(1);
        (void)p->to_us.wait();
    }
    return (instret() - t0) / (2ull * iters);
}

bool measure_wake(const Plan& plan, const char* op, std::uint32_t partner_cpu, std::uint32_t live) {
    PingPong p;
    auto release = [&p] {
        p.stop.store(1, std::memory_order_relaxed);
        (void)p.to_partner.signal(1);
    };
    TaskScope scope(release);
    if (scope.spawn(&pong_body, &p, SpawnOptions{Qos::Normal, partner_cpu, true, "pong"}).error !=
        sched::SpawnError::None) {
        println("KBENCH: FAIL ", op, ": spawn failed");
        return false;
    }
    report(op, live, 0, measure(plan, &ping_batch, &p));
    return true;
}

// ---- a few instructions: lock, current_cpu --------------------------------

std::uint64_t empty_loop(std::uint32_t iters) {
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i)
        asm volatile("" ::: "memory");
    return instret() - t0;
}

std::uint64_t lock_batch(void* ctx, std::uint32_t iters) {
    auto* lock = static_cast<SpinLock*>(ctx);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i) {
        SpinGuard g(*lock);
        asm volatile("" ::: "memory");
    }
    const std::uint64_t spent = instret() - t0;
    const std::uint64_t loop = empty_loop(iters);
    return spent > loop ? (spent - loop) / iters : 0;
}

std::uint64_t cpu_id_batch(void* ctx, std::uint32_t iters) {
    auto* sink = static_cast<volatile std::uint32_t*>(ctx);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i) {
        *sink = current_cpu();
        asm volatile("" ::: "memory");
    }
    const std::uint64_t spent = instret() - t0;
    const std::uint64_t loop = empty_loop(iters);
    return spent > loop ? (spent - loop) / iters : 0;
}

// ---- the resched-IPI chain, request to ack, between two harts -------------

struct IpiPingPong {
    std::uint32_t us, partner;
    std::atomic<std::uint32_t> stop{0};
    std::atomic<std::uint32_t> ready{0};
    std::uint32_t refused = 0;
};

// Sleeps (wfi, masked so no interrupt slips between the check and the wfi)
// until `cpu`'s acked count moves past `seen`, or stop is set.
void wait_acked(std::uint32_t cpu, std::uint64_t seen, const std::atomic<std::uint32_t>& stop) {
    for (;;) {
        hal::Cpu::irq_push();
        const bool moved = ipi::chain(cpu).acked != seen;
        if (!moved && !stop.load(std::memory_order_relaxed)) hal::wait_for_interrupt();
        hal::Cpu::irq_pop(); // the soft interrupt is taken (and acked) here
        if (moved || stop.load(std::memory_order_relaxed)) return;
    }
}

void ipi_partner_body(void* arg) {
    auto* p = static_cast<IpiPingPong*>(arg);
    sched::PreemptGuard no_preempt;
    std::uint64_t seen = ipi::chain(p->partner).acked;
    p->ready.store(1, std::memory_order_release);
    for (;;) {
        wait_acked(p->partner, seen, p->stop);
        if (p->stop.load(std::memory_order_relaxed)) return;
        seen = ipi::chain(p->partner).acked;
        if (ipi::request_resched(p->us) != ipi::Resched::Sent) ++p->refused;
    }
}

std::uint64_t ipi_batch(void* ctx, std::uint32_t iters) {
    auto* p = static_cast<IpiPingPong*>(ctx);
    const std::uint64_t t0 = instret();
    for (std::uint32_t i = 0; i < iters; ++i) {
        const std::uint64_t seen = ipi::chain(p->us).acked;
        if (ipi::request_resched(p->partner) != ipi::Resched::Sent) ++p->refused;
        wait_acked(p->us, seen, p->stop);
    }
    return (instret() - t0) / (2ull * iters);
}

} // namespace

bool same_hart_ops(const Plan& plan, std::uint32_t live) {
    if (!measure_yield(plan, "yield", 1, live)) return false;
    std::uint32_t spawn_failures = 0;
    const Figure sj = measure(plan, &spawn_join_batch, &spawn_failures);
    if (spawn_failures != 0) {
        println("KBENCH: FAIL spawn_join: ", spawn_failures, " spawns failed");
        return false;
    }
    report("spawn_join", live, 0, sj);
    if (!measure_wake(plan, "wake_local", current_cpu(), live)) return false;
    SpinLock lock("bench");
    report("lock", live, 0, measure(plan, &lock_batch, &lock));
    volatile std::uint32_t sink = 0;
    report("current_cpu", live, 0, measure(plan, &cpu_id_batch, const_cast<std::uint32_t*>(&sink)));
    return true;
}

bool run_queue_ops(const Plan& plan) {
    // An almost empty run queue (one waiting) and a full Normal class.
    return measure_yield(plan, "yield_rq", 1, 2) &&
           measure_yield(plan, "yield_rq", sched::kRqCapacity - 1, sched::kRqCapacity);
}

bool cross_hart_ops(const Plan& plan) {
    const OnlineCpus on = online_cpus();
    const std::uint32_t other = on.after(current_cpu());
    if (!measure_wake(plan, "wake_remote", other, 2)) return false;
    IpiPingPong p;
    p.us = current_cpu();
    p.partner = other;
    auto release = [&p] {
        p.stop.store(1, std::memory_order_relaxed);
        (void)ipi::request_resched(p.partner);
    };
    TaskScope scope(release);
    if (scope.spawn(&ipi_partner_body, &p, SpawnOptions{Qos::Normal, other, true, "ipi-pong"})
                .error != sched::SpawnError::None ||
        !await(kEventuallyUs, [&p] { return p.ready.load(std::memory_order_acquire) != 0; })) {
        println("KBENCH: FAIL ipi_chain: partner did not start");
        return false;
    }
    sched::PreemptGuard no_preempt;
    const Figure f = measure(plan, &ipi_batch, &p);
    if (p.refused != 0) {
        println("KBENCH: FAIL ipi_chain: ", p.refused, " requests not sent (coalesced or refused)");
        return false;
    }
    report("ipi_chain", 2, 0, f);
    return true;
}

bool timer_irq_op(const Plan& plan) {
    // A gap in a tight rdinstret loop is an interrupt: here only the tick.
    constexpr std::uint64_t kGap = 100;
    std::uint64_t gaps[kMaxBatches + 1];
    const std::uint32_t want = (plan.batches < kMaxBatches ? plan.batches : kMaxBatches) + 1;
    std::uint32_t got = 0;
    const std::uint64_t deadline = time::now() + time::from_us(kEventuallyUs);
    std::uint64_t prev = instret();
    const std::uint64_t loop = [] {
        const std::uint64_t a = instret();
        const std::uint64_t b = instret();
        return b - a;
    }();
    while (got < want && time::now() < deadline) {
        const std::uint64_t now = instret();
        if (now - prev > kGap && now - prev > loop) gaps[got++] = now - prev - loop;
        prev = now;
    }
    if (got < want) {
        println("KBENCH: FAIL timer_irq: ", got, " ticks seen");
        return false;
    }
    // The first gap may be a partial loop: the warm-up.
    report("timer_irq", 1, 0, summarize(gaps + 1, want - 1, 1));
    return true;
}

} // namespace k::selftest::bench
