// exiter: the task the seed scenario's waiters join (RFC-0027). argv: the round and the
// number of waiters. It exits only once that many tasks wait for it (joiners(0)), so every
// waiter really blocks and really resumes, or after 10 s without them (the test then counts
// them late and fails). Exit code: (round << 8) | the cpu it exits on.
#include <kestrel/user.hpp>

int main(int argc, char** argv) {
    if (argc < 2) return -1;
    const int64_t round = kestrel::parse_int(argv[0]);
    const int64_t waiters = kestrel::parse_int(argv[1]);
    const int64_t deadline = kestrel::time_us() + 10'000'000;
    while (kestrel::joiners(0) < waiters && kestrel::time_us() < deadline)
        kestrel::yield();
    return static_cast<int>((round << 8) | (kestrel::current_cpu() & 0xff));
}
