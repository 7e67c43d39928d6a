// KPANIC: one line with the facts, a frame-pointer backtrace, every other
// hart stopped by IPI, and a failing exit.
#include "base/panic.hpp"

#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/panic_trap.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"

#include <atomic>

extern "C" char __kernel_start[], __bss_end[];

namespace k {

namespace {

std::atomic<std::uint32_t> g_panicking{0};
std::atomic<BacktraceCheck> g_backtrace_check{nullptr};
// Every kernel stack (boot, emergency, task slab) lives in the kernel image's
// BSS: a frame pointer outside it is corrupt, and following it could fault
// (the firmware's region below us is not readable from S-mode). Under Sv39 the
// record [fp - 16, fp) must be mapped too: a stack's guard page is not.
bool plausible_fp(std::uintptr_t fp) {
    const auto lo = reinterpret_cast<std::uintptr_t>(__kernel_start);
    const auto hi = reinterpret_cast<std::uintptr_t>(__bss_end);
    if (fp < lo + 16 || fp >= hi || (fp & 7) != 0) return false;
    const BacktraceCheck mapped = g_backtrace_check.load(std::memory_order_acquire);
    return !mapped || mapped(fp - 16);
}

void forced(const LineBuffer& l) {
    console::write_line_forced(l);
}

void backtrace(std::uintptr_t fp) {
    LineBuffer head;
    head.put("KPANIC: backtrace");
    forced(head);
    for (int depth = 0; depth < 24; ++depth) {
        if (!plausible_fp(fp)) break;
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

void set_backtrace_check(BacktraceCheck check) {
    g_backtrace_check.store(check, std::memory_order_release);
}

bool panicking() {
    return g_panicking.load(std::memory_order_acquire) != 0;
}

void panic_trap(const char* reason, const PanicFacts& f) {
    hal::csr::clear_sstatus(hal::csr::kSstatusSie);
    // g_panicking holds the first panicker's cpu + 1. Another hart parks (the
    // first one reports and exits); the same hart panicking again (say, the
    // backtrace faulted) goes straight to the failing exit.
    const std::uint32_t me = hal::tp_head() ? hal::tp_head()->cpu + 1 : 1;
    std::uint32_t first = 0;
    if (!g_panicking.compare_exchange_strong(first, me, std::memory_order_acq_rel)) {
        if (first == me) shutdown(false);
        for (;;)
            hal::wait_for_interrupt();
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
