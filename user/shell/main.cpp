// shell: the command line a person types into (issue 20, RFC-0032). It reads bytes by calling
// the console endpoint (kestrel/console.hpp: kConsoleRead) and writes through the same
// endpoint (kConsoleWrite), so whatever serves the console sees both directions: the
// user-space console driver, or in the selftest the scripted stand-in (user/shellscript).
// Startup: user/shell/proto.hpp. It edits the line itself (user/shell/line_input.hpp) and runs
// one command per line (user/shell/commands.hpp); `help` lists them. `run` starts a job in the
// background and keeps its task capability, so `kill` and `jobs` work on it
// (user/shell/jobs.hpp); `bench` and `fuzz` run in the foreground and report their exit status
// (user/shell/programs.hpp). Bad input gets a one-line message and the next prompt.
#include <kestrel/user.hpp>

#include "commands.hpp"
#include "jobs.hpp"
#include "line_input.hpp"
#include "machine.hpp"
#include "output.hpp"
#include "proto.hpp"

using namespace shell;

namespace {

// The two bootstrap messages (user/shell/proto.hpp).
bool bootstrap() {
    for (uint64_t i = 0; i < 2; ++i) {
        kestrel::IpcMsg m;
        const uint64_t dst = i == 0 ? kShellConsoleSlot : kShellHartSlot;
        if (kestrel::recv(kShellBootSlot, m, nullptr, dst) != 0) return false;
        const uint64_t label = kestrel::tag_label(m.tag);
        if (label == kShellConsole && i == 0) g_console = kestrel::tag_caps(m.tag) == 1;
        if (label == kShellHarts && i == 1) g_harts = kestrel::tag_caps(m.tag) == 1;
    }
    return g_console;
}

} // namespace

int main(int, char**) {
    if (!bootstrap()) {
        out("shell: no console endpoint from my parent\n");
        return kExitBoot;
    }
    (void)kestrel::cap_delete(kShellBootSlot);
    for (uint64_t h = 0; h < kestrel::kMaxHarts; ++h) {
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) != 1) break;
        g_cpus = static_cast<int64_t>(h + 1);
    }
    out("kestrel shell: type help for the commands\n");
    char line[kMaxLine + 1];
    for (;;) {
        reap_ended();
        out("kestrel> ");
        const int64_t n = read_line(line);
        if (n == -1) {
            flush();
            return kExitConsole; // the console is gone: nobody can type any more
        }
        if (n == -2) {
            out("line too long (at most ");
            out(static_cast<int64_t>(kMaxLine));
            out(" bytes): ignored\n");
            continue;
        }
        if (!run_line(line)) break;
    }
    // Jobs still running end with the shell: killed and reaped, so nothing is left behind.
    end_all_jobs();
    out("shutdown: bye\n");
    flush();
    return 0;
}
