// hal_user_trap: every trap from U-mode (hal/riscv64/trap_entry.S). The frame lies at the top
// of the thread's kernel stack; the thread's kernel side runs with interrupts on, as any task.
//
// The thread is looked up once, at entry, while interrupts are still masked (the validated
// cpu-id lookup, sched::current_masked), and every check below uses that one answer: the
// task cannot change under a trap, only its hart can.
//
// Fast calls (issue 18): the calls that only read a figure (FrameCount, CurrentCpu, Time) take
// trap_entry.S's short path, which saves only the registers a C call may clobber, and are
// answered in hal_user_fast_call with interrupts masked, in a bounded number of instructions,
// without the dispatcher. They keep every check of the general path: the root and SUM checks
// and the killed-process check (a killed process's call goes the general way, which ends the
// thread). The checks run once: with interrupts masked and no switch, nothing runs between
// them and the sret that could change satp or sstatus.
#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/panic.hpp"
#include "base/panic_trap.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "ipc/fastpath.hpp"
#include "mm/frames.hpp"
#include "mm/user_space.hpp"
#include "proc/process.hpp"
#include "proc/process_record.hpp"
#include "proc/syscalls.hpp"
#include "sched/scheduler.hpp"
#include "sched/task.hpp"
#include "trap/trap.hpp"

#include "asm_offsets.hpp"

namespace {

constexpr std::uint64_t kEcallFromU = 8;

// The thread is about to run user instructions: its own root must be in satp. A thread that
// would run with another space's root (a switch that skipped or misordered the satp write,
// RFC-0027) is caught here, at every trap and before every return to U-mode.
[[noreturn, gnu::cold, gnu::noinline]] void wrong_root(const sched::Task& me, const char* when) {
    k::println("KLOG: user: wrong root ", when, ": satp ", k::hex(hal::csr::read_satp()), " task ",
               me.name, " #", me.id);
    k::panic("user thread with another address space's root in satp");
}

void check_root(const sched::Task& me, const char* when) {
    if (!me.space) [[unlikely]]
        wrong_root(me, when);
    const std::uint64_t want = k::uspace::satp(*me.space); // then satp: nothing kept across
    if (hal::csr::read_satp() != want) [[unlikely]]
        wrong_root(me, when);
}

// sstatus.SUM (S-mode may touch user pages) is set only inside hal_user_copy (RFC-0027
// invariant 4): neither the user's sstatus (the frame's, restored at the sret) nor the hart's
// may carry it at a trap from U-mode or on the way back. A copy that left it set would let
// every later kernel access reach user pages unchecked.
void check_sum(const sched::Task& me, const hal::TrapFrame& tf, const char* when) {
    const std::uint64_t live = hal::csr::read_sstatus();
    if (((live | tf.sstatus) & hal::csr::kSstatusSum) != 0) [[unlikely]] {
        k::println("KLOG: user: sstatus.SUM set ", when, ": sstatus ", k::hex(live), " frame ",
                   k::hex(tf.sstatus), " task ", me.name, " #", me.id);
        k::panic("sstatus.SUM set outside hal_user_copy");
    }
}

static_assert(FAST_CALLS == (1u << static_cast<unsigned>(kestrel::Sys::CurrentCpu) |
                             1u << static_cast<unsigned>(kestrel::Sys::Time) |
                             1u << static_cast<unsigned>(kestrel::Sys::FrameCount)),
              "trap_entry.S's fast calls are fast_call's numbers");

[[noreturn, gnu::cold, gnu::noinline]] void sum_at_fast_call(const sched::Task& me) {
    k::println("KLOG: user: sstatus.SUM set at a fast call: sstatus ",
               k::hex(hal::csr::read_sstatus()), " task ", me.name, " #", me.id);
    k::panic("sstatus.SUM set outside hal_user_copy");
}

// A fast call's result in `out`; false for every other number (the general path takes it).
bool fast_call(std::uint64_t number, std::int64_t& out) {
    switch (static_cast<kestrel::Sys>(number)) {
    case kestrel::Sys::FrameCount:
        out = static_cast<std::int64_t>(k::frames::free_count());
        return true;
    case kestrel::Sys::CurrentCpu:
        out = k::current_cpu_masked();
        return true;
    case kestrel::Sys::Time:
        out = static_cast<std::int64_t>(k::time::to_us(k::time::now()));
        return true;
    default:
        return false;
    }
}

constexpr std::uint64_t kIllegalInstruction = 2;

// The thread's first F or D instruction (or any illegal one while FS = Off): from here it has
// floating-point state, zeroed in its record and in the registers, and the instruction runs
// again with FS = Initial. An instruction that is illegal for another reason traps again,
// with FS on, and ends the process as any fault does. Interrupts are masked: no switch sees
// the task's fp set before the registers are zero (hal/riscv64/fp_state.hpp).
void fp_first_use(sched::Task& me, k::user::Thread& thread, hal::TrapFrame& tf) {
    thread.fp = hal::FpState{};
    thread.fp.user_sstatus = &tf.sstatus; // the frame every trap from U-mode uses
    if (!k::fault::is(k::fault::Fault::FpNoZero)) hal_fp_load(&thread.fp);
    me.fp = &thread.fp;
    tf.sstatus = (tf.sstatus & ~hal::csr::kSstatusFs) | hal::fp::kFsInitial;
}

} // namespace

extern "C" bool hal_user_fast_call(hal::TrapFrame* tf) {
    const sched::Task& me = *static_cast<const sched::Task*>(tf->task);
    check_root(me, "at a fast call");
    if ((hal::csr::read_sstatus() & hal::csr::kSstatusSum) != 0) [[unlikely]]
        sum_at_fast_call(me);
    // Relaxed: only the decision is taken here; the general path's killed() reads the status.
    if (static_cast<k::user::Thread*>(me.user)->process->kill.load(std::memory_order_relaxed))
        [[unlikely]]
        return false; // k::user::killed(), inline: the general path ends the thread
    std::int64_t r;
    if (!fast_call(tf->x[17], r)) [[unlikely]]
        return false;
    tf->x[10] = static_cast<std::uint64_t>(r);
    return true;
}

extern "C" void hal_user_trap(hal::TrapFrame* tf) {
    using namespace hal::csr;
    sched::Task& me = *sched::current_masked();
    check_root(me, "at trap entry");
    check_sum(me, *tf, "at trap entry");
    auto& thread = *static_cast<k::user::Thread*>(me.user);
    if (tf->scause == kEcallFromU) {
        tf->sepc += 4;
        // Call, ReplyRecv, Signal and NotifyWait in their common case (ipc/fastpath.hpp): with
        // interrupts masked, no dispatcher.
        if (!k::ipc::fastpath::try_call(me, thread.ipc, *tf)) {
            set_sstatus(kSstatusSie);
            tf->x[10] = static_cast<std::uint64_t>(k::user::syscall(thread, *tf));
            (void)swap_clear_sstatus(kSstatusSie);
        }
    } else if (tf->scause & kCauseInterrupt) {
        hal_trap_dispatch(tf); // the tick and the resched IPI, as in the kernel
    } else if (tf->scause == kIllegalInstruction && (tf->sstatus & kSstatusFs) == 0 && !me.fp) {
        fp_first_use(me, thread, *tf); // the instruction runs again, with FS on
    } else {
        // Any exception of U-mode ends the thread's process with the fault; nothing else.
        k::println("KLOG: user: task ", me.name, " #", me.id,
                   " faulted: ", k::trap::cause_name(tf->scause), " at pc ", k::hex(tf->sepc),
                   " address ", k::hex(tf->stval), " sp ", k::hex(tf->x[2]));
        set_sstatus(kSstatusSie);
        k::user::thread_exit(kestrel::WaitKind::Faulted, static_cast<std::int32_t>(tf->scause),
                             tf->stval);
    }
    if (k::user::killed(*thread.process)) {
        set_sstatus(kSstatusSie);
        k::user::thread_exit(kestrel::WaitKind::Faulted, 0, 0); // status set by the fault
    }
    check_root(me, "before the return to U-mode");
    check_sum(me, *tf, "before the return to U-mode");
}
