// Capability transfers between two spaces in both directions (RFC-0028 "The message moves with
// the active side"): a transfer holds both spaces' locks, taken in address order, so two
// transfers in opposite directions cannot deadlock.
//
// First one transfer each way, on one hart: the one from the higher space to the lower is the
// one that an order by argument would take high first, and the capability-space lock check
// (ipc/cap_space.hpp SpaceGuard) panics there, contended or not. Then two tasks, on two harts
// when there are two, move capabilities each way at once for kRunUs each: with both orders in
// play they would deadlock (both harts spin with interrupts masked) if the order were broken
// and the check were gone.
#include "base/console.hpp"
#include "base/time.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/objects.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

namespace {

constexpr std::uint64_t kRunUs = 30'000; // each task's loop, by the clock
constexpr std::uint64_t kSource = 0;     // the notification capability in each space
constexpr std::uint64_t kFirstDst = 8;   // transfers land in slots 8..15, then are removed
constexpr std::uint64_t kDsts = 8;

ipc::CapSpace g_spaces[2]; // [0] below [1] in address order

struct Mover {
    ipc::CapSpace* from = nullptr;
    ipc::CapSpace* to = nullptr;
    std::atomic<std::uint64_t> moved{0};
    std::atomic<std::uint32_t> failed{0}; // a transfer or remove that did not return 0
    std::atomic<std::uint32_t> done{0};

    void run() {
        const std::uint64_t end = time::now() + time::from_us(kRunUs);
        std::uint64_t n = 0;
        while (time::now() < end) {
            const std::uint64_t dst = kFirstDst + n % kDsts;
            if (ipc::transfer(*from, kSource, *to, dst) != 0 || ipc::remove(*to, dst) != 0)
                failed.fetch_add(1, std::memory_order_relaxed);
            ++n;
        }
        moved.store(n, std::memory_order_relaxed);
        done.store(1, std::memory_order_release);
    }
};

} // namespace

KSELFTEST(IPC0004, "capability transfer lock order") {
    ipc::CapSpace& low = g_spaces[0];
    ipc::CapSpace& high = g_spaces[1];
    KCHECK(&low < &high);
    low.reset();
    high.reset();
    const std::uint32_t notes_before = ipc::free_notifications();
    // One notification, a capability to it in slot 0 of each space: low's made, high's moved.
    KCHECK(ipc::create(low, kSource, ::ipc::ObjectType::Notification) == 0);
    KCHECK(ipc::transfer(low, kSource, high, kSource) == 0); // low -> high
    KCHECK(ipc::transfer(high, kSource, low, 1) == 0);       // high -> low: the check's case
    KCHECK(ipc::remove(low, 1) == 0);

    const OnlineCpus on = online_cpus();
    Mover up, down;
    up.from = &low;
    up.to = &high;
    down.from = &high;
    down.to = &low;
    auto up_body = [&up] { up.run(); };
    auto down_body = [&down] { down.run(); };
    Thunk<decltype(up_body)> up_thunk{up_body};
    Thunk<decltype(down_body)> down_thunk{down_body};
    {
        TaskScope scope;
        KCHECK(
            scope
                .spawn(up_thunk, sched::SpawnOptions{sched::Qos::Normal, on.at(0), true, "xfer-up"})
                .error == sched::SpawnError::None);
        KCHECK(scope
                   .spawn(down_thunk,
                          sched::SpawnOptions{sched::Qos::Normal, on.at(1), true, "xfer-down"})
                   .error == sched::SpawnError::None);
        KCHECK(await(kEventuallyUs, [&] {
            return up.done.load(std::memory_order_acquire) != 0 &&
                   down.done.load(std::memory_order_acquire) != 0;
        }));
    }
    println("KLOG: capability transfer lock order: ", up.moved.load(), " transfers up, ",
            down.moved.load(), " down, on cpu", on.at(0), " and cpu", on.at(1), ", ",
            up.failed.load() + down.failed.load(), " failed");
    KCHECK(up.failed.load() == 0 && down.failed.load() == 0);
    KCHECK(up.moved.load() > 0 && down.moved.load() > 0);
    // The last capability's removal destroys the notification: its record comes back.
    KCHECK(ipc::remove(high, kSource) == 0);
    KCHECK(ipc::remove(low, kSource) == 0);
    KCHECK(ipc::free_notifications() == notes_before);
    return Result::pass();
}

} // namespace k::selftest
