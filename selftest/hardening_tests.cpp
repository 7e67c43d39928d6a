// RFC-0022 selftests: bounded queues, cpu-id resolution, trap-runtime gate.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "call_as.hpp"
#include "sched/cpu_sched.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "trap/runtime.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

struct Counted {
    std::atomic<std::uint32_t> ran{0};
    static void run(void* self) { static_cast<Counted*>(self)->ran.fetch_add(1); }
};

std::uint64_t rejected(std::uint32_t cpu, Qos q) {
    sched::detail::CpuSched& s = sched::detail::cpu_sched(cpu);
    SpinGuard g(s.rq_lock);
    return s.rq.stats().rejected[sched::qos_index(q)];
}

// A stack no hart registered (not a boot, emergency or task stack), for a caller whose
// identity only the cpu-id BOOT fallback can give.
alignas(16) std::uint8_t g_unregistered_stack[8192];

// One request for the mutable trap runtime, and who the caller seemed to be when it asked.
struct GateCall {
    k::CpuIdResult id{~0u, k::CpuIdPath::TpFast};
    trap::Access access = trap::Access::Granted;
    bool ran = false;
    static void call(void* self) {
        auto* c = static_cast<GateCall*>(self);
        c->id = cpu_id_probe(hal::read_tp(), hal::read_sp());
        c->access = trap::with_runtime_mut([c](trap::Runtime&) { c->ran = true; });
    }
};

} // namespace

KSELFTEST(HARD0001, "enqueue rejected at capacity") {
    // Fill this hart's Idle class past its bound: the extra wakes are
    // rejected by the run queue (QueueFull{Idle, capacity}), counted, and
    // kept in the inbox. Then fill our own class and queue one task above
    // it: a yield must pick that one, but our full class has no slot for us,
    // so it is refused and we keep the cpu. With only our own class full a
    // yield switches (the pick frees our slot). Every task runs exactly once.
    constexpr std::uint32_t kCap = sched::kRqCapacity, kExtra = 2;
    const std::uint32_t self = sched::cpu_of_current();
    sched::detail::CpuSched& s = sched::detail::cpu_sched(self);
    static Counted idle_tasks[kCap + kExtra], normal_tasks[2 * kCap], urgent;
    for (auto& c : idle_tasks)
        c.ran.store(0);
    for (auto& c : normal_tasks)
        c.ran.store(0);
    urgent.ran.store(0);
    constexpr std::uint32_t kTasks = 3 * kCap + kExtra + 1;
    sched::Spawned spawned[kTasks];
    TaskScope scope;
    const std::uint64_t rejected_before = rejected(self, Qos::Idle);
    const std::uint64_t full_before = sched::stats(self).yields_full;

    hal::Cpu::irq_push(); // nothing on this hart runs until we say so
    std::uint32_t n = 0;
    for (auto& c : idle_tasks)
        spawned[n++] =
            scope.spawn(&Counted::run, &c, SpawnOptions{Qos::Idle, self, true, "idle-fill"});
    sched::detail::drain_inbox(s);
    const std::uint32_t idle_queued = sched::queued_on(self, Qos::Idle);
    const std::uint32_t deferred = s.inbox.pending();
    const std::uint64_t idle_rejected = rejected(self, Qos::Idle) - rejected_before;
    for (std::uint32_t i = 0; i < kCap; ++i)
        spawned[n++] = scope.spawn(&Counted::run, &normal_tasks[i],
                                   SpawnOptions{Qos::Normal, self, true, "normal-fill"});
    spawned[n++] =
        scope.spawn(&Counted::run, &urgent, SpawnOptions{Qos::Interactive, self, true, "urgent"});
    sched::detail::drain_inbox(s);
    const std::uint32_t normal_queued = sched::queued_on(self, Qos::Normal);
    const std::uint32_t urgent_queued = sched::queued_on(self, Qos::Interactive);
    const sched::YieldResult y_above = sched::detail::schedule();
    hal::Cpu::irq_pop();
    for (std::uint32_t i = 0; i < n; ++i)
        if (spawned[i].error == sched::SpawnError::None) (void)sched::join(spawned[i].task);

    hal::Cpu::irq_push();
    for (std::uint32_t i = kCap; i < 2 * kCap; ++i)
        spawned[n++] = scope.spawn(&Counted::run, &normal_tasks[i],
                                   SpawnOptions{Qos::Normal, self, true, "normal-fill"});
    sched::detail::drain_inbox(s);
    const std::uint32_t own_queued = sched::queued_on(self, Qos::Normal);
    const sched::YieldResult y_own = sched::detail::schedule();
    hal::Cpu::irq_pop();

    for (std::uint32_t i = 0; i < n; ++i)
        KCHECK(spawned[i].error == sched::SpawnError::None);
    for (std::uint32_t i = 0; i < n; ++i)
        (void)sched::join(spawned[i].task);
    for (std::uint32_t i = 0; i < n; ++i)
        spawned[i].task.reset();
    std::uint32_t once = urgent.ran.load() == 1 ? 1 : 0;
    for (auto& c : idle_tasks)
        once += c.ran.load() == 1 ? 1 : 0;
    for (auto& c : normal_tasks)
        once += c.ran.load() == 1 ? 1 : 0;
    println("KLOG: capacity: idle queued=", idle_queued, "/", kCap, " deferred=", deferred,
            " rejected=", idle_rejected, ", normal queued=", normal_queued, "/", kCap,
            ", yield below a waiting class kept the cpu=", y_above == sched::YieldResult::QueueFull,
            ", yield in a full own class switched=", y_own == sched::YieldResult::Switched,
            ", ran once=", once, "/", n);
    KCHECK(n == kTasks);
    KCHECK(idle_queued == kCap);
    KCHECK(deferred == kExtra);
    KCHECK(idle_rejected >= kExtra);
    KCHECK(normal_queued == kCap);
    KCHECK(urgent_queued == 1);
    KCHECK(y_above == sched::YieldResult::QueueFull);
    KCHECK(sched::stats(self).yields_full >= full_before + 1);
    KCHECK(own_queued == kCap);
    KCHECK(y_own == sched::YieldResult::Switched);
    KCHECK(once == n);
    return Result::pass();
}

KSELFTEST(HARD0002, "cpuid fast path") {
    // On every online hart the tp hint validates (range, online, magic, sp in
    // that hart's stack) and names the hart; no fallback happened this boot.
    KCHECK(cpuid_fallback_total() == 0);
    const OnlineCpus on = online_cpus();
    for (std::uint32_t i = 0; i < on.count; ++i) {
        const std::uint32_t cpu = on.cpu[i];
        k::CpuIdResult r{~0u, k::CpuIdPath::Boot};
        std::uint32_t head_cpu = ~0u;
        KCHECK(run_on(cpu, [&] {
            r = cpu_id_probe(hal::read_tp(), hal::read_sp());
            head_cpu = hal::tp_head()->cpu;
        }));
        KCHECK(r.path == k::CpuIdPath::TpFast);
        KCHECK(r.cpu == cpu && head_cpu == cpu);
    }
    KCHECK(cpuid_fallback_total() == 0);
    return Result::pass();
}

KSELFTEST(HARD0003, "cpuid fallback counterfactual") {
    // Poison tp on each hart: the stack-range fallback must still name the
    // right hart, and count itself. Counterfactual: with sp outside every
    // stack too, only BOOT is left, which names cpu 0.
    std::uint32_t wrong = 0, boot_wrong = 0, checked = 0;
    const std::uint64_t fallbacks_before = cpuid_fallback_total();
    std::uint64_t expected_fallbacks = 0;
    const OnlineCpus on = online_cpus();
    for (std::uint32_t i = 0; i < on.count; ++i) {
        const std::uint32_t cpu = on.cpu[i];
        KCHECK(run_on(cpu, [&] {
            hal::Cpu::irq_push();
            const std::uintptr_t tp = hal::read_tp();
            const std::uintptr_t other =
                reinterpret_cast<std::uintptr_t>(&cpu_block(on.after(cpu)));
            const std::uintptr_t poisons[] = {0, 0xdead0000beefull, tp + 8, other};
            for (std::uintptr_t p : poisons) {
                if (p == tp) continue; // SMP=1: "other" is ourselves
                hal::write_tp(p);
                const k::CpuIdResult r = cpu_id_probe(hal::read_tp(), hal::read_sp());
                const std::uint32_t via_current = current_cpu();
                hal::write_tp(tp);
                wrong += (r.path == k::CpuIdPath::StackRange && r.cpu == cpu && via_current == cpu)
                             ? 0
                             : 1;
                ++checked;
                ++expected_fallbacks;
            }
            // A bad magic word disqualifies the hint as well.
            hal::tp_head()->magic ^= 1;
            const k::CpuIdResult m = cpu_id_probe(tp, hal::read_sp());
            hal::tp_head()->magic ^= 1;
            wrong += (m.path == k::CpuIdPath::StackRange && m.cpu == cpu) ? 0 : 1;
            ++checked;
            const k::CpuIdResult b = cpu_id_probe(0, 0x10);
            boot_wrong += (b.path == k::CpuIdPath::Boot && b.cpu == 0) ? 0 : 1;
            hal::Cpu::irq_pop();
        }));
    }
    const std::uint64_t counted = cpuid_fallback_total() - fallbacks_before;
    println("KLOG: cpuid: ", checked, " poisoned hints resolved by stack range, wrong=", wrong,
            ", fallbacks counted=", counted, "/", expected_fallbacks,
            ", with no stack match BOOT says cpu0");
    KCHECK(wrong == 0 && boot_wrong == 0);
    KCHECK(counted == expected_fallbacks);
    return Result::pass();
}

KSELFTEST(HARD0012, "trap runtime fail closed") {
    // A secondary hart asking for the mutable trap runtime gets an error,
    // counted, and its closure never runs; it can still take traps that the
    // boot hart's handlers serve. The boot hart is granted, unless only the
    // cpu-id BOOT fallback names it (poisoned tp on an unregistered stack).
    const std::uint32_t secondary = online_cpus().first_secondary();
    KCHECK(secondary != 0);
    const std::uint64_t denied = trap::runtime_denied();
    const std::uint64_t bps = trap::breakpoints();
    bool ran_on_secondary = false;
    trap::Access a = trap::Access::Granted;
    KCHECK(run_on(secondary, [&] {
        a = trap::with_runtime_mut([&](trap::Runtime&) { ran_on_secondary = true; });
        asm volatile("ebreak");
    }));
    KCHECK(a == trap::Access::NotBootHart);
    KCHECK(!ran_on_secondary);
    KCHECK(trap::runtime_denied() == denied + 1);
    KCHECK(trap::breakpoints() == bps + 1);
    bool ran_on_boot = false;
    KCHECK(trap::with_runtime_mut([&](trap::Runtime&) { ran_on_boot = true; }) ==
           trap::Access::Granted);
    KCHECK(ran_on_boot);
    // An identity that only the BOOT fallback could give is not the boot hart.
    KCHECK(trap::trusted_cpu_for(hal::read_tp(), hal::read_sp()) == 0);
    KCHECK(trap::trusted_cpu_for(0, 0x10) == trap::kUntrustedCpu);
    // The same, end to end (RFC-0022 Invariant 5): on the boot hart, masked, with tp
    // poisoned and sp on a stack no hart registered, only the BOOT fallback names a cpu
    // (cpu 0), and with_runtime_mut must deny, count it and not run the closure. With the
    // same poisoned tp on our own stack the stack range names cpu 0, which is granted.
    constexpr std::uintptr_t kPoisonTp = 0xdead0000beefull;
    GateCall unknown, by_stack;
    const std::uint64_t denied_before = trap::runtime_denied();
    hal::Cpu::irq_push();
    const std::uintptr_t tp = hal::read_tp();
    hal_call_as(
        kPoisonTp,
        reinterpret_cast<std::uintptr_t>(g_unregistered_stack + sizeof g_unregistered_stack),
        &GateCall::call, &unknown);
    const std::uint64_t denied_unknown = trap::runtime_denied() - denied_before;
    hal::write_tp(kPoisonTp);
    GateCall::call(&by_stack);
    hal::write_tp(tp);
    hal::Cpu::irq_pop();
    println("KLOG: trap gate: poisoned tp on an unregistered stack (cpu id by ",
            unknown.id.path == k::CpuIdPath::Boot ? "BOOT" : "another path",
            ") denied=", unknown.access == trap::Access::NotBootHart, " counted=", denied_unknown,
            " ran=", unknown.ran, "; on its own stack (cpu", by_stack.id.cpu,
            " by stack range) granted=", by_stack.access == trap::Access::Granted);
    KCHECK(unknown.id.path == k::CpuIdPath::Boot && unknown.id.cpu == 0);
    KCHECK(unknown.access == trap::Access::NotBootHart && !unknown.ran);
    KCHECK(denied_unknown == 1);
    KCHECK(by_stack.id.path == k::CpuIdPath::StackRange && by_stack.id.cpu == 0);
    KCHECK(by_stack.access == trap::Access::Granted && by_stack.ran);
    return Result::pass();
}

} // namespace k::selftest
