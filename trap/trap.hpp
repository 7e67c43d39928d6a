// Supervisor trap dispatch and the hooks it calls.
#pragma once

#include "trap_frame.hpp"

namespace k::trap {

// Installs the vector on the calling hart and enables the soft and timer
// interrupt sources (sstatus.SIE stays as it is).
void install_on_this_hart();

const char* cause_name(std::uint64_t scause);

// The platform interrupt controller's handler for a supervisor external interrupt (the irq
// room registers it; it stands above this one): called on the hart that took the interrupt,
// interrupts off. Setting it turns sie.SEIE on for the calling hart, and install_on_this_hart()
// on every hart that starts after; before, SEIE stays off and scause 9 would be a KPANIC.
using ExternalHandler = void (*)();
void set_external_handler(ExternalHandler h);

// Illegal-instruction traps at a probe pc that resumed at their fixup (all harts).
std::uint64_t fixups();

} // namespace k::trap
