// A wait's two shared fields, paired so that the waker's half of the sleep protocol is checked
// at every signal, not only when a race hits: the slot where a sleeper publishes itself
// (SleeperSlot) and the condition it waits for (WakeCondition, holding while non-zero). Both
// are k::Guarded (every get and set panics outside their lock). In addition, a critical section
// that makes the condition hold while a sleeper is published must read (or write) the sleeper
// slot before it releases the lock; the release panics otherwise. That is the waker that took
// who sleeps before the lock (racy(), an earlier critical section, a cached pointer) and so
// misses a sleeper that published itself in between: caught on its first signal that finds a
// sleeper, wherever the waker is written. A waker that never reads the slot at all is caught
// the same way. Reading the slot first and setting the condition later in the same critical
// section is as correct as the usual order and passes.
#pragma once

#include "base/guarded.hpp"
#include "base/spin_lock.hpp"

namespace k {

template <typename T>
class SleeperSlot final {
  public:
    constexpr SleeperSlot(const SpinLock& lock, T initial) : field_(lock, initial) {}
    SleeperSlot(const SleeperSlot&) = delete;
    SleeperSlot& operator=(const SleeperSlot&) = delete;

    // Under the lock only; settles what this critical section owes its sleepers.
    [[nodiscard]] T get() {
        const T v = field_.get();
        field_.lock().wake_ = SpinLock::WakeDebt::Read;
        return v;
    }
    // Under the lock only; settles as get() does.
    void set(T v) {
        field_.set(v);
        field_.lock().wake_ = SpinLock::WakeDebt::Read;
    }
    // Without the lock: a snapshot that may be stale at once (monitors, diagnostics). Never the
    // sleeper a waker wakes: the release of the waker's critical section panics.
    [[nodiscard]] T racy() const { return field_.racy(); }

  private:
    template <typename U, typename S>
    friend class WakeCondition;

    Guarded<T> field_;
};

// The condition: holds while non-zero. Guarded by the lock of its sleeper slot.
template <typename T, typename S>
class WakeCondition final {
  public:
    constexpr WakeCondition(SleeperSlot<S>& sleepers, T initial)
        : sleepers_(sleepers), field_(sleepers.field_.lock(), initial) {}
    WakeCondition(const WakeCondition&) = delete;
    WakeCondition& operator=(const WakeCondition&) = delete;

    // Under the lock only.
    [[nodiscard]] T get() const { return field_.get(); }
    // Under the lock only. A non-zero value with a sleeper published, the slot not yet read in
    // this critical section, leaves a debt the lock's release checks.
    void set(T v) {
        field_.set(v);
        const SpinLock& lock = field_.lock();
        if (v != T{} && lock.wake_ == SpinLock::WakeDebt::None && sleepers_.field_.get() != S{})
            lock.wake_ = SpinLock::WakeDebt::Owed;
    }
    // Without the lock: a snapshot (monitors, diagnostics, a wait kind's condition test).
    [[nodiscard]] T racy() const { return field_.racy(); }

  private:
    SleeperSlot<S>& sleepers_;
    Guarded<T> field_;
};

} // namespace k
