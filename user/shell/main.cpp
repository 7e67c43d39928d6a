// shell: the command line a person types into (issue 20, RFC-0032). It reads bytes by calling
// the console endpoint (kestrel/console.hpp: kConsoleRead) and writes through the same
// endpoint (kConsoleWrite), so whatever serves the console sees both directions: the
// user-space console driver, or in the selftest the scripted stand-in (user/shellscript).
// Startup: user/shell/proto.hpp. It edits the line itself (printable bytes are echoed,
// backspace and DEL erase one, CR or LF ends the line, CR LF counts once) and runs one command
// per line; `help` lists them. `run` starts a job in the background and keeps its task
// capability, so `kill` and `jobs` work on it; `bench` and `fuzz` run in the foreground and
// report their exit status. Bad input gets a one-line message and the next prompt.
#include <kestrel/console.hpp>
#include <kestrel/user.hpp>

#include "proto.hpp"

using namespace shell;
using kestrel::IpcMsg;

namespace {

constexpr uint64_t kMaxLine = 127; // bytes of a command line (longer ones are refused whole)
constexpr uint64_t kMaxWords = 8;  // words of a command line

bool g_console = false; // the console endpoint arrived
bool g_harts = false;   // the HartControl capability arrived
int64_t g_cpus = 1;     // harts this machine has (hart_info's count)

// ---- Output: one buffer, written as one console request at each newline or when full.
char g_out[kestrel::kConsoleWriteMax];
uint64_t g_out_len = 0;

void flush() {
    if (g_out_len == 0) return;
    if (!g_console) {
        (void)kestrel::console_write(g_out, g_out_len);
        g_out_len = 0;
        return;
    }
    uint64_t words[kestrel::kMaxIpcLength] = {};
    words[0] = g_out_len;
    kestrel::console_pack(g_out, g_out_len, words + 1);
    IpcMsg m;
    m.tag = kestrel::make_tag(kestrel::kConsoleWrite, 1 + kestrel::console_words(g_out_len));
    for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
        m.mr[i] = words[i];
    (void)kestrel::call(kShellConsoleSlot, m, words + kestrel::kMessageRegisters);
    g_out_len = 0;
}

void out(const char* s, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
        if (g_out_len == sizeof g_out) flush();
        g_out[g_out_len++] = s[i];
        if (s[i] == '\n') flush();
    }
}
void out(const char* s) {
    out(s, kestrel::str_len(s));
}
void out(int64_t v) {
    char tmp[24];
    uint64_t n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
        tmp[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) out("-");
    while (n > 0)
        out(&tmp[--n], 1);
}

// ---- Input: bytes from the console, a read request whenever the last reply is used up.
char g_in[kestrel::kConsoleReadMax];
uint64_t g_in_len = 0, g_in_at = 0;

// The next byte, or -1 when the console cannot be read any more.
int next_byte() {
    if (g_in_at == g_in_len) {
        flush();
        if (!g_console) return -1;
        uint64_t words[kestrel::kMaxIpcLength] = {};
        IpcMsg m;
        m.tag = kestrel::make_tag(kestrel::kConsoleRead, 1);
        m.mr[0] = kestrel::kConsoleReadMax;
        if (kestrel::call(kShellConsoleSlot, m, words + kestrel::kMessageRegisters) != 0) return -1;
        const uint64_t n = kestrel::tag_label(m.tag);
        if (n == 0 || n > kestrel::kConsoleReadMax) return -1; // refused: no more input
        for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
            words[i] = m.mr[i];
        kestrel::console_unpack(words, n, g_in);
        g_in_len = n;
        g_in_at = 0;
    }
    return static_cast<unsigned char>(g_in[g_in_at++]);
}

// One edited line into `line` (NUL-terminated). Returns its length, -1 at the end of input,
// -2 for a line longer than kMaxLine (read to its end, then dropped).
int64_t read_line(char* line) {
    static bool after_cr = false;
    uint64_t n = 0;
    bool too_long = false;
    for (;;) {
        const int c = next_byte();
        if (c < 0) return -1;
        if (c == '\n' && after_cr) { // CR LF: the LF of a line already ended
            after_cr = false;
            continue;
        }
        after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            out("\n");
            line[n] = '\0';
            return too_long ? -2 : static_cast<int64_t>(n);
        }
        if (c == 0x08 || c == 0x7f) { // backspace, DEL: erase one byte on the screen too
            if (n > 0 && !too_long) {
                --n;
                out("\b \b");
            }
            continue;
        }
        if (c == 0x03) { // ^C: drop the line
            out("^C\n");
            line[0] = '\0';
            return 0;
        }
        if (c < 0x20 || c > 0x7e) continue; // other control bytes: ignored
        if (n == kMaxLine) {
            too_long = true;
            continue;
        }
        line[n++] = static_cast<char>(c);
        const char ch = static_cast<char>(c);
        out(&ch, 1);
    }
}

// ---- Words and numbers.
bool same(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

// A decimal number of 1..9 digits (no sign): the only numbers a command takes.
bool number(const char* s, uint64_t& v) {
    v = 0;
    uint64_t digits = 0;
    for (; *s; ++s, ++digits) {
        if (*s < '0' || *s > '9' || digits == 9) return false;
        v = v * 10 + static_cast<uint64_t>(*s - '0');
    }
    return digits > 0;
}

void bad_number(const char* cmd, const char* what) {
    out(cmd);
    out(": bad number '");
    out(what);
    out("' (a decimal number of 1..9 digits)\n");
}

void error(const char* cmd, int64_t r) {
    out(cmd);
    out(": ");
    out(kestrel::error_name(r));
    out("\n");
}

// ---- Jobs: what `run` started, with its task capability.
struct Job {
    int64_t id = 0;      // task id, 0: free
    uint64_t number = 0; // the job number `run` printed: they only grow, never reused
    char name[16] = {};
};
Job g_jobs[kJobs];
uint64_t g_next_job = 1;

const char* status_text(const kestrel::WaitStatus& st) {
    switch (st.kind) {
    case kestrel::WaitKind::Exited:
        return "exited";
    case kestrel::WaitKind::Faulted:
        return "faulted";
    case kestrel::WaitKind::Killed:
        return "killed";
    }
    return "ended";
}

void say_end(uint64_t j, const kestrel::WaitStatus& st) {
    out("[");
    out(static_cast<int64_t>(g_jobs[j].number));
    out("] task ");
    out(g_jobs[j].id);
    out(" ");
    out(g_jobs[j].name);
    out(" ");
    out(status_text(st));
    if (st.kind != kestrel::WaitKind::Killed) {
        out(" ");
        out(static_cast<int64_t>(st.code));
    }
    out("\n");
}

// Reaps job j (it has ended, or is about to): its status, its slot and its record.
void reap(uint64_t j) {
    kestrel::WaitStatus st{};
    (void)kestrel::task_wait(kShellJobSlot0 + j, &st);
    (void)kestrel::wait(g_jobs[j].id, &st);
    (void)kestrel::cap_delete(kShellJobSlot0 + j);
    say_end(j, st);
    g_jobs[j].id = 0;
}

// Jobs that ended since the last prompt (proc_info says dead; the record is ours to reap).
void reap_ended() {
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        kestrel::ProcInfo pi{};
        const uint64_t slot = static_cast<uint64_t>(g_jobs[j].id) % kestrel::kMaxProcesses;
        if (kestrel::proc_info(slot, &pi) == 1 && pi.id == g_jobs[j].id && pi.dead == 0) continue;
        reap(j);
    }
}

// Spawns `image` with words [first, n) as its argv. Returns the task id or an error.
int64_t start(const char* image, char** words, uint64_t first, uint64_t n, uint64_t task_dst) {
    char args[kestrel::kMaxArgBytes];
    uint64_t len = 0;
    for (uint64_t i = first; i < n; ++i) {
        const uint64_t l = kestrel::str_len(words[i]) + 1;
        if (len + l > sizeof args) return kestrel::code(kestrel::Error::BadLength);
        for (uint64_t k = 0; k < l; ++k)
            args[len + k] = words[i][k];
        len += l;
    }
    const uint64_t name_len = kestrel::str_len(image);
    if (name_len == 0 || name_len > kestrel::kMaxImageName)
        return kestrel::code(kestrel::Error::NoImage);
    return kestrel::spawn(image, name_len, args, len, kestrel::kNoCap, task_dst);
}

// Runs `image` in the foreground: spawn, wait, say how it ended. Returns its exit code or -1.
int64_t foreground(const char* cmd, const char* image, char** words, uint64_t n) {
    const int64_t id = start(image, words, 0, n, kestrel::kNoCap);
    if (id < 0) {
        error(cmd, id);
        return -1;
    }
    out(cmd);
    out(": task ");
    out(id);
    out(" running ");
    out(image);
    out("\n");
    flush();
    kestrel::WaitStatus st{};
    if (const int64_t r = kestrel::wait(id, &st); r < 0) {
        error(cmd, r);
        return -1;
    }
    out(cmd);
    out(": ");
    out(image);
    out(" ");
    out(status_text(st));
    out(" ");
    out(static_cast<int64_t>(st.code));
    out(st.kind == kestrel::WaitKind::Exited && st.code == 0 ? " (ok)\n" : " (FAILED)\n");
    return st.kind == kestrel::WaitKind::Exited ? st.code : -1;
}

// ---- Commands.
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

void cmd_run(char** w, uint64_t n) {
    if (n < 2) {
        out("run: usage: run IMAGE ARGS...\n");
        return;
    }
    uint64_t j = 0;
    while (j < kJobs && g_jobs[j].id != 0)
        ++j;
    if (j == kJobs) {
        out("run: ");
        out(static_cast<int64_t>(kJobs));
        out(" jobs already running (kill one first)\n");
        return;
    }
    const int64_t id = start(w[1], w, 2, n, kShellJobSlot0 + j);
    if (id < 0) {
        out("run ");
        out(w[1]);
        out(": ");
        out(kestrel::error_name(id));
        if (id == kestrel::code(kestrel::Error::NoImage)) out(" (no image has that name)");
        out("\n");
        return;
    }
    g_jobs[j].id = id;
    g_jobs[j].number = g_next_job++;
    uint64_t k = 0;
    for (; w[1][k] && k + 1 < sizeof g_jobs[j].name; ++k)
        g_jobs[j].name[k] = w[1][k];
    g_jobs[j].name[k] = '\0';
    out("[");
    out(static_cast<int64_t>(g_jobs[j].number));
    out("] task ");
    out(id);
    out(" ");
    out(g_jobs[j].name);
    out(" started\n");
}

void cmd_jobs() {
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        out("[");
        out(static_cast<int64_t>(g_jobs[j].number));
        out("] task ");
        out(g_jobs[j].id);
        out(" ");
        out(g_jobs[j].name);
        out("\n");
    }
}

void cmd_kill(char** w, uint64_t n) {
    if (n != 2) {
        out("kill: usage: kill ID | kill %J\n");
        return;
    }
    uint64_t v = 0;
    const bool by_job = w[1][0] == '%';
    if (!number(by_job ? w[1] + 1 : w[1], v)) return bad_number("kill", w[1]);
    uint64_t j = 0;
    for (; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        if (by_job ? g_jobs[j].number == v : static_cast<uint64_t>(g_jobs[j].id) == v) break;
    }
    if (j == kJobs) {
        out("kill: no job ");
        out(by_job ? "number " : "with task id ");
        out(static_cast<int64_t>(v));
        out(" (see jobs)\n");
        return;
    }
    if (const int64_t r = kestrel::task_kill(kShellJobSlot0 + j); r < 0) return error("kill", r);
    reap(j);
}

void cmd_bench(char** w, uint64_t n) {
    uint64_t iters = 200;
    if (n > 2) {
        out("bench: usage: bench [ITERS]\n");
        return;
    }
    if (n == 2 && (!number(w[1], iters) || iters == 0 || iters > 100000))
        return bad_number("bench", w[1]);
    // The rows at every online hart count (the remote rows need two), a short run: under TCG
    // the figures are instruction counts only with -icount (scripts/bench.sh).
    int64_t online = 0;
    for (uint64_t h = 0; h < kestrel::kMaxHarts; ++h) {
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) != 1) break;
        online += hi.state == kestrel::HartOnline ? 1 : 0;
    }
    char harts[16] = "harts=";
    harts[6] = static_cast<char>('0' + (online > 9 ? 9 : online));
    char b[] = "batches=1", it[24] = "iters=";
    {
        char tmp[12];
        uint64_t k = 0, at = 6, v = iters;
        do {
            tmp[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0)
            it[at++] = tmp[--k];
        it[at] = '\0';
    }
    char* words[] = {harts, b, it};
    (void)foreground("bench", "ipcbench", words, 3);
}

void cmd_fuzz(char** w, uint64_t n) {
    uint64_t seed = 0, calls = 0;
    if (n != 3) {
        out("fuzz: usage: fuzz SEED CALLS\n");
        return;
    }
    if (!number(w[1], seed)) return bad_number("fuzz", w[1]);
    if (!number(w[2], calls) || calls == 0) return bad_number("fuzz", w[2]);
    // The fuzzer's arguments, as init gives them, plus "alone": no init to fetch shared
    // objects from or report to (user/fuzz).
    char s[24] = "seed=", c[24] = "calls=";
    auto put = [](char* dst, uint64_t at, uint64_t v) {
        char tmp[12];
        uint64_t k = 0;
        do {
            tmp[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0)
            dst[at++] = tmp[--k];
        dst[at] = '\0';
    };
    put(s, 5, seed);
    put(c, 6, calls);
    char cpus[24] = "cpus=";
    put(cpus, 5, static_cast<uint64_t>(g_cpus));
    char alone[] = "alone";
    char* words[] = {s, c, cpus, alone};
    (void)foreground("fuzz", "fuzz", words, 4);
}

// Splits `line` in place at spaces. Returns the word count, or kMaxWords + 1 for too many.
uint64_t split(char* line, char** words) {
    uint64_t n = 0;
    char* p = line;
    for (;;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p) return n;
        if (n == kMaxWords) return kMaxWords + 1;
        words[n++] = p;
        while (*p && *p != ' ')
            ++p;
    }
}

// Runs one line. False for `shutdown`.
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

// The two bootstrap messages (user/shell/proto.hpp).
bool bootstrap() {
    for (uint64_t i = 0; i < 2; ++i) {
        IpcMsg m;
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
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        (void)kestrel::task_kill(kShellJobSlot0 + j);
        reap(j);
    }
    out("shutdown: bye\n");
    flush();
    return 0;
}
