// The IPC fast path (issue 18, RFC-0028 "The fast path"): Call and ReplyRecv in their common
// case, Signal and NotifyWait, taken from the trap handler before the system-call dispatcher,
// with interrupts masked from the trap to the return.
#pragma once

#include "ipc/ipc_thread.hpp"
#include "sched/task.hpp"
#include "trap_frame.hpp"

#include <cstdint>

namespace k::ipc::fastpath {

// Takes the call in `tf` (a7 = the number) for thread `t` when it is a Call, ReplyRecv, Signal
// or NotifyWait whose preconditions all hold, and writes its results into `tf` (a0..a6) as the
// general call would: true. False, with nothing changed, when the general path must take it
// (another number, the fast path switched off, or a precondition failed); that path then does the
// whole call from the same registers. Call with interrupts masked (SIE = 0) and no lock held; it
// may block (switch away) and returns with interrupts still masked. `me`: the thread's task (the
// trap handler's one lookup).
bool try_call(sched::Task& me, IpcThread& t, hal::TrapFrame& tf);

// `ipc_fastpath=off` on the boot line turns it off for the whole boot (the differential
// runs): every IPC call then takes the general path. Set once by the boot, before any user
// thread runs.
void set_enabled(bool on);
[[nodiscard]] bool enabled();

// How often each call took the fast path, summed over the harts (relaxed counters).
struct Counts {
    std::uint64_t call_fast, call_slow;             // Call: fast path taken / general path
    std::uint64_t reply_recv_fast, reply_recv_slow; // ReplyRecv: the same
};
[[nodiscard]] Counts counts();

} // namespace k::ipc::fastpath
