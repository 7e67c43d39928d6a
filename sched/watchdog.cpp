// Watchdog state: one deadline for the whole kernel, checked by every tick.
#include "sched/watchdog.hpp"

#include "base/panic.hpp"
#include "base/time.hpp"
#include "sched/scheduler.hpp"

#include <atomic>

namespace k::watchdog {

namespace {
std::atomic<std::uint64_t> g_deadline{0}; // 0: disarmed
std::atomic<const char*> g_what{nullptr};
std::atomic<std::uint32_t> g_fired{0};
} // namespace

void arm(const char* what, std::uint64_t timeout_us) {
    // Its own bounded arithmetic: the bound is capped before conversion, and
    // the conversion saturates instead of wrapping, so no timebase in range
    // and no caller value can turn the deadline into "never" or "already".
    if (timeout_us == 0 || timeout_us > kMaxBoundUs) timeout_us = kMaxBoundUs;
    const std::uint64_t ticks = time::ticks_from_us(timeout_us, time::hz());
    g_what.store(what, std::memory_order_relaxed);
    g_deadline.store(time::add_saturating(time::now(), ticks), std::memory_order_release);
}

void disarm() {
    g_deadline.store(0, std::memory_order_release);
}

void poll() {
    const std::uint64_t d = g_deadline.load(std::memory_order_acquire);
    if (!d || time::now() < d) return;
    if (g_fired.exchange(1, std::memory_order_acq_rel)) return;
    sched::dump_state(g_what.load(std::memory_order_relaxed));
    // A second look 200 ms later tells a spinning hart from a stuck one.
    (void)time::wait_until(time::deadline_in_us(200'000), [] { return false; });
    sched::dump_state("(200 ms later)");
    panic("watchdog: no progress within the bound (see KDUMP lines)");
}

} // namespace k::watchdog
