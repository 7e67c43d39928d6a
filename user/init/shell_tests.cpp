// The shell's tests (issue 20, RFC-0032):
//   hart control   the introspection calls and hart_offline/online refuse bad input with their
//                  defined errors; a hart taken offline under a pinned thread of init says the
//                  thread is parked there (never moved silently) and runs it again once back;
//   shell commands the shell (user/shell) run against the scripted stand-in console
//                  (user/shellscript): every command, bad input, and (two harts or more) a hart
//                  taken offline while jobs spin on it; the stand-in checks the shell's output.
#include <kestrel/user.hpp>

#include "../shell/proto.hpp"
#include "init.hpp"

namespace init {

namespace {

using kestrel::Error;

constexpr uint64_t kHarts = 62; // the kernel's HartControl capability (RFC-0032)
// A page of the IPC tests' stack window: its page-table pages exist already (init's own
// tables stay until it ends, and the frame count at the end must match the start).
constexpr uint64_t kStack = kThreadStacks;

volatile uint64_t g_spin_stop = 0;
volatile uint64_t g_spins = 0;

void pinned_spinner(void*) {
    while (g_spin_stop == 0)
        g_spins = g_spins + 1;
    kestrel::exit(0);
}

// The first online hart after the boot hart, or 0 for none.
uint64_t other_hart() {
    for (uint64_t h = 1; h < kestrel::kMaxHarts; ++h) {
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) != 1) return 0;
        if (hi.state == kestrel::HartOnline) return h;
    }
    return 0;
}

} // namespace

void test_hart_control() {
    const char* t = "hart control";
    const int failed = g_failed;
    kestrel::ProcInfo pi{};
    kestrel::HartInfo hi{};
    constexpr uint64_t kKernel = 0xffff'ffc0'0000'0000;
    // Introspection: the bounds, bad buffers, and init finding itself.
    check(t, kestrel::proc_info(kestrel::kMaxProcesses, &pi) == e(Error::BadArgument),
          "proc_info past the table");
    check(t,
          kestrel::raw_call(static_cast<uint64_t>(kestrel::Sys::ProcInfo), 0, 0x10) ==
              e(Error::BadPointer),
          "proc_info into page 0");
    check(t,
          kestrel::raw_call(static_cast<uint64_t>(kestrel::Sys::ProcInfo), 0, kKernel) ==
              e(Error::BadPointer),
          "proc_info into the kernel");
    check(t, kestrel::hart_info(kestrel::kMaxHarts, &hi) == e(Error::BadArgument),
          "hart_info past the bound");
    check(t,
          kestrel::raw_call(static_cast<uint64_t>(kestrel::Sys::HartInfo), 0, kKernel) ==
              e(Error::BadPointer),
          "hart_info into the kernel");
    check(t, kestrel::hart_info(0, &hi) == 1 && hi.state == kestrel::HartOnline,
          "hart_info of the boot hart", hi.state);
    int64_t harts = 0;
    while (kestrel::hart_info(static_cast<uint64_t>(harts), &hi) == 1)
        ++harts;
    check(t, harts >= g_cpus, "hart_info counts the online harts", harts);
    bool me = false;
    for (uint64_t i = 0; i < kestrel::kMaxProcesses; ++i) {
        if (kestrel::proc_info(i, &pi) != 1) continue;
        if (pi.name[0] == 'i' && pi.name[1] == 'n' && pi.name[2] == 'i' && pi.name[3] == 't' &&
            pi.name[4] == '\0' && pi.threads >= 1 && pi.thread[0].id > 0)
            me = true;
    }
    check(t, me, "proc_info lists init with its thread");
    // hart_offline/online: the capability first, then the hart.
    constexpr uint64_t kFree = 40, kEp = 41, kNoSend = 42;
    check(t, kestrel::hart_offline(kFree, 1) == e(Error::EmptySlot), "offline via an empty slot");
    check(t, kestrel::hart_online(kestrel::kCapSlots, 1) == e(Error::SlotOutOfRange),
          "online via a slot out of range");
    check(t, kestrel::endpoint_create(kEp) == 0, "an endpoint");
    check(t, kestrel::hart_offline(kEp, 1) == e(Error::WrongType), "offline via an endpoint");
    check(t, kestrel::cap_copy(kHarts, kNoSend, kestrel::RightGrant) == 0,
          "a HartControl capability without Send");
    check(t, kestrel::hart_offline(kNoSend, 1) == e(Error::MissingRight), "offline without Send");
    (void)kestrel::cap_delete(kEp);
    (void)kestrel::cap_delete(kNoSend);
    check(t, kestrel::hart_offline(kHarts, 0) == e(Error::BootHart), "offline of the boot hart");
    check(t, kestrel::hart_online(kHarts, 0) == e(Error::BootHart), "online of the boot hart");
    check(t, kestrel::hart_offline(kHarts, static_cast<uint64_t>(harts)) == e(Error::BadArgument),
          "offline past the harts");
    check(t, kestrel::hart_online(kHarts, ~uint64_t{0}) == e(Error::BadArgument),
          "online of hart 2^64-1");
    const uint64_t h = other_hart();
    if (h != 0) {
        check(t, kestrel::hart_online(kHarts, h) == e(Error::HartState),
              "online of an online hart");
        // A thread pinned to h, spinning: offline must say it stays parked there.
        const int64_t rw = kestrel::ProtRead | kestrel::ProtWrite;
        g_spin_stop = 0;
        int64_t tid = -1;
        const int64_t free_before = objects(3);
        if (check(t, kestrel::map(kStack, 4096, static_cast<uint64_t>(rw)) == 0, "map a stack"))
            tid = kestrel::thread_create(&pinned_spinner, reinterpret_cast<void*>(kStack + 4096),
                                         nullptr, kestrel::pin_hart(h));
        check(t, tid > 0, "a thread pinned to the other hart", tid);
        if (tid > 0) {
            const uint64_t before = g_spins;
            const int64_t deadline = kestrel::time_us() + 5'000'000;
            while (g_spins == before && kestrel::time_us() < deadline)
                kestrel::sleep_us(1000);
            const int64_t parked = kestrel::hart_offline(kHarts, h);
            check(t, parked >= 1, "offline says the pinned thread stays parked", parked);
            if (parked >= 0) {
                check(t, kestrel::hart_offline(kHarts, h) == e(Error::HartState),
                      "offline of an offline hart");
                check(t, kestrel::hart_info(h, &hi) == 1 && hi.state == kestrel::HartOffline,
                      "hart_info says offline", hi.state);
                const uint64_t at = g_spins;
                kestrel::sleep_us(20'000);
                check(t, g_spins == at, "the parked thread does not run elsewhere",
                      static_cast<int64_t>(g_spins - at));
                check(t, kestrel::hart_online(kHarts, h) == 0, "online again");
                const uint64_t back = g_spins;
                const int64_t until = kestrel::time_us() + 5'000'000;
                while (g_spins == back && kestrel::time_us() < until)
                    kestrel::sleep_us(1000);
                check(t, g_spins != back, "the parked thread runs again");
            }
            g_spin_stop = 1;
            (void)threads_gone(t, free_before);
        }
        (void)kestrel::unmap(kStack, 4096);
    }
    pass(t, failed);
}

void test_shell() {
    const char* t = "shell commands";
    const int failed = g_failed;
    const Objects before = snapshot();
    const int64_t start = kestrel::time_us();
    constexpr uint64_t kBoot = 43, kConsole = 44;
    if (!check(t, kestrel::endpoint_create(kBoot) == 0 && kestrel::endpoint_create(kConsole) == 0,
               "two endpoints"))
        return;
    const uint64_t h = other_hart();
    char args[64];
    size_t n = add_arg(args, 0, "script=selftest");
    n = add_arg(args, n, h != 0 ? "cpus=2" : "cpus=1");
    char hart[8] = "hart=1";
    hart[5] = static_cast<char>('0' + (h != 0 && h < 10 ? h : 1));
    n = add_arg(args, n, hart);
    // The shell first, so that only it receives the bootstrap messages; then its console.
    const int64_t shell = kestrel::spawn("shell", 5, nullptr, 0, kBoot);
    check(t, shell > 0, "spawn the shell", shell);
    kestrel::IpcMsg m = msg(shell::kShellConsole, 0, 1);
    m.mr[3] = kConsole;
    check(t, shell > 0 && kestrel::send(kBoot, m) == 0, "send the console endpoint");
    m = msg(shell::kShellHarts, 0, 1);
    m.mr[3] = kHarts;
    check(t, shell > 0 && kestrel::send(kBoot, m) == 0, "send the HartControl capability");
    const int64_t script = spawn("shellscript", args, n, kConsole);
    check(t, script > 0, "spawn the scripted console", script);
    if (shell > 0) waited(t, shell, kestrel::WaitKind::Exited, 0, "the shell ended by shutdown");
    if (script > 0) {
        m = msg(shell::kScriptVerdict, 0);
        const int64_t r = kestrel::call(kConsole, m);
        check(t, r == 0 && kestrel::tag_label(m.tag) == 0, "every expectation of the script met",
              r == 0 ? static_cast<int64_t>(kestrel::tag_label(m.tag)) : r);
        waited(t, script, kestrel::WaitKind::Exited, 0, "the scripted console ended");
    }
    (void)kestrel::cap_delete(kBoot);
    (void)kestrel::cap_delete(kConsole);
    kestrel::Line()
        .put("ULOG: shell script took ")
        .put((kestrel::time_us() - start) / 1000)
        .put(" ms")
        .done();
    check_objects(t, before);
    pass(t, failed);
}

} // namespace init
