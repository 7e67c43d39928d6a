// Per-hart inbox for remote wake-ups: a locked intrusive FIFO the owner drains.
#pragma once

#include "base/intrusive_list.hpp"
#include "base/spin_lock.hpp"
#include "sched/lock_order.hpp"

#include <atomic>
#include <cstdint>

namespace sched {

enum class DrainAction : std::uint32_t { Take, Keep };

// try_push() outcome. A closed inbox (its hart is offline or on its way
// there) takes nothing, unless the caller asked to park the task there.
enum class [[nodiscard]] PushResult : std::uint32_t{Queued, FirstPending, Closed, Parked};

// What a closed inbox does with a push: refuse it, or keep the task until
// the inbox opens again (a pinned task waits for its own hart).
enum class Admit : std::uint32_t { OpenOnly, ParkIfClosed };

// A waker on another hart try_push()es the task here instead of touching the
// owner's run queue; try_push() reports the empty -> non-empty edge so the caller
// sends a resched IPI only then (NOVA Scheduler::Release).
//
// Bound: intrusive, so no capacity of its own; it holds at most the number of
// tasks that exist (a task is on at most one list). A wake "defers" here
// while the target's run queue class is full: the owner drains only what
// fits (its Fn answers Keep for the rest) and retries on its next tick while
// pending() != 0, since a later try_push() does not report the edge again.
//
// Lock order: inbox lock, then the owner's rq lock (Fn may take it); never
// the reverse. The lock is ranked (sched/lock_order.hpp): taking it while this hart
// holds an rq lock panics.
template <typename T, k::ListLink T::*Link>
class Inbox final {
  public:
    struct Stats {
        std::uint64_t pushed = 0;
        std::uint64_t taken = 0;
        std::uint64_t kept = 0;   // visits answered Keep (deferred wakes)
        std::uint64_t parked = 0; // pushes kept while closed
    };

    explicit constexpr Inbox(bool open = true) : lock_(kInboxRank), closed_(!open) {}
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    // FirstPending is the empty -> non-empty edge (the caller decides about an
    // IPI); Closed means the hart is not taking work: pick another hart, or
    // refuse. With ParkIfClosed a closed inbox keeps the task (Parked) and
    // its owner drains it once it is open again.
    PushResult try_push(T& t, Admit admit = Admit::OpenOnly) {
        k::SpinGuard g(lock_);
        if (closed_ && admit == Admit::OpenOnly) return PushResult::Closed;
        const bool was_empty = list_.empty();
        list_.push_back(t);
        ++stats_.pushed;
        pending_.store(list_.size(), std::memory_order_relaxed);
        if (closed_) {
            ++stats_.parked;
            return PushResult::Parked;
        }
        return was_empty ? PushResult::FirstPending : PushResult::Queued;
    }

    // The owner closes its inbox before it goes offline (then drains what is
    // left) and opens it before it takes work again.
    void close() {
        k::SpinGuard g(lock_);
        closed_ = true;
    }
    void open() {
        k::SpinGuard g(lock_);
        closed_ = false;
    }
    [[nodiscard]] bool is_open() {
        k::SpinGuard g(lock_);
        return !closed_;
    }

    // Visits at most `max` entries from the front, under one lock hold. Each
    // is unlinked before fn(T&) sees it, so fn may link it elsewhere (e.g.
    // the run queue: same k::ListLink) and answer Take; on Keep fn must leave
    // it unlinked and it goes back to its place, order kept. Returns the
    // number Taken.
    template <typename Fn>
    std::uint32_t drain(Fn&& fn, std::uint32_t max) {
        k::SpinGuard g(lock_);
        std::uint32_t taken = 0;
        T* t = list_.front();
        for (std::uint32_t seen = 0; t != nullptr && seen < max; ++seen) {
            T* before = List::prev(*t);
            T* after = List::next(*t);
            if (!list_.remove(*t)) k::panic("inbox: drain lost a node");
            if (fn(*t) == DrainAction::Take) {
                ++taken;
            } else {
                list_.insert_after(before, *t);
                ++stats_.kept;
            }
            t = after;
        }
        stats_.taken += taken;
        pending_.store(list_.size(), std::memory_order_relaxed);
        return taken;
    }

    // Visits every entry under the lock; fn(const T&) must not relink it.
    template <typename Fn>
    void for_each(Fn&& fn) {
        k::SpinGuard g(lock_);
        list_.for_each(fn);
    }

    // Lock-free hint (e.g. for the idle loop); exact only under the lock.
    [[nodiscard]] std::uint32_t pending() const { return pending_.load(std::memory_order_relaxed); }

    // Copy taken under the lock.
    [[nodiscard]] Stats stats() {
        k::SpinGuard g(lock_);
        return stats_;
    }

  private:
    using List = k::IntrusiveList<T, Link>;

    k::SpinLock lock_;
    List list_;                             // guarded by lock_
    Stats stats_;                           // guarded by lock_
    bool closed_;                           // guarded by lock_
    std::atomic<std::uint32_t> pending_{0}; // list_.size(), written under lock_
};

} // namespace sched
