// Per-hart bounded run queue: one FIFO per QoS class and a bitmap for O(1) pick.
#pragma once

#include "base/intrusive_list.hpp"
#include "base/panic.hpp"
#include "sched/enqueue_outcome.hpp"
#include "sched/qos.hpp"
#include "sched/steal.hpp"

#include <cstdint>

namespace sched {

// Not internally locked: every member is guarded by the hart's rq lock
// (a k::SpinLock the owner keeps beside the queue), including stats().
//
// pick() takes the front of the highest non-empty class: the bitmap has bit q
// set iff class q is non-empty, so the class is bit_width(bitmap) - 1, O(1)
// (seL4/NOVA style). Within a class it is FIFO; round robin emerges because
// the owner re-enqueues a preempted task at the tail.
template <typename T, k::ListLink T::*Link, std::uint32_t CapacityPerClass>
class RunQueue {
    static_assert(CapacityPerClass > 0, "a class must hold at least one task");
    static_assert(kQosCount <= 32, "the class bitmap is 32 bits");

  public:
    struct Stats {
        std::uint64_t enqueued = 0;
        std::uint64_t rejected[kQosCount] = {}; // QueueFull per class
        std::uint64_t picked = 0;
        std::uint64_t stolen = 0;  // taken by another hart's steal()
        std::uint64_t removed = 0; // taken out by remove()
    };

    static constexpr std::uint32_t kCapacityPerClass = CapacityPerClass;

    constexpr RunQueue() = default;
    RunQueue(const RunQueue&) = delete;
    RunQueue& operator=(const RunQueue&) = delete;

    // Never links the task unless the result is Queued.
    [[nodiscard]] EnqueueOutcome enqueue(T& t, Qos q) {
        const std::uint32_t i = checked(q);
        if (lists_[i].size() >= CapacityPerClass) {
            ++stats_.rejected[i];
            return EnqueueOutcome::full(q, CapacityPerClass);
        }
        lists_[i].push_back(t);
        bitmap_ |= 1u << i;
        ++size_;
        ++stats_.enqueued;
        return EnqueueOutcome::queued();
    }

    // The next task to run, or nullptr when the queue is empty.
    [[nodiscard]] T* pick() {
        if (bitmap_ == 0) return nullptr;
        const std::uint32_t i = top_index();
        T* t = lists_[i].pop_front();
        --size_;
        settle(i);
        ++stats_.picked;
        return t;
    }

    // pick() when the caller already asked top(): the front of class q, or
    // nullptr when class q is empty.
    [[nodiscard]] T* pick_from(Qos q) {
        const std::uint32_t i = checked(q);
        T* t = lists_[i].pop_front();
        if (t == nullptr) return nullptr;
        --size_;
        settle(i);
        ++stats_.picked;
        return t;
    }

    // False (nothing changes) when t is not queued in class q here.
    [[nodiscard]] bool remove(T& t, Qos q) {
        const std::uint32_t i = checked(q);
        if (!lists_[i].remove(t)) return false;
        --size_;
        settle(i);
        ++stats_.removed;
        return true;
    }

    // The victim side of work stealing; the thief runs check_steal() first.
    // Takes up to req.max_tasks tasks into out[], only from classes <=
    // req.qos_limit, skipping tasks for which can_take(const T&) is false
    // (the kernel passes "not on a cpu"). Order: lowest eligible class first,
    // from its tail: the victim keeps its most urgent and its oldest (next to
    // run, likely cache-warm) work, and the thief gets what would have waited
    // longest here. A request above kStealMaxPerAttempt takes nothing.
    // Cost: at most one walk over the eligible classes, i.e. bounded by
    // kQosCount * CapacityPerClass calls of can_take.
    template <typename Pred>
    [[nodiscard]] std::uint32_t steal(T** out, const StealRequest& req, Pred&& can_take) {
        if (out == nullptr || req.max_tasks > kStealMaxPerAttempt || !qos_valid(req.qos_limit)) {
            return 0;
        }
        std::uint32_t taken = 0;
        for (std::uint32_t i = 0; i <= qos_index(req.qos_limit) && taken < req.max_tasks; ++i) {
            T* t = lists_[i].back();
            while (t != nullptr && taken < req.max_tasks) {
                T* before = List::prev(*t);
                if (can_take(static_cast<const T&>(*t))) {
                    if (!lists_[i].remove(*t)) k::panic("run queue: steal lost a node");
                    --size_;
                    out[taken++] = t;
                }
                t = before;
            }
            settle(i);
        }
        stats_.stolen += taken;
        return taken;
    }

    // O(1): the queue keeps the sum of its classes' sizes.
    [[nodiscard]] std::uint32_t size() const { return size_; }
    [[nodiscard]] std::uint32_t size(Qos q) const { return lists_[checked(q)].size(); }
    // The highest class with a queued task; false when the queue is empty.
    [[nodiscard]] bool top(Qos& q) const {
        if (bitmap_ == 0) return false;
        q = static_cast<Qos>(top_index());
        return true;
    }
    [[nodiscard]] bool has_room(Qos q) const { return size(q) < CapacityPerClass; }
    [[nodiscard]] bool empty() const { return bitmap_ == 0; }
    [[nodiscard]] bool contains(const T& t, Qos q) const { return lists_[checked(q)].contains(t); }
    // Whether t is linked on any class of this queue, callable without the
    // lock by the hart that owns the queue: only it links its tasks here, so
    // a positive answer is never stale (the link is read atomically).
    [[nodiscard]] bool holds(const T& t) const {
        const void* owner = __atomic_load_n(&(t.*Link).owner, __ATOMIC_RELAXED);
        // The class lists are one array: linked here iff owner points into it.
        const auto o = reinterpret_cast<std::uintptr_t>(owner);
        const auto first = reinterpret_cast<std::uintptr_t>(&lists_[0]);
        return o - first < sizeof(lists_) && (o - first) % sizeof(List) == 0;
    }
    [[nodiscard]] const Stats& stats() const { return stats_; }
    // Every queued task, highest class first (diagnostics, monitors).
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (std::uint32_t i = kQosCount; i-- > 0;)
            lists_[i].for_each(fn);
    }

  private:
    using List = k::IntrusiveList<T, Link>;

    // An out-of-range class is memory corruption, not a saturation outcome.
    static std::uint32_t checked(Qos q) {
        if (!qos_valid(q)) k::panic("run queue: invalid qos");
        return qos_index(q);
    }

    // The highest set bit of a non-empty bitmap, not std::bit_width: without
    // Zbb that is a libgcc call (__clzdi2, 45 instructions measured on the
    // yield path). Up to 4 classes: a 16-entry table (one load); more: a
    // compare chain from the top.
    std::uint32_t top_index() const {
        if constexpr (kQosCount <= 4) {
            return kTopOf[bitmap_ & 0xfu];
        } else {
            std::uint32_t i = kQosCount - 1;
            while ((bitmap_ >> i) == 0)
                --i;
            return i;
        }
    }
    static constexpr std::uint8_t kTopOf[16] = {0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};

    void settle(std::uint32_t i) {
        if (lists_[i].empty()) bitmap_ &= ~(1u << i);
    }

    // bitmap_ and size_ are not neighbours: GCC merges two adjacent 32-bit
    // stores into one 64-bit store built with four shifts and ors (seen on
    // the yield path, at every enqueue and pick).
    List lists_[kQosCount];
    std::uint32_t bitmap_ = 0; // bit q set iff lists_[q] is non-empty
    Stats stats_;
    std::uint32_t size_ = 0; // tasks in all classes
};

} // namespace sched
