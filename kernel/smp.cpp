// Secondary harts: assigned dense cpu indices in DTB order, started one by one.
#include "kernel/smp.hpp"

#include "kernel/boot_info.hpp"
#include "kernel/console.hpp"
#include "kernel/fault.hpp"
#include "kernel/percpu.hpp"
#include "kernel/time.hpp"
#include "trap/ipi.hpp"
#include "sbi.hpp"
#include "trap_frame.hpp"

extern "C" volatile std::uint32_t k_boot_intruders; // entry.S

namespace k::smp {

namespace {

constexpr std::uint64_t kArrivalTimeoutUs = 5'000'000;
constexpr long kSbiAlreadyAvailable = -6;

bool claim_state(std::uint32_t cpu, CpuState from, CpuState to) {
    auto expected = static_cast<std::uint32_t>(from);
    return cpu_block(cpu).state.compare_exchange_strong(expected, static_cast<std::uint32_t>(to),
                                                        std::memory_order_acq_rel);
}

// Returns nullptr when the cpu came online, else the reason it did not.
const char* start_one(std::uint32_t cpu) {
    PerCpu& c = cpu_block(cpu);
    ipi::reset_target(cpu);
    set_cpu_state(cpu, CpuState::Starting);
    std::uintptr_t entry = reinterpret_cast<std::uintptr_t>(&secondary_entry);
    if (fault::is(fault::Fault::HartStartFail) && cpu + 1 == cpu_count()) entry = 0x1; // misaligned
    hal::sbi::Ret r = hal::sbi::hart_start(c.head.hart_id, entry, reinterpret_cast<std::uintptr_t>(&c));
    if (r.error == kSbiAlreadyAvailable) {
        // The hart is not parked in the firmware yet (it may have wandered
        // into our entry and be handing itself back): wait until it is, once.
        const std::uint64_t deadline = time::now() + time::from_us(kArrivalTimeoutUs);
        if (time::wait_until(deadline, [&c] {
                return hal::sbi::hart_status(c.head.hart_id).value ==
                       static_cast<long>(hal::sbi::HartState::Stopped);
            })) {
            println("KINIT: cpu", cpu, " hart ", c.head.hart_id, " was busy in the firmware; retrying");
            r = hal::sbi::hart_start(c.head.hart_id, entry, reinterpret_cast<std::uintptr_t>(&c));
        }
    }
    if (r.error != 0) {
        set_cpu_state(cpu, CpuState::Offline);
        return hal::sbi::error_name(r.error);
    }
    std::uint64_t deadline = time::now() + time::from_us(kArrivalTimeoutUs);
    if (time::wait_until(deadline, [cpu] { return cpu_state(cpu) == CpuState::Online; }))
        return nullptr;
    // A late arrival must not go online after we said offline: whoever wins
    // the Starting -> {Online, Offline} exchange decides.
    if (claim_state(cpu, CpuState::Starting, CpuState::Offline)) return "did not arrive within 5000 ms";
    return nullptr;
}

} // namespace

std::uint32_t start_secondaries(const dtb::Platform& p, std::uint32_t boot_hart) {
    std::uint32_t next = 1, beyond = 0;
    for (std::uint32_t i = 0; i < p.hart_count; ++i) {
        const dtb::Hart& h = p.harts[i];
        if (h.hart_id == boot_hart) continue;
        if (!h.usable()) {
            println("KINIT: hart ", h.hart_id, " not used (", h.enabled ? "no S-mode" : "disabled", ")");
            continue;
        }
        if (next >= kMaxCpus) {
            ++beyond;
            continue;
        }
        percpu_prepare(next, h.hart_id);
        set_cpu_count(next + 1);
        ++next;
    }
    beyond += p.harts_dropped;
    if (beyond) println("KINIT: ", beyond, " hart(s) beyond the ", kMaxCpus, "-cpu limit stay offline");
    set_usable_cpu_target(next);

    std::uint32_t online = 1;
    for (std::uint32_t cpu = 1; cpu < next; ++cpu) {
        if (const char* why = start_one(cpu)) {
            println("KINIT: cpu", cpu, " offline (", why, ")");
        } else {
            println("KINIT: cpu", cpu, " online");
            ++online;
        }
    }
    if (k_boot_intruders)
        println("KINIT: ", k_boot_intruders, " hart(s) entered at _start uninvited; sent back to the firmware");
    return online;
}

bool restart_cpu(std::uint32_t cpu) { return start_one(cpu) == nullptr; }

} // namespace k::smp
