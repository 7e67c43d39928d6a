// The PLIC's registers (RISC-V PLIC spec v1.0.0): priorities, pending bits, and per context
// the enable bits, the threshold and the claim/complete register. MMIO through the kernel's
// irq window (mm/kernel_space.hpp); no state of its own beyond the base.
#pragma once

#include <cstdint>

namespace k::irq::plic {

// The registers' virtual base (kspace::irq_va of the controller's physical base); 0: none.
void set_base(std::uintptr_t va);
bool present();

// Source priority 0 (never interrupts: the mask) .. 7. Sources 1..1023.
void set_priority(std::uint32_t source, std::uint32_t prio);
std::uint32_t priority(std::uint32_t source);
bool pending(std::uint32_t source);
// The source's enable bit for `context` (routing: a source is enabled on one context).
void set_enabled(std::uint32_t context, std::uint32_t source, bool on);
bool enabled(std::uint32_t context, std::uint32_t source);
// Interrupts of priority <= threshold are not signalled to `context`.
void set_threshold(std::uint32_t context, std::uint32_t threshold);
// The highest-priority pending source enabled for `context` (its pending bit cleared), 0
// when none. The gateway forwards that source no further until complete().
std::uint32_t claim(std::uint32_t context);
// Ends the claim; ignored by the PLIC unless `source` is enabled for `context`.
void complete(std::uint32_t context, std::uint32_t source);

} // namespace k::irq::plic
