// Checked copies between the kernel and the calling thread's user memory (RFC-0027).
#pragma once

#include <cstdint>

namespace k::uaccess {

// [va, va + len) lies inside the user half [kUserBase, kUserLimit) without wrapping and in no
// root entry the calling thread's space borrows from the kernel. len 0 is a valid range
// wherever va is. False for a kernel task.
bool user_range(std::uint64_t va, std::uint64_t len);

// Copy len bytes from / to the calling thread's user memory at va. 0, or
// kestrel::Error::BadPointer when the range fails user_range() or a page of it is not mapped
// (or not writable, for copy_out): the fault is caught, never a panic. SUM is set only around
// the copy (hal/riscv64/user_access.S). Part of a copy that faulted may have been done.
[[nodiscard]] std::int64_t copy_in(void* dst, std::uint64_t va, std::uint64_t len);
[[nodiscard]] std::int64_t copy_out(std::uint64_t va, const void* src, std::uint64_t len);

} // namespace k::uaccess
