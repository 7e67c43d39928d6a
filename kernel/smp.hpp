// Secondary hart bring-up with SBI HSM, one hart at a time, each wait bounded.
#pragma once

#include "hart_head.hpp"
#include "kernel/dtb/dtb.hpp"

#include <cstdint>

namespace k::smp {

// Starts every usable hart the DTB lists, prints `KINIT: cpuN online` or
// `KINIT: cpuN offline (<reason>)` for each, and returns how many came online
// (the boot hart included).
std::uint32_t start_secondaries(const dtb::Platform& p, std::uint32_t boot_hart);

// Bring one already-assigned cpu back (after an HSM stop). Returns true when it
// is Online (taking work) within the bound.
bool restart_cpu(std::uint32_t cpu);

// The joining hart's last step: Joining -> Online. False when the boot hart
// declared it offline first (it must then stop).
[[nodiscard]] bool publish_online(std::uint32_t cpu);

// kfault=early-online: publishes Online at once and waits 20 ms before the
// hart sets anything up (the bug publish_online's ordering prevents).
void inject_early_online(std::uint32_t cpu);

// A stopping hart cannot say it has stopped: whoever sees the firmware report
// it stopped publishes Stopping -> Offline. True when the cpu is Offline.
bool confirm_stopped(std::uint32_t cpu);

} // namespace k::smp

extern "C" [[noreturn]] void secondary_main(unsigned long hart_id, hal::HartHead* head);
