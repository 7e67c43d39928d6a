// Interrupts to user space (issue 20, RFC-0031): the platform controller's sources, each
// named by at most one Irq capability's record, bound to an IPC notification. A source that
// fires is masked, its notification signalled with the binding's badge (or the interrupt is
// latched while nothing is bound), and it stays masked until irq_ack.
#pragma once

#include "dtb/irq_info.hpp"
#include "ipc/cap_space.hpp"

#include <cstdint>

namespace k::irq {

// Source records (sources 1..kMaxSources-1 are driven; QEMU virt has 95).
inline constexpr std::uint32_t kMaxSources = 128;

// Boot hart, Sv39 on (the controller mapped at kspace::kIrqWindow), before the other harts
// start: masks every source in every S context, delivers-or-clears what the boot left
// pending (latched for its first binding), registers the trap handler and the offline hook.
// An APLIC or no controller: a line, and no interrupt capabilities (NoDevice).
void init(const dtb::IrqInfo& info);
bool active();
// A hart that (re)started, before it takes work: the firmware's warm start closed its S
// context (OpenSBI sets the threshold to 7 and clears its enables); opened again, with the
// sources routed to it enabled.
void this_hart_up();

// The calls (user/include/kestrel/syscall.hpp): 0 or a result, else a negative kestrel error.
std::int64_t get(ipc::CapSpace& caps, std::uint64_t platform, std::uint64_t source,
                 std::uint64_t dst);
std::int64_t bind(ipc::CapSpace& caps, std::uint64_t irq, std::uint64_t notification,
                  std::uint64_t badge);
std::int64_t ack(ipc::CapSpace& caps, std::uint64_t irq);
std::int64_t route(ipc::CapSpace& caps, std::uint64_t irq, std::uint64_t cpu);
std::int64_t status(ipc::CapSpace& caps, std::uint64_t irq);

// Free source records now (object_count kind 5): driven sources without an Irq capability.
std::uint32_t free_handlers();
// The logical cpu `source` is routed to (kernel selftests); kMaxSources: not held.
std::uint32_t route_of(std::uint32_t source);
// Sources pending when init ran (each latched or, under kfault irq-boot-stuck, claimed).
std::uint32_t boot_pending();
// Deliveries so far (to a notification; latched ones count when bind delivers them).
std::uint64_t deliveries();

} // namespace k::irq
