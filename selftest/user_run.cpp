// Helpers of the selftests that run user programs (selftest/user_run.hpp).
#include "selftest/user_run.hpp"

#include "base/console.hpp"
#include "base/time.hpp"
#include "dtb/dtb.hpp"
#include "ipc/objects.hpp"
#include "kernel/boot_info.hpp"
#include "mm/frames.hpp"
#include "mm/user_space.hpp"
#include "proc/process.hpp"
#include "sched/task_pool.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

std::size_t put_arg(char* buf, std::size_t at, const char* name, std::uint64_t v) {
    while (*name)
        buf[at++] = *name++;
    char tmp[24];
    std::size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        buf[at++] = tmp[--n];
    buf[at++] = '\0';
    return at;
}

std::uint64_t bootarg_number(const char* key, std::uint64_t fallback) {
    const char* v;
    std::size_t len;
    const char* args = platform().bootargs;
    if (!args || !dtb::bootarg_value(args, key, v, len) || len == 0 || len > 19) return fallback;
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < len; ++i) {
        if (v[i] < '0' || v[i] > '9') return fallback;
        n = n * 10 + static_cast<std::uint64_t>(v[i] - '0');
    }
    return n;
}

void say_fastpath_share(const char* what, const ipc::fastpath::Counts& since) {
    const ipc::fastpath::Counts now = ipc::fastpath::counts();
    const std::uint64_t cf = now.call_fast - since.call_fast;
    const std::uint64_t cn = cf + now.call_slow - since.call_slow;
    const std::uint64_t rf = now.reply_recv_fast - since.reply_recv_fast;
    const std::uint64_t rn = rf + now.reply_recv_slow - since.reply_recv_slow;
    println("KLOG: ipc fast path over ", what, ": call ", cf, " of ", cn, " (",
            cn ? cf * 100 / cn : 0, " %), reply_recv ", rf, " of ", rn, " (",
            rn ? rf * 100 / rn : 0, " %)");
}

UserRecords UserRecords::now() {
    UserRecords r;
    r.frames = k::frames::free_count();
    r.spaces = static_cast<std::uint32_t>(uspace::free_spaces());
    r.endpoints = ipc::free_endpoints();
    r.notifications = ipc::free_notifications();
    r.processes = user::free_processes();
    r.threads = user::free_threads();
    return r;
}

bool records_back(const char* what, const UserRecords& before) {
    const std::uint64_t until = time::deadline_in_us(kEventuallyUs);
    (void)time::wait_until(
        until, [&] { return UserRecords::now() == before && sched::task_pool_free() > 0; });
    const UserRecords after = UserRecords::now();
    println("KLOG: ", what, ": frames ", before.frames, " -> ", after.frames, ", spaces ",
            before.spaces, " -> ", after.spaces, ", endpoints ", before.endpoints, " -> ",
            after.endpoints, ", notifications ", before.notifications, " -> ", after.notifications,
            ", processes ", before.processes, " -> ", after.processes, ", threads ", before.threads,
            " -> ", after.threads);
    return after == before;
}

} // namespace k::selftest
