// The kernel's Sv39 address space: identity-mapped, W^X, supervisor-only and global
// (RISC-V privileged spec v1.12 §4.4), with every kernel stack's guard page left unmapped.
#pragma once

#include "base/stack_guard.hpp"
#include "mm/page_table.hpp"

#include <cstdint>

namespace k::kspace {

// The kernel reaches its devices through a window in the top GiB of Sv39 (root entry 511),
// not at their physical addresses: the lower half below RAM stays free for user images
// (linked at 0x10000), and a user space borrows only the kernel's root entries, never shares
// a lower-level table with it. Slot i covers kMmioSlotBytes at kMmioWindow + i *
// kMmioSlotBytes, RW-, global, supervisor-only.
inline constexpr std::uint32_t kMmioSlots = 4;
inline constexpr std::uint64_t kMmioSlotBytes = 2 * 4096; // a register block may cross a page
inline constexpr std::uintptr_t kMmioWindow = 0xffff'ffff'c000'0000;

// The interrupt controller's registers (a PLIC spans up to 64 MiB: one page per context) are
// mapped whole, 4 KiB leaves, at kIrqWindow, 256 MiB into the same top GiB.
inline constexpr std::uintptr_t kIrqWindow = kMmioWindow + 0x1000'0000;
inline constexpr std::uint64_t kIrqWindowBytes = 64ull << 20;

struct Layout {
    const mm::FramePlan* plan;        // its usable ranges are mapped RW- (the frames)
    std::uint64_t dtb_base, dtb_end;  // mapped R-- (the Platform points into the blob)
    std::uint64_t mmio[kMmioSlots];   // device registers (UART, test device, HTIF); 0 = none
    GuardPages guards[2];             // task stacks, per-cpu boot/idle stacks
    std::uint64_t irq_base, irq_size; // the interrupt controller (page-aligned); 0 = none
};

struct [[nodiscard]] BuildResult {
    mm::MapError error;
    const char* what; // the region that failed, "" when error == None
};

// Boot hart, MMU off, frames initialised: builds the table. Text R-X, rodata R--, data and bss
// RW- (4 KiB leaves, so the guard pages can be cut out), RAM with the largest leaves that
// fit, the DTB with 4 KiB leaves, each device's pages in the MMIO window; every leaf global
// (G) and supervisor-only (no U).
BuildResult build(const Layout& layout);

// Where the kernel reaches device register `pa` (one of Layout::mmio, same slot) once its
// root is installed: kMmioWindow + slot * kMmioSlotBytes + pa % 4096; 0 for pa == 0.
std::uintptr_t mmio_va(std::uint32_t slot, std::uint64_t pa);

// Where the kernel reaches the interrupt controller's register at `pa` (inside Layout's
// irq range): kIrqWindow + (pa - irq_base).
std::uintptr_t irq_va(std::uint64_t pa);

// Installs the kernel root in satp (ASID 0) on the calling hart and flushes its TLB. False
// when satp did not keep MODE = Sv39 (the hart lacks it; satp is WARL, §4.1.11).
[[nodiscard]] bool activate_this_hart();

// ASIDLEN of the calling hart, 0..16: the ASID bits satp keeps when written with all ones
// (§4.1.11). Leaves the kernel root with ASID 0 installed. Boot hart, after activation, once:
// the figure is kept for asid_bits().
std::uint32_t probe_asid_bits();
// What probe_asid_bits() found on the boot hart (0 before it ran: every switch flushes),
// lowered by cap_asid_bits().
std::uint32_t asid_bits();
// Uses at most `bits` ASID bits (the `asid_bits=N` boot argument, N 0..16): with 0 every user
// space shares ASID 0, the path a hart without ASIDs takes. Boot hart, after probe_asid_bits()
// and before the first user space is created; a cap above the probed figure changes nothing.
void cap_asid_bits(std::uint32_t bits);

const mm::PageTable& table();
std::uint64_t satp_value();
// satp_value(), for the switch path's compare (written once by build(), before any other
// hart starts; 0 before).
inline std::uint64_t g_satp = 0;
std::uint64_t table_pages();

// The image's sections, page-aligned by hal/riscv64/linker.ld.
struct Sections {
    std::uintptr_t text, text_end, rodata_end, kernel_end;
};
Sections sections();

} // namespace k::kspace
