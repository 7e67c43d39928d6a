// KPANIC: one line with the facts, a frame-pointer backtrace, every other
// hart stopped by IPI, and a failing exit.
#include "kernel/panic.hpp"

#include "kernel/console.hpp"
#include "kernel/panic_trap.hpp"
#include "kernel/percpu.hpp"
#include "kernel/shutdown.hpp"
#include "kernel/time.hpp"
#include "trap/ipi.hpp"

#include <atomic>

namespace k {

namespace {

std::atomic<std::uint32_t> g_panicking{0};
std::uintptr_t g_ram_lo = 0x80000000, g_ram_hi = 0x80000000ull + (128ull << 20);

void forced(const LineBuffer& l) {
    console::write_line_forced(l);
}

void backtrace(std::uintptr_t fp) {
    LineBuffer head;
    head.put("KPANIC: backtrace");
    forced(head);
    for (int depth = 0; depth < 24; ++depth) {
        if (fp < g_ram_lo + 16 || fp >= g_ram_hi || (fp & 7)) break;
        std::uintptr_t ra = reinterpret_cast<const std::uintptr_t*>(fp)[-1];
        std::uintptr_t prev = reinterpret_cast<const std::uintptr_t*>(fp)[-2];
        if (!ra) break;
        LineBuffer l;
        l.put("KPANIC:   #");
        l.put(depth);
        l.put(' ');
        l.put(hex(ra));
        forced(l);
        if (prev <= fp) break; // frames grow toward higher addresses as we unwind
        fp = prev;
    }
}

} // namespace

bool panicking() {
    return g_panicking.load(std::memory_order_acquire) != 0;
}

void panic_set_ram(std::uintptr_t lo, std::uintptr_t hi) {
    g_ram_lo = lo;
    g_ram_hi = hi;
}

void panic_trap(const char* reason, const PanicFacts& f) {
    hal::csr::clear_sstatus(hal::csr::kSstatusSie);
    if (g_panicking.exchange(1, std::memory_order_acq_rel) != 0) {
        for (;;)
            hal::wait_for_interrupt(); // the first panicker reports and exits
    }
    hal::HartHead* h = hal::tp_head();
    LineBuffer l;
    l.put("KPANIC: hart ");
    l.put(h ? h->hart_id : 0u);
    l.put(" cpu ");
    l.put(h ? h->cpu : 0u);
    l.put(" cause ");
    l.put(hex(f.cause));
    l.put(" sepc ");
    l.put(hex(f.sepc));
    l.put(" stval ");
    l.put(hex(f.stval));
    l.put(" reason: ");
    l.put(reason);
    forced(l);
    backtrace(f.fp);
    std::uint32_t stopped = ipi::stop_others();
    LineBuffer s;
    s.put("KPANIC: stop IPI sent to ");
    s.put(stopped);
    s.put(" other cpu(s); exiting with failure");
    forced(s);
    shutdown(false);
}

void panic(const char* reason) {
    PanicFacts f{};
    f.sepc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
    f.fp = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    panic_trap(reason, f);
}

} // namespace k
