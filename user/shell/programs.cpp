// Starting images and the foreground commands (user/shell/programs.hpp).
#include "programs.hpp"

#include "machine.hpp"
#include "output.hpp"
#include "words.hpp"

namespace shell {

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
    put_decimal(it, 6, iters);
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
    put_decimal(s, 5, seed);
    put_decimal(c, 6, calls);
    char cpus[24] = "cpus=";
    put_decimal(cpus, 5, static_cast<uint64_t>(g_cpus));
    char alone[] = "alone";
    char* words[] = {s, c, cpus, alone};
    (void)foreground("fuzz", "fuzz", words, 4);
}

} // namespace shell
