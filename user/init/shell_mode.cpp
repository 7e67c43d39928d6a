// init in mode=shell (RFC-0032): no ladder; it starts the user-space console driver (RFC-0031
// "The console driver") with the UART's Device and Irq capabilities, then the shell, and ends
// when the shell does. The driver is set up before the shell learns the console endpoint, so
// the shell's first read can never be taken for a setup message. The shell gets the console
// endpoint and init's HartControl capability through its bootstrap endpoint
// (user/shell/proto.hpp).
#include <kestrel/user.hpp>

#include "../shell/proto.hpp"
#include "init.hpp"

namespace init {

namespace {

using kestrel::Line;

constexpr uint64_t kBoot = 43, kConsole = 44, kShellTask = 45, kServerTask = 46;
constexpr uint64_t kDev = 47, kIrq = 48;
constexpr uint64_t kHarts = 62;
constexpr uint64_t kUartSource = 10; // QEMU virt's UART line (device_get returns it)

void say(const char* what, int64_t e) {
    Line().put("ULOG: shell mode: ").put(what).put(": ").put(kestrel::error_name(e)).done();
}

// The driver on kConsole, holding the UART and its interrupt: its task id, or an error.
int64_t start_driver() {
    const int64_t drv = kestrel::spawn("console", 7, nullptr, 0, kConsole, kServerTask);
    if (drv <= 0) return drv;
    const int64_t src = kestrel::device_get(kestrel::kPlatformSlot, "ns16550a", 8, kDev);
    int64_t e = src == static_cast<int64_t>(kUartSource)
                    ? kestrel::irq_get(kestrel::kPlatformSlot, kUartSource, kIrq)
                    : (src < 0 ? src : kestrel::code(kestrel::Error::NoDevice));
    if (e == 0 && !(give_cap(kConsole, kDev) && give_cap(kConsole, kIrq)))
        e = kestrel::code(kestrel::Error::ServerGone);
    empty_slots(kDev, kIrq + 1); // the driver's copies hold the UART from here
    if (e != 0) {
        (void)kestrel::task_kill(kServerTask);
        kestrel::WaitStatus st{};
        (void)kestrel::wait(drv, &st);
        return e;
    }
    return drv;
}

} // namespace

int run_shell_mode() {
    if (kestrel::endpoint_create(kBoot) != 0 || kestrel::endpoint_create(kConsole) != 0) return 2;
    const int64_t server = start_driver();
    if (server <= 0) {
        say("the console driver did not start", server);
        return 3;
    }
    const int64_t shell = kestrel::spawn("shell", 5, nullptr, 0, kBoot, kShellTask);
    kestrel::IpcMsg m = msg(shell::kShellConsole, 0, 1);
    m.mr[3] = kConsole;
    const bool told = shell > 0 && kestrel::send(kBoot, m) == 0;
    m = msg(shell::kShellHarts, 0, 1);
    m.mr[3] = kHarts;
    const bool ok_start = told && kestrel::send(kBoot, m) == 0;
    bool ok = false;
    if (shell <= 0) {
        say("spawn of the shell failed", shell);
    } else {
        if (!ok_start) (void)kestrel::task_kill(kShellTask);
        kestrel::WaitStatus st{};
        (void)kestrel::wait(shell, &st);
        ok = ok_start && st.kind == kestrel::WaitKind::Exited && st.code == 0;
    }
    (void)kestrel::task_kill(kServerTask);
    kestrel::WaitStatus ss{};
    (void)kestrel::wait(server, &ss);
    return ok ? 0 : 1;
}

} // namespace init
