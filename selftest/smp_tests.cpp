// Bring-up selftests: every usable hart the DTB lists came online.
#include "base/percpu.hpp"
#include "kernel/boot_info.hpp"
#include "selftest/selftest.hpp"

namespace k::selftest {

KSELFTEST(SMP0001, "smp online") {
    // usable_cpu_target(): harts the DTB lists as enabled and S-mode capable
    // (capped at kMaxCpus), counted by the bring-up code, not assumed.
    const std::uint32_t want = usable_cpu_target();
    KCHECK(want >= 2);
    KCHECK(online_count() == want);
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        KCHECK(cpu_state(c) == CpuState::Online);
    return Result::pass();
}

} // namespace k::selftest
