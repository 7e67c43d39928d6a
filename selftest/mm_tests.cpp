// Memory selftests (RFC-0025): Sv39 with W^X kernel mappings on every hart, and a frame pool
// whose count is conserved, that never holds what the DTB reserves, sampled at a bounded cost.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "csr.hpp"
#include "hal_cpu.hpp"
#include "kernel/boot_info.hpp"
#include "kernel/memory_boot.hpp"
#include "mm/frames.hpp"
#include "mm/kernel_space.hpp"
#include "sched/task.hpp"
#include "sched/task_pool.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

extern "C" char __bss_start[];

namespace k::selftest {

namespace {

namespace pte = mm::pte;
constexpr std::uint64_t kPerm = pte::kR | pte::kW | pte::kX | pte::kU | pte::kG;

std::uint64_t perms_at(std::uintptr_t va) {
    const mm::Translation t = kspace::table().translate(va);
    return t.mapped && t.pa == va ? (t.flags & kPerm) : ~std::uint64_t{0};
}

[[gnu::noinline]] int rodata_probe() {
    static const int kValue = 0x5a;
    return kValue;
}

} // namespace

KSELFTEST(MM0001, "kernel address space") {
    // satp holds the kernel's Sv39 root on every online hart (read on that hart).
    const OnlineCpus on = online_cpus();
    std::uint32_t harts = 0;
    for (std::uint32_t i = 0; i < on.count; ++i) {
        std::uint64_t satp = 0;
        KCHECK(run_on(on.cpu[i], [&] { satp = hal::csr::read_satp(); }));
        KCHECK(satp >> 60 == mm::kSatpModeSv39);
        KCHECK(satp == kspace::satp_value());
        ++harts;
    }
    KCHECK(harts == online_count());
    // Every leaf: never W and X together, global, supervisor-only, identity; the only other
    // leaves are the devices' pages in the MMIO window (and nothing else is in the window)
    // and the interrupt controller's in the irq window (issue 20).
    std::uint64_t leaves = 0, wx = 0, not_global = 0, user = 0, moved = 0, window = 0;
    std::uint64_t irq_window = 0;
    constexpr std::uint64_t kWindowEnd =
        kspace::kMmioWindow + kspace::kMmioSlots * kspace::kMmioSlotBytes;
    kspace::table().for_each_leaf(
        [&](std::uint64_t va, std::uint64_t pa, std::uint64_t, std::uint64_t f) {
            ++leaves;
            wx += (f & pte::kW) && (f & pte::kX) ? 1 : 0;
            not_global += (f & pte::kG) ? 0 : 1;
            user += (f & pte::kU) ? 1 : 0;
            const bool in_window = va >= kspace::kMmioWindow && va < kWindowEnd;
            window += in_window ? 1 : 0;
            const bool in_irq = va >= kspace::kIrqWindow &&
                                va < kspace::kIrqWindow + kspace::kIrqWindowBytes && !(f & pte::kX);
            irq_window += in_irq ? 1 : 0;
            moved += va != pa && !in_window && !in_irq ? 1 : 0;
        });
    println("KLOG: mm: ", leaves, " leaves, w+x=", wx, " not-global=", not_global, " user=", user,
            " non-identity=", moved, " mmio-window=", window, " irq-window=", irq_window);
    KCHECK(leaves > 0 && wx == 0 && not_global == 0 && user == 0 && moved == 0);
    KCHECK(window == memory_figures().mmio_devices * (kspace::kMmioSlotBytes / 4096));
    // Root entry 0 ([0, 1 GiB), where user images are linked) is not the kernel's.
    KCHECK(!kspace::table().translate(0x10000).mapped);
    // The sections, at addresses this code really uses.
    const kspace::Sections s = kspace::sections();
    const auto fn = reinterpret_cast<std::uintptr_t>(&rodata_probe);
    KCHECK(fn >= s.text && fn < s.text_end);
    KCHECK(perms_at(fn) == (pte::kR | pte::kX | pte::kG));
    KCHECK(perms_at(s.text_end) == (pte::kR | pte::kG)); // first rodata page
    KCHECK(perms_at(s.rodata_end - 1) == (pte::kR | pte::kG));
    KCHECK(perms_at(s.rodata_end) == (pte::kR | pte::kW | pte::kG)); // first data page
    KCHECK(perms_at(reinterpret_cast<std::uintptr_t>(__bss_start)) ==
           (pte::kR | pte::kW | pte::kG));
    KCHECK(rodata_probe() == 0x5a);
    // This task's stack is mapped RW-, its guard page (and every hart's) is not.
    const sched::Task* me = sched::current();
    KCHECK(perms_at(me->stack_lo) == (pte::kR | pte::kW | pte::kG));
    const std::uintptr_t guard = guard_page_below(me->stack_lo);
    KCHECK(!kspace::table().translate(guard).mapped);
    KCHECK(kspace::table().translate(guard + 4096).mapped);
    for (std::uint32_t i = 0; i < on.count; ++i) {
        const PerCpu& c = cpu_block(on.cpu[i]);
        KCHECK(!kspace::table().translate(guard_page_below(c.boot_stack_lo)).mapped);
    }
    return Result::pass();
}

KSELFTEST(MM0002, "frame pool") {
    // Nothing has taken a frame since boot, and a handful come and go exactly.
    const std::uint64_t start = frames::free_count();
    KCHECK(start == memory_figures().free_at_boot);
    KCHECK(start > 0 && start <= frames::total_count());
    constexpr std::uint32_t kSome = 64;
    std::uint64_t got[kSome];
    for (std::uint32_t i = 0; i < kSome; ++i) {
        const mm::FrameResult f = frames::alloc();
        KCHECK(f.error == mm::FrameError::None);
        got[i] = f.pa;
        KCHECK(f.pa % 4096 == 0);
        KCHECK(perms_at(f.pa) == (pte::kR | pte::kW | pte::kG));
        const auto* w = reinterpret_cast<const std::uint64_t*>(f.pa);
        KCHECK(w[0] == 0 && w[511] == 0); // handed out zeroed
        for (std::uint32_t j = 0; j < i; ++j)
            KCHECK(got[j] != f.pa);
    }
    KCHECK(frames::free_count() == start - kSome);
    const kspace::Sections s = kspace::sections();
    KCHECK(frames::free(s.text) == mm::FrameError::NotManaged);
    KCHECK(frames::free(got[0] + 8) == mm::FrameError::Misaligned);
    for (std::uint64_t pa : got)
        KCHECK(frames::free(pa) == mm::FrameError::None);
    KCHECK(frames::free(got[0]) == mm::FrameError::NotAllocated);
    KCHECK(frames::free_count() == start);
    // What the pool must never hold: /reserved-memory, the header's /memreserve/ entries, the
    // kernel image. Their first, middle and last pages are not managed.
    const dtb::Platform& p = platform();
    auto kept = [](std::uint64_t base, std::uint64_t size) {
        const std::uint64_t first = base & ~std::uint64_t{4095};
        const std::uint64_t last = (base + size - 1) & ~std::uint64_t{4095};
        const std::uint64_t mid = (first + (last - first) / 2) & ~std::uint64_t{4095};
        return frames::free(first) == mm::FrameError::NotManaged &&
               frames::free(mid) == mm::FrameError::NotManaged &&
               frames::free(last) == mm::FrameError::NotManaged;
    };
    std::uint32_t regions = 0;
    for (std::uint32_t i = 0; i < p.reserved_count; ++i, ++regions)
        KCHECK(kept(p.reserved[i].base, p.reserved[i].size));
    for (std::uint32_t i = 0; i < p.memreserve_count; ++i, ++regions)
        KCHECK(kept(p.memreserve[i].base, p.memreserve[i].size));
    KCHECK(kept(s.text, s.kernel_end - s.text));
    // A bounded sample, the same at any RAM size (taking every frame cost 42 s at 16 GiB):
    // up to kSample frames, each holding the previous one's address, all inside the plan's
    // usable ranges, then every one back. Exhaustion as an error, not a panic, is proven on
    // the host (mm/tests/frame_allocator_test.cpp), where the pool is small.
    constexpr std::uint64_t kSample = 4096;
    const mm::FramePlan& plan = frame_plan();
    const std::uint64_t t0 = time::now();
    std::uint64_t head = 0, taken = 0, outside = 0;
    while (taken < kSample) {
        const mm::FrameResult f = frames::alloc();
        if (f.error != mm::FrameError::None) break;
        if (plan.usable.find(f.pa) < 0) ++outside;
        *reinterpret_cast<std::uint64_t*>(f.pa) = head;
        head = f.pa;
        ++taken;
    }
    const std::uint64_t left = frames::free_count();
    while (head != 0) {
        const std::uint64_t next = *reinterpret_cast<const std::uint64_t*>(head);
        if (frames::free(head) != mm::FrameError::None) break;
        head = next;
    }
    println("KLOG: mm: frames start=", start, " sampled=", taken, " left=", left,
            " back=", frames::free_count(), " kept regions=", regions + 1, " in ",
            time::to_us(time::now() - t0), " us");
    KCHECK(taken == (start < kSample ? start : kSample));
    KCHECK(outside == 0);
    KCHECK(left == start - taken);
    KCHECK(head == 0);
    KCHECK(frames::free_count() == start);
    return Result::pass();
}

} // namespace k::selftest
