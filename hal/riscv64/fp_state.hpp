// A user thread's floating-point registers, and how a switch moves them (RFC-0027 "Floating
// point"). The kernel itself never executes an F or D instruction outside fp.S (the meson
// test `kernel-no-fp` disassembles the image to check).
//
// The policy, per hart: a thread's registers are live only while it runs. A switch saves the
// leaving thread's registers if sstatus.FS says it changed them (Dirty), then loads the next
// thread's (FS = Clean) or, for a thread without floating-point state, sets FS = Off: its
// first F or D instruction then traps (illegal instruction), and only that trap gives it a
// state, zeroed, in registers zeroed before it runs (proc/user_trap.cpp). So no thread ever
// runs with another's registers readable, on any hart (the LazyFP lesson, CVE-2018-3665), a
// thread that moves to another hart finds its registers in memory, saved before the
// on_cpu handshake let anyone take it, and a thread that never used the FPU pays one test of a
// null pointer per switch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "asm_offsets.hpp"
#include "csr.hpp"

namespace hal {

struct FpState {
    std::uint64_t f[32] = {}; // f0..f31, as fsd stores them
    std::uint64_t fcsr = 0;   // frm and fflags
    // The sstatus of the thread's user trap frame (the one its return to U-mode restores):
    // a save marks it Clean, so a thread that has not written f registers since is not saved
    // again (Linux's fstate_save does the same with its pt_regs).
    std::uint64_t* user_sstatus = nullptr;
};
static_assert(offsetof(FpState, f) == FP_F(0) && offsetof(FpState, fcsr) == FP_FCSR &&
              offsetof(FpState, user_sstatus) == FP_USER_SSTATUS && sizeof(FpState) == FP_SIZE);

} // namespace hal

extern "C" {
// fp.S. Save: f0..f31 and fcsr into *s; FS must not be Off (it is Dirty when called).
void hal_fp_save(hal::FpState* s);
// Load: f0..f31 and fcsr from *s, with FS on for the loads and Clean after them.
void hal_fp_load(const hal::FpState* s);
}

namespace hal::fp {

inline constexpr std::uint64_t kFsOff = 0, kFsInitial = 1ul << 13, kFsClean = 2ul << 13,
                               kFsDirty = 3ul << 13;

// The floating-point half of a switch from prev to next (their states; nullptr for a task
// without one), on the switching hart with interrupts masked, before prev's registers are
// saved (so before anyone can take prev). `save` false skips prev's save (the
// `fp-no-save` fault, kernel/task_faults.hpp).
inline void switch_state(FpState* prev, const FpState* next, bool save = true) {
    if (prev && save && (csr::read_sstatus() & csr::kSstatusFs) == kFsDirty) {
        hal_fp_save(prev);
        *prev->user_sstatus = (*prev->user_sstatus & ~csr::kSstatusFs) | kFsClean;
    }
    if (next)
        hal_fp_load(next);
    else
        (void)csr::swap_clear_sstatus(
            csr::kSstatusFs); // Off: no thread reads what the last one left
}

} // namespace hal::fp
