// hal_user_trap: every trap from U-mode (hal/riscv64/trap_entry.S). The frame lies at the top
// of the thread's kernel stack; the thread's kernel side runs with interrupts on, as any task.
#include "base/console.hpp"
#include "base/panic.hpp"
#include "base/panic_trap.hpp"
#include "hal_cpu.hpp"
#include "mm/user_space.hpp"
#include "proc/process.hpp"
#include "proc/syscalls.hpp"
#include "sched/scheduler.hpp"
#include "sched/task.hpp"
#include "trap/trap.hpp"

namespace {

constexpr std::uint64_t kEcallFromU = 8;

// The thread is about to run user instructions: its own root must be in satp. A thread that
// would run with another space's root (a switch that skipped or misordered the satp write,
// RFC-0027) is caught here, at every trap and before every return to U-mode.
void check_root(const char* when) {
    const sched::Task* me = sched::current();
    if (!me->space || hal::csr::read_satp() != k::uspace::satp(*me->space)) {
        k::println("KLOG: user: wrong root ", when, ": satp ", k::hex(hal::csr::read_satp()),
                   " task ", me->name, " #", me->id);
        k::panic("user thread with another address space's root in satp");
    }
}

// sstatus.SUM (S-mode may touch user pages) is set only inside hal_user_copy (RFC-0027
// invariant 4): neither the user's sstatus (the frame's, restored at the sret) nor the hart's
// may carry it at a trap from U-mode or on the way back. A copy that left it set would let
// every later kernel access reach user pages unchecked.
void check_sum(const hal::TrapFrame& tf, const char* when) {
    const std::uint64_t live = hal::csr::read_sstatus();
    if (((live | tf.sstatus) & hal::csr::kSstatusSum) != 0) {
        const sched::Task* me = sched::current();
        k::println("KLOG: user: sstatus.SUM set ", when, ": sstatus ", k::hex(live), " frame ",
                   k::hex(tf.sstatus), " task ", me->name, " #", me->id);
        k::panic("sstatus.SUM set outside hal_user_copy");
    }
}

} // namespace

extern "C" void hal_user_trap(hal::TrapFrame* tf) {
    using namespace hal::csr;
    check_root("at trap entry");
    check_sum(*tf, "at trap entry");
    if (tf->scause & kCauseInterrupt) {
        hal_trap_dispatch(tf); // the tick and the resched IPI, as in the kernel
    } else if (tf->scause == kEcallFromU) {
        tf->sepc += 4;
        set_sstatus(kSstatusSie);
        tf->x[10] = static_cast<std::uint64_t>(k::user::syscall(*tf));
        (void)swap_clear_sstatus(kSstatusSie);
    } else {
        // Any exception of U-mode ends the thread's process with the fault; nothing else.
        const sched::Task* me = sched::current();
        k::println("KLOG: user: task ", me->name, " #", me->id,
                   " faulted: ", k::trap::cause_name(tf->scause), " at pc ", k::hex(tf->sepc),
                   " address ", k::hex(tf->stval), " sp ", k::hex(tf->x[2]));
        set_sstatus(kSstatusSie);
        k::user::thread_exit(kestrel::WaitKind::Faulted, static_cast<std::int32_t>(tf->scause),
                             tf->stval);
    }
    const k::user::Process* p = k::user::current_process();
    if (k::user::killed(*p)) {
        set_sstatus(kSstatusSie);
        k::user::thread_exit(kestrel::WaitKind::Faulted, 0, 0); // status set by the fault
    }
    check_root("before the return to U-mode");
    check_sum(*tf, "before the return to U-mode");
}
