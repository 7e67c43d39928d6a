// The switch handshake's invariants, checked from outside the scheduler
// (portable: the kernel's monitor feeds it snapshots; host tests feed it
// tables). A task that any hart may take (queued, registers saved) must not
// be some hart's current task, its prev (switched away from, switch not yet
// finished), or the owner of the stack a hart runs on.
#pragma once

#include <cstdint>

namespace sched {

// What the monitor sees of one hart, read under the rq lock it holds.
struct HartView {
    const void* current;
    const void* prev;
    std::uintptr_t stack_lo, stack_hi; // the stack the hart runs on (or switches to)
};

// A task found in a run queue or an inbox.
struct QueuedView {
    const void* task;
    std::uint32_t on_cpu; // cpu + 1 while its registers are live, else 0
    std::uintptr_t stack_lo, stack_hi;
    bool in_run_queue; // false: in an inbox, where on_cpu may still be set
};

enum class [[nodiscard]] HandshakeRule : std::uint32_t{
    Ok,
    QueuedOnCpu,   // a run-queue task whose registers are still live
    QueuedCurrent, // a takeable task is some hart's current
    QueuedPrev,    // a takeable task is some hart's unfinished prev
    QueuedStack,   // a takeable task's stack is the one a hart runs on
};

struct HandshakeFinding {
    HandshakeRule rule;
    std::uint32_t hart; // the hart that still holds the task (unused for QueuedOnCpu)
};

// Checks one queued task against every hart (harts[0..n)). Pure.
inline HandshakeFinding check_queued(const QueuedView& q, const HartView* harts, std::uint32_t n) {
    if (q.on_cpu != 0) {
        // An inbox may hold a task that is still switching out: its hart
        // drains it after the switch. A run queue may not.
        if (q.in_run_queue) return HandshakeFinding{HandshakeRule::QueuedOnCpu, q.on_cpu - 1};
        return HandshakeFinding{HandshakeRule::Ok, 0};
    }
    for (std::uint32_t h = 0; h < n; ++h) {
        if (harts[h].current == q.task) return HandshakeFinding{HandshakeRule::QueuedCurrent, h};
        if (harts[h].prev == q.task) return HandshakeFinding{HandshakeRule::QueuedPrev, h};
        if (harts[h].stack_lo == q.stack_lo && harts[h].stack_hi == q.stack_hi)
            return HandshakeFinding{HandshakeRule::QueuedStack, h};
    }
    return HandshakeFinding{HandshakeRule::Ok, 0};
}

inline const char* handshake_rule_name(HandshakeRule r) {
    switch (r) {
    case HandshakeRule::Ok:
        return "ok";
    case HandshakeRule::QueuedOnCpu:
        return "queued with on_cpu set";
    case HandshakeRule::QueuedCurrent:
        return "takeable task is a hart's current";
    case HandshakeRule::QueuedPrev:
        return "takeable task is a hart's unfinished prev";
    case HandshakeRule::QueuedStack:
        return "takeable task's stack is in use by a hart";
    }
    return "?";
}

} // namespace sched
