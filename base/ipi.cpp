// Resched IPIs with per-target pending bits (coalescing) and causal counters.
#include "base/ipi.hpp"

#include "base/percpu.hpp"
#include "hal_cpu.hpp"
#include "sbi.hpp"

namespace k::ipi {

namespace {

constexpr std::uint32_t kResched = 1u << 0;
constexpr std::uint32_t kStop = 1u << 1;

struct Target {
    std::atomic<std::uint32_t> pending{0}; // bits set by senders, taken by the target's trap
    Chain chain;
};

Target g_targets[kMaxCpus];
std::atomic<std::uint64_t> g_rejected_invalid{0};
std::atomic<std::uint64_t> g_rejected_offline{0};
std::atomic<std::uint32_t> g_force_fail{0};

long send(std::uint32_t cpu) {
    return hal::sbi::send_ipi(1, cpu_block(cpu).head.hart_id).error;
}

} // namespace

const char* resched_name(Resched r) {
    switch (r) {
    case Resched::Sent:
        return "sent";
    case Resched::Coalesced:
        return "coalesced";
    case Resched::InvalidCpu:
        return "invalid cpu";
    case Resched::OfflineCpu:
        return "offline cpu";
    case Resched::SendFailed:
        return "send failed";
    }
    return "?";
}

Resched request_resched(std::uint32_t target) {
    if (target >= cpu_count() || target >= kMaxCpus) {
        g_rejected_invalid.fetch_add(1, std::memory_order_relaxed);
        return Resched::InvalidCpu;
    }
    if (!cpu_online(target)) {
        g_rejected_offline.fetch_add(1, std::memory_order_relaxed);
        return Resched::OfflineCpu;
    }
    Target& t = g_targets[target];
    t.chain.requested.fetch_add(1, std::memory_order_relaxed);
    // The pending bit is the coalescing point: only the setter sends.
    if (t.pending.fetch_or(kResched, std::memory_order_acq_rel) & kResched) {
        t.chain.coalesced.fetch_add(1, std::memory_order_relaxed);
        return Resched::Coalesced;
    }
    if (g_force_fail.load(std::memory_order_acquire) || send(target) != 0) {
        t.pending.fetch_and(~kResched, std::memory_order_acq_rel);
        t.chain.send_failed.fetch_add(1, std::memory_order_relaxed);
        return Resched::SendFailed;
    }
    t.chain.sent.fetch_add(1, std::memory_order_relaxed);
    return Resched::Sent;
}

bool handle_soft_irq() {
    // sip.SSIP was cleared by the trap path with one csrrc before we look at
    // the bits, so a send that lands now raises SSIP again and is not lost.
    Target& t = g_targets[hal::tp_head()->cpu];
    std::uint32_t bits = t.pending.exchange(0, std::memory_order_acq_rel);
    t.chain.trapped.fetch_add(1, std::memory_order_relaxed);
    if (bits & kStop) {
        hal::csr::clear_sstatus(hal::csr::kSstatusSie);
        for (;;)
            hal::wait_for_interrupt();
    }
    if (bits & kResched) {
        t.chain.acked.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    return false;
}

std::uint32_t stop_others() {
    std::uint32_t self = hal::tp_head()->cpu, asked = 0;
    for (std::uint32_t c = 0; c < cpu_count(); ++c) {
        if (c == self || !cpu_online(c)) continue;
        g_targets[c].pending.fetch_or(kStop, std::memory_order_acq_rel);
        if (send(c) == 0) ++asked;
    }
    return asked;
}

Snapshot chain(std::uint32_t cpu) {
    const Chain& c = g_targets[cpu < kMaxCpus ? cpu : 0].chain;
    return Snapshot{c.requested.load(), c.sent.load(),      c.trapped.load(),
                    c.acked.load(),     c.coalesced.load(), c.send_failed.load()};
}

std::uint64_t rejected_invalid() {
    return g_rejected_invalid.load();
}
std::uint64_t rejected_offline() {
    return g_rejected_offline.load();
}

void reset_target(std::uint32_t cpu) {
    if (cpu < kMaxCpus) g_targets[cpu].pending.store(0, std::memory_order_release);
}

void force_send_failure(bool on) {
    g_force_fail.store(on ? 1u : 0u, std::memory_order_release);
}

} // namespace k::ipi
