// mode=bench: the driver. Runs every operation group at 2, 10, 100 and 1000
// live tasks (the extra ones blocked), prints one KBENCH row per figure and
// a verdict; scripts/bench.sh boots it at 1, 2, 4 and 8 harts under -icount.
#include "selftest/bench.hpp"
#include "selftest/user_run.hpp"

#include <atomic>
#include <new>

#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "csr.hpp"
#include "dtb/dtb.hpp"
#include "hal_cpu.hpp"
#include "ipc/objects.hpp"
#include "kernel/boot_info.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "sched/notification.hpp"
#include "sched/task_pool.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace bench {

std::uint64_t instret() {
    return hal::csr::read_instret();
}

Figure summarize(std::uint64_t* per_op, std::uint32_t n, std::uint32_t iters) {
    for (std::uint32_t i = 1; i < n; ++i) // insertion sort: n <= 15
        for (std::uint32_t j = i; j > 0 && per_op[j - 1] > per_op[j]; --j) {
            const std::uint64_t t = per_op[j];
            per_op[j] = per_op[j - 1];
            per_op[j - 1] = t;
        }
    Figure f;
    f.batches = n;
    f.iters = iters;
    if (n == 0) return f;
    f.min = per_op[0];
    f.max = per_op[n - 1];
    f.median = per_op[n / 2];
    return f;
}

Figure measure(const Plan& plan, BatchFn fn, void* ctx) {
    std::uint64_t per_op[kMaxBatches];
    const std::uint32_t n = plan.batches < kMaxBatches ? plan.batches : kMaxBatches;
    (void)fn(ctx, plan.iters); // warm-up: caches of the emulator, first-touch paths
    for (std::uint32_t b = 0; b < n; ++b)
        per_op[b] = fn(ctx, plan.iters);
    return summarize(per_op, n, plan.iters);
}

void report(const char* op, std::uint32_t tasks, std::uint32_t rq, const Figure& f) {
    println("KBENCH: op=", op, " harts=", online_count(), " tasks=", tasks, " rq=", rq,
            " median=", f.median, " min=", f.min, " max=", f.max, " batches=", f.batches,
            " iters=", f.iters);
}

namespace {

// Tasks that only exist: each sleeps on its own notification until the end.
constexpr std::uint32_t kMaxBlockers = 1000;

struct Blocker {
    sched::Notification note;
    sched::TaskRef task;
};
// Raw storage, constructed per blocker in grow_blockers() and destroyed in
// release_blockers(): a global array of Blocker would need its destructor
// registered at exit, which a freestanding kernel has no atexit for (Clang
// emits the registration; GCC happened to drop it).
struct alignas(Blocker) BlockerSlot {
    unsigned char bytes[sizeof(Blocker)];
};
BlockerSlot g_blocker_slots[kMaxBlockers];
std::uint32_t g_blocker_count = 0;

// Only for slots below g_blocker_count (constructed).
Blocker& blocker(std::uint32_t i) {
    return *std::launder(reinterpret_cast<Blocker*>(&g_blocker_slots[i]));
}

void blocker_body(void* arg) {
    (void)static_cast<Blocker*>(arg)->note.wait();
}

bool all_asleep(std::uint32_t from, std::uint32_t to) {
    for (std::uint32_t i = from; i < to; ++i)
        if (blocker(i).task->state.state() != sched::TaskState::Blocked) return false;
    return true;
}

// Grows the blocked population to `n`, spread over the online harts, a few
// at a time: a hart's run queue holds kRqCapacity tasks per class, the rest
// wait in its inbox.
bool grow_blockers(std::uint32_t n) {
    const OnlineCpus on = online_cpus();
    constexpr std::uint32_t kChunk = sched::kRqCapacity / 2;
    while (g_blocker_count < n) {
        const std::uint32_t from = g_blocker_count;
        while (g_blocker_count < n && g_blocker_count - from < kChunk) {
            Blocker& b = *new (&g_blocker_slots[g_blocker_count]) Blocker();
            sched::Spawned s = sched::spawn(
                &blocker_body, &b,
                sched::SpawnOptions{sched::Qos::Normal, on.at(g_blocker_count), true, "blocked"});
            if (s.error != sched::SpawnError::None) {
                b.~Blocker();
                println("KBENCH: spawn of blocked task ", g_blocker_count, " failed (error ",
                        static_cast<std::uint32_t>(s.error), ")");
                return false;
            }
            b.task = s.task;
            ++g_blocker_count;
        }
        const std::uint32_t to = g_blocker_count;
        if (!await(kEventuallyUs, [from, to] { return all_asleep(from, to); })) {
            println("KBENCH: blocked tasks did not all fall asleep");
            return false;
        }
    }
    return true;
}

void release_blockers() {
    for (std::uint32_t i = 0; i < g_blocker_count; ++i) {
        Blocker& b = blocker(i);
        while (b.task->state.state() != sched::TaskState::Exited &&
               b.note.signal(1) == sched::Signalled::NoWaiter)
            (void)sched::yield();
        (void)sched::join(b.task);
        b.~Blocker();
    }
    g_blocker_count = 0;
}

// Whether rdinstret counts retired instructions here (under -icount shift=0, and on a real
// hart) or something else (QEMU without -icount returns host cycles for it): the same loop,
// run three times with interrupts masked, must retire the same count each time, 1 to 16
// instructions an iteration. Costs about 0.1 ms.
[[gnu::noinline]] std::uint64_t probe_loop(std::uint32_t n) {
    const std::uint64_t t0 = instret();
    volatile std::uint32_t i = 0;
    while (i < n)
        i = i + 1;
    return instret() - t0;
}

bool counts_instructions() {
    constexpr std::uint32_t kIters = 4096;
    std::uint64_t d[3];
    hal::Cpu::irq_push();
    for (std::uint64_t& x : d)
        x = probe_loop(kIters);
    hal::Cpu::irq_pop();
    const bool same = d[0] == d[1] && d[1] == d[2];
    const bool plausible = d[0] >= kIters && d[0] <= 16ull * kIters;
    if (same && plausible) {
        println("KBENCH: counter probe: rdinstret counts instructions (a loop of ", kIters,
                " iterations: ", d[0], " three times)");
        return true;
    }
    println("KBENCH: WARNING rdinstret does not count instructions here (a loop of ", kIters,
            " iterations gave ", d[0], ", ", d[1], ", ", d[2],
            "; booted without -icount shift=0?): the figures below are not instruction counts");
    return false;
}

Plan plan_from_bootargs() {
    Plan p;
    const char* v;
    std::size_t len;
    const char* args = platform().bootargs;
    if (args && dtb::bootarg_value(args, "bench", v, len) &&
        dtb::bootarg_value_is(v, len, "short")) {
        p.short_run = true;
        p.batches = 3;
        p.iters = 100;
    }
    if (args && dtb::bootarg_value(args, "bench", v, len) && dtb::bootarg_value_is(v, len, "probe"))
        p.probe_only = true;
    return p;
}

// U-mode rdinstret on every online hart: a pinned task per hart sets
// scounteren.IR there (a per-hart CSR, kept across switches). OpenSBI 1.1
// already leaves scounteren = 7 (CY, TM, IR); the bench does not rely on it.
void counteren_body(void* arg) {
    if (!hal::csr::enable_user_instret()) static_cast<std::atomic<std::uint32_t>*>(arg)->store(1);
}

bool enable_user_instret_everywhere() {
    const OnlineCpus on = online_cpus();
    std::atomic<std::uint32_t> refused{0};
    for (std::uint32_t i = 0; i < on.count; ++i) {
        sched::Spawned s =
            sched::spawn(&counteren_body, &refused,
                         sched::SpawnOptions{sched::Qos::Normal, on.cpu[i], true, "counteren"});
        if (s.error != sched::SpawnError::None) return false;
        (void)sched::join(s.task);
    }
    return refused.load() == 0;
}

// Resched IPIs sent to every hart so far (base/ipi.hpp's chains).
std::uint64_t ipis_sent() {
    std::uint64_t n = 0;
    for (std::uint32_t c = 0; c < k::kMaxCpus; ++c)
        n += ipi::chain(c).sent;
    return n;
}

// The IPIs of ipcbench's run against its cross-hart wake-ups: each remote round (warm-up and
// batches) of iters ops wakes the partner on the other hart twice per call (the call, the
// reply) and once per notification op (two per iteration). Everything else ipcbench does
// (its setup calls, the same-hart rows) wakes across harts a few dozen times at most.
void say_ipis_per_wake(const Plan& plan, std::uint64_t ipis) {
    if (online_count() < 2) return;
    const std::uint64_t wakes = 4ull * (plan.batches + 1) * plan.iters;
    println("KBENCH: ipis while ipcbench ran: ", ipis, " for ", wakes,
            " cross-hart wake-ups in its remote rows (", ipis * 100 / wakes,
            " per 100; one IPI per wake-up is 100)");
}

// The user rows (user/ipcbench): null syscall, IPC call+reply and
// notification wake-up, same hart and across harts. It prints its own rows
// (and a FAIL line on a setup or placement failure); exit status 0 is required.
// `live`: the live tasks its rows name (0: its own two); with more, it also fills the free
// slots of both capability spaces with endpoints before it measures (issue 18's flatness).
bool user_ops(const Plan& plan, std::uint32_t live = 0) {
    if (!enable_user_instret_everywhere()) {
        println("KBENCH: FAIL scounteren.IR did not stick on every hart");
        return false;
    }
    const elf::Image* image = k::user::find_image("ipcbench", 8);
    if (!image) {
        println("KBENCH: FAIL no ipcbench image");
        return false;
    }
    // User threads are unpinned: without this, an idle hart steals a woken
    // partner queued behind the running one (seen at 8 harts), and a
    // same-hart row would no longer be one.
    NoStealing no_stealing;
    char args[64];
    std::size_t n = put_arg(args, 0, "harts=", online_count());
    n = put_arg(args, n, "batches=", plan.batches);
    n = put_arg(args, n, "iters=", plan.iters);
    if (live != 0) n = put_arg(args, n, "fill_tasks=", live);
    const ipc::fastpath::Counts fast0 = ipc::fastpath::counts();
    const std::uint64_t ipis0 = ipis_sent();
    const std::int64_t id = user::spawn(nullptr, *image, args, n);
    if (id <= 0) {
        println("KBENCH: FAIL spawn of ipcbench: error ", id);
        return false;
    }
    kestrel::WaitStatus st{};
    if (user::await(nullptr, id, true, st) < 0) {
        println("KBENCH: FAIL await of ipcbench");
        return false;
    }
    say_fastpath_share("ipcbench", fast0);
    say_ipis_per_wake(plan, ipis_sent() - ipis0);
    if (st.kind != kestrel::WaitKind::Exited || st.code != 0) {
        // Faulted, code 2 (illegal instruction): most likely U-mode rdinstret was refused.
        const bool illegal = st.kind == kestrel::WaitKind::Faulted && st.code == 2;
        println("KBENCH: FAIL ipcbench ended: kind ", static_cast<std::uint32_t>(st.kind), " code ",
                st.code, " addr ", hex(st.addr),
                illegal ? " (illegal instruction: U-mode rdinstret refused?)" : "");
        return false;
    }
    return true;
}

// The user rows again with 1000 live tasks (the extra ones blocked), and about 200 live
// endpoints: 80 held by the kernel, the rest filling both benchmark processes' capability
// spaces. The fast path looks nothing up by search, so its figures must not move (issue 18).
bool user_ops_crowded(const Plan& plan) {
    constexpr std::uint32_t kLive = 1000, kEndpoints = 80;
    if (!grow_blockers(kLive - 2)) {
        println("KBENCH: FAIL could not block ", kLive - 2, " tasks");
        release_blockers();
        return false;
    }
    static ipc::Endpoint* held[kEndpoints];
    std::uint32_t n = 0;
    while (n < kEndpoints && (held[n] = ipc::endpoint_alloc()) != nullptr)
        ++n;
    const bool ok = n == kEndpoints && user_ops(plan, kLive);
    if (n != kEndpoints) println("KBENCH: FAIL only ", n, " endpoints free");
    for (std::uint32_t i = 0; i < n; ++i)
        ipc::put(*held[i]);
    release_blockers();
    return ok;
}

} // namespace

} // namespace bench

void run_bench() {
    using namespace bench;
    const Plan plan = plan_from_bootargs();
    println("KBENCH: start harts=", online_count(), " batches=", plan.batches,
            " iters=", plan.iters, plan.short_run ? " (short)" : "");
    (void)counts_instructions(); // said, not refused: the figures stay comparable among themselves
    if (plan.probe_only) {
        println("KBENCH: done harts=", online_count(), " (probe only)");
        shutdown(true);
    }
    bool ok = true;
    // Live tasks: this one and a partner, plus the blocked ones.
    static constexpr std::uint32_t kFull[] = {2, 10, 100, 1000};
    static constexpr std::uint32_t kShort[] = {2, 100};
    const std::uint32_t* counts = plan.short_run ? kShort : kFull;
    const std::uint32_t n_counts = plan.short_run ? 2 : 4;
    for (std::uint32_t i = 0; i < n_counts && ok; ++i) {
        const std::uint32_t live = counts[i];
        if (!grow_blockers(live - 2)) {
            println("KBENCH: FAIL could not block ", live - 2, " tasks (pool ", sched::kMaxTasks,
                    ")");
            ok = false;
            break;
        }
        ok = same_hart_ops(plan, live);
    }
    release_blockers();
    if (ok) ok = run_queue_ops(plan);
    if (ok && online_count() >= 2) ok = cross_hart_ops(plan);
    if (ok) ok = timer_irq_op(plan);
    if (ok) ok = user_ops(plan);
    if (ok && !plan.short_run) ok = user_ops_crowded(plan);
    println("KBENCH: ", ok ? "done" : "FAIL", " harts=", online_count());
    shutdown(ok);
}

} // namespace k::selftest
