// Inter-processor interrupts: the causal resched chain and the panic stop.
#pragma once

#include <atomic>
#include <cstdint>

namespace k::ipi {

// request_resched() outcome. Invalid and offline targets are rejected before
// any counter moves.
enum class [[nodiscard]] Resched : std::uint32_t{
    Sent,       // accepted, IPI sent
    Coalesced,  // accepted, an IPI for this target is already pending
    InvalidCpu, // no such cpu
    OfflineCpu, // the cpu exists but is not online
    SendFailed, // accepted, the SBI send failed; the request was withdrawn
};
const char* resched_name(Resched r);

// Per-target evidence of request -> send -> S-mode soft interrupt -> ack.
struct Chain {
    std::atomic<std::uint64_t> requested{0};
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> trapped{0};
    std::atomic<std::uint64_t> acked{0};
    std::atomic<std::uint64_t> coalesced{0};
    std::atomic<std::uint64_t> send_failed{0};
};

struct Snapshot {
    std::uint64_t requested, sent, trapped, acked, coalesced, send_failed;
};

Resched request_resched(std::uint32_t target);
Snapshot chain(std::uint32_t cpu);
std::uint64_t rejected_invalid();
std::uint64_t rejected_offline();

// Software-interrupt handler, called from the trap path on the target hart.
// Returns true when a resched request was acked.
bool handle_soft_irq();

// Panic: asks every other online hart to stop; returns how many were asked.
std::uint32_t stop_others();

// Clears a target's pending bits. Its hart calls it while joining, before it
// publishes Online (nobody may send to it until then), so a bit left from
// before an HSM stop cannot swallow the next request, and no request sent
// after Online can be wiped.
void reset_target(std::uint32_t cpu);

// Selftest-only counterfactual switch: while set, the SBI send is skipped and
// reported as failed.
void force_send_failure(bool on);

} // namespace k::ipi
