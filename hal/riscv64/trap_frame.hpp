// Register state saved by hal_trap_vector, and the thread context saved by
// hal_context_switch. Their offsets live in asm_offsets.hpp.
#pragma once

#include "asm_offsets.hpp"

#include <cstddef>
#include <cstdint>

namespace hal {

struct TrapFrame {
    std::uint64_t x[32]; // x[0] unused
    std::uint64_t sepc;
    std::uint64_t sstatus;
    std::uint64_t scause;
    std::uint64_t stval;
    // The frame at the top of a user thread's kernel stack: its task, written once when the
    // thread first enters U-mode (k::user::thread_main) and by no trap, so a fast call finds
    // its task with one load (proc/user_trap.cpp). Unused in a kernel trap's frame.
    const void* task;
    std::uint64_t pad;      // TF_SIZE stays a multiple of 16
    std::uint64_t frame_fp; // frame record (the frame's last 16 bytes): interrupted s0 ...
    std::uint64_t frame_ra; // ... and sepc, so backtraces cross the trap
};

static_assert(offsetof(TrapFrame, x) + 8 * 5 == TF_X(5));
static_assert(offsetof(TrapFrame, sepc) == TF_SEPC);
static_assert(offsetof(TrapFrame, sstatus) == TF_SSTATUS);
static_assert(offsetof(TrapFrame, scause) == TF_SCAUSE);
static_assert(offsetof(TrapFrame, stval) == TF_STVAL);
static_assert(offsetof(TrapFrame, frame_fp) == TF_FRAME_FP);
static_assert(offsetof(TrapFrame, frame_ra) == TF_FRAME_RA);
static_assert(offsetof(TrapFrame, task) == TF_TASK);
static_assert(sizeof(TrapFrame) == TF_SIZE);
static_assert(
    TF_FRAME_FP == TF_SIZE - 16 && TF_FRAME_RA == TF_SIZE - 8,
    "trap entry points s0 at the frame's end: the frame record must be its last 16 bytes");
static_assert(TF_SIZE % 16 == 0, "the trap frame keeps sp 16-byte aligned");
static_assert(KSTACK_GUARD > TF_SIZE, "the guard band absorbs the first trap-frame store");

struct Context {
    std::uint64_t ra;
    std::uint64_t sp;
    std::uint64_t s[12];
    std::uint64_t check;   // sum of the registers as saved (valid when checked)
    std::uint64_t checked; // 1: the restore verifies the registers it loads
    // Stale-context detection: `run` counts the thread's runs (the dispatcher sets it as the
    // thread starts one; it is also the task's dispatch count for dumps and gdb), and the save
    // copies it into `saved_run` as its very last store. A context whose saved_run differs from its
    // run is not (yet) the save of its latest run.
    std::uint64_t run;
    std::uint64_t saved_run;
};

static_assert(offsetof(Context, ra) == CTX_RA);
static_assert(offsetof(Context, sp) == CTX_SP);
static_assert(offsetof(Context, s) == CTX_S(0));
static_assert(offsetof(Context, s) + 11 * 8 == CTX_S(11));
static_assert(offsetof(Context, check) == CTX_CHECK);
static_assert(offsetof(Context, checked) == CTX_CHECKED);
static_assert(offsetof(Context, run) == CTX_RUN);
static_assert(offsetof(Context, saved_run) == CTX_SAVED_RUN);
static_assert(sizeof(Context) == CTX_SIZE);

} // namespace hal

extern "C" {
// Returns `carry` in the thread that resumes (context_switch.S).
void* hal_context_switch(hal::Context* from, const hal::Context* to, void* carry);
// Non-zero: every switch-out records the sum of the registers it saves, and
// the restore of such a context verifies the registers it loaded against it
// (a save and restore that disagree, or a saved slot overwritten, panics); and
// every trap from the kernel checks its frame's save and restore the same way
// (trap_entry.S), calling hal_trap_frame_mismatch(0: save, 1: restore).
extern std::uint32_t hal_switch_check_on;
// Non-zero (set while jitter runs, base/jitter.cpp): every save calls hal_switch_delay() after
// the registers are stored and before it stamps the run, so a thread published as takeable
// too early stays stale for microseconds, not instructions.
extern std::uint32_t hal_switch_delay_on;
void hal_switch_delay();
[[noreturn]] void hal_context_mismatch(const hal::Context* to);
void hal_thread_trampoline();
// Enters U-mode with the registers of `frame`, which lies at the top of the running task's
// kernel stack (trap_entry.S). Interrupts masked; the task's root installed.
[[noreturn]] void hal_return_to_user(hal::TrapFrame* frame);
// C++ side of the trap vector: traps taken in the kernel (trap/trap.cpp), and interrupts of
// U-mode, which it handles the same way; and every trap from U-mode (proc/).
void hal_trap_dispatch(hal::TrapFrame* tf);
[[noreturn]] void hal_trap_frame_mismatch(std::uint64_t restore);
void hal_user_trap(hal::TrapFrame* tf);
// trap_entry.S's short path for the numbers in FAST_CALLS (proc/user_trap.cpp): the frame holds
// only ra, t0-t6, s0, a0-a7 and tp. True: answered, the result in the frame's a0. False: the
// general path (hal_user_trap) takes the call.
bool hal_user_fast_call(hal::TrapFrame* tf);
void hal_trap_vector();
void secondary_entry();
}

namespace hal {

// Makes `c` a context that starts in hal_thread_start(entry, arg, carry) on the given stack,
// run 0 and saved as such. Field by field, in place: a value-initialised Context (144 bytes)
// would be cleared by a memset call.
inline void init_thread_context(Context& c, std::uintptr_t stack_top, void (*entry)(void*),
                                void* arg) {
    c.ra = reinterpret_cast<std::uint64_t>(&hal_thread_trampoline);
    c.sp = stack_top & ~std::uintptr_t{15};
    for (std::uint64_t& s : c.s)
        s = 0;
    c.s[1] = reinterpret_cast<std::uint64_t>(entry);
    c.s[2] = reinterpret_cast<std::uint64_t>(arg);
    c.check = 0;
    c.checked = 0;
    c.run = 0;
    c.saved_run = 0;
}

} // namespace hal
