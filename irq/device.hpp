// Device memory (issue 20, RFC-0031 "Device memory"): the Platform capability of the root
// process, and Device capabilities to the register pages of one DTB device node.
#pragma once

#include "dtb/dtb.hpp"
#include "dtb/irq_info.hpp"
#include "ipc/cap_space.hpp"
#include "mm/user_space.hpp"

#include <cstdint>

namespace k::irq {

// Registers pages per device (more: the node is refused, KernelOwned).
inline constexpr std::uint32_t kMaxDevicePages = 16;

// Boot hart, after init(): the device nodes the DTB lists, and what the kernel keeps (memory,
// the controller, the console UART's base to hand over).
void devices_init(const dtb::IrqInfo& info, const dtb::Platform& platform);

// Puts the Platform capability (all rights) in `slot` of a root process's space: 0 or the
// slot's error.
std::int64_t give_platform(ipc::CapSpace& caps, std::uint64_t slot);

// device_get / device_map (user/include/kestrel/syscall.hpp). `compat` is already copied in
// (len bytes, 1..kMaxCompatible). device_get looks only at the nodes the Platform
// capability's badge names (irq/platform_scope.hpp); others are NoDevice.
std::int64_t device_get(ipc::CapSpace& caps, std::uint64_t platform, const char* compat,
                        std::uint64_t len, std::uint64_t dst);
std::int64_t device_map(ipc::CapSpace& caps, uspace::UserSpace& space, std::uint64_t slot,
                        std::uint64_t va);

// irq_get through a Platform capability with `badge`: whether it may take `source` (every
// source for badge 0; else only the interrupt of the node it names).
bool platform_allows_source(std::uint64_t badge, std::uint64_t source);

// Free device records now (object_count kind 6).
std::uint32_t free_devices();

} // namespace k::irq
