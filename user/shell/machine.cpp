// The shell's process and hart commands (user/shell/machine.hpp).
#include "machine.hpp"

#include <kestrel/user.hpp>

#include "output.hpp"
#include "proto.hpp"
#include "words.hpp"

namespace shell {

bool g_harts = false;
int64_t g_cpus = 1;

namespace {

const char* state_name(uint32_t s) {
    switch (s) {
    case kestrel::ThreadReady:
        return "ready";
    case kestrel::ThreadRunning:
        return "running";
    case kestrel::ThreadBlocked:
        return "blocked";
    case kestrel::ThreadExited:
        return "exited";
    default:
        return "?";
    }
}

const char* hart_state_name(uint32_t s) {
    switch (s) {
    case kestrel::HartAbsent:
        return "absent";
    case kestrel::HartStarting:
        return "starting";
    case kestrel::HartOnline:
        return "online";
    case kestrel::HartOffline:
        return "offline";
    case kestrel::HartJoining:
        return "joining";
    case kestrel::HartStopping:
        return "stopping";
    default:
        return "?";
    }
}

} // namespace

void cmd_ps() {
    out("  ID PARENT NAME             THREADS\n");
    for (uint64_t i = 0; i < kestrel::kMaxProcesses; ++i) {
        kestrel::ProcInfo pi{};
        if (kestrel::proc_info(i, &pi) != 1) continue;
        out("  ");
        out(static_cast<int64_t>(pi.id));
        out(" ");
        out(static_cast<int64_t>(pi.parent));
        out(" ");
        out(pi.name);
        out(" ");
        out(static_cast<int64_t>(pi.threads));
        out(pi.dead ? " ended\n" : "\n");
        for (uint64_t t = 0; t < pi.threads && t < kestrel::kProcInfoThreads; ++t) {
            const kestrel::ThreadInfo& ti = pi.thread[t];
            if (ti.id == 0) continue;
            // A thread that can run (ready, running) is shown on its hart: "hH thread" or,
            // pinned, "hH pinned thread", so a test can tell them apart by the text alone. A
            // blocked one has no hart until it is woken (a wake may send it elsewhere): it
            // shows where it last ran, after its state.
            const bool runnable =
                ti.state == kestrel::ThreadReady || ti.state == kestrel::ThreadRunning;
            out("      ");
            if (runnable) {
                out("h");
                out(static_cast<int64_t>(ti.hart));
                out(" ");
            }
            out(ti.pinned ? "pinned thread " : "thread ");
            out(static_cast<int64_t>(ti.id));
            out(" ");
            out(state_name(ti.state));
            if (!runnable) {
                out(" (last on h");
                out(static_cast<int64_t>(ti.hart));
                out(")");
            }
            out("\n");
        }
    }
}

void cmd_harts() {
    for (uint64_t h = 0; h < kestrel::kMaxHarts; ++h) {
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) != 1) break;
        out("hart ");
        out(static_cast<int64_t>(h));
        out(" ");
        out(hart_state_name(hi.state));
        out(" queued ");
        out(static_cast<int64_t>(hi.queued));
        out(" switches ");
        out(static_cast<int64_t>(hi.switches));
        out(" ipi sent/taken ");
        out(static_cast<int64_t>(hi.ipis_sent));
        out("/");
        out(static_cast<int64_t>(hi.ipis_received));
        out(" steals tried/got ");
        out(static_cast<int64_t>(hi.steals));
        out("/");
        out(static_cast<int64_t>(hi.stolen));
        out(" ticks ");
        out(static_cast<int64_t>(hi.ticks));
        out("\n");
    }
}

void cmd_hart(const char* cmd, char** w, uint64_t n, bool online) {
    uint64_t h = 0;
    if (n != 2) {
        out(cmd);
        out(": usage: ");
        out(cmd);
        out(" N\n");
        return;
    }
    if (!number(w[1], h)) return bad_number(cmd, w[1]);
    const int64_t r =
        online ? kestrel::hart_online(kShellHartSlot, h) : kestrel::hart_offline(kShellHartSlot, h);
    if (r < 0) {
        out(cmd);
        out(" ");
        out(static_cast<int64_t>(h));
        out(": ");
        out(kestrel::error_name(r));
        if (r == kestrel::code(kestrel::Error::BadArgument)) out(" (no such hart)");
        if (r == kestrel::code(kestrel::Error::BootHart)) out(" (the boot hart stays online)");
        if (r == kestrel::code(kestrel::Error::HartState))
            out(online ? " (it is online already)" : " (it is offline already)");
        if (r == kestrel::code(kestrel::Error::Busy)) out(" (try again)");
        if (!g_harts) out(" (this shell has no HartControl capability)");
        out("\n");
        return;
    }
    out("hart ");
    out(static_cast<int64_t>(h));
    out(online ? " online" : " offline");
    if (!online && r > 0) {
        out(", ");
        out(r);
        out(" pinned task(s) parked on it until it is back");
    }
    out("\n");
}

} // namespace shell
