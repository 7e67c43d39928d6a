// Race-window widening: short random delays at lock releases and at the
// steps of the switch/wake handshake, in the spirit of rcutorture's
// stutter and KCSAN's delay injection. Off unless `jitter=<seed>` is in the
// bootargs or a selftest turns it on; when off a site costs one load.
#pragma once

#include <atomic>
#include <cstdint>

namespace k::jitter {

enum class Site : std::uint32_t {
    LockRelease,  // after a spin lock's serving ticket moved on (others may take it)
    LockAcquire,  // before a task takes a spin lock (not the switch path's masked rq lock):
                  // with LockRelease, widens every window at the edge of a critical section
                  // ("decided under the lock, acted after it", "read before it, acted in it")
    SwitchOut,    // schedule(): prev published as this hart's prev, before the switch
    FinishSwitch, // finish_switch(): registers saved, before on_cpu is cleared
    Wake,         // make_runnable(): before the task is pushed to an inbox
    Drain,        // drain_inbox(): before a task's on_cpu is read
    Block,        // a sleeper: Blocked published, before it switches away
    SwitchSave,   // hal_context_switch: registers stored, before the save stamps its run
    SoftIrq,      // the soft-interrupt trap: sip.SSIP cleared, before the pending word is taken
    SatpLoaded,   // uspace::activate: a user space's root is in satp (subject: the space), the
                  // point from which a hart may walk its tables at any moment
    ReplyClaimed, // IPC: a call's end claimed (the caller's record filled), before its
                  // completion is posted; subject: the caller's k::ipc::IpcThread
    HartJoin,     // a hart joining the scheduler: its inbox open, interrupts still off, before
                  // it publishes Online (no resched request reaches it yet)
    ExitJoiners,  // sched::exit(): Exited published, before the first joiner is popped
    ExitPopped,   // sched::exit(): a joiner popped and its reference adopted, before its wake
    TimerWoke,    // sched::timed_wait(): the wait returned, before its timer entry is cancelled
                  // (subject: the sched::TimerEntry): a fire here races the cancel
    // Held by a selftest only (the delay hook skips them: both windows are masked, so a delay
    // there would only slow every lookup):
    CurrentLookup, // sched::current(): this hart's block found, its current task not yet read
    CpuIdLookup,   // k::current_cpu(): tp and sp read, the block tp names not yet checked
};

// `subject` is the task the step is about (nullptr at a lock release).
using Hook = void (*)(Site, const void* subject);
// Installed by enable(); a plain function pointer so that portable code
// (the spin lock, host-tested) carries the sites without a link dependency.
// A selftest may put its own hook here for a while (selftest/window_tests.cpp
// holds a chosen task's handshake window open) and chain to the one it found.
inline std::atomic<Hook> g_hook{nullptr};

inline void point(Site s, const void* subject = nullptr) {
    // Unlikely: off in every measured boot, and a likely call would make the
    // switch path keep its values in callee-saved registers around it.
    if (Hook h = g_hook.load(std::memory_order_relaxed)) [[unlikely]]
        h(s, subject);
}

// Kernel only (base/jitter.cpp). `seed` 0 is replaced by a fixed value.
// Delays are 1..max_us µs of busy-waiting on the `time` CSR, taken at one
// lock release in four and one handshake step in two; max_us is clamped to
// 1..100.
void enable(std::uint64_t seed, std::uint32_t max_us);
void disable();
bool enabled();
std::uint64_t seed();
// Reads `jitter=<seed>` (decimal) from the bootargs; true when it was set.
bool init(const char* bootargs);
// Delays taken since boot (diagnostics).
std::uint64_t delays();

} // namespace k::jitter
