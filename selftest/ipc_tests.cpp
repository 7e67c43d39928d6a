// The IPC fast path (RFC-0028): a client and a server in two processes, their threads pinned to
// one hart, call and reply_recv; the kernel counts sched::handoff's direct switches meanwhile.
// `kfault=no-handoff` refuses every handoff: the calls still succeed (the slow path) and the
// count stays near 0, so the test fails; that is its counterfactual.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "ipc/objects.hpp"
#include "mm/frames.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "sched/scheduler.hpp"
#include "sched/task_pool.hpp"
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

constexpr std::uint64_t kCalls = 1000;

std::uint64_t handoffs() {
    std::uint64_t n = 0;
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        n += sched::stats(c).handoffs;
    return n;
}

} // namespace

KSELFTEST(IPC0001, "ipc fast path") {
    const elf::Image* image = k::user::find_image("ipcpair", 7);
    KCHECK(image != nullptr);
    const UserRecords before = UserRecords::now();
    static constexpr char kArgs[] = "client\0calls=1000";
    static_assert(kCalls == 1000, "kArgs says 1000");
    const std::uint64_t handoffs_before = handoffs();
    const std::int64_t id = user::spawn(nullptr, *image, kArgs, sizeof kArgs);
    KCHECK(id > 0);
    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    const std::uint64_t direct = handoffs() - handoffs_before;
    println("KLOG: ipc: ", kCalls, " calls, ", direct, " direct switches (handoff), exit kind ",
            static_cast<std::uint32_t>(st.kind), " code ", st.code);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    // Each call and each reply_recv blocks and hands the hart to its partner: two per round
    // trip when every one is taken. Half of that leaves room for the first call (which finds
    // no receiver yet), ticks that preempt a side, and the slow path's other refusals.
    KCHECK(direct >= kCalls);
    KCHECK(records_back("ipc fast path", before));
    return Result::pass();
}

// The fast path hands the hart only to a partner that last ran on it (RFC-0028 "The fast
// path"): with the client pinned to one hart and the server to another, 200 calls and their
// replies must make no direct switch (each wake goes through the partner's own hart).
KSELFTEST(IPC0003, "ipc handoff stays on its hart") {
    const elf::Image* image = k::user::find_image("ipcpair", 7);
    KCHECK(image != nullptr);
    // ipcpair puts the server on hart 1 (0 when the client is on 1): every hart must be up.
    // A tree that names a hart which never came online (gate-phantom-hart) skips the test.
    if (online_count() != cpu_count()) {
        println("KLOG: ipc apart: ", cpu_count() - online_count(),
                " hart(s) not online, skipped");
        return Result::pass();
    }
    const UserRecords before = UserRecords::now();
    static constexpr char kArgs[] = "client\0calls=200\0apart";
    const std::uint64_t handoffs_before = handoffs();
    const std::int64_t id = user::spawn(nullptr, *image, kArgs, sizeof kArgs);
    KCHECK(id > 0);
    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    const std::uint64_t direct = handoffs() - handoffs_before;
    println("KLOG: ipc apart: 200 calls, ", direct, " direct switches (handoff), exit kind ",
            static_cast<std::uint32_t>(st.kind), " code ", st.code);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    KCHECK(direct == 0);
    KCHECK(records_back("ipc apart", before));
    return Result::pass();
}

} // namespace k::selftest

namespace k::selftest {

// Task capabilities (RFC-0028): `killer` spawns victims that block in call and in recv, kills
// them through their task capabilities and checks WaitKind::Killed, the rights, that the last
// task capability's delete leaves its task running, that a sibling cannot wait for a child,
// and that an occupied task_dst refuses a spawn; every record and frame comes back.
KSELFTEST(IPC0002, "task capabilities") {
    const elf::Image* image = k::user::find_image("killer", 6);
    KCHECK(image != nullptr);
    const UserRecords before = UserRecords::now();
    const std::int64_t id = user::spawn(nullptr, *image, nullptr, 0);
    KCHECK(id > 0);
    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    println("KLOG: task capabilities: killer ended: kind ", static_cast<std::uint32_t>(st.kind),
            " code ", st.code);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    KCHECK(records_back("task capabilities", before));
    return Result::pass();
}

} // namespace k::selftest
