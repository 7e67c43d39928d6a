// The kernel's Sv39 address space: identity-mapped, W^X, supervisor-only and global
// (RISC-V privileged spec v1.12 §4.4), with every kernel stack's guard page left unmapped.
#pragma once

#include "kernel/mm/page_table.hpp"

#include <cstdint>

namespace k::kspace {

// `count` pages at first, first + stride, ...: each stays unmapped (a stack's guard page).
struct GuardPages {
    std::uintptr_t first;  // page-aligned
    std::uintptr_t stride; // bytes, a multiple of 4096
    std::uint32_t count;
};

struct Layout {
    const mm::FramePlan* plan;       // its usable ranges are mapped RW- (the frames)
    std::uint64_t dtb_base, dtb_end; // mapped R-- (the Platform points into the blob)
    std::uint64_t mmio[4];           // one RW- page each (UART, test device, HTIF); 0 = none
    GuardPages guards[2];            // task stacks, per-cpu boot/idle stacks
};

struct [[nodiscard]] BuildResult {
    mm::MapError error;
    const char* what; // the region that failed, "" when error == None
};

// Boot hart, MMU off, frames initialised: builds the table. Text R-X, rodata R--, data and bss
// RW- (4 KiB leaves, so the guard pages can be cut out), RAM with the largest leaves that
// fit, the DTB and the MMIO pages with 4 KiB leaves; every leaf global (G) and
// supervisor-only (no U).
BuildResult build(const Layout& layout);

// Installs the kernel root in satp (ASID 0) on the calling hart and flushes its TLB. False
// when satp did not keep MODE = Sv39 (the hart lacks it; satp is WARL, §4.1.11).
[[nodiscard]] bool activate_this_hart();

// ASIDLEN of the calling hart, 0..16: the ASID bits satp keeps when written with all ones
// (§4.1.11). Leaves the kernel root with ASID 0 installed. Boot hart, after activation.
std::uint32_t probe_asid_bits();

const mm::PageTable& table();
std::uint64_t satp_value();
std::uint64_t table_pages();

// The image's sections, page-aligned by hal/riscv64/linker.ld.
struct Sections {
    std::uintptr_t text, text_end, rodata_end, kernel_end;
};
Sections sections();

} // namespace k::kspace
