// The injected faults that need a task of their own (kfault=stack-overflow, bad-trap,
// text-write, stack-guard-page, space-double-release, space-retain-free, uaccess-kernel,
// hang): run by the boot
// task once the scheduler is up.
#include "kernel/task_faults.hpp"

#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/stack_guard.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "mm/user_space.hpp"
#include "sched/event.hpp"
#include "sched/scheduler.hpp"
#include "user_access.hpp"

namespace k::fault {

namespace {

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
    const std::uintptr_t guard = guard_page_below(me->stack_lo);
    hal::Cpu::irq_push();
    dive_masked(guard + 2048, &sink);
    hal::Cpu::irq_pop();
    println("KLOG: kfault=stack-guard-page: no fault in the guard page at ", hex(guard));
}

// A user space released twice, or retained after its last release: the second release, or
// the retain, finds a free slot and must panic (mm/user_space.cpp, RFC-0026 "Failure model").
// Nothing else creates a space meanwhile, so the slot is still free at the second call.
void double_release_task(void*) {
    const bool retain = g_active == Fault::SpaceRetainFree;
    uspace::UserSpace* s = uspace::create();
    if (!s) {
        println("KLOG: kfault=", name(g_active), ": no space to create");
        return;
    }
    uspace::release(s);
    if (retain) {
        uspace::retain(*s);
        println("KLOG: kfault=space-retain-free: the retain of a free space did not panic");
        return;
    }
    uspace::release(s);
    println("KLOG: kfault=space-double-release: the second release did not panic");
}

// A checked user copy that faults at a kernel address (this task's unmapped stack guard
// page): the fixup is only for user addresses, so this stays a kernel page fault, a KPANIC
// (RFC-0027 invariant 4).
void uaccess_kernel_task(void*) {
    const sched::Task* me = sched::current();
    std::uint64_t word = 0;
    const long r = hal_user_copy(
        &word, reinterpret_cast<const void*>(guard_page_below(me->stack_lo)), sizeof word);
    println("KLOG: kfault=uaccess-kernel: the copy from a kernel address returned ", r);
}

void bad_trap_task(void*) {
    asm volatile(".word 0" ::: "memory"); // all-zero: an illegal instruction
}

} // namespace

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
    if (g_active == Fault::SpaceDoubleRelease || g_active == Fault::SpaceRetainFree)
        entry = &double_release_task;
    if (g_active == Fault::UaccessKernel) entry = &uaccess_kernel_task;
    if (!entry) return;
    sched::Spawned s =
        sched::spawn(entry, nullptr, sched::SpawnOptions{sched::Qos::Normal, 0, true, "kfault"});
    if (s.error == sched::SpawnError::None) (void)sched::join(s.task);
}

} // namespace k::fault
