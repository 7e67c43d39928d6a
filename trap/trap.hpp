// Supervisor trap dispatch and the hooks it calls.
#pragma once

#include "trap_frame.hpp"

namespace k::trap {

// Installs the vector on the calling hart and enables the soft and timer
// interrupt sources (sstatus.SIE stays as it is).
void install_on_this_hart();

const char* cause_name(std::uint64_t scause);

// Illegal-instruction traps at a probe pc that resumed at their fixup (all harts).
std::uint64_t fixups();

} // namespace k::trap
