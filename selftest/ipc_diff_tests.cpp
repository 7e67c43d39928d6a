// The IPC fast path's differential workload (issue 18, RFC-0028 "The fast path"): user/ipcdiff
// runs a seeded script of calls between two processes, checks every reply, and prints the hash
// of every result. This test checks its verdict and how often the fast path took its calls:
// with the fast path on, the same-hart script must take it (a fast path that is never taken
// proves nothing); with `ipc_fastpath=off` never. The hashes of the two boots are compared by
// the meson test fastpath-differential (scripts/tests/fastpath-differential.sh).
// `ipcdiff_seed=` and `ipcdiff_rounds=` on the boot line choose the script (default 1, 2000).
#include "base/console.hpp"
#include "ipc/fastpath.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"

namespace k::selftest {

KSELFTEST(IPC0007, "ipc fast path differential") {
    const elf::Image* image = k::user::find_image("ipcdiff", 7);
    KCHECK(image != nullptr);
    const UserRecords before = UserRecords::now();
    char args[64];
    std::size_t n = put_arg(args, 0, "seed=", bootarg_number("ipcdiff_seed", 1));
    n = put_arg(args, n, "rounds=", bootarg_number("ipcdiff_rounds", 2000));
    const ipc::fastpath::Counts c0 = ipc::fastpath::counts();
    const std::int64_t id = user::spawn(nullptr, *image, args, n);
    KCHECK(id > 0);
    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    const ipc::fastpath::Counts c1 = ipc::fastpath::counts();
    const std::uint64_t call_fast = c1.call_fast - c0.call_fast;
    const std::uint64_t calls = call_fast + c1.call_slow - c0.call_slow;
    const std::uint64_t rr_fast = c1.reply_recv_fast - c0.reply_recv_fast;
    const std::uint64_t rrs = rr_fast + c1.reply_recv_slow - c0.reply_recv_slow;
    const bool on = ipc::fastpath::enabled();
    println("KLOG: ipc fast path ", on ? "on" : "off", ": call ", call_fast, " of ", calls,
            " fast, reply_recv ", rr_fast, " of ", rrs, " fast; ipcdiff exit kind ",
            static_cast<std::uint32_t>(st.kind), " code ", st.code);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    KCHECK(calls > 0 && rrs > 0);
    if (on) {
        // Half the script's calls carry registers only, to a server already waiting in
        // reply_recv; on one hart nearly all of those take the fast path. A quarter is the
        // floor whatever the placement (a server on another hart still waits when called).
        KCHECK(call_fast * 4 >= calls);
        KCHECK(rr_fast * 4 >= rrs);
    } else {
        KCHECK(call_fast == 0 && rr_fast == 0);
    }
    KCHECK(records_back("ipc fast path differential", before));
    return Result::pass();
}

} // namespace k::selftest
