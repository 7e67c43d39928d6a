// hello: prints its arguments, one per line, and exits with their count.
#include <kestrel/user.hpp>

namespace {

char g_prefix[] = "hello: "; // .data (its address escapes)
unsigned long g_calls = 0;   // .bss
const int kExitBias = 0x40;  // the exit code is argc + this

} // namespace

int main(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) {
        kestrel::console_write(g_prefix, sizeof g_prefix - 1);
        kestrel::print(argv[i]);
        kestrel::console_write("\n", 1);
        ++g_calls;
    }
    return static_cast<int>(g_calls) + kExitBias;
}
