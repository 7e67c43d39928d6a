// init's tests, one group per file, and what they share: the arguments, the failure count and
// the check that prints a test's FAIL line (common.cpp), and the IPC ladder's helpers
// (ipc_support.cpp).
#pragma once

#include <kestrel/user.hpp>

namespace init {

// --- common.cpp: the arguments (main() parses them) and the checks.
extern int64_t g_cpus;   // online harts: the tests that need two run only with N >= 2
extern int64_t g_rounds; // the seed scenario's rounds
// The syscall fuzzer's seed, calls (each) and processes: fuzz_seed=, fuzz_calls=, fuzz_procs=
// from the kernel's bootargs (issue 22).
extern int64_t g_fuzz_seed, g_fuzz_calls, g_fuzz_procs;
// Boot line fuzz_hart_control=1: one fuzzer gets the HartControl capability (off by default:
// RFC-0032 "The fuzzer and hart control" says why).
extern bool g_fuzz_hart_control;
extern int g_failed; // checks failed so far; main() returns it

int64_t e(kestrel::Error x);
bool starts(const char* s, const char* p);
// One check: on failure, prints `SELFTEST: <test> FAIL <what> (got <got>)` and counts it.
bool check(const char* test, bool ok, const char* what, int64_t got = 0);
// `SELFTEST: <test> ok`, when no check failed since `failed_before` (g_failed then).
void pass(const char* test, int failed_before);
int64_t spawn(const char* name, const char* args, size_t args_len, uint64_t cap = kestrel::kNoCap);
// Appends s (or v in decimal) and a NUL to buf at `at`; returns the new end.
size_t add_arg(char* buf, size_t at, const char* s);
size_t add_int(char* buf, size_t at, int64_t v);

// --- process_tests.cpp (RFC-0027).
void test_syscall_errors();
void test_faults();
void test_spawn_args();
void test_thread();
void test_map();
void test_exit_releases_waiters();

// --- fp_tests.cpp (RFC-0027 "Floating point").
void test_fp();

// --- memory_tests.cpp (RFC-0028 "Memory objects").
void test_memory();
// --- time_tests.cpp (RFC-0030)
void test_kill_ends_join();
void test_timed_waits(); // inside test_ipc (its thread stacks)

// --- irq_tests.cpp (RFC-0031): interrupts and device memory (issue 20).
// Whether the kernel drives an interrupt controller here and the DTB describes a goldfish RTC
// on its line 11, as on QEMU virt (whose DTB also has the ns16550a UART on line 10): the
// interrupt and console-driver tests need both (ladder scope `virt`). Asked of the kernel.
bool have_virt_devices();
void test_irq();
// A Platform capability restricted to the device node whose compatible string is `compat`
// (RFC-0031): minted from init's into the empty `dst` with the badge that names that node,
// found by trying badges 1..kMaxDevices with device_get into the empty `scratch` (a device it
// takes there is given back). Returns the badge, or NoDevice (no such node), or cap_mint's
// error.
int64_t restricted_platform(const char* compat, uint64_t dst, uint64_t scratch);
// --- console_tests.cpp: the user-space console driver (issue 20).
void test_console_driver();

// --- shell_tests.cpp (issue 20, RFC-0032): hart control and the shell's commands.
void test_hart_control();
void test_shell();
// --- shell_mode.cpp: mode=shell (no ladder): the shell and its console; init's exit code.
int run_shell_mode();

// --- ipc_support.cpp: the IPC ladder's helpers (RFC-0028). Slots 8.. of init's capability
// space are the tests' own; every test empties them again and checks that the kernel's
// endpoint and notification records came back.
int64_t objects(uint64_t kind); // object_count(kind): free records of that kind
// object_count's kinds: endpoints, notifications, processes, threads, memory objects, irq
// source records, device records (issue 20).
inline constexpr uint64_t kObjectKinds = 7;
struct Objects {
    int64_t v[kObjectKinds];
};
Objects read_objects();
bool same(const Objects& a, const Objects& b);
Objects snapshot();
void check_objects(const char* t, const Objects& before);
void empty_slots(uint64_t from, uint64_t to);
kestrel::IpcMsg msg(uint64_t label, uint64_t length, uint64_t caps = 0);
int64_t spawn_srv(const char* mode, uint64_t cap, const char* extra = nullptr);
bool quit_srv(const char* t, uint64_t slot, int64_t srv);
bool waited(const char* t, int64_t id, kestrel::WaitKind kind, int32_t code, const char* what);
// The console driver's setup (user/console): a call on its endpoint `ep` carrying the capability
// in `slot`, answered with label 0. True when the driver took it.
bool give_cap(uint64_t ep, uint64_t slot);
// An online hart other than the caller's, the next one after it in logical order (hart_info):
// a DTB may list harts that never came (gate-phantom-hart), so "the next index" is not one.
// -1 when no other hart is online.
int64_t other_online_hart();

// Threads for the blocking tests: stacks in the 2 MiB region test_thread's page table covers,
// so mapping and unmapping them costs no page-table frame.
inline constexpr uint64_t kThreadStacks = 0x21100000;
inline constexpr uint64_t kThreadStackPages = 4;
inline constexpr uint64_t kThreadSlots = 8;
int64_t start_thread(void (*fn)(void*), uint64_t index, void* arg);
bool threads_gone(const char* t, int64_t free_before);
bool wait_until(volatile int64_t& v, int64_t not_value, int64_t us);
inline constexpr int64_t kPending = 12345; // a result not returned yet

// A thread blocked in one IPC call (the notification, destruction and server death tests).
struct Job {
    uint64_t op; // 0 recv, 1 send, 2 call, 3 notify_wait
    uint64_t slot;
    volatile int64_t started;
    volatile int64_t result;
};
extern Job g_jobs[6];
void job_thread(void* arg);

// --- the IPC tests (ipc_call_tests.cpp, ipc_notify_tests.cpp, ipc_death_tests.cpp,
// fuzz_driver.cpp).
void test_ipc_round_trip();
void test_ipc_cross_hart();
void test_rights_enforced();
void test_badge_delivered();
void test_notification();
void test_endpoint_destruction();
void test_server_death();
void test_reply_rule();
void test_fuzzer();

} // namespace init
