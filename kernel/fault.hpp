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
    EarlyOnline,   // a (re)started hart says Online 20 ms before it takes work
};

void init(const char* bootargs);
Fault active();
inline bool is(Fault f) {
    return active() == f;
}
const char* name(Fault f);

// Boot hook: runs the injected fault that needs a task (stack, trap).
void run_task_faults();

} // namespace k::fault
