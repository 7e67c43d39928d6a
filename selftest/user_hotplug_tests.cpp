// User threads across a hart restart (RFC-0027 invariant 1, "after a hot-plug"): two processes
// of `hotplug` (user/hotplug), each with threads pinned to hart X, run rounds of a trap, a
// switch and a check of their own memory on X. X goes offline while they run (they wait
// parked in its closed inbox: none may run meanwhile) and comes back; the first switch to one
// of them there is the restarted hart's first load of a user root. Each thread must then run
// its rounds on X. Every trap from U-mode checks that satp holds the thread's own root
// (check_root in proc/user_trap.cpp: a KPANIC otherwise); the programs check their memory
// and their hart, and both must exit 0. The shared page (user/hotplug/layout.hpp) is read and
// written through each process's space, which the test holds a reference on.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "mm/user_space.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "proc/process_record.hpp" // find_process: the program's space, for the shared page
#include "sched/scheduler.hpp"
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"
#include "selftest/util.hpp"
#include "user/hotplug/layout.hpp"

namespace k::selftest {

namespace {

constexpr std::uint32_t kProcs = 2;
constexpr std::uint64_t kWarmRounds = 4; // rounds each thread runs on X before it goes
constexpr std::uint64_t kHoldUs = 5'000; // X stays offline this long

struct Run {
    std::int64_t id = 0;
    uspace::UserSpace* space = nullptr; // our reference, taken while the process lives
    kestrel::WaitStatus st{};
    bool awaited = false;
};

// The process's space with a reference of ours, or nullptr (not found, or already ended).
uspace::UserSpace* hold_space(std::int64_t id) {
    user::Process* p = user::find_process(nullptr, id, false);
    if (!p) return nullptr;
    uspace::UserSpace* s = nullptr;
    {
        k::SpinGuard g(p->lock);
        if (!p->dead && p->space) {
            s = p->space;
            uspace::retain(*s);
        }
    }
    user::put(*p);
    return s;
}

// Word w of the shared page, or nullptr while the program has not mapped it yet.
volatile std::uint64_t* shared(uspace::UserSpace& s, std::uint64_t w) {
    const mm::Translation t = uspace::translate(s, hotplug::kShared);
    if (!t.mapped) return nullptr;
    return reinterpret_cast<volatile std::uint64_t*>(t.pa) + w;
}

std::uint64_t read(uspace::UserSpace& s, std::uint64_t w) {
    volatile std::uint64_t* p = shared(s, w);
    return p ? __atomic_load_n(p, __ATOMIC_ACQUIRE) : 0;
}

// Every thread of every process started and ran kWarmRounds rounds.
bool warm(const Run (&runs)[kProcs]) {
    for (const Run& r : runs) {
        if (read(*r.space, hotplug::kStarted) != hotplug::kThreads) return false;
        for (std::uint64_t t = 0; t < hotplug::kThreads; ++t)
            if (read(*r.space, hotplug::word(t, hotplug::kRounds)) < kWarmRounds) return false;
    }
    return true;
}

std::uint64_t rounds(const Run (&runs)[kProcs]) {
    std::uint64_t n = 0;
    for (const Run& r : runs)
        for (std::uint64_t t = 0; t < hotplug::kThreads; ++t)
            n += read(*r.space, hotplug::word(t, hotplug::kRounds));
    return n;
}

} // namespace

KSELFTEST(USR0002, "user threads across hart restart") {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    const std::uint32_t x = on.last_secondary();
    const elf::Image* image = k::user::find_image("hotplug", 7);
    KCHECK(image != nullptr);
    const UserRecords before = UserRecords::now();
    const std::uint64_t t0 = time::now();
    Run runs[kProcs];
    const char* why = nullptr;
    for (std::uint32_t i = 0; i < kProcs && !why; ++i) {
        char args[40];
        std::size_t n = put_arg(args, 0, "hart=", x);
        n = put_arg(args, n, "seed=", i + 1);
        runs[i].id = user::spawn(nullptr, *image, args, n);
        if (runs[i].id <= 0)
            why = "could not spawn hotplug";
        else if (!(runs[i].space = hold_space(runs[i].id)))
            why = "hotplug ended at once";
    }
    sched::Hotplug off = sched::Hotplug::Timeout, back = sched::Hotplug::Timeout;
    std::uint64_t ran_while_off = ~0ull;
    if (!why && !await(kEventuallyUs, [&] { return warm(runs); }))
        why = "the pinned threads did not start on the hart";
    if (!why) {
        off = sched::take_offline(x);
        // Nothing of theirs runs while X is away: they wait, parked in its inbox.
        const std::uint64_t r0 = rounds(runs);
        const std::uint64_t until = time::deadline_in_us(kHoldUs);
        (void)time::wait_until(until, [] { return false; });
        ran_while_off = rounds(runs) - r0;
    }
    // On every path: X back, and the programs told, so that they end.
    if (!cpu_online(x)) back = sched::bring_online(x);
    constexpr std::uint64_t kBack = hotplug::kBack;
    for (Run& r : runs)
        if (r.space) (void)uspace::write(*r.space, hotplug::kShared, &kBack, sizeof kBack);
    for (Run& r : runs)
        r.awaited = r.id > 0 && user::await(nullptr, r.id, true, r.st) >= 0;
    std::uint64_t after_min = ~0ull, bad_memory = 0, bad_cpu = 0;
    for (Run& r : runs) {
        if (!r.space) continue;
        for (std::uint64_t t = 0; t < hotplug::kThreads; ++t) {
            const std::uint64_t a = read(*r.space, hotplug::word(t, hotplug::kAfter));
            after_min = a < after_min ? a : after_min;
            bad_memory += read(*r.space, hotplug::word(t, hotplug::kBadMemory));
            bad_cpu += read(*r.space, hotplug::word(t, hotplug::kBadCpu));
        }
        uspace::release(r.space);
        r.space = nullptr;
    }
    println("KLOG: user restart: cpu", x, " offline=", sched::hotplug_name(off),
            " online=", sched::hotplug_name(back), ", rounds while offline=", ran_while_off,
            ", fewest rounds after=", after_min, ", bad words=", bad_memory,
            ", rounds on another cpu=", bad_cpu, ", exits ", runs[0].st.code, " ", runs[1].st.code,
            ", ", time::to_us(time::now() - t0) / 1000, " ms");
    if (why) return Result::fail(why);
    KCHECK(off == sched::Hotplug::Ok && back == sched::Hotplug::Ok);
    KCHECK(ran_while_off == 0);
    for (const Run& r : runs) {
        KCHECK(r.awaited);
        KCHECK(r.st.kind == kestrel::WaitKind::Exited && r.st.code == 0);
    }
    KCHECK(after_min >= hotplug::kRoundsAfter && bad_memory == 0 && bad_cpu == 0);
    KCHECK(records_back("user restart", before));
    return Result::pass();
}

} // namespace k::selftest
