// Floating point in user threads (RFC-0027 "Floating point"): user/fpstorm on every hart.
#include "init.hpp"

namespace init {

using kestrel::Line;

// `fpstorm` with two threads per hart, 3 generations of 40 rounds: every
// round's 33 registers must come back as the thread left them, every thread's first look must
// find zeros, and with two harts or more some round must have moved between harts.
void test_fp() {
    const char* t = "fp registers per thread";
    const int before = g_failed;
    // Two per hart, 4 to 15 (a process has at most 16 threads, kMaxThreadsPerProcess).
    const int64_t threads = g_cpus * 2 < 4 ? 4 : g_cpus * 2 > 15 ? 15 : g_cpus * 2;
    char args[96];
    size_t n = add_arg(args, 0, "threads=");
    n = add_int(args, n - 1, threads);
    n = add_arg(args, n, "gens=3");
    n = add_arg(args, n, "rounds=40");
    n = add_arg(args, n, "seed=");
    n = add_int(args, n - 1, 5);
    n = add_arg(args, n, "harts=");
    n = add_int(args, n - 1, g_cpus);
    const int64_t id = spawn("fpstorm", args, n);
    if (!check(t, id > 0, "spawn fpstorm", id)) return;
    kestrel::WaitStatus st{};
    const int64_t r = kestrel::wait(id, &st);
    check(t, r == 0 && st.kind == kestrel::WaitKind::Exited, "fpstorm ended", st.code);
    check(t, st.code == 0, "fpstorm's checks (1 wrong, 2 dirty first look, 4 main, 8 no move)",
          st.code);
    pass(t, before);
}

} // namespace init
