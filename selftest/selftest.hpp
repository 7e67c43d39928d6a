// Kernel selftests: self-registering, ordered by selftest/ladder.txt, one
// marker line each, printed only after the test checked its claim.
#pragma once

#include <cstdint>

namespace k::selftest {

struct [[nodiscard]] Result {
    bool ok;
    const char* reason; // why it failed; nullptr when ok

    static constexpr Result pass() { return Result{true, nullptr}; }
    static constexpr Result fail(const char* why) { return Result{false, why}; }
};

struct Test {
    const char* id;   // stable number, e.g. "SCHED0003"
    const char* name; // the marker name: "KSELFTEST: <name> ok"
    Result (*run)();
};

// Checks a condition inside a test; a failed check returns its text.
#define KCHECK(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) return ::k::selftest::Result::fail("check failed: " #cond);                   \
    } while (0)

// The other boot modes (kernel/boot_mode.hpp): each prints its own report
// and shuts down with its verdict.
[[noreturn]] void run_bench();
[[noreturn]] void run_torture();
[[noreturn]] void run_shell(); // mode=shell (selftest/shell_boot.cpp, RFC-0032)

#define KSELFTEST(ident, marker_name)                                                              \
    static ::k::selftest::Result ident##_run();                                                    \
    [[gnu::used, gnu::section(".kselftests." #ident)]] constexpr ::k::selftest::Test ident{        \
        #ident, marker_name, &ident##_run};                                                        \
    static ::k::selftest::Result ident##_run()

} // namespace k::selftest
