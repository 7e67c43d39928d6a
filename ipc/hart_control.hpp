// The hart-control object: what a HartControl capability names (RFC-0032). One static object,
// never allocated or freed: the capability is a right (take harts offline and online, with
// Send), not a resource. The kernel gives one to each process it spawns itself (the root
// process, init, in slot kHartControlSlot); init may pass it on by IPC with Grant.
#pragma once

#include "ipc/kernel_object.hpp"

#include <cstdint>

namespace k::ipc {

inline constexpr std::uint64_t kHartControlSlot = 62; // the root process's slot for it

// Its capability count lives here like any object's; nothing happens when it reaches 0.
inline ::ipc::KernelObject g_hart_control;

} // namespace k::ipc
