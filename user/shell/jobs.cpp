// The shell's jobs and the commands on them (user/shell/jobs.hpp).
#include "jobs.hpp"

#include <kestrel/user.hpp>

#include "output.hpp"
#include "programs.hpp"
#include "proto.hpp"
#include "words.hpp"

namespace shell {

namespace {

struct Job {
    int64_t id = 0;      // task id, 0: free
    uint64_t number = 0; // the job number `run` printed: they only grow, never reused
    char name[16] = {};
};
Job g_jobs[kJobs];
uint64_t g_next_job = 1;

// "[J] task ID NAME", the start of each line about job j.
void say_job(uint64_t j) {
    out("[");
    out(static_cast<int64_t>(g_jobs[j].number));
    out("] task ");
    out(g_jobs[j].id);
    out(" ");
    out(g_jobs[j].name);
}

void say_end(uint64_t j, const kestrel::WaitStatus& st) {
    say_job(j);
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

} // namespace

void reap_ended() {
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        // proc_info says dead (or the slot holds another process): the record is ours to reap.
        kestrel::ProcInfo pi{};
        const uint64_t slot = static_cast<uint64_t>(g_jobs[j].id) % kestrel::kMaxProcesses;
        if (kestrel::proc_info(slot, &pi) == 1 && pi.id == g_jobs[j].id && pi.dead == 0) continue;
        reap(j);
    }
}

void end_all_jobs() {
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        (void)kestrel::task_kill(kShellJobSlot0 + j);
        reap(j);
    }
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
    say_job(j);
    out(" started\n");
}

void cmd_jobs() {
    for (uint64_t j = 0; j < kJobs; ++j) {
        if (g_jobs[j].id == 0) continue;
        say_job(j);
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

} // namespace shell
