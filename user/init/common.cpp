// init's shared state and helpers (user/init/init.hpp).
#include <kestrel/user.hpp>

#include "init.hpp"

using kestrel::Error;
using kestrel::Line;

namespace init {

int64_t g_cpus = 1;
int64_t g_rounds = 1000;
// The syscall fuzzer's seed, calls (each) and processes: fuzz_seed=, fuzz_calls=, fuzz_procs=
// from the kernel's bootargs (issue 22).
int64_t g_fuzz_seed = 12345, g_fuzz_calls = 100000, g_fuzz_procs = 1;
bool g_fuzz_hart_control = false;
int g_failed = 0;

int64_t e(Error x) {
    return static_cast<int64_t>(x);
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

// One check: on failure, says which and counts it.
bool check(const char* test, bool ok, const char* what, int64_t got) {
    if (!ok) {
        Line()
            .put("SELFTEST: ")
            .put(test)
            .put(" FAIL ")
            .put(what)
            .put(" (got ")
            .put(got)
            .put(")")
            .done();
        ++g_failed;
    }
    return ok;
}

void pass(const char* test, int failed_before) {
    if (g_failed == failed_before) Line().put("SELFTEST: ").put(test).put(" ok").done();
}

int64_t spawn(const char* name, const char* args, size_t args_len, uint64_t cap) {
    return kestrel::spawn(name, kestrel::str_len(name), args, args_len, cap);
}

// Appends s and its NUL to buf at `at`.
size_t add_arg(char* buf, size_t at, const char* s) {
    while (*s)
        buf[at++] = *s++;
    buf[at++] = '\0';
    return at;
}

size_t add_int(char* buf, size_t at, int64_t v) {
    at += kestrel::format_int(v, buf + at);
    buf[at++] = '\0';
    return at;
}

int64_t other_online_hart() {
    const int64_t self = kestrel::current_cpu();
    for (uint64_t i = 1; i < kestrel::kMaxHarts; ++i) {
        const uint64_t h = (static_cast<uint64_t>(self) + i) % kestrel::kMaxHarts;
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) == 1 && hi.state == kestrel::HartOnline)
            return static_cast<int64_t>(h);
    }
    return -1;
}

} // namespace init
