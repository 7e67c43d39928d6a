// The shell's output buffer and its shared messages (user/shell/output.hpp).
#include "output.hpp"

#include <kestrel/console.hpp>
#include <kestrel/user.hpp>

#include "proto.hpp"

namespace shell {

bool g_console = false;

namespace {
char g_out[kestrel::kConsoleWriteMax];
uint64_t g_out_len = 0;
} // namespace

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
    kestrel::IpcMsg m;
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
    char digits[kestrel::kIntChars];
    out(digits, kestrel::format_int(v, digits));
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

void put_decimal(char* dst, uint64_t at, uint64_t v) {
    dst[at + kestrel::format_int(static_cast<int64_t>(v), dst + at)] = '\0';
}

} // namespace shell
