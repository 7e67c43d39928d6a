// Fault injection from /chosen/bootargs (`kfault=<name>`): breaks one
// mechanism on purpose so a counterfactual gate run can show that the proof
// of that mechanism goes away. Never set in a normal boot.
#pragma once

#include <cstdint>

namespace k::fault {

enum class Fault : std::uint32_t {
    None,
    NoPreempt,     // the tick never asks for a reschedule
    IpiDrop,       // every resched IPI send fails
    StackOverflow, // a task runs below its stack's lowest legal sp
    BadTrap,       // a task executes an illegal instruction
    HartStartFail, // the last secondary's hart_start names the firmware's region
    Hang,          // the selftest task waits for an event nobody signals
    // Race classes of CONTRACT §6, each re-created on purpose for the storm:
    RequeueEarly,     // prev re-queued and on_cpu cleared before its registers are saved
    WakeIgnoresOnCpu, // a wake targets any hart and the inbox drain ignores on_cpu
    CtxLoseReg, // one saved callee-saved slot (s11) is overwritten after the save, while the switch
                // check runs
    EarlyRelease,   // exit drops the scheduler's reference before the final switch-out
    LostWakeup,     // a Notification sleeper publishes Blocked after dropping the lock
    LostWakeSignal, // a Notification signaller reads the waiter before it sets the bits, unlocked
    EarlyOnline,    // a (re)started hart says Online 20 ms before it takes work
    InboxesClosed,  // every inbox refuses an unpinned task (as if its hart were leaving)
    LateArrival,    // the last secondary claims its block only after the boot hart gave up on it
    LateJoin,       // the last secondary joins only after the boot hart gave up waiting for Online
    // Sv39 kernel space (mm/kernel_space.hpp):
    TextWrite,      // a task stores to kernel text (mapped R-X): store page fault
    StackGuardPage, // a task overflows its stack, interrupts off, into the guard page
    // User address spaces (mm/user_space.hpp):
    SatpSkip,      // a switch from one user space to another leaves the first one's root in satp
    NoShootdown,   // unmap skips the remote TLB flush (SBI RFENCE) before freeing the frames
    MaskAfterLoad, // activate sets the cpu's bit in the space's mask only after its satp load
    RfenceError,   // every SBI RFENCE is taken as failed (the shootdown must panic)
    SpaceDoubleRelease, // a task creates a user space and releases it twice (must panic)
    SpaceRetainFree,    // a task creates a user space, releases it, then retains it (must panic)
    UaccessKernel,      // a task's checked user copy reads an unmapped kernel address (must panic)
    // IPC (ipc/):
    NoHandoff,     // sched::handoff refuses every direct switch: the fast path never runs
    DestroyNoWake, // destroying an endpoint unlinks its waiters but never wakes them
    ReplyAnyCall,  // a reply answers whatever call its caller's record awaits (no sequence check)
    FastpathDropBadge, // the IPC fast path's call delivers no badge (the differential's
                       // counterfactual: the hash differs from the general path's)
    SharedSkipFlush,   // unmap_shared leaves the lowest other cpu of the space out of its flush
    // Floating point in user threads (hal/riscv64/fp_state.hpp):
    FpNoSave, // a switch never saves the leaving thread's f registers (a moved thread loses them)
    FpNoZero, // a thread's first F/D instruction gets a state, but the registers stay as the
              // last thread on the hart left them (visible to the next thread)
    // Time (sched/timer.hpp, RFC-0030):
    TimeStrand,      // a leaving hart closes its timer queue without firing its entries
    TimeStaleBit,    // a timed wait leaves the timer bit of an entry that fired late in the word
    TimeLate,        // timer entries fire only two ticks after their deadline
    TimeKillJoin,    // a kill does not end a join (wait, task_wait) of the killed process's threads
    TimeTicking,     // an idle hart keeps its 10 ms tick (no tickless idle)
    TimeTimeoutWins, // a timed IPC wait returns TimedOut even when a completion is on its way
    // Interrupts to user space (irq/, issue 20): each breaks one of seL4's three failures.
    IrqLostUnbound, // an interrupt of a source with no notification bound is masked, not latched
    IrqMaskAll,     // a delivery masks by the context's threshold: every source waits for the ack
    IrqBootStuck,   // sources pending at boot are claimed and never completed (the gateway
                    // forwards them no more)
    // The shell's hart control (proc/hart_calls.cpp, RFC-0032):
    ShellNoCap,      // hart_offline/online skip the HartControl capability check
    ShellSilentPark, // hart_offline says 0 tasks parked even when pinned tasks stay behind
    // The console's line rule (base/console.cpp, RFC-0031 "The console rule"):
    ConsoleSplit, // a line or a user's write leaves the console lock half-way for 20 us
};

void init(const char* bootargs);
// Written once by the boot hart (init) before any other hart starts; read on
// hot paths, so it is a plain inline variable, not a call.
inline Fault g_active = Fault::None;
inline bool is(Fault f) {
    return g_active == f;
}
const char* name(Fault f);

} // namespace k::fault
