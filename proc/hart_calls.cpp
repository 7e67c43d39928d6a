// proc_info, hart_info, hart_offline, hart_online (RFC-0032; kestrel/syscall.hpp).
#include "proc/hart_calls.hpp"

#include "base/fault.hpp"
#include "base/ipi.hpp"
#include "base/percpu.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/hart_control.hpp"
#include "proc/process_record.hpp"
#include "sched/scheduler.hpp"
#include "trap/user_copy.hpp"

#include <atomic>
#include <new>

namespace k::user {

namespace {

using kestrel::Error;

// One hot-plug request at a time from user space: the scheduler's take_offline and
// bring_online expect one requester per hart, and two shells racing on one hart must not both
// think they won.
std::atomic<std::uint32_t> g_hotplug_busy{
    0}; // 1 while a request runs (a word: no byte CAS in rv64)

// How long a user request waits for a hart to stop (µs) before it withdraws it (Busy).
constexpr std::uint64_t kUserHotplugTimeoutUs = 2'000'000;

// The kernel's own HartControl capability, the original every root process's is minted from
// (an object's first capability is made once: CapTable::insert; every later one is a copy).
// Made by the first root spawn under g_root_lock; never changed after.
k::SpinLock g_root_lock{"hart-control-root"};
alignas(::ipc::CapTable) unsigned char g_root_mem[sizeof(::ipc::CapTable)];
::ipc::Capability g_root_slot[1];
std::atomic<const ::ipc::CapTable*> g_root{nullptr};

// The result of a hot-plug request as the calls give it: 0 for Ok, else the kestrel error.
std::int64_t hotplug_error(sched::Hotplug h) {
    switch (h) {
    case sched::Hotplug::Ok:
        return 0;
    case sched::Hotplug::NotOnline: // not in the state the request needs, or on its way in or out
        return kestrel::code(Error::HartState);
    case sched::Hotplug::InvalidCpu:
        return kestrel::code(Error::BadArgument);
    case sched::Hotplug::BootCpu:
        return kestrel::code(Error::BootHart);
    case sched::Hotplug::Timeout:
        return kestrel::code(Error::Busy);
    }
    return kestrel::code(Error::Busy);
}

const ::ipc::CapTable& root_table() {
    if (const ::ipc::CapTable* t = g_root.load(std::memory_order_acquire)) return *t;
    k::SpinGuard g(g_root_lock);
    if (const ::ipc::CapTable* t = g_root.load(std::memory_order_relaxed)) return *t;
    auto* t = new (g_root_mem)::ipc::CapTable(g_root_slot, 1);
    if (t->insert(0, ::ipc::ObjectType::HartControl, &k::ipc::g_hart_control,
                  ::ipc::Rights::send() | ::ipc::Rights::grant()) != ::ipc::CapError::Ok)
        k::panic("proc: the kernel's HartControl capability");
    g_root.store(t, std::memory_order_release);
    return *t;
}

} // namespace

void give_hart_control(Process& p) {
    const ::ipc::CapTable& root = root_table();
    // The table is new and empty: the copy cannot meet an occupied slot.
    k::ipc::SpaceGuard g(p.caps);
    if (p.caps.table.mint(root, 0, k::ipc::kHartControlSlot,
                          ::ipc::Rights::send() | ::ipc::Rights::grant(),
                          ::ipc::kNoBadge) != ::ipc::CapError::Ok)
        k::panic("proc: no room for the root process's HartControl capability");
}

std::int64_t sys_proc_info(const hal::TrapFrame& tf) {
    const std::uint64_t index = tf.x[10], buf = tf.x[11];
    if (index >= kestrel::kMaxProcesses) return kestrel::code(Error::BadArgument);
    kestrel::ProcInfo info{};
    // The buffer first: a bad one is refused whether or not the slot is in use.
    if (const std::int64_t e = uaccess::copy_out(buf, &info, sizeof info); e != 0) return e;
    if (!process_info(static_cast<std::uint32_t>(index), info)) return 0;
    if (const std::int64_t e = uaccess::copy_out(buf, &info, sizeof info); e != 0) return e;
    return 1;
}

std::int64_t sys_hart_info(const hal::TrapFrame& tf) {
    const std::uint64_t hart = tf.x[10], buf = tf.x[11];
    if (hart >= kestrel::kMaxHarts) return kestrel::code(Error::BadArgument);
    kestrel::HartInfo info{};
    if (const std::int64_t e = uaccess::copy_out(buf, &info, sizeof info); e != 0) return e;
    if (hart >= k::cpu_count()) return 0;
    const auto c = static_cast<std::uint32_t>(hart);
    const sched::CpuStats s = sched::stats(c);
    const k::ipi::Snapshot ch = k::ipi::chain(c);
    info.state = static_cast<std::uint32_t>(k::cpu_state(c));
    info.queued = s.queued + s.inbox;
    info.switches = s.switches;
    info.ipis_sent = ch.sent;
    info.ipis_received = ch.trapped;
    info.steals = s.steals;
    info.stolen = s.stolen;
    info.ticks = s.ticks;
    if (const std::int64_t e = uaccess::copy_out(buf, &info, sizeof info); e != 0) return e;
    return 1;
}

std::int64_t sys_hart_control(Thread& me, const hal::TrapFrame& tf, bool online) {
    const ipc::Found f =
        ipc::lookup(*me.ipc.caps, tf.x[10], ::ipc::ObjectType::HartControl, ::ipc::Rights::send());
    // Nothing to put after a lookup: the object is static.
    if (f.error != 0 && !k::fault::is(k::fault::Fault::ShellNoCap)) return f.error;
    const std::uint64_t hart = tf.x[11];
    if (hart >= k::cpu_count()) return kestrel::code(Error::BadArgument);
    const auto c = static_cast<std::uint32_t>(hart);
    // The boot hart keeps the console, the boot task and the kernel's timekeeping; it is also
    // the one hart always online, so "the last online hart" is refused by this rule.
    if (c == 0) return kestrel::code(Error::BootHart);
    std::uint32_t expected = 0;
    if (!g_hotplug_busy.compare_exchange_strong(expected, 1, std::memory_order_acquire))
        return kestrel::code(Error::Busy);
    const sched::Hotplug h =
        online ? sched::bring_online(c) : sched::take_offline(c, kUserHotplugTimeoutUs);
    std::int64_t r = hotplug_error(h);
    // Taken offline, what stays behind: pinned tasks, parked in its closed inbox until it is back.
    if (!online && h == sched::Hotplug::Ok)
        r = k::fault::is(k::fault::Fault::ShellSilentPark) ? 0 : sched::stats(c).inbox;
    g_hotplug_busy.store(0, std::memory_order_release);
    return r;
}

} // namespace k::user
