// Secondary hart bring-up: cpu indices assigned in DTB order, harts started one by one.
#include "kernel/smp.hpp"

#include "base/console.hpp"
#include "base/hart_start.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "kernel/boot_info.hpp"

extern "C" {
extern volatile std::uint32_t k_boot_intruders; // entry.S: harts sent back from _start
}

namespace k::smp {

std::uint32_t start_secondaries(const dtb::Platform& p, std::uint32_t boot_hart) {
    std::uint32_t next = 1, beyond = 0;
    for (std::uint32_t i = 0; i < p.hart_count; ++i) {
        const dtb::Hart& h = p.harts[i];
        if (h.hart_id == boot_hart) continue;
        if (!h.usable()) {
            println("KINIT: hart ", h.hart_id, " not used (", h.enabled ? "no S-mode" : "disabled",
                    ")");
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
    if (beyond)
        println("KINIT: ", beyond, " hart(s) beyond the ", kMaxCpus, "-cpu limit stay offline");
    set_usable_cpu_target(next);

    std::uint32_t online = 1;
    for (std::uint32_t cpu = 1; cpu < next; ++cpu) {
        if (const char* why = start_cpu(cpu)) {
            println("KINIT: cpu", cpu, " offline (", why, ")");
        } else {
            println("KINIT: cpu", cpu, " online");
            if (const time::TimerSource t = time::source_on(cpu);
                t == time::TimerSource::SbiProbeFault)
                println("KINIT: cpu", cpu, " timer: ", time::source_name(t));
            ++online;
        }
    }
    if (k_boot_intruders)
        println("KINIT: ", k_boot_intruders,
                " hart(s) entered at _start uninvited; sent back to the firmware");
    return online;
}

} // namespace k::smp
