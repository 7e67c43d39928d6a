// Platform selftests: the boot ran on facts the DTB supplied, and the probe fixup path works on
// every online hart.
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "kernel/boot_info.hpp"
#include "probe.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "trap/trap.hpp"

namespace k::selftest {

KSELFTEST(PLAT0001, "platform from dtb") {
    // Set at boot when an essential fact (tree, cpus, boot hart, memory)
    // came from a default: such a boot must not pass, whatever else works.
    if (const char* why = platform_fallback()) return Result::fail(why);
    const dtb::Platform& p = platform();
    KCHECK((p.defaulted & (dtb::kNoCpus | dtb::kNoMemory)) == 0);
    // The timebase in use is the DTB's when it was usable, and in range either way.
    KCHECK(time::timebase_in_range(time::hz()));
    KCHECK((p.defaulted & dtb::kNoTimebase) != 0 || time::hz() == p.timebase_hz);
    return Result::pass();
}

KSELFTEST(PLAT0002, "probe fixup") {
    // An illegal instruction at a probe pc comes back as a failed probe (and
    // is counted), on every online hart; any other one would be a KPANIC.
    std::uint32_t harts = 0;
    for (std::uint32_t c = 0; c < cpu_count(); ++c) {
        if (!cpu_online(c)) continue;
        KCHECK(cpu_block(c).timer_probed); // each hart probed its timer before going online
        const std::uint64_t before = trap::fixups();
        hal::Probe r = hal::Probe::Works;
        std::uint32_t ran_on = ~0u;
        KCHECK(run_on(c, [&] {
            ran_on = sched::cpu_of_current();
            r = hal::probe_illegal();
        }));
        KCHECK(ran_on == c);
        KCHECK(r == hal::Probe::Traps);
        KCHECK(trap::fixups() > before);
        ++harts;
    }
    KCHECK(harts == online_count());
    return Result::pass();
}

} // namespace k::selftest
