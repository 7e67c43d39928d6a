// Reference counts whose last drop takes a lock: the drops before it take none.
#pragma once

#include <atomic>
#include <cstdint>

namespace k {

// Drops one reference unless it is the last: true when it dropped one (the count stayed >= 1),
// false when `refs` is 1 and the caller must drop that last one under the lock that orders the
// free with the record's reuse. The pattern of Linux's atomic_dec_and_lock (lib/dec_and_lock.c).
inline bool drop_unless_last(std::atomic<std::uint32_t>& refs) {
    std::uint32_t r = refs.load(std::memory_order_relaxed);
    while (r > 1)
        if (refs.compare_exchange_weak(r, r - 1, std::memory_order_acq_rel,
                                       std::memory_order_relaxed))
            return true;
    return false;
}

} // namespace k
