// The shell's kernel side (issue 20, RFC-0032): introspection of processes and harts, and hart
// hot-plug through a HartControl capability. The ABI is kestrel/syscall.hpp (45..48).
#pragma once

#include "trap_frame.hpp"

#include <cstdint>

namespace k::user {

struct Thread;

// proc_info(index, buf): 1 and buf written, 0 for an empty slot, BadArgument past the table,
// BadPointer for buf.
std::int64_t sys_proc_info(const hal::TrapFrame& tf);
// hart_info(hart, buf): 1 and buf written, 0 past this machine's harts, BadArgument past
// kMaxHarts, BadPointer for buf.
std::int64_t sys_hart_info(const hal::TrapFrame& tf);
// hart_offline/online(slot, hart): the HartControl capability's errors, then BadArgument,
// BootHart, HartState, Busy. Offline returns the tasks parked on the hart, online 0.
std::int64_t sys_hart_control(Thread& me, const hal::TrapFrame& tf, bool online);

} // namespace k::user
