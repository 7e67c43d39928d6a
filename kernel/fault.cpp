// Parsing `kfault=` and the task-borne injected faults.
#include "kernel/fault.hpp"

#include "hal_cpu.hpp"
#include "kernel/console.hpp"
#include "kernel/dtb/dtb.hpp"
#include "kernel/time.hpp"
#include "sched/event.hpp"
#include "sched/scheduler.hpp"
#include "trap/ipi.hpp"

namespace k::fault {

namespace {

struct Entry {
    Fault fault;
    const char* name;
};
constexpr Entry kFaults[] = {
    {Fault::NoPreempt, "no-preempt"},
    {Fault::IpiDrop, "ipi-drop"},
    {Fault::StackOverflow, "stack-overflow"},
    {Fault::BadTrap, "bad-trap"},
    {Fault::HartStartFail, "hart-start-fail"},
    {Fault::Hang, "hang"},
    {Fault::RequeueEarly, "requeue-before-save"},
    {Fault::WakeIgnoresOnCpu, "wake-ignores-on-cpu"},
    {Fault::CtxLoseReg, "ctx-lose-reg"},
    {Fault::EarlyRelease, "early-release"},
    {Fault::LostWakeup, "lost-wakeup"},
    {Fault::EarlyOnline, "early-online"},
    {Fault::TextWrite, "text-write"},
    {Fault::StackGuardPage, "stack-guard-page"},
    {Fault::SatpSkip, "satp-skip"},
    {Fault::NoShootdown, "no-shootdown"},
    {Fault::NoHandoff, "no-handoff"},
    {Fault::DestroyNoWake, "destroy-no-wake"},
};

// Recurses until sp is below the task's lowest legal sp, then waits there
// for the tick: the trap-entry stack check must catch it.
[[gnu::noinline]] void dive(std::uintptr_t lowest, volatile std::uint64_t* sink) {
    volatile std::uint64_t frame[16];
    frame[0] = *sink;
    *sink = frame[0] + 1;
    if (reinterpret_cast<std::uintptr_t>(&frame[0]) > lowest) {
        dive(lowest, sink);
        return;
    }
    const std::uint64_t end = time::now() + time::from_us(1'000'000);
    while (time::now() < end)
        *sink = *sink + 1;
}

[[gnu::noinline]] void dive_masked(std::uintptr_t lowest, volatile std::uint64_t* sink) {
    volatile std::uint64_t frame[16];
    frame[0] = *sink;
    *sink = frame[0] + 1;
    if (reinterpret_cast<std::uintptr_t>(&frame[0]) > lowest) dive_masked(lowest, sink);
}

void overflow_task(void*) {
    volatile std::uint64_t sink = 0;
    sched::Task* me = sched::current();
    dive(me->stack_lo - 64, &sink);
    println("KLOG: kfault=stack-overflow: no trap caught the overflow");
}

// Kernel text is mapped R-X: this store must take a store page fault (cause 15).
void text_write_task(void*) {
    auto* text = reinterpret_cast<volatile std::uint32_t*>(&text_write_task);
    const std::uint32_t word = *text;
    *text = word; // the same bytes: if it ever succeeded, nothing else would break
    println("KLOG: kfault=text-write: the store to kernel text at ",
            hex(reinterpret_cast<std::uintptr_t>(text)), " succeeded");
}

// Recurses with interrupts off, so no tick can catch it in the band first: the first store
// below the band lands in the unmapped guard page. Were the page mapped, the dive stops
// half-way into it and says so (the tick then catches sp below the band).
void guard_page_task(void*) {
    volatile std::uint64_t sink = 0;
    sched::Task* me = sched::current();
    const std::uintptr_t guard = (me->stack_lo & ~std::uintptr_t{4095}) - 4096;
    hal::Cpu::irq_push();
    dive_masked(guard + 2048, &sink);
    hal::Cpu::irq_pop();
    println("KLOG: kfault=stack-guard-page: no fault in the guard page at ", hex(guard));
}

void bad_trap_task(void*) {
    asm volatile(".word 0" ::: "memory"); // all-zero: an illegal instruction
}

} // namespace

void init(const char* bootargs) {
    const char* value;
    std::size_t len;
    if (!bootargs || !dtb::bootarg_value(bootargs, "kfault", value, len)) return;
    for (const Entry& e : kFaults)
        if (dtb::bootarg_value_is(value, len, e.name)) g_active = e.fault;
    if (g_active == Fault::None) {
        println("KINIT: kfault: unknown fault ignored");
        return;
    }
    println("KINIT: kfault=", name(g_active), ": this boot is a counterfactual and must fail");
    if (g_active == Fault::IpiDrop) ipi::force_send_failure(true);
}

const char* name(Fault f) {
    for (const Entry& e : kFaults)
        if (e.fault == f) return e.name;
    return "none";
}

void run_task_faults() {
    if (g_active == Fault::Hang) {
        sched::Event never;
        never.wait(); // only the watchdog ends this
    }
    sched::TaskEntry entry = nullptr;
    if (g_active == Fault::StackOverflow) entry = &overflow_task;
    if (g_active == Fault::BadTrap) entry = &bad_trap_task;
    if (g_active == Fault::TextWrite) entry = &text_write_task;
    if (g_active == Fault::StackGuardPage) entry = &guard_page_task;
    if (!entry) return;
    sched::Spawned s =
        sched::spawn(entry, nullptr, sched::SpawnOptions{sched::Qos::Normal, 0, true, "kfault"});
    if (s.error == sched::SpawnError::None) (void)sched::join(s.task);
}

} // namespace k::fault
