// The frame plan, the frame pool and the kernel's Sv39 space, brought up from the DTB.
#include "kernel/memory_boot.hpp"

#include "base/console.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"
#include "dtb/dtb.hpp"
#include "mm/frames.hpp"
#include "mm/kernel_space.hpp"
#include "sched/task_pool.hpp"

namespace k {

namespace {

mm::FramePlan g_plan;      // written once by the boot hart
MemoryFigures g_figures{}; // written once by the boot hart

void say_plan(const dtb::Platform& p, const mm::FramePlan& plan) {
    // What the kernel uses: the union of the memory ranges (a bank named twice counts once).
    for (std::uint32_t i = 0; i < plan.memory.count(); ++i)
        println("KINIT: mm: memory ", hex(plan.memory[i].base), "-", hex(plan.memory[i].end), " (",
                plan.memory[i].bytes() >> 10, " KiB)");
    for (std::uint32_t i = 0; i < p.memreserve_count; ++i)
        println("KINIT: mm: reserved ", hex(p.memreserve[i].base), "+", hex(p.memreserve[i].size),
                " (/memreserve/)");
    if (p.memreserve_dropped)
        println("KINIT: mm: ", p.memreserve_dropped, " /memreserve/ entries beyond the table");
    for (std::uint32_t i = 0; i < p.reserved_count; ++i)
        println("KINIT: mm: reserved ", hex(p.reserved[i].base), "+", hex(p.reserved[i].size),
                " (/reserved-memory)");
    if (p.reserved_dropped)
        println("KINIT: mm: ", p.reserved_dropped, " /reserved-memory region(s) beyond the table");
    if (plan.below_kernel_assumed)
        println("KINIT: mm: ",
                p.reserved_count == 0 ? "no /reserved-memory named"
                                      : "reserved regions beyond the tables",
                ": keeping everything below the kernel for the firmware (",
                plan.below_kernel_bytes >> 10, " KiB)");
    if (p.memory_dropped)
        println("KINIT: mm: ", p.memory_dropped, " memory range(s) beyond the table: unused");
    if (plan.beyond_limit)
        println("KINIT: mm: ", plan.beyond_limit >> 20,
                " MiB above what Sv39 identity-maps: unused");
    if (plan.usable.lost_bytes())
        println("KINIT: mm: ", plan.usable.lost_bytes() >> 10, " KiB unused (range table full)");
}

// `asid_bits=N` (N 0..16, decimal) in the bootargs: how many ASID bits user spaces may use at
// most. False when absent or malformed (then the probed figure stands, said by the caller).
bool asid_cap(const dtb::Platform& p, std::uint32_t& bits, bool& malformed) {
    const char* v;
    std::size_t len;
    malformed = false;
    if (!p.bootargs || !dtb::bootarg_value(p.bootargs, "asid_bits", v, len)) return false;
    std::uint32_t n = 0;
    malformed = len == 0 || len > 2;
    for (std::size_t i = 0; !malformed && i < len; ++i) {
        malformed = v[i] < '0' || v[i] > '9';
        n = n * 10 + static_cast<std::uint32_t>(v[i] - '0');
    }
    malformed = malformed || n > 16;
    bits = n;
    return !malformed;
}

} // namespace

void memory_init(const dtb::Platform& p, const dtb::IrqInfo& irq, const void* blob) {
    const std::uint64_t t0 = time::now();
    const kspace::Sections s = kspace::sections();
    const auto dtb_base = reinterpret_cast<std::uintptr_t>(blob);
    const std::uint64_t dtb_end = blob ? dtb_base + dtb::blob_size(blob) : 0;
    mm::plan_frames(p, mm::Keep{s.text, s.kernel_end, dtb_base, dtb_end, mm::kIdentityLimit},
                    g_plan);
    say_plan(p, g_plan);
    println("KINIT: mm: kernel ", hex(s.text), "-", hex(s.kernel_end), ", dtb ", hex(dtb_base), "-",
            hex(dtb_end), " kept");
    if (const mm::FrameError e = frames::init(g_plan, g_figures.bitmap_pages);
        e != mm::FrameError::None) {
        println("KINIT: mm: frame pool: ", mm::frame_error_name(e));
        panic("no room for the frame bitmap");
    }
    kspace::Layout l{};
    l.plan = &g_plan;
    l.dtb_base = dtb_base;
    l.dtb_end = dtb_end;
    l.mmio[0] = (p.defaulted & dtb::kNoUart) ? 0 : p.uart_base;
    l.mmio[1] = (p.defaulted & dtb::kNoTestDevice) ? 0 : p.test_base;
    l.mmio[2] = p.htif_base;
    l.guards[0] =
        GuardPages{sched::task_stack_guard_first(), sched::kTaskStackSlot, sched::kMaxTasks};
    l.guards[1] = cpu_stack_guard_pages();
    if (irq.controller == dtb::IrqController::Plic) {
        l.irq_base = irq.base;
        l.irq_size = irq.size;
    }
    if (const kspace::BuildResult r = kspace::build(l); r.error != mm::MapError::None) {
        println("KINIT: mm: kernel space: ", r.what, ": ", mm::map_error_name(r.error));
        panic("cannot build the kernel address space");
    }
    if (!kspace::activate_this_hart()) panic("satp does not keep Sv39 on the boot hart");
    // From here the devices are reached through the MMIO window only; nothing prints between
    // the satp write and these two lines.
    if (l.mmio[0]) console::init(kspace::mmio_va(0, l.mmio[0]), p.uart_reg_shift);
    shutdown_init(kspace::mmio_va(1, l.mmio[1]), kspace::mmio_va(2, l.mmio[2]));
    g_figures.asid_bits = kspace::probe_asid_bits();
    // A hart with few or no ASID bits puts spaces on the shared ASID 0 (RFC-0026 "ASIDs");
    // QEMU has 16, so the gate reaches that path only through this cap.
    std::uint32_t cap = 0;
    bool malformed = false;
    if (asid_cap(p, cap, malformed)) {
        kspace::cap_asid_bits(cap);
        println("KINIT: mm: asid bits capped at ", kspace::asid_bits(), " by asid_bits=", cap,
                " (the hart keeps ", g_figures.asid_bits, ")");
        g_figures.asid_bits = kspace::asid_bits();
    } else if (malformed) {
        println("KINIT: mm: asid_bits= ignored (wants 0..16)");
    }
    for (const std::uint64_t dev : l.mmio)
        g_figures.mmio_devices += dev != 0 ? 1 : 0;
    g_figures.free_at_boot = frames::free_count();
    g_figures.table_pages = kspace::table_pages();
    g_figures.build_us = time::to_us(time::now() - t0);
    println("KINIT: mm: frames free=", g_figures.free_at_boot, " total=", frames::total_count(),
            " (memory ", g_plan.memory_bytes >> 10, " KiB, firmware ", g_plan.firmware_bytes >> 10,
            " KiB, kernel ", (s.kernel_end - s.text) >> 10, " KiB, bitmap ", g_figures.bitmap_pages,
            " page(s), page tables ", g_figures.table_pages, ")");
    println("KINIT: mm: sv39 on, satp ", hex(kspace::satp_value()), ", asid bits ",
            g_figures.asid_bits, ", built in ", g_figures.build_us, " us");
}

void memory_this_hart() {
    if (!kspace::activate_this_hart()) panic("satp does not keep Sv39 on this hart");
}

const MemoryFigures& memory_figures() {
    return g_figures;
}

const mm::FramePlan& frame_plan() {
    return g_plan;
}

} // namespace k
