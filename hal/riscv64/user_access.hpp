// Kernel access to user memory: one copy routine whose loads and stores may fault, and the
// trap path's fixup for them (hal/riscv64/user_access.S).
#pragma once

#include "probe.hpp"
#include "trap_frame.hpp"

#include <cstddef>
#include <cstdint>

extern "C" {
// {pc, fixup} pairs as in .kfixup (probe.hpp): a load or store of hal_user_copy and where it
// resumes when that access faults.
extern const HalFixup __kuaccess_start[], __kuaccess_end[];
// 0, or -1 when an access faulted (what was copied before it stays copied).
long hal_user_copy(void* dst, const void* src, unsigned long n);
}

namespace hal {

// Trap path, for a page or access fault taken in the kernel at a user address (the caller
// checks stval: a fault on the kernel side of a copy is a kernel bug and must still panic):
// when the faulting pc is one of hal_user_copy's accesses, resumes at its fixup and returns
// true.
inline bool apply_user_fixup(TrapFrame& tf) {
    return apply_fixup_from(__kuaccess_start, __kuaccess_end, tf);
}

} // namespace hal
