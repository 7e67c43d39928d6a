// The system-call dispatcher (user/include/kestrel/syscall.hpp is the ABI).
#pragma once

#include "trap_frame.hpp"

#include <cstdint>

namespace k::user {

struct Thread;

// Runs the call a7 names with a0..a5 of `tf` for the calling user thread, interrupts on.
// Returns a0's new value: the result, or a negative kestrel::Error (BadNumber for a number
// outside the ABI). Exit does not return.
std::int64_t syscall(Thread& me, hal::TrapFrame& tf);

} // namespace k::user
