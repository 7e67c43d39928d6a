// kmain on the boot hart, secondary_main on every other hart.
#include "kernel/boot_info.hpp"
#include "kernel/console.hpp"
#include "kernel/dtb/dtb.hpp"
#include "kernel/fault.hpp"
#include "kernel/jitter.hpp"
#include "kernel/panic.hpp"
#include "kernel/panic_trap.hpp"
#include "kernel/percpu.hpp"
#include "kernel/shutdown.hpp"
#include "kernel/smp.hpp"
#include "kernel/time.hpp"
#include "sbi.hpp"
#include "sched/scheduler.hpp"
#include "trap/runtime.hpp"
#include "trap/trap.hpp"

extern "C" {
using Ctor = void (*)();
extern Ctor __init_array_start[], __init_array_end[];
extern char __kernel_start[], __kernel_end[];
}

namespace k {

namespace {

constexpr std::size_t kMaxDtbSize = 1u << 20;

const dtb::Hart* find_hart(const dtb::Platform& p, std::uint32_t hart_id) {
    for (std::uint32_t i = 0; i < p.hart_count; ++i)
        if (p.harts[i].hart_id == hart_id) return &p.harts[i];
    return nullptr;
}

void say_defaults(const dtb::Platform& p) {
    struct Note {
        std::uint32_t bit;
        const char* text;
    };
    static constexpr Note kNotes[] = {
        {dtb::kNoMemory, "no /memory node: assuming 128 MiB at 0x80000000"},
        {dtb::kNoUart, "no ns16550a UART: console through SBI"},
        {dtb::kNoTestDevice, "no sifive,test0 device: exit status through SBI SRST only"},
        {dtb::kNoTimebase, "no timebase-frequency: assuming 10 MHz"},
        {dtb::kNoCpus, "no /cpus harts: running on the boot hart only"},
    };
    for (const Note& n : kNotes)
        if (p.defaulted & n.bit) println("KINIT: dtb: ", n.text);
}

dtb::Platform read_platform(const void* blob) {
    dtb::Platform p{};
    std::size_t size = blob ? dtb::blob_size(blob) : 0;
    dtb::Status st = dtb::parse(blob, size < kMaxDtbSize ? size : kMaxDtbSize, p);
    if (st != dtb::Status::Ok)
        println("KINIT: dtb: unreadable (", dtb::status_name(st), "), using defaults");
    return p;
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

    dtb::Platform p = read_platform(dtb_blob);
    set_platform(p);
    if (!(p.defaulted & dtb::kNoUart)) console::init(p.uart_base, p.uart_reg_shift);
    const dtb::Hart* boot = find_hart(p, static_cast<std::uint32_t>(hart_id));
    time::init(p.timebase_hz, boot && boot->sstc);
    shutdown_init((p.defaulted & dtb::kNoTestDevice) ? 0 : p.test_base);

    println("KINIT: boot hart ", hart_id);
    println("KINIT: dtb: ", p.hart_count, " hart(s), memory ", hex(p.mem_base), "+",
            hex(p.mem_size), ", timebase ", p.timebase_hz, " Hz, timer ",
            time::has_sstc() ? "sstc" : "sbi");
    say_defaults(p);
    if (p.bootargs && p.bootargs[0]) println("KINIT: bootargs: ", p.bootargs);
    fault::init(p.bootargs);
    (void)jitter::init(p.bootargs);

    smp::start_secondaries(p, static_cast<std::uint32_t>(hart_id));
    sched::start_boot_cpu(); // runs the selftests in a task and shuts down
}

extern "C" [[noreturn]] void secondary_main(unsigned long hart_id, hal::HartHead* head) {
    using namespace k;
    (void)hart_id;
    std::uint32_t cpu = head->cpu;
    // Arrived: claim the block. Online comes last, from the scheduler, once
    // this hart takes work.
    if (!claim_cpu_state(cpu, CpuState::Starting, CpuState::Joining)) {
        (void)hal::sbi::hart_stop(); // the boot hart already declared us offline
        for (;;)
            hal::wait_for_interrupt();
    }
    hal::csr::clear_sstatus(hal::csr::kSstatusFs);
    trap::install_on_this_hart();
    smp::inject_early_online(cpu);
    sched::start_secondary_cpu(cpu);
}
