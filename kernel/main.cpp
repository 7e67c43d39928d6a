// kmain on the boot hart, secondary_main on every other hart.
#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/hart_start.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/panic_trap.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"
#include "dtb/dtb.hpp"
#include "ipc/fastpath.hpp"
#include "irq/device.hpp"
#include "irq/irq.hpp"
#include "kernel/boot_info.hpp"
#include "kernel/boot_mode.hpp"
#include "kernel/boot_task.hpp"
#include "kernel/memory_boot.hpp"
#include "kernel/smp.hpp"
#include "mm/user_space.hpp"
#include "sbi.hpp"
#include "sched/scheduler.hpp"
#include "sched/wake_monitor.hpp"
#include "trap/runtime.hpp"
#include "trap/trap.hpp"
#include "trap_frame.hpp"

extern "C" {
using Ctor = void (*)();
extern Ctor __init_array_start[], __init_array_end[];
extern char __kernel_start[], __kernel_end[];
}

namespace k {

namespace {

const dtb::Hart* find_hart(const dtb::Platform& p, std::uint32_t hart_id) {
    for (std::uint32_t i = 0; i < p.hart_count; ++i)
        if (p.harts[i].hart_id == hart_id) return &p.harts[i];
    return nullptr;
}

// `ipc_fastpath=off` (or `on`, the default) on the boot line: whether Call and ReplyRecv may
// take the IPC fast path (ipc/fastpath.hpp). Any other value is refused with a line and
// leaves it on. Said only when given.
void say_ipc_fastpath(const char* bootargs) {
    const char* v = nullptr;
    std::size_t len = 0;
    if (!bootargs || !dtb::bootarg_value(bootargs, "ipc_fastpath", v, len)) return;
    if (dtb::bootarg_value_is(v, len, "off")) {
        ipc::fastpath::set_enabled(false);
    } else if (!dtb::bootarg_value_is(v, len, "on")) {
        println("KINIT: ipc: ipc_fastpath= takes on or off; the fast path stays on");
        return;
    }
    println("KINIT: ipc: fast path ", ipc::fastpath::enabled() ? "on" : "off");
}

void say_defaults(const dtb::Platform& p) {
    struct Note {
        std::uint32_t bit;
        const char* text;
    };
    static constexpr Note kNotes[] = {
        {dtb::kNoMemory, "no usable /memory node: assuming 128 MiB at 0x80000000"},
        {dtb::kNoUart, "no ns16550a UART: console through SBI"},
        {dtb::kNoTestDevice, "no sifive,test0 device: exit status through SBI SRST only"},
        {dtb::kNoTimebase, "no usable timebase-frequency: assuming 10 MHz"},
        {dtb::kNoCpus, "no usable /cpus harts: running on the boot hart only"},
    };
    for (const Note& n : kNotes)
        if (p.defaulted & n.bit) println("KINIT: dtb: ", n.text);
}

void say_refusals(const dtb::Platform& p) {
    for (std::uint32_t i = 0; i < p.refusal_count; ++i) {
        const dtb::Refusal& r = p.refusals[i];
        const char* node = r.node[0] ? r.node : "/";
        if (r.problem == dtb::Problem::Missing || r.problem == dtb::Problem::NotString)
            println("KINIT: dtb: refused ", node, " ", r.prop, " (", dtb::problem_name(r.problem),
                    "): ", dtb::effect_name(r.effect));
        else
            println("KINIT: dtb: refused ", node, " ", r.prop, " (", dtb::problem_name(r.problem),
                    ": ", r.value, "): ", dtb::effect_name(r.effect));
    }
    if (p.refusals_dropped) println("KINIT: dtb: ", p.refusals_dropped, " more refusal(s)");
}

// The facts the kernel cannot run honestly without; a default for one of
// them makes the boot fail (selftest "platform from dtb").
const char* essential_fallback(dtb::Status st, const dtb::Platform& p, std::uint32_t boot_hart) {
    if (st == dtb::Status::TooLarge) return "device tree above the size bound";
    if (st != dtb::Status::Ok) return "device tree unreadable";
    if (p.defaulted & dtb::kNoCpus) return "no usable cpu node";
    if (!find_hart(p, boot_hart)) return "boot hart not among the usable cpu nodes";
    if (p.defaulted & dtb::kNoMemory) return "no usable memory node";
    return nullptr;
}

constexpr std::uint8_t kUartIerThre = 1u << 1; // ns16550 IER: transmit holding empty

void say_timer(std::uint32_t cpu, time::TimerSource s) {
    if (s == time::TimerSource::SbiProbeFault)
        println("KINIT: cpu", cpu, " timer: ", time::source_name(s));
}

} // namespace

} // namespace k

extern "C" [[noreturn]] void kmain(unsigned long hart_id, const void* dtb_blob) {
    using namespace k;
    for (Ctor* c = __init_array_start; c != __init_array_end; ++c)
        (*c)();
    percpu_prepare(0, static_cast<std::uint32_t>(hart_id));
    percpu_install(0);
    set_cpu_state(0, CpuState::Joining); // Online once its scheduler takes work
    // No FP state is saved by the switch or the trap path: keep the FPU off
    // so that any FP instruction traps (and panics) instead of corrupting.
    hal::csr::clear_sstatus(hal::csr::kSstatusFs);
    trap::install_on_this_hart();
    if (trap::install_kernel_handlers() != trap::Access::Granted)
        panic("boot hart denied the trap runtime");

    dtb::Platform p{};
    const dtb::Status st = dtb::parse_blob(dtb_blob, p);
    set_platform(p);
    if (!(p.defaulted & dtb::kNoUart)) console::init(p.uart_base, p.uart_reg_shift);
    const auto boot_hart = static_cast<std::uint32_t>(hart_id);
    const dtb::Hart* boot = find_hart(p, boot_hart);
    const std::uint64_t hz = time::init(p.timebase_hz);
    const time::TimerSource timer = time::init_this_hart(boot && boot->sstc);
    shutdown_init((p.defaulted & dtb::kNoTestDevice) ? 0 : p.test_base, p.htif_base);

    println("KINIT: boot hart ", hart_id);
    if (st != dtb::Status::Ok)
        println("KINIT: dtb: unreadable (", dtb::status_name(st), ", totalsize ",
                dtb_blob ? dtb::blob_size(dtb_blob) : 0, "), using defaults");
    say_refusals(p);
    const char* timer_name = timer == time::TimerSource::Sstc ? "sstc" : "sbi";
    if (p.memory_count > 1) // each range, and their union, in the mm lines
        println("KINIT: dtb: ", p.hart_count, " hart(s), memory ", hex(p.mem_base), "+",
                hex(p.mem_size), " and ", p.memory_count - 1, " more range(s), timebase ", hz,
                " Hz, timer ", timer_name);
    else
        println("KINIT: dtb: ", p.hart_count, " hart(s), memory ", hex(p.mem_base), "+",
                hex(p.mem_size), ", timebase ", hz, " Hz, timer ", timer_name);
    say_defaults(p);
    say_timer(0, timer);
    if (const char* why = essential_fallback(st, p, boot_hart)) {
        set_platform_fallback(why);
        println("KINIT: dtb: essential fact defaulted (", why, "): this boot cannot pass");
    }
    if (p.bootargs && p.bootargs[0]) println("KINIT: bootargs: ", p.bootargs);
    fault::init(p.bootargs);
    (void)jitter::init(p.bootargs);
    BootMode mode;
    if (!parse_boot_mode(p.bootargs, mode))
        println("KINIT: mode: unknown value, running the selftests");
    set_boot_mode(mode);
    if (mode != BootMode::Selftest) println("KINIT: mode: ", boot_mode_name(mode));
    say_ipc_fastpath(p.bootargs);
    // The lost-wake-up monitor watches every sleeper for the whole boot; not under the
    // benchmark, whose timer interrupts must cost the same in every row.
    // Likewise every context switch checks that its restore brings back what its save stored
    // (hal/riscv64/context_switch.S): a save and restore that disagree panic, named, at the
    // first switch, not as some later crash. About 60 instructions a switch.
    if (mode != BootMode::Bench) {
        sched::wake_monitor::enable();
        __atomic_store_n(&hal_switch_check_on, 1u, __ATOMIC_RELAXED);
    }
    static dtb::IrqInfo irq_info; // the interrupt facts: the irq room keeps what it needs
    if (dtb_blob) (void)dtb::parse_irq(dtb_blob, dtb::blob_size(dtb_blob), irq_info);
    memory_init(platform(), irq_info, dtb_blob); // Sv39 on from here; every other hart first
    // The boot's own leftover (RFC-0031 "Pending at boot"): the UART's transmit-empty
    // interrupt enabled, so its source is pending at the controller when irq::init looks, as
    // a firmware's leftover would be. irq::init must latch and clear it, never leave it stuck.
    console::set_uart_ier(kUartIerThre);
    irq::init(irq_info);
    irq::devices_init(irq_info, platform());

    smp::start_secondaries(p, static_cast<std::uint32_t>(hart_id));
    sched::start_boot_cpu(&selftest::selftest_task, "selftest"); // runs them and shuts down
}

extern "C" [[noreturn]] void secondary_main(unsigned long hart_id, hal::HartHead* head) {
    using namespace k;
    memory_this_hart();
    std::uint32_t cpu = head->cpu;
    uspace::hart_started(cpu); // the kernel's root in satp: no user space loaded here
    // Arrived: claim the block. Online comes last, from the scheduler, once
    // this hart takes work.
    smp::inject_late_arrival(cpu);
    if (!claim_cpu_state(cpu, CpuState::Starting, CpuState::Joining)) {
        // The boot hart already declared us offline: its claim won, ours lost.
        println("KLOG: cpu", cpu, " arrived after it was declared offline; stopping");
        (void)hal::sbi::hart_stop();
        for (;;)
            hal::wait_for_interrupt();
    }
    hal::csr::clear_sstatus(hal::csr::kSstatusFs);
    trap::install_on_this_hart();
    irq::this_hart_up();
    // Probe before going Online: once Online, the hart must reach the
    // scheduler without delay. The boot hart says what it found (smp.cpp).
    const dtb::Hart* h = find_hart(platform(), static_cast<std::uint32_t>(hart_id));
    (void)time::init_this_hart(h && h->sstc);
    smp::inject_early_online(cpu);
    smp::inject_late_join(cpu);
    sched::start_secondary_cpu(cpu);
}
