// init: the first user program. Says hello, starts `hello` with two arguments, waits for it.
#include <kestrel/user.hpp>

namespace {

// Writable .data (its address escapes, so it stays data) and a .bss buffer: the image has
// text, rodata and data+bss segments.
char g_banner[] = "init: hello from user space\n";
int g_rounds = 1;
char g_line[64];

// Decimal text of v into g_line from `at`; returns the new end.
size_t put_int(size_t at, int64_t v) {
    char tmp[24];
    size_t n = 0;
    const bool neg = v < 0;
    uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
        tmp[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (neg && at < sizeof g_line) g_line[at++] = '-';
    while (n > 0 && at < sizeof g_line)
        g_line[at++] = tmp[--n];
    return at;
}

} // namespace

int main(int, char**) {
    kestrel::console_write(g_banner, sizeof g_banner - 1);
    static const char kArgs[] = "hello\0world"; // two strings, each NUL-terminated
    for (int i = 0; i < g_rounds; ++i) {
        const int64_t child = kestrel::spawn("hello", 5, kArgs, sizeof kArgs);
        if (child < 0) {
            kestrel::print("init: spawn failed\n");
            return 1;
        }
        kestrel::WaitStatus st{};
        if (kestrel::wait(child, &st) < 0) return 2;
        size_t at = 0;
        for (const char c : "init: hello exited with ")
            if (c) g_line[at++] = c;
        at = put_int(at, st.code);
        g_line[at++] = '\n';
        kestrel::console_write(g_line, at);
    }
    return 0;
}
