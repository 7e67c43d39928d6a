// The shell's console input and line editor (user/shell/line_input.hpp).
#include "line_input.hpp"

#include <kestrel/console.hpp>
#include <kestrel/user.hpp>

#include "output.hpp"
#include "proto.hpp"

namespace shell {

namespace {

// Bytes from the console, a read request whenever the last reply is used up.
char g_in[kestrel::kConsoleReadMax];
uint64_t g_in_len = 0, g_in_at = 0;

// The next byte, or -1 when the console cannot be read any more.
int next_byte() {
    if (g_in_at == g_in_len) {
        flush();
        if (!g_console) return -1;
        uint64_t words[kestrel::kMaxIpcLength] = {};
        kestrel::IpcMsg m;
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

} // namespace

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

} // namespace shell
