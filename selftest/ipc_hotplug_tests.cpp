// The IPC fast path across hot-plug (RFC-0028 "The fast path"): no handoff on a hart that is
// going offline, and a call/reply pair pinned to a hart loses no call while the hart goes
// offline and comes back.
//
// `ipcpair client hart=H` runs a pair pinned to H (the last secondary) that hands the hart
// back and forth on every call. The test asks H to go offline without poking it (no IPI, no
// resched request: as a lost IPI would leave it), so H acts on the request at its next switch
// point. The next call's handoff must be refused there, and H leaves: at most the one handoff
// in flight at the request may follow it. A handoff that ignored the request would keep the
// pair on H until the next tick (up to kTickUs later, hundreds of handoffs; the request is
// made just after a tick of H's). Then H comes back,
// goes offline again through take_offline, comes back; the pair must end with every call
// answered right, each side on its hart whenever it looked (ipcpair checks every 16th call).
#include "base/console.hpp"
#include "base/hart_start.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/scheduler.hpp"
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

constexpr std::uint64_t kCalls = 4'000;         // two offline/online cycles take far fewer calls
constexpr std::uint64_t kRunningHandoffs = 200; // the pair is calling
constexpr std::uint64_t kInFlight = 2;          // handoffs allowed after the request
constexpr std::uint64_t kSecondCycleWaitUs = 100'000;

std::uint64_t handoffs_on(std::uint32_t cpu) {
    return sched::stats(cpu).handoffs;
}

// The pair hands off on `cpu` kRunningHandoffs times more than `from` within `us` µs.
bool pair_runs_on(std::uint32_t cpu, std::uint64_t us, std::uint64_t from) {
    return await(us, [&] { return handoffs_on(cpu) >= from + kRunningHandoffs; });
}
bool pair_runs_on(std::uint32_t cpu, std::uint64_t us) {
    return pair_runs_on(cpu, us, handoffs_on(cpu));
}

} // namespace

KSELFTEST(IPC0006, "ipc fast path across hot-plug") {
    if (online_count() != cpu_count()) {
        println("KLOG: ipc across hot-plug: ", cpu_count() - online_count(),
                " hart(s) not online, skipped");
        return Result::pass();
    }
    const std::uint32_t h = online_cpus().last_secondary();
    KCHECK(h != 0 && h < 10);
    const elf::Image* image = k::user::find_image("ipcpair", 7);
    KCHECK(image != nullptr);
    char args[] = "client\0calls=4000\0hart=0";
    static_assert(kCalls == 4'000, "args say 4000");
    args[sizeof args - 2] = static_cast<char>('0' + h);
    const UserRecords before = UserRecords::now();
    const std::uint64_t t0 = time::now();
    // Counted from before the spawn: a host that holds this hart's vCPU back while the pair
    // runs (4000 calls take ~0.1 s) must not make the pair's handoffs look like none.
    const std::uint64_t handoffs_before = handoffs_on(h);
    const std::int64_t id = user::spawn(nullptr, *image, args, sizeof args);
    KCHECK(id > 0);
    sched::detail::CpuSched& hs = sched::detail::cpu_sched(h);
    // Whatever fails below, h comes back and the pair can finish.
    auto back = [h, &hs] {
        std::uint32_t asked = sched::detail::kOfflineAsked;
        (void)hs.offline_req.compare_exchange_strong(asked, 0);
        if (!cpu_online(h)) {
            (void)time::wait_until(time::now() + time::from_us(sched::kHotplugTimeoutUs),
                                   [h] { return k::smp::confirm_stopped(h); });
            (void)sched::bring_online(h);
        }
    };
    struct Back {
        decltype(back)& fn;
        ~Back() { fn(); }
    } restore{back};

    KCHECK(pair_runs_on(h, kEventuallyUs, handoffs_before));
    // 1. Asked, not poked: h leaves at its next switch point, a refused handoff. Asked just
    // after a tick of h's, so that a handoff that ignored the request would have most of a
    // slice to go on before the next tick made h leave anyway (spin: h is another hart).
    const std::uint64_t ticks = sched::stats(h).ticks;
    const std::uint64_t tick_wait = time::now() + time::from_us(3 * sched::kTickUs);
    while (sched::stats(h).ticks == ticks && time::now() < tick_wait) {
    }
    hs.offline_req.store(sched::detail::kOfflineAsked, std::memory_order_release);
    const std::uint64_t at_request = handoffs_on(h);
    const bool stopped = time::wait_until(time::now() + time::from_us(sched::kHotplugTimeoutUs),
                                          [h] { return k::smp::confirm_stopped(h); });
    const std::uint64_t after = handoffs_on(h) - at_request;
    println("KLOG: ipc across hot-plug: cpu", h, " asked to leave: ", after,
            " handoff(s) there after the request, ", stopped ? "offline" : "still online");
    KCHECK(stopped);
    KCHECK(after <= kInFlight);
    KCHECK(sched::bring_online(h) == sched::Hotplug::Ok);
    // 2. The ordinary way, while the pair runs (a pair that already ended skips it: a slow host
    // may let it finish first; step 1 is the claim).
    const bool second = pair_runs_on(h, kSecondCycleWaitUs);
    if (second) {
        KCHECK(sched::take_offline(h, sched::kHotplugTimeoutUs) == sched::Hotplug::Ok);
        KCHECK(sched::bring_online(h) == sched::Hotplug::Ok);
    }

    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    println("KLOG: ipc across hot-plug: ", kCalls, " calls on cpu", h, " in ",
            time::to_us(time::now() - t0), " us, ", second ? "two cycles" : "one cycle",
            ", exit kind ", static_cast<std::uint32_t>(st.kind), " code ", st.code);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    KCHECK(records_back("ipc across hot-plug", before));
    return Result::pass();
}

} // namespace k::selftest
