// The header every capability-named kernel object starts with: how many capabilities name it.
#pragma once

#include <cstdint>

namespace ipc {

// The one hook between capability tables and object lifetime (RFC-0028 "Object lifetime").
// A CapTable adds 1 for every capability it stores (insert, copy, mint) and takes 1 away for
// every one it removes; remove() says when it took the last one, and the caller then destroys
// the object (an endpoint: EndpointQueue::destroy(), waking every waiter with an error).
//
// The count is changed with atomic read-modify-writes, so tables guarded by different locks
// may hold capabilities to one object. 0 -> 1 happens only in insert() (the object's first
// capability); once it has gone back to 0 the object is dead and is never inserted again.
struct KernelObject {
    std::uint32_t caps = 0; // capabilities naming this object, in every table; atomic access

    static constexpr std::uint32_t kMaxCaps = 0xffff'ffffu;

    [[nodiscard]] std::uint32_t cap_count() const {
        return __atomic_load_n(&caps, __ATOMIC_RELAXED);
    }
};

} // namespace ipc
