// Secondary hart bring-up: every usable hart of the DTB started in turn (base/hart_start.hpp).
#pragma once

#include "dtb/dtb.hpp"
#include "hart_head.hpp"

#include <cstdint>

namespace k::smp {

// Starts every usable hart the DTB lists, prints `KINIT: cpuN online` or
// `KINIT: cpuN offline (<reason>)` for each, and returns how many came online
// (the boot hart included).
std::uint32_t start_secondaries(const dtb::Platform& p, std::uint32_t boot_hart);

} // namespace k::smp

extern "C" [[noreturn]] void secondary_main(unsigned long hart_id, hal::HartHead* head);
