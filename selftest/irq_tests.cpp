// The irq room's hot-plug rule (RFC-0031 "Routing"): a source routed to a hart that goes
// offline moves to an online hart (with a line), and its record is freed with the last
// capability. Kernel-side: only a kernel test can take a hart offline here.
#include "base/percpu.hpp"
#include "ipc/cap_space.hpp"
#include "irq/device.hpp"
#include "irq/irq.hpp"
#include "sched/scheduler.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {
ipc::CapSpace g_space;
constexpr std::uint64_t kRtcSource = 11; // QEMU virt's goldfish RTC; any driven source would do
constexpr std::uint64_t kIrqSlot = 1;
} // namespace

KSELFTEST(IRQ0001, "irq source moves off an offline hart") {
    KCHECK(irq::active());
    // Another online hart (a DTB may list harts that never came: gate-late-hart's cpu2).
    const OnlineCpus online = online_cpus();
    KCHECK(online.count >= 2);
    const std::uint32_t x = online.after(current_cpu());
    KCHECK(x != current_cpu() && cpu_online(x));
    const std::uint32_t free0 = irq::free_handlers();
    g_space.reset();
    KCHECK(irq::give_platform(g_space, kestrel::kPlatformSlot) == 0);
    KCHECK(irq::get(g_space, kestrel::kPlatformSlot, kRtcSource, kIrqSlot) == 0);
    KCHECK(irq::free_handlers() == free0 - 1);
    KCHECK(irq::route(g_space, kIrqSlot, x) == 0);
    KCHECK(irq::route_of(kRtcSource) == x);
    const sched::Hotplug off = sched::take_offline(x);
    const std::uint32_t moved_to = irq::route_of(kRtcSource);
    const sched::Hotplug on = sched::bring_online(x);
    println("KLOG: irq: source ", kRtcSource, " on cpu", x, " moved to cpu", moved_to,
            " when it went offline");
    KCHECK(off == sched::Hotplug::Ok && on == sched::Hotplug::Ok);
    KCHECK(moved_to != x && moved_to < cpu_count() && cpu_online(moved_to));
    // Routing to the hart again works once it is back (its S context reopened).
    KCHECK(irq::route(g_space, kIrqSlot, x) == 0 && irq::route_of(kRtcSource) == x);
    g_space.clear(); // the last capability: the source masked and freed
    KCHECK(irq::route_of(kRtcSource) == irq::kMaxSources);
    KCHECK(irq::free_handlers() == free0);
    return Result::pass();
}

} // namespace k::selftest
