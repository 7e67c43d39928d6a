// exiter: the task the seed scenario's waiters join (RFC-0027). argv[0] is the round; it
// sleeps argv[1] µs (so the waiters block first), then exits with (round << 8) | its cpu.
#include <kestrel/user.hpp>

int main(int argc, char** argv) {
    if (argc < 2) return -1;
    const int64_t round = kestrel::parse_int(argv[0]);
    kestrel::sleep_us(static_cast<uint64_t>(kestrel::parse_int(argv[1])));
    return static_cast<int>((round << 8) | (kestrel::current_cpu() & 0xff));
}
