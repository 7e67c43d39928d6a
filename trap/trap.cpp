// hal_trap_dispatch: interrupts go to their owners, anything else is a KPANIC.
#include "trap/trap.hpp"

#include "base/format.hpp"
#include "base/ipi.hpp"
#include "base/jitter.hpp"
#include "base/panic_trap.hpp"
#include "base/percpu.hpp"
#include "hal_cpu.hpp"
#include "probe.hpp"
#include "sched/scheduler.hpp"
#include "sched/task.hpp"
#include "trap/runtime.hpp"
#include "trap/user_copy.hpp"
#include "user_access.hpp"

namespace k::trap {

namespace {
std::atomic<std::uint64_t> g_fixups{0};
std::atomic<ExternalHandler> g_external{nullptr}; // set once, by the boot hart

bool is_page_fault(std::uint64_t scause) {
    return scause == 12 || scause == 13 || scause == 15;
}

// Panic reasons that name the task; one buffer per hart (only the first panic prints).
char g_reason[kMaxCpus][LineBuffer::kCapacity + 1];

const char* with_task(const char* what, std::uint64_t scause, std::uint64_t stval) {
    hal::HartHead* h = hal::tp_head();
    const std::uint32_t cpu = h && h->magic == hal::kHartMagic && h->cpu < kMaxCpus ? h->cpu : 0;
    const sched::Task* t = sched::running_on(cpu);
    LineBuffer l;
    l.put(what);
    // The running stack's guard page: the page below the one holding its lowest legal sp.
    if (h && is_page_fault(scause)) {
        const std::uint64_t guard = guard_page_below(h->stack_lo);
        if (stval >= guard && stval < guard + 4096) {
            l.put(": ");
            l.put(cause_name(scause));
            l.put(" in the guard page");
        }
    }
    if (t) {
        l.put(" of task ");
        l.put(t->name);
        l.put(" #");
        l.put(t->id);
    }
    char* out = g_reason[cpu];
    for (std::size_t i = 0; i < l.size(); ++i)
        out[i] = l.data()[i];
    out[l.size()] = '\0';
    return out;
}
} // namespace

std::uint64_t fixups() {
    return g_fixups.load(std::memory_order_relaxed);
}

void install_on_this_hart() {
    hal::csr::write_stvec(reinterpret_cast<std::uintptr_t>(&hal_trap_vector));
    hal::csr::write_sscratch(0);
    hal::csr::set_sie(hal::csr::kIntSoft | hal::csr::kIntTimer |
                      (g_external.load(std::memory_order_acquire) ? hal::csr::kIntExt : 0));
}

void set_external_handler(ExternalHandler h) {
    g_external.store(h, std::memory_order_release);
    if (h) hal::csr::set_sie(hal::csr::kIntExt);
}

const char* cause_name(std::uint64_t scause) {
    if (scause & hal::csr::kCauseInterrupt) {
        switch (scause & ~hal::csr::kCauseInterrupt) {
        case 1:
            return "supervisor software interrupt";
        case 5:
            return "supervisor timer interrupt";
        case 9:
            return "supervisor external interrupt";
        default:
            return "unknown interrupt";
        }
    }
    switch (scause) {
    case 0:
        return "instruction address misaligned";
    case 1:
        return "instruction access fault";
    case 2:
        return "illegal instruction";
    case 3:
        return "breakpoint";
    case 4:
        return "load address misaligned";
    case 5:
        return "load access fault";
    case 6:
        return "store address misaligned";
    case 7:
        return "store access fault";
    case 8:
        return "ecall from U-mode";
    case 9:
        return "ecall from S-mode";
    case 12:
        return "instruction page fault";
    case 13:
        return "load page fault";
    case 15:
        return "store page fault";
    default:
        return "unknown exception";
    }
}

} // namespace k::trap

extern "C" void hal_trap_dispatch(hal::TrapFrame* tf) {
    using namespace hal::csr;
    if (tf->scause & kCauseInterrupt) {
        switch (tf->scause & ~kCauseInterrupt) {
        case kIrqSoft:
            (void)swap_clear_sip(kIntSoft);
            k::jitter::point(k::jitter::Site::SoftIrq); // a send landing here is not lost
            if (k::ipi::handle_soft_irq()) k::sched_resched_request();
            break;
        case kIrqTimer:
            k::sched_timer_tick();
            break;
        case kIrqExt:
            if (const k::trap::ExternalHandler h =
                    k::trap::g_external.load(std::memory_order_acquire)) {
                h();
                break;
            }
            [[fallthrough]];
        default:
            k::panic_trap(
                k::trap::cause_name(tf->scause),
                {tf->scause, tf->sepc, tf->stval, reinterpret_cast<std::uintptr_t>(tf) + TF_SIZE});
        }
        k::sched_trap_exit();
        return;
    }
    // A probe's illegal instruction (hal/riscv64/probe.S) reports failure to
    // its caller; any other illegal instruction is still a KPANIC.
    if (tf->scause == 2 && hal::apply_fixup(*tf)) {
        k::trap::g_fixups.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // A checked user copy (trap/user_copy.hpp) that hit an unmapped or read-only user
    // page returns BadPointer; a fault at a kernel address stays a panic.
    if ((k::trap::is_page_fault(tf->scause) || tf->scause == 5 || tf->scause == 7) &&
        k::uaccess::user_range(tf->stval, 1) && hal::apply_user_fixup(*tf)) {
        k::trap::g_fixups.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const k::trap::Runtime& rt = k::trap::runtime();
    if (k::trap::ExceptionHandler h = rt.get(tf->scause); h && h(*tf)) {
        rt.handled.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const char* why = k::trap::cause_name(tf->scause);
    if (k::trap::is_page_fault(tf->scause)) // in the kernel: name the task it hit
        why = k::trap::with_task(why, tf->scause, tf->stval);
    k::panic_trap(
        why, {tf->scause, tf->sepc, tf->stval, reinterpret_cast<std::uintptr_t>(tf) + TF_SIZE});
}

// The trap vector's frame check failed (hal/riscv64/trap_entry.S): its save (0) or restore (1)
// put a register in another slot than the other half. On the emergency stack.
extern "C" [[noreturn]] void hal_trap_frame_mismatch(std::uint64_t restore) {
    k::panic(restore ? "trap: the registers restored differ from the trap frame's slots (save "
                       "and restore of the frame disagree)"
                     : "trap: the trap frame's slots differ from the registers saved (save and "
                       "restore of the frame disagree)");
}

// A trap whose frame would not fit above the running stack's guard band: either the band
// was crossed (caught at a tick), or the overflow went on into the unmapped guard page and
// this is its page fault. Either way the reason names the task.
extern "C" [[noreturn]] void hal_trap_stack_overflow(std::uint64_t scause, std::uint64_t sepc,
                                                     std::uint64_t stval, std::uint64_t sp,
                                                     std::uint64_t fp) {
    (void)sp;
    k::panic_trap(k::trap::with_task("kernel stack overflow (trap frame below the stack guard)",
                                     scause, stval),
                  {scause, sepc, stval, fp});
}
