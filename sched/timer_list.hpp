// A deadline-ordered intrusive list: one hart's timer queue (RFC-0030 "The timer queue").
// Portable (host-tested in sched/tests/timer_list_test.cpp); the kernel guards each list with
// the lock written beside it (sched/timer.cpp). No allocation: the entries are the waiters'.
#pragma once

#include "base/intrusive_list.hpp"

#include <cstdint>

namespace sched {

inline constexpr std::uint64_t kNoDeadline = ~std::uint64_t{0};

// T has a ListLink `Link` and a deadline `Deadline` (ticks of the `time` CSR). Entries of equal
// deadline leave in the order they came (FIFO), so a wake is never overtaken by a later one.
template <typename T, k::ListLink T::*Link, std::uint64_t T::*Deadline>
class TimerList final {
  public:
    // Links `t` (not linked anywhere) before the first entry due strictly later: O(n), n is
    // bounded by the threads of the system (each waits on at most one entry).
    void insert(T& t) {
        T* pos = list_.back();
        while (pos != nullptr && pos->*Deadline > t.*Deadline)
            pos = List::prev(*pos);
        list_.insert_after(pos, t);
    }
    // The earliest entry if it is due at `now` (deadline <= now), unlinked; else nullptr.
    [[nodiscard]] T* pop_due(std::uint64_t now) {
        T* t = list_.front();
        if (t == nullptr || t->*Deadline > now) return nullptr;
        return list_.pop_front();
    }
    // Any entry, unlinked (the offline path fires them all); nullptr when empty.
    [[nodiscard]] T* pop_any() { return list_.pop_front(); }
    // True when `t` was linked here and is not any more; false when it was not here (it fired).
    [[nodiscard]] bool remove(T& t) { return list_.remove(t); }
    // The earliest deadline, kNoDeadline when empty.
    [[nodiscard]] std::uint64_t next_deadline() const {
        const T* t = list_.front();
        return t != nullptr ? t->*Deadline : kNoDeadline;
    }
    [[nodiscard]] bool empty() const { return list_.empty(); }
    [[nodiscard]] std::uint32_t size() const { return list_.size(); }
    [[nodiscard]] bool contains(const T& t) const { return list_.contains(t); }

  private:
    using List = k::IntrusiveList<T, Link>;
    List list_;
};

} // namespace sched
