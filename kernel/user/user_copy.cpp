// Checked user copies: the range check here, the fault-tolerant copy in hal/riscv64.
#include "kernel/user/user_copy.hpp"

#include "kernel/mm/user_space.hpp"
#include "kernel/user/process.hpp"
#include "user/include/kestrel/syscall.hpp"
#include "user_access.hpp"

namespace k::user {

namespace {
constexpr std::int64_t kBadPointer = static_cast<std::int64_t>(kestrel::Error::BadPointer);
}

bool user_range(std::uint64_t va, std::uint64_t len) {
    const Process* p = current_process();
    if (!p || !space_of(*p)) return false;
    if (len == 0) return true;
    if (va < kestrel::kUserBase || va >= kestrel::kUserLimit) return false;
    if (len > kestrel::kUserLimit - va) return false;
    return !uspace::kernel_range(*space_of(*p), va, len);
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

} // namespace k::user
