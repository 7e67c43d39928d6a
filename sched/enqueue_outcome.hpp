// The result of putting a task on a run queue: queued, or why not.
#pragma once

#include "sched/qos.hpp"

#include <cstdint>

namespace sched {

// Every callsite handles a refusal: a task is never silently dropped.
// QueueFull names the class and its bound; InvalidCpu comes from the per-cpu
// layer (target out of range or offline), never from a RunQueue itself.
struct [[nodiscard]] EnqueueOutcome {
    enum class Kind : std::uint32_t { Queued, QueueFull, InvalidCpu };

    Kind kind;
    Qos qos;                // meaningful for QueueFull
    std::uint32_t capacity; // the per-class bound, for QueueFull

    static constexpr EnqueueOutcome queued() { return {Kind::Queued, Qos::Idle, 0}; }
    static constexpr EnqueueOutcome full(Qos q, std::uint32_t cap) {
        return {Kind::QueueFull, q, cap};
    }
    static constexpr EnqueueOutcome invalid_cpu() { return {Kind::InvalidCpu, Qos::Idle, 0}; }

    [[nodiscard]] constexpr bool ok() const { return kind == Kind::Queued; }
};

[[nodiscard]] constexpr const char* enqueue_kind_name(EnqueueOutcome::Kind k) {
    switch (k) {
    case EnqueueOutcome::Kind::Queued:
        return "queued";
    case EnqueueOutcome::Kind::QueueFull:
        return "queue-full";
    case EnqueueOutcome::Kind::InvalidCpu:
        return "invalid-cpu";
    }
    return "invalid";
}

} // namespace sched
