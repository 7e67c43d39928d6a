// The runtime scheduler: per-hart bounded run queues, inboxes for remote
// wake-ups, a time slice, bounded stealing, and the task life cycle.
#pragma once

#include "sched/enqueue_outcome.hpp"
#include "sched/steal.hpp"
#include "sched/task_ref.hpp"

#include <cstdint>

namespace sched {

inline constexpr std::uint32_t kRqCapacity = 16; // per QoS class, per hart
inline constexpr std::uint64_t kTickUs = 10'000; // time slice
// Tickless idle (RFC-0030): an idle hart with nothing queued anywhere sleeps until its next
// timer deadline, but at most this long (the watchdog, the wake monitor and the steal gate
// poll from its timer interrupt).
inline constexpr std::uint64_t kIdleMaxUs = 100'000;
inline constexpr std::uint32_t kAnyCpu = 0xffffffffu;
inline constexpr Qos kDefaultStealLimit = Qos::Interactive;

// The boot hart joins the scheduler, spawns `first` (named `name`) pinned to it, and becomes
// its idle loop. Panics when the hart cannot publish Online or the task cannot be made.
[[noreturn]] void start_boot_cpu(TaskEntry first, const char* name);
[[noreturn]] void start_secondary_cpu(std::uint32_t cpu);

// A pinned task runs only on its hart: never stolen, never moved. When its
// hart goes offline it is parked there and runs again once the hart is back.
struct SpawnOptions {
    Qos qos = Qos::Normal;
    std::uint32_t cpu = kAnyCpu; // kAnyCpu: the caller's hart
    bool pinned = false;         // runs only on `cpu`
    const char* name = "task";
    // User threads: the address space its switch installs (the caller holds a reference for
    // the task), its record, and TF_SIZE bytes kept free at the top of its kernel stack for
    // the frame of its traps from U-mode (hal/riscv64/trap_entry.S).
    k::uspace::UserSpace* space = nullptr;
    void* user = nullptr;
};

// InvalidCpu: out of range, not online, or going offline (a pinned spawn is
// refused then, never placed elsewhere).
enum class [[nodiscard]] SpawnError : std::uint32_t{None, NoMemory, InvalidCpu};

struct [[nodiscard]] Spawned {
    SpawnError error;
    TaskRef task; // empty unless error == None
};

Spawned spawn(TaskEntry entry, void* arg, const SpawnOptions& opts);

// Makes a Blocked task Ready on `cpu` (kAnyCpu: where it last ran; a pinned
// task: its own hart). Only the caller that wins the Blocked -> Ready
// exchange enqueues it. Parked: a pinned task whose hart is offline is Ready
// and waits there for the hart. Pinned: `cpu` names another hart than a
// pinned task's own; refused before anything changed.
enum class [[nodiscard]] WakeResult : std::uint32_t{Woken, NotBlocked, InvalidCpu, Parked, Pinned};
WakeResult wake(Task& t, std::uint32_t cpu = kAnyCpu);

enum class [[nodiscard]] YieldResult : std::uint32_t{
    Switched,      // another task ran; we are back
    NothingBetter, // no task of our class or above is queued: kept running
    QueueFull,     // our class is at capacity on this hart: kept running
};
YieldResult yield();

// The IPC fast path (RFC-0028): the calling task, which has published Blocked, gives its hart
// straight to `next`, with no run-queue round trip. `next` is a task whose Blocked -> Ready
// wake the caller won (Task::state.wake()) and that is on no queue. Refused (false, nothing
// changed) unless next's registers are saved, it last ran on this hart, its class is not below
// the caller's, no task of its class or above is queued here (a handoff past one could starve
// it), this hart is not going offline and the caller is still Blocked; the caller then hands next
// to enqueue_woken() and blocks as usual. Call with interrupts masked once (irq depth 1), as a
// switch point.
bool handoff(Task& next);
// Makes runnable a task whose wake the caller won (where it last ran, as wake() does).
void enqueue_woken(Task& t);

// Holds a task whose wake the caller won until it is handed over (take(): to handoff(), or
// to another holder) or the holder ends, which enqueue_woken()s it: such a task is run or
// queued exactly once, on every path.
class WonWake final {
  public:
    explicit WonWake(Task* t) : t_(t) {}
    ~WonWake() {
        if (t_) enqueue_woken(*t_);
    }
    WonWake(const WonWake&) = delete;
    WonWake& operator=(const WonWake&) = delete;
    [[nodiscard]] Task* get() const { return t_; }
    [[nodiscard]] Task* take() {
        Task* t = t_;
        t_ = nullptr;
        return t;
    }

  private:
    Task* t_;
};

// While one lives, the tick does not preempt the calling task (it may still
// yield or block). Nests.
class PreemptGuard final {
  public:
    PreemptGuard();
    ~PreemptGuard();
    PreemptGuard(const PreemptGuard&) = delete;
    PreemptGuard& operator=(const PreemptGuard&) = delete;
};

// Blocks the caller until `t` exits; returns its exit value.
std::int64_t join(const TaskRef& t);
// As join(), but it also ends once abort_waits() was called for the caller (before or during
// the wait): true with `value` set when `t` exited, false when aborted.
[[nodiscard]] bool join_abortable(const TaskRef& t, std::int64_t& value);
// Ends every abortable join of `t`, now and later (its owner's process was killed): sets t's
// abort flag, then wakes t if it is blocked in a join. Call while `t` cannot be freed.
void abort_waits(Task& t);
[[noreturn]] void exit(std::int64_t value);

Task* current();
// current() for a caller that runs with interrupts masked already (a trap from U-mode): the same
// validated cpu-id lookup (k::current_cpu_masked), without the mask and unmask around it; it
// panics when interrupts are on.
Task* current_masked();
std::uint32_t cpu_of_current();
// The task hart `cpu` runs now, read without the cpu-id resolution (a trap on the emergency
// stack, where the stack-range check cannot place us); nullptr for an invalid cpu.
Task* running_on(std::uint32_t cpu);

struct CpuStats {
    std::uint64_t switches, preempts, yields_full, deferred, steals, stolen, ticks;
    std::uint64_t handoffs; // direct switches of the IPC fast path (handoff())
    std::uint32_t queued, inbox;
};
CpuStats stats(std::uint32_t cpu);
std::uint32_t queued_on(std::uint32_t cpu, Qos q);

// An explicit steal by the calling hart from `victim`; the request is checked
// against this hart's limit before anything moves. `taken` says how many moved.
StealCheck steal_now(const StealRequest& req, std::uint32_t victim, std::uint32_t& taken);
// Each hart steals only classes at or below its limit (default Interactive).
Qos steal_limit(std::uint32_t cpu);
void set_steal_limit(std::uint32_t cpu, Qos q);

// Hart hot-plug: the target hart moves its unpinned tasks elsewhere, parks
// its pinned ones in its closed inbox, and stops with SBI HSM; bring_online
// restarts it with hart_start and returns once it takes work again (the
// parked tasks then run there).
enum class [[nodiscard]] Hotplug : std::uint32_t{Ok, InvalidCpu, BootCpu, NotOnline, Timeout};
// Bound on a hart's own HSM stop (µs): generous, the wait ends as soon as it is done.
inline constexpr std::uint64_t kHotplugTimeoutUs = 10'000'000;
// Waits at most `timeout_us` (µs) for the hart to stop. Timeout: the request was withdrawn
// and the hart keeps running, unless it had already committed to stopping; then it waits up
// to kHotplugTimeoutUs more for the stop (Ok), else Timeout.
Hotplug take_offline(std::uint32_t cpu, std::uint64_t timeout_us = kHotplugTimeoutUs);
Hotplug bring_online(std::uint32_t cpu);
// Called on a hart that is going offline, after its tasks moved and before it stops,
// interrupts off, with its logical cpu: what else it serves moves elsewhere (the irq room's
// sources, issue 20). One hook, set once at boot; nullptr: none.
using OfflineHook = void (*)(std::uint32_t cpu);
void set_offline_hook(OfflineHook h);
const char* hotplug_name(Hotplug h);

// Prints one KDUMP line per hart (state, current task, queues, IPI chain),
// ignoring the console lock holder: for the watchdog and panics.
void dump_state(const char* why);

} // namespace sched

namespace k {
// What the trap dispatcher (trap/trap.cpp) calls on this hart, interrupts off: a timer
// interrupt (a tick when its deadline is due), a resched IPI that was acked, and the
// preemption point at the end of every trap from S-mode.
void sched_timer_tick();
void sched_resched_request();
void sched_trap_exit();
} // namespace k
