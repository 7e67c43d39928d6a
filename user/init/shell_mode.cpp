// init in mode=shell (RFC-0032): no ladder; it starts the shell and the console's server, and
// ends when the shell does. The shell gets the console endpoint and init's HartControl
// capability through its bootstrap endpoint (user/shell/proto.hpp), before the server starts.
#include <kestrel/user.hpp>

#include "../shell/proto.hpp"
#include "init.hpp"

namespace init {

int run_shell_mode() {
    using kestrel::Line;
    constexpr uint64_t kBoot = 43, kConsole = 44, kShellTask = 45, kServerTask = 46;
    constexpr uint64_t kHarts = 62;
    if (kestrel::endpoint_create(kBoot) != 0 || kestrel::endpoint_create(kConsole) != 0) return 2;
    const int64_t shell = kestrel::spawn("shell", 5, nullptr, 0, kBoot, kShellTask);
    if (shell <= 0) {
        Line()
            .put("ULOG: shell mode: spawn of the shell failed: ")
            .put(kestrel::error_name(shell))
            .done();
        return 3;
    }
    kestrel::IpcMsg m = msg(shell::kShellConsole, 0, 1);
    m.mr[3] = kConsole;
    if (kestrel::send(kBoot, m) != 0) return 4;
    m = msg(shell::kShellHarts, 0, 1);
    m.mr[3] = kHarts;
    if (kestrel::send(kBoot, m) != 0) return 4;
    // The console's server: the user-space console driver (image "console": it serves
    // kestrel/console.hpp on the endpoint in its slot 0), else, until there is one, the
    // scripted stand-in playing the README's demo session.
    int64_t server = kestrel::spawn("console", 7, nullptr, 0, kConsole, kServerTask);
    const bool stand_in = server == kestrel::code(kestrel::Error::NoImage);
    if (stand_in) {
        char args[48];
        size_t n = add_arg(args, 0, "script=demo");
        char hart[8] = "hart=1";
        for (uint64_t h = 1; h < 10; ++h) {
            kestrel::HartInfo hi{};
            if (kestrel::hart_info(h, &hi) != 1) break;
            if (hi.state == kestrel::HartOnline) {
                hart[5] = static_cast<char>('0' + h);
                break;
            }
        }
        n = add_arg(args, n, hart);
        Line().put("ULOG: shell mode: no console driver image; the scripted demo types").done();
        server = kestrel::spawn("shellscript", 11, args, n, kConsole, kServerTask);
    }
    if (server <= 0) {
        Line()
            .put("ULOG: shell mode: the console's server did not start: ")
            .put(kestrel::error_name(server))
            .done();
        (void)kestrel::task_kill(kShellTask);
    }
    kestrel::WaitStatus st{};
    (void)kestrel::wait(shell, &st);
    const bool ok = st.kind == kestrel::WaitKind::Exited && st.code == 0;
    if (server > 0) {
        if (stand_in) {
            m = msg(shell::kScriptVerdict, 0);
            (void)kestrel::call(kConsole, m);
        } else {
            (void)kestrel::task_kill(kServerTask);
        }
        kestrel::WaitStatus ss{};
        (void)kestrel::wait(server, &ss);
    }
    return ok ? 0 : 1;
}

} // namespace init
