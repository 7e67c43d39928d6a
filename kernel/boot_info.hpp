// What the boot hart learned from the DTB, kept for the rest of the kernel.
#pragma once

#include "dtb/dtb.hpp"

namespace k {

const dtb::Platform& platform();
void set_platform(const dtb::Platform& p);

// Why the boot runs on defaults for something essential (the tree unreadable,
// no usable cpu nodes, the boot hart not among them, no usable memory), or
// nullptr when the DTB supplied all of it. Such a boot must not pass.
const char* platform_fallback();
void set_platform_fallback(const char* reason);

// Harts the DTB lists as able to run this kernel (enabled, S-mode), capped
// at the cpu limit: the number `smp online` expects to see online.
std::uint32_t usable_cpu_target();
void set_usable_cpu_target(std::uint32_t n);

} // namespace k
