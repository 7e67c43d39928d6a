// Building and installing the kernel's address space.
#include "mm/kernel_space.hpp"

#include "base/panic_trap.hpp"
#include "csr.hpp"
#include "mm/frames.hpp"
#include "mmu.hpp"

extern "C" char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

namespace k::kspace {

namespace {

mm::PageTable g_table{mm::FrameSource{nullptr, nullptr, nullptr}, mm::PhysWindow{0}};
std::uint32_t g_asid_bits = 0; // probe_asid_bits() on the boot hart
std::uint64_t g_irq_base = 0;  // written once by build()

// The panic backtrace's test before it reads a frame record (base/panic_trap.hpp).
bool mapped_for_backtrace(std::uintptr_t va) {
    return g_satp == 0 || g_table.translate(va).mapped;
}

constexpr std::uint64_t kKernelRX = mm::pte::kR | mm::pte::kX | mm::pte::kG;
constexpr std::uint64_t kKernelR = mm::pte::kR | mm::pte::kG;
constexpr std::uint64_t kKernelRW = mm::pte::kR | mm::pte::kW | mm::pte::kG;

BuildResult map(std::uint64_t base, std::uint64_t end, std::uint64_t flags, mm::Granule g,
                const char* what) {
    const mm::MapError e = g_table.map(base, base, end - base, flags, g);
    return BuildResult{e, e == mm::MapError::None ? "" : what};
}

} // namespace

Sections sections() {
    return Sections{reinterpret_cast<std::uintptr_t>(__kernel_start),
                    reinterpret_cast<std::uintptr_t>(__text_end),
                    reinterpret_cast<std::uintptr_t>(__rodata_end),
                    reinterpret_cast<std::uintptr_t>(__kernel_end)};
}

BuildResult build(const Layout& l) {
    g_table = mm::PageTable(frames::source(), mm::PhysWindow{0});
    if (g_table.init() != mm::MapError::None) return BuildResult{mm::MapError::NoFrame, "root"};
    const Sections s = sections();
    BuildResult r = map(s.text, s.text_end, kKernelRX, mm::Granule::Page, "text");
    if (r.error == mm::MapError::None)
        r = map(s.text_end, s.rodata_end, kKernelR, mm::Granule::Page, "rodata");
    if (r.error == mm::MapError::None)
        r = map(s.rodata_end, s.kernel_end, kKernelRW, mm::Granule::Page, "data/bss");
    for (std::uint32_t i = 0; r.error == mm::MapError::None && i < l.plan->usable.count(); ++i)
        r = map(l.plan->usable[i].base, l.plan->usable[i].end, kKernelRW, mm::Granule::Large,
                "ram");
    // The blob may share a page with RAM that is not usable: map only its own pages that
    // nothing mapped yet.
    for (std::uint64_t pa = mm::page_down(l.dtb_base);
         r.error == mm::MapError::None && pa < mm::page_up(l.dtb_end); pa += mm::kPageSize)
        if (!g_table.translate(pa).mapped)
            r = map(pa, pa + mm::kPageSize, kKernelR, mm::Granule::Page, "dtb");
    for (std::uint32_t i = 0; i < kMmioSlots; ++i) {
        if (r.error != mm::MapError::None || l.mmio[i] == 0) continue;
        const mm::MapError e =
            g_table.map(mmio_va(i, l.mmio[i]) & ~std::uintptr_t{4095}, mm::page_down(l.mmio[i]),
                        kMmioSlotBytes, kKernelRW, mm::Granule::Page);
        if (e != mm::MapError::None) r = BuildResult{e, "mmio"};
    }
    if (r.error == mm::MapError::None && l.irq_base != 0 && l.irq_size != 0) {
        if (l.irq_base % mm::kPageSize != 0 || l.irq_size > kIrqWindowBytes) {
            r = BuildResult{mm::MapError::BadAddress, "irq controller"};
        } else {
            const mm::MapError e = g_table.map(kIrqWindow, l.irq_base, mm::page_up(l.irq_size),
                                               kKernelRW, mm::Granule::Page);
            if (e != mm::MapError::None) r = BuildResult{e, "irq controller"};
            g_irq_base = l.irq_base;
        }
    }
    for (const GuardPages& gp : l.guards) {
        for (std::uint32_t i = 0; r.error == mm::MapError::None && i < gp.count; ++i) {
            const mm::MapError e = g_table.unmap(gp.first + i * gp.stride, mm::kPageSize);
            if (e != mm::MapError::None) r = BuildResult{e, "stack guard page"};
        }
    }
    if (r.error != mm::MapError::None) return r;
    g_satp = g_table.satp(0);
    set_backtrace_check(&mapped_for_backtrace);
    return r;
}

std::uintptr_t mmio_va(std::uint32_t slot, std::uint64_t pa) {
    return pa == 0 ? 0 : kMmioWindow + slot * kMmioSlotBytes + (pa & 4095);
}

std::uintptr_t irq_va(std::uint64_t pa) {
    return kIrqWindow + (pa - g_irq_base);
}

bool activate_this_hart() {
    hal::mmu::write_satp(g_satp);
    return hal::csr::read_satp() >> 60 == mm::kSatpModeSv39;
}

std::uint32_t probe_asid_bits() {
    hal::mmu::write_satp(g_satp | mm::kMaxAsid << 44);
    const std::uint64_t kept = (hal::csr::read_satp() >> 44) & mm::kMaxAsid;
    hal::mmu::write_satp(g_satp);
    g_asid_bits = static_cast<std::uint32_t>(__builtin_popcountll(kept));
    return g_asid_bits;
}

std::uint32_t asid_bits() {
    return g_asid_bits;
}

void cap_asid_bits(std::uint32_t bits) {
    if (bits < g_asid_bits) g_asid_bits = bits;
}

const mm::PageTable& table() {
    return g_table;
}

std::uint64_t satp_value() {
    return g_satp;
}

std::uint64_t table_pages() {
    return g_table.table_pages();
}

} // namespace k::kspace
