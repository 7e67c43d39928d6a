// Starting and stopping one hart through SBI HSM: the firmware side of the per-hart states
// (base/percpu.hpp), each wait bounded. Boot (kernel/smp.cpp) and hot-plug (sched) use it.
#include "base/hart_start.hpp"
#include "base/rfence_gate.hpp"

#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "sbi.hpp"
#include "trap_frame.hpp"

extern "C" {
extern volatile std::uint32_t k_boot_intruders;     // entry.S: harts sent back from _start
extern volatile std::uint64_t k_boot_intruder_hart; // entry.S: the last one's hart id
}

namespace k::smp {

namespace {

constexpr std::uint64_t kArrivalTimeoutUs = 5'000'000;
constexpr long kSbiAlreadyAvailable = -6;

// kfault=early-online: how long the hart stays Online before it takes work.
constexpr std::uint64_t kEarlyOnlineDelayUs = 20'000;

bool parked_in_firmware(const PerCpu& c) {
    return hal::sbi::hart_status(c.head.hart_id).value ==
           static_cast<long>(hal::sbi::HartState::Stopped);
}

// hart_start, retried once if the hart was not parked in the firmware yet
// (it may have wandered into our entry and be handing itself back).
hal::sbi::Ret kick(std::uint32_t cpu, PerCpu& c, std::uintptr_t entry) {
    hal::sbi::Ret r =
        hal::sbi::hart_start(c.head.hart_id, entry, reinterpret_cast<std::uintptr_t>(&c));
    if (r.error != kSbiAlreadyAvailable) return r;
    const std::uint64_t deadline = time::now() + time::from_us(kArrivalTimeoutUs);
    if (!time::wait_until(deadline, [&c] { return parked_in_firmware(c); })) return r;
    println("KINIT: cpu", cpu, " hart ", c.head.hart_id, " was busy in the firmware; retrying");
    return hal::sbi::hart_start(c.head.hart_id, entry, reinterpret_cast<std::uintptr_t>(&c));
}

// The hart claimed its block (Joining) and publishes Online itself once it
// takes work. Bounded like the arrival; on expiry whoever wins the
// Joining -> {Online, Offline} exchange decides.
const char* await_online(std::uint32_t cpu) {
    (void)time::wait_until(time::now() + time::from_us(kArrivalTimeoutUs),
                           [cpu] { return cpu_state(cpu) != CpuState::Joining; });
    if (claim_cpu_state(cpu, CpuState::Joining, CpuState::Offline))
        return "arrived but did not go online within 5000 ms";
    return cpu_state(cpu) == CpuState::Online ? nullptr : "left while joining";
}

} // namespace

// Seen under MTTCG: a hart whose host thread was slow to get through the
// firmware's warm boot took our hart_start but then left the firmware at the
// default next address (our _start) instead of secondary_entry. entry.S sends
// such a hart back (HSM stop) and counts it; we notice the count move, wait
// for the hart to be parked, and start it again, once.
const char* start_cpu(std::uint32_t cpu) {
    PerCpu& c = cpu_block(cpu);
    // Its IPI chain is reset by the hart itself, before it publishes Online.
    set_cpu_state(cpu, CpuState::Starting);
    std::uintptr_t entry = reinterpret_cast<std::uintptr_t>(&secondary_entry);
    // The firmware's own region: not executable for S-mode, so OpenSBI refuses it.
    if (fault::is(fault::Fault::HartStartFail) && cpu + 1 == cpu_count()) entry = 0x80000000;
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::uint32_t intruders = k_boot_intruders;
        const hal::sbi::Ret r = kick(cpu, c, entry);
        if (r.error != 0) {
            // It may have arrived after all (a retry raced a start in flight).
            if (!claim_cpu_state(cpu, CpuState::Starting, CpuState::Offline))
                return await_online(cpu);
            return hal::sbi::error_name(r.error);
        }
        const std::uint32_t hart = c.head.hart_id;
        auto came_in_at_start = [intruders, hart] {
            return k_boot_intruders != intruders && k_boot_intruder_hart == hart;
        };
        const std::uint64_t deadline = time::now() + time::from_us(kArrivalTimeoutUs);
        (void)time::wait_until(deadline, [cpu, &came_in_at_start] {
            return cpu_state(cpu) != CpuState::Starting || came_in_at_start();
        });
        if (cpu_state(cpu) != CpuState::Starting) return await_online(cpu);
        if (!came_in_at_start()) break; // plain timeout
        println("KINIT: cpu", cpu, " hart ", c.head.hart_id,
                " came up at _start instead of its start address; starting it again");
        (void)time::wait_until(time::now() + time::from_us(kArrivalTimeoutUs),
                               [&c] { return parked_in_firmware(c); });
    }
    // A late arrival must not go online after we said offline: whoever wins
    // the Starting -> {Joining, Offline} exchange decides.
    if (claim_cpu_state(cpu, CpuState::Starting, CpuState::Offline))
        return "did not arrive within 5000 ms";
    return await_online(cpu);
}

bool restart_cpu(std::uint32_t cpu) {
    rfence::reopen(cpu); // stopped: the firmware leaves it out of fences until it has started
    return start_cpu(cpu) == nullptr;
}

bool publish_online(std::uint32_t cpu) {
    if (claim_cpu_state(cpu, CpuState::Joining, CpuState::Online)) return true;
    // kfault=early-online published it already, before anything it promises.
    return fault::is(fault::Fault::EarlyOnline) && cpu_state(cpu) == CpuState::Online;
}

void inject_early_online(std::uint32_t cpu) {
    if (!fault::is(fault::Fault::EarlyOnline)) return;
    set_cpu_state(cpu, CpuState::Online);
    (void)time::wait_until(time::now() + time::from_us(kEarlyOnlineDelayUs), [] { return false; });
}

namespace {

// Sleeps until the boot hart has moved `cpu` out of `from`, at most twice the arrival bound.
void wait_declared_offline(std::uint32_t cpu, CpuState from) {
    (void)time::wait_until(time::now() + time::from_us(2 * kArrivalTimeoutUs),
                           [cpu, from] { return cpu_state(cpu) != from; });
}

bool late_here(fault::Fault f, std::uint32_t cpu) {
    return fault::is(f) && cpu + 1 == cpu_count();
}

} // namespace

void inject_late_arrival(std::uint32_t cpu) {
    if (late_here(fault::Fault::LateArrival, cpu)) wait_declared_offline(cpu, CpuState::Starting);
}

void inject_late_join(std::uint32_t cpu) {
    if (late_here(fault::Fault::LateJoin, cpu)) wait_declared_offline(cpu, CpuState::Joining);
}

bool confirm_stopped(std::uint32_t cpu) {
    if (cpu_state(cpu) == CpuState::Stopping && parked_in_firmware(cpu_block(cpu)))
        (void)claim_cpu_state(cpu, CpuState::Stopping, CpuState::Offline);
    return cpu_state(cpu) == CpuState::Offline;
}

} // namespace k::smp
