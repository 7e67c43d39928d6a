// User tasks (RFC-0027): a process is an address space, its threads and its end status. The
// records come from fixed slabs; a process is found by the id spawn returned.
#pragma once

#include "fp_state.hpp"
#include "ipc/ipc_thread.hpp"
#include "ipc/objects.hpp"
#include "proc/images.hpp"
#include "trap_frame.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace k::uspace {
class UserSpace;
}
namespace sched {
struct Task;
}

namespace k::user {

struct Process;

inline constexpr std::uint32_t kMaxProcesses = 128;
inline constexpr std::uint32_t kMaxThreads = 256; // user threads, all processes
inline constexpr std::uint32_t kMaxThreadsPerProcess = 16;
inline constexpr std::uint64_t kStackPages = 16; // the main thread's stack: 64 KiB
// The main thread's stack ends at the top of the user half; the page below it stays unmapped
// (an overflow is a page fault that kills the task).
inline constexpr std::uint64_t kStackTop = kestrel::kUserLimit;

// A user thread's record (Task::user points at it while the thread lives).
struct Thread {
    Process* process = nullptr;
    std::uint64_t pc = 0, sp = 0, a0 = 0, a1 = 0; // its first U-mode registers
    std::uint64_t gp = 0, tp = 0;                 // a new thread's: its creator's
    bool used = false;                            // guarded by the slab lock
    sched::Task* task = nullptr; // its task from its first instruction to its end; guarded by
                                 // the slab lock (a kill aborts its joins through it)
    k::ipc::IpcThread ipc;       // its IPC state (ipc/ipc_thread.hpp)
    // Its f registers while it is switched out, from its first F or D instruction on
    // (hal/riscv64/fp_state.hpp; its task's fp points here from then). Zeroed at that first use.
    hal::FpState fp;
};

// Starts `image` in a new address space with `args` (args_len bytes of NUL-terminated
// strings, already checked) as argc/argv, its main thread on the next online hart in turn.
// The caller's process (`parent`, nullptr for the kernel) is its parent and must wait() for it.
// `cap`: a slot of the parent's capability space whose capability the child gets in its slot
// 0 (kestrel::kNoCap: none; a kernel parent has none).
// Returns the new id (> 0) or a negative kestrel::Error: NoMemory, BadImage, Limit, or the
// capability error of `cap` (SlotOutOfRange, EmptySlot, CountOverflow).
// `task_dst`: an empty slot of the parent's space that gets a task capability to the child
// (kNoCap: none); SlotOutOfRange, SlotOccupied refuse the spawn.
std::int64_t spawn(Process* parent, const elf::Image& image, const char* args, std::size_t args_len,
                   std::uint64_t cap = kestrel::kNoCap, std::uint64_t task_dst = kestrel::kNoCap);

// task_kill: ends the process as a fault would, with WaitKind::Killed (its threads leave at
// their next kernel entry or exit; one blocked in IPC is woken). 0, also when it has ended.
std::int64_t task_kill(k::ipc::TaskObject& task);
// task_wait: join() of the process the capability names. 1 when it blocked, 0 when it had
// ended already.
std::int64_t task_wait(k::ipc::TaskObject& task, kestrel::WaitStatus& out);
// A counted reference on a process record (task capabilities, ipc/objects.hpp).
void process_ref(Process& p);
void process_unref(Process& p);

// A new thread of `p` entering U-mode at pc with sp and a0, and gp and tp of its creator (the
// psABI's global pointer; tp is the program's). Returns its task id or an Error (Limit,
// NoMemory).
// With `pinned`, it runs only on hart `cpu` (sched's pinned tasks: never stolen); otherwise
// it starts on the caller's hart.
std::int64_t thread_create(Process& p, std::uint64_t pc, std::uint64_t sp, std::uint64_t a0,
                           std::uint64_t gp, std::uint64_t tp, bool pinned = false,
                           std::uint32_t cpu = 0);

// Blocks until the process `id` has ended and copies its status out. With `reap` (wait()),
// only the parent finds it, and reaps it: the id is gone afterwards. Returns 1 when it
// blocked, 0 when the process had ended already, or NoChild.
std::int64_t await(Process* caller, std::int64_t id, bool reap, kestrel::WaitStatus& out);

// How many tasks wait now (await) for the end of process `id` (0: the caller's own), or
// NoChild.
std::int64_t joiners(Process* caller, std::int64_t id);

// The calling user thread ends: with kind Exited and `code`, or Faulted (scause code, stval),
// which kills its whole process (every other thread ends at its next kernel exit). The last
// thread of a process ends the process and releases its address space.
[[noreturn]] void thread_exit(kestrel::WaitKind kind, std::int32_t code, std::uint64_t addr);

// The calling task's process, or nullptr for a kernel task.
Process* current_process();
// The calling user thread's record (nullptr for a kernel task).
Thread* current_thread();
// True once the process was killed (a thread of it faulted): its threads leave at their next
// kernel exit.
bool killed(const Process& p);
uspace::UserSpace* space_of(const Process& p);

// For leak checks: free process and thread records now.
std::uint32_t free_processes();
std::uint32_t free_threads();

// proc_info (RFC-0032): process slot `index` (< kMaxProcesses) as the ABI's record, a racy
// snapshot (states and harts may change as it is read). False for an empty slot, or a process
// still being spawned.
bool process_info(std::uint32_t index, kestrel::ProcInfo& out);
// Gives a process the kernel spawned (no parent) its HartControl capability in
// ipc::kHartControlSlot (proc/proc_info.cpp).
void give_hart_control(Process& p);

// The first instruction of every user thread (a sched task entry; arg is its Thread).
[[noreturn]] void thread_main(void* arg);

} // namespace k::user
