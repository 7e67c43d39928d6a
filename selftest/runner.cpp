// Runs the registered selftests in ladder order and prints the summary.
#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"
#include "irq/irq.hpp"
#include "kernel/boot_info.hpp"
#include "kernel/boot_mode.hpp"
#include "kernel/boot_task.hpp"
#include "kernel/task_faults.hpp"
#include "ladder_gen.hpp"
#include "sched/watchdog.hpp"
#include "selftest/selftest.hpp"

extern "C" const k::selftest::Test __kselftests_start[], __kselftests_end[];

namespace k::selftest {

namespace {

// No test needs more than a few seconds; a stall past this is a bug.
// `watchdog_ms=N` in the bootargs overrides it (the counterfactual uses it).
constexpr std::uint64_t kTestBoundUs = 60'000'000;

std::uint64_t test_bound_us() {
    const char* v;
    std::size_t len;
    const char* args = platform().bootargs;
    if (!args || !dtb::bootarg_value(args, "watchdog_ms", v, len) || len == 0 || len > 7)
        return kTestBoundUs;
    std::uint64_t ms = 0;
    for (std::size_t i = 0; i < len; ++i) {
        if (v[i] < '0' || v[i] > '9') return kTestBoundUs;
        ms = ms * 10 + static_cast<std::uint64_t>(v[i] - '0');
    }
    return ms ? ms * 1000 : kTestBoundUs;
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b)
        ++a, ++b;
    return *a == *b;
}

const Test* find(const char* name) {
    for (const Test* t = __kselftests_start; t != __kselftests_end; ++t)
        if (same(t->name, name)) return t;
    return nullptr;
}

bool in_ladder(const char* name) {
    for (const LadderEntry& e : kLadder)
        if (same(e.name, name)) return true;
    return false;
}

} // namespace

void selftest_task(void*) {
    switch (boot_mode()) {
    case BootMode::Bench:
        run_bench();
    case BootMode::Torture:
        run_torture();
    case BootMode::Shell:
        run_shell();
    case BootMode::Selftest:
        break;
    }
    const std::uint64_t bound = test_bound_us();
    watchdog::arm("injected faults", bound);
    fault::run_task_faults();
    watchdog::disarm();
    const bool smp = online_count() >= 2;
    std::uint32_t total = 0, passed = 0;
    for (const LadderEntry& e : kLadder) {
        if (e.smp_only && !smp) continue;
        if (e.needs_irq && !irq::active()) { // the DTB describes no controller the kernel drives
            println("KLOG: ", e.name, " skipped: no interrupt controller");
            continue;
        }
        ++total;
        const Test* t = find(e.name);
        if (!t) {
            println("KSELFTEST: ", e.name, " FAIL no such test is registered");
            continue;
        }
        const std::uint64_t start = time::now();
        watchdog::arm(e.name, bound);
        Result r = t->run();
        watchdog::disarm();
        const std::uint64_t took = time::to_us(time::now() - start);
        if (took >= 50'000) println("KLOG: ", t->id, " (", e.name, ") took ", took / 1000, " ms");
        if (r.ok) {
            ++passed;
            println("KSELFTEST: ", e.name, " ok");
        } else {
            println("KSELFTEST: ", e.name, " FAIL ", r.reason ? r.reason : "no reason");
        }
    }
    for (const Test* t = __kselftests_start; t != __kselftests_end; ++t) {
        if (in_ladder(t->name)) continue;
        ++total;
        println("KSELFTEST: ", t->name, " FAIL registered but not in selftest/ladder.txt");
    }
    println("KSELFTEST: summary total=", total, " passed=", passed, " failed=", total - passed);
    println("KSELFTEST: end");
    shutdown(passed == total);
}

} // namespace k::selftest
