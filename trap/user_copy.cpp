// Checked user copies: the range check here, the fault-tolerant copy in hal/riscv64, the
// fault's fixup in the trap dispatcher (trap/trap.cpp).
#include "trap/user_copy.hpp"

#include "mm/user_space.hpp"
#include "sched/scheduler.hpp"
#include "sched/task.hpp"
#include "user/include/kestrel/syscall.hpp"
#include "user_access.hpp"

namespace k::uaccess {

namespace {
constexpr std::int64_t kBadPointer = static_cast<std::int64_t>(kestrel::Error::BadPointer);
}

bool user_range(std::uint64_t va, std::uint64_t len) {
    // The running task's space is its process's (proc/process.cpp spawns every user thread
    // with it and drops it only on the thread's way out); a kernel task has none.
    const sched::Task* me = sched::current();
    uspace::UserSpace* space = me ? me->space : nullptr;
    if (!space) return false;
    if (len == 0) return true;
    if (va < kestrel::kUserBase || va >= kestrel::kUserLimit) return false;
    if (len > kestrel::kUserLimit - va) return false;
    return !uspace::kernel_range(*space, va, len);
}

std::int64_t copy_in(void* dst, std::uint64_t va, std::uint64_t len) {
    if (!user_range(va, len)) return kBadPointer;
    if (len == 0) return 0;
    return hal_user_copy(dst, reinterpret_cast<const void*>(va), len) == 0 ? 0 : kBadPointer;
}

std::int64_t copy_out(std::uint64_t va, const void* src, std::uint64_t len) {
    if (!user_range(va, len)) return kBadPointer;
    if (len == 0) return 0;
    return hal_user_copy(reinterpret_cast<void*>(va), src, len) == 0 ? 0 : kBadPointer;
}

} // namespace k::uaccess
