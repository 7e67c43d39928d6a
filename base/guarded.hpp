// A field guarded by a spin lock, checked: every get() and set() panics unless this hart holds
// the lock. A read or write of the field outside its lock (a waker that looks at who sleeps
// before it takes the lock the sleeper publishes under, a sleeper that registers after it)
// fails at the line that does it, on its first run, not only when a race window is hit.
// racy() is the one unchecked read, for monitors and diagnostics, and says so at the call.
// In the spirit of Linux's lockdep_assert_held() and Clang's GUARDED_BY, checked at run time.
#pragma once

#include "base/panic.hpp"
#include "base/spin_lock.hpp"

#include <atomic>

namespace k {

[[noreturn, gnu::cold]] inline void guarded_without_lock(const SpinLock& lock) {
    (void)lock;
    panic("a field guarded by a spin lock was touched without it (a lost wake-up or a torn "
          "update; see the backtrace)");
}

template <typename T>
class Guarded final {
  public:
    constexpr Guarded(const SpinLock& lock, T initial) : lock_(lock), value_(initial) {}
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;

    // Under the lock only. Relaxed: the lock orders them.
    [[nodiscard]] T get() const {
        check();
        return value_.load(std::memory_order_relaxed);
    }
    // Under the lock only. Release: racy() readers see what was written before.
    void set(T v) {
        check();
        value_.store(v, std::memory_order_release);
    }
    // Without the lock: a snapshot that may be stale at once (monitors, diagnostics).
    [[nodiscard]] T racy() const { return value_.load(std::memory_order_acquire); }
    // The lock that guards the field.
    [[nodiscard]] const SpinLock& lock() const { return lock_; }

  private:
    void check() const {
        if (!lock_.held_by_me()) [[unlikely]]
            guarded_without_lock(lock_);
    }
    const SpinLock& lock_;
    std::atomic<T> value_;
};

} // namespace k
