// Kernel access to user memory: one copy routine whose loads and stores may fault, and the
// trap path's fixup for them (hal/riscv64/user_access.S).
#pragma once

#include "trap_frame.hpp"

#include <cstddef>
#include <cstdint>

extern "C" {
struct HalUaccess {
    std::uintptr_t pc;    // a load or store of hal_user_copy
    std::uintptr_t fixup; // where it resumes when that access faults
};
extern const HalUaccess __kuaccess_start[], __kuaccess_end[];
// 0, or -1 when an access faulted (what was copied before it stays copied).
long hal_user_copy(void* dst, const void* src, unsigned long n);
}

namespace hal {

// Trap path, for a page or access fault taken in the kernel at a user address (the caller
// checks stval: a fault on the kernel side of a copy is a kernel bug and must still panic):
// when the faulting pc is one of hal_user_copy's accesses, resumes at its fixup and returns
// true.
inline bool apply_user_fixup(TrapFrame& tf) {
    for (const HalUaccess* f = __kuaccess_start; f != __kuaccess_end; ++f) {
        if (f->pc == tf.sepc) {
            tf.sepc = f->fixup;
            return true;
        }
    }
    return false;
}

} // namespace hal
