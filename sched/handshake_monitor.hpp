// The handshake monitor: one scan of every hart's run queue and inbox
// against every hart's current, prev and running stack (sched/handshake.hpp).
#pragma once

#include "sched/handshake.hpp"

#include <cstdint>

namespace sched {

struct HandshakeScan {
    std::uint32_t tasks_seen; // queued tasks checked
    HandshakeFinding finding; // the first broken rule (rule Ok: none)
    std::uint32_t queued_cpu; // where the offending task was queued
    std::uint32_t task_id;    // its id
};

// Takes each online hart's rq lock in turn (then its inbox lock) and checks
// what is queued there. Costs O(harts * queued); call it from a task.
HandshakeScan scan_handshake();

} // namespace sched
