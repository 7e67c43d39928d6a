// A kernel task: its context, its state machine and the on_cpu handshake.
#pragma once

#include "base/intrusive_list.hpp"
#include "base/spin_lock.hpp"
#include "fp_state.hpp"
#include "sched/qos.hpp"
#include "sched/task_state.hpp"
#include "trap_frame.hpp"

#include <atomic>
#include <cstdint>

namespace k::uspace {
class UserSpace;
}

namespace sched {

struct Task;
struct WaitKind; // sched/wait_channel.hpp

// A joiner's record, on the joiner's own stack while it waits.
struct JoinWaiter {
    k::ListLink link;
    Task* waiter; // holds a counted reference while linked (taken in join())
};

using TaskEntry = void (*)(void* arg);

struct Task {
    k::ListLink link;   // run queue or inbox; guarded by that list's lock
    hal::Context ctx{}; // valid while switched out
    TaskStateCell state{TaskState::Ready};
    std::atomic<std::uint32_t> on_cpu{0};   // cpu + 1 while its registers are live on a hart
    std::atomic<std::uint32_t> refs{0};     // TaskRef count; the scheduler holds one until exit
    std::atomic<std::uint32_t> home_cpu{0}; // where a wake sends it when it is off cpu
    Qos qos = Qos::Normal;
    bool pinned = false;           // thieves leave pinned tasks alone
    bool idle = false;             // a hart's idle context: never queued, never transitions
    std::uint32_t preempt_off = 0; // this task only: > 0 defers tick preemption
    std::uint32_t id = 0;
    const char* name = "";
    TaskEntry entry = nullptr;
    void* arg = nullptr;
    std::uintptr_t stack_lo = 0; // lowest legal sp (top of the guard band)
    std::uintptr_t stack_hi = 0;
    // A user thread's address space (its satp is installed before it runs, on any hart);
    // nullptr for a kernel task, which runs on the kernel's root. Written by spawn and by the
    // thread itself (cleared on its way out); read by the switch path of its hart.
    k::uspace::UserSpace* space = nullptr;
    std::uint64_t satp = 0; // space's satp (fixed while the space lives); unused without one
    void* user = nullptr;   // a user thread's record (proc/process.hpp); nullptr otherwise
    // A user thread's floating-point registers (hal/riscv64/fp_state.hpp), in its record:
    // nullptr until its first F or D instruction, and again from its exit. Written by the
    // thread itself, read by the switch path of the hart it runs on.
    hal::FpState* fp = nullptr;

    k::SpinLock lock{"task"};
    k::IntrusiveList<JoinWaiter, &JoinWaiter::link> joiners; // guarded by lock
    std::int64_t exit_value = 0;                             // guarded by lock, set before Exited

    // What it waits for while Blocked (sched/wait_channel.hpp): written by the task itself
    // before its Blocked is published, read by the lost-wake-up monitor.
    std::atomic<const WaitKind*> wait_kind{nullptr};
    std::atomic<const void*> wait_object{nullptr};

    // Set (seq_cst) by abort_waits(): its abortable joins end at once (RFC-0030 "Kill"). Reset
    // at spawn.
    std::atomic<std::uint32_t> wait_abort{0};
    std::atomic<std::uint64_t> preempts{0}; // involuntary switch-outs (time slice)
    std::atomic<std::uint32_t> last_cpu{0};

    Task() = default;
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
};

} // namespace sched
