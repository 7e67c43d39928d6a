// init: the first user program, and the user half of the selftest ladder (RFC-0027). Each
// `SELFTEST: <name> ok` line is printed by the code that checked it, after the check; a failed
// check prints `SELFTEST: <name> FAIL <what>`. argv: "cpus=N" (online harts; the tests that
// need two harts run only when N >= 2), "rounds=R" (the seed scenario's rounds) and the
// fuzzer's "fuzz_seed=", "fuzz_calls=", "fuzz_procs=".
//
// The tests, one group per file (user/init/init.hpp declares what they share):
//   process_tests.cpp   syscall errors and the register ABI (reg_check.S), faults, spawn
//                       arguments, threads, map and unmap, exit releasing waiters (RFC-0027)
//   ipc_call_tests.cpp  IPC round trip, cross-hart, rights, badges (RFC-0028)
//   ipc_notify_tests.cpp  notifications
//   ipc_death_tests.cpp   endpoint destruction, server death, the reply rule
//   fuzz_driver.cpp     the syscall fuzzer run and its summaries (issue 22)
//   irq_tests.cpp       interrupts and device memory (issue 20, RFC-0031)
//   console_tests.cpp   the user-space console driver, its write and its input (issue 20)
//   shell_tests.cpp     hart control and the shell against a scripted console (RFC-0032)
//   ipc_support.cpp     the IPC tests' helpers; common.cpp the checks and the arguments
#include <kestrel/user.hpp>

#include "init.hpp"

using kestrel::Line;

namespace init {

namespace {

void test_ipc() {
    const int64_t rw = kestrel::ProtRead | kestrel::ProtWrite;
    if (!check("ipc round trip",
               kestrel::map(kThreadStacks, kThreadSlots * kThreadStackPages * 4096,
                            static_cast<uint64_t>(rw)) == 0,
               "map the thread stacks"))
        return;
    test_ipc_round_trip();
    if (g_cpus >= 2) test_ipc_cross_hart();
    test_rights_enforced();
    test_badge_delivered();
    test_notification();
    test_endpoint_destruction();
    test_server_death();
    test_reply_rule();
    test_timed_waits();
    test_fuzzer();
    check("syscall fuzzer",
          kestrel::unmap(kThreadStacks, kThreadSlots * kThreadStackPages * 4096) == 0,
          "unmap the thread stacks");
}

} // namespace

} // namespace init

int main(int argc, char** argv) {
    using namespace init;
    for (int i = 0; i < argc; ++i)
        if (starts(argv[i], "mode=shell")) return run_shell_mode(); // RFC-0032: no ladder
    // Printed only once a user instruction ran and a syscall came back.
    Line().put("SELFTEST: first user instruction ok").done();
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "cpus=")) g_cpus = kestrel::parse_int(argv[i] + 5);
        if (starts(argv[i], "rounds=")) g_rounds = kestrel::parse_int(argv[i] + 7);
        if (starts(argv[i], "fuzz_seed=")) g_fuzz_seed = kestrel::parse_int(argv[i] + 10);
        if (starts(argv[i], "fuzz_calls=")) g_fuzz_calls = kestrel::parse_int(argv[i] + 11);
        if (starts(argv[i], "fuzz_procs=")) g_fuzz_procs = kestrel::parse_int(argv[i] + 11);
        if (starts(argv[i], "fuzz_hart_control=1")) g_fuzz_hart_control = true;
    }
    test_syscall_errors();
    // These two leave page-table pages in init's own space (unmap keeps tables until the
    // space goes): the kernel checks those come back when init ends. From here, every frame a
    // child takes must be back when it has been waited for.
    test_map();
    test_thread();
    // Before the fuzzer: its random calls must meet the hart-control rules already checked.
    test_hart_control();
    const int64_t frames = kestrel::frame_count();
    test_spawn_args();
    test_faults();
    test_fp();
    if (g_cpus >= 2) test_exit_releases_waiters();
    test_ipc();
    test_memory();
    test_kill_ends_join();
    if (have_virt_devices()) {
        test_irq();
        test_console_driver();
    } else {
        Line()
            .put("ULOG: no interrupt controller with a goldfish RTC here (the DTB describes "
                 "none): the interrupt and console-driver tests are skipped")
            .done();
    }
    test_shell();
    const int64_t after = kestrel::frame_count();
    Line().put("ULOG: frames at start ").put(frames).put(", at end ").put(after).done();
    if (check("user frames back", frames == after, "free frames differ", after - frames))
        Line().put("SELFTEST: user frames back ok").done();
    Line().put("SELFTEST: end").done();
    return g_failed;
}
