// Boot-time memory bring-up: the frame pool from the DTB, then Sv39 on every hart.
#pragma once

#include "dtb/dtb.hpp"
#include "dtb/irq_info.hpp"
#include "mm/phys_ranges.hpp"

#include <cstdint>

namespace k {

// Boot hart, before any other hart starts: plans the frames (memory minus /reserved-memory or
// everything below the kernel, minus the kernel and the blob), builds the kernel's address
// space and turns Sv39 on. Prints its figures (KINIT: mm: ...); panics only when the kernel
// cannot run at all (no frame for a page table, a hart without Sv39).
// `irq`: the interrupt controller's registers are mapped too (a PLIC only).
void memory_init(const dtb::Platform& p, const dtb::IrqInfo& irq, const void* blob);

// Every other hart (and a restarted one), first thing: the kernel's root in satp.
void memory_this_hart();

// Free frames right after boot (the selftests' reference), and the planned figures.
struct MemoryFigures {
    std::uint64_t free_at_boot;
    std::uint64_t bitmap_pages;
    std::uint64_t table_pages;
    std::uint64_t build_us;     // planning + building + turning Sv39 on, boot hart
    std::uint32_t asid_bits;    // ASID bits spaces use: the boot hart's ASIDLEN (0..16), lowered by
                                // asid_bits= (0: every space on ASID 0, flushed at each load)
    std::uint32_t mmio_devices; // device register blocks in the MMIO window (UART, test, HTIF)
};
const MemoryFigures& memory_figures();
// The plan the frame pool was built from (memory_init's; read-only after it).
const mm::FramePlan& frame_plan();

} // namespace k
