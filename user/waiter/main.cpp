// waiter: one of the seed scenario's waiters (RFC-0027), each in its own address space.
// argv: the exiter's task id, the round, this waiter's index. It joins the exiter and exits
// with bits saying what it saw:
//   1  the exit value was the exiter's for this round;
//   2  it blocked in join until the exit (a real resume, not a late look);
//   4  it resumed on another hart than the exiter's last one;
//   8  its own memory still read as its own (a wrong satp would show another space's
//      copy of g_mine, at the same address, or fault);
//  16  join's status was Exited.
#include <kestrel/user.hpp>

namespace {
volatile uint64_t g_mine = 0; // different in every waiter's space, same address in each
}

int main(int argc, char** argv) {
    if (argc < 3) return 0;
    const int64_t exiter = kestrel::parse_int(argv[0]);
    const int64_t round = kestrel::parse_int(argv[1]);
    const int64_t index = kestrel::parse_int(argv[2]);
    const uint64_t mine = static_cast<uint64_t>(round) * 1000003u + static_cast<uint64_t>(index);
    g_mine = mine;
    volatile uint64_t on_stack = mine ^ 0x5a5a;
    kestrel::WaitStatus st{};
    const int64_t r = kestrel::join(exiter, &st);
    if (r < 0) return 0;
    int bits = 0;
    if ((st.code >> 8) == round) bits |= 1;
    if (r == 1) bits |= 2;
    if ((st.code & 0xff) != (kestrel::current_cpu() & 0xff)) bits |= 4;
    if (g_mine == mine && on_stack == (mine ^ 0x5a5a)) bits |= 8;
    if (st.kind == kestrel::WaitKind::Exited) bits |= 16;
    return bits;
}
