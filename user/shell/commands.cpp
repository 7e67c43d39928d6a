// The shell's command table and `help` (user/shell/commands.hpp).
#include "commands.hpp"

#include "jobs.hpp"
#include "machine.hpp"
#include "output.hpp"
#include "programs.hpp"
#include "words.hpp"

namespace shell {

namespace {

void cmd_help() {
    out("commands:\n"
        "  help                 this list\n"
        "  ps                   processes and their threads (hart, state)\n"
        "  harts                harts: state, queue length, switches, IPIs, steals\n"
        "  offline N            take hart N offline (its pinned tasks wait for it)\n"
        "  online N             bring hart N back\n"
        "  run IMAGE ARGS...    start IMAGE in the background (a job)\n"
        "  jobs                 the jobs still running\n"
        "  kill ID | kill %J    end a job by task id or job number\n"
        "  bench [ITERS]        the IPC bench rows (ipcbench; 200 iterations), in the foreground\n"
        "  fuzz SEED CALLS      the syscall fuzzer, in the foreground\n"
        "  shutdown             end the shell (the machine powers off)\n");
}

} // namespace

bool run_line(char* line) {
    char* w[kMaxWords];
    const uint64_t n = split(line, w);
    if (n == 0) return true;
    if (n > kMaxWords) {
        out("too many words (at most ");
        out(static_cast<int64_t>(kMaxWords));
        out(")\n");
        return true;
    }
    const char* c = w[0];
    if (same(c, "help")) {
        cmd_help();
    } else if (same(c, "ps")) {
        cmd_ps();
    } else if (same(c, "harts")) {
        cmd_harts();
    } else if (same(c, "offline")) {
        cmd_hart("offline", w, n, false);
    } else if (same(c, "online")) {
        cmd_hart("online", w, n, true);
    } else if (same(c, "run")) {
        cmd_run(w, n);
    } else if (same(c, "jobs")) {
        cmd_jobs();
    } else if (same(c, "kill")) {
        cmd_kill(w, n);
    } else if (same(c, "bench")) {
        cmd_bench(w, n);
    } else if (same(c, "fuzz")) {
        cmd_fuzz(w, n);
    } else if (same(c, "shutdown")) {
        return false;
    } else {
        out("unknown command '");
        out(c);
        out("' (try help)\n");
    }
    return true;
}

} // namespace shell
