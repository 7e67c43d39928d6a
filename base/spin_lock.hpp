// Interrupt-disabling ticket spin lock with owner tracking, and its RAII guard.
#pragma once

#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/store_relaxed.hpp"
#include "hal_cpu.hpp"

#include <atomic>
#include <cstdint>

namespace k {

inline constexpr std::uint32_t kNoOwner = 0xffffffffu;

template <typename T>
class SleeperSlot;
template <typename T, typename S>
class WakeCondition;

// Ticket lock: FIFO hand-off, so no hart starves under contention (a plain
// test-and-set lock lets the hart that last released win again and again).
// Interrupts stay masked on this hart while the lock is held (irq_push()
// nests per hart), so an interrupt handler can never spin on a lock its own
// hart holds. Acquiring a lock this cpu already holds panics.
class SpinLock final {
  public:
    explicit constexpr SpinLock(const char* name) : name_(name) {}
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    void lock() {
        jitter::point(jitter::Site::LockAcquire);
        hal::Cpu::irq_push();
        acquire();
    }

    void unlock() {
        release();
        hal::Cpu::irq_pop();
    }

    // For a caller that keeps interrupts masked from before lock_masked()
    // until after unlock_masked() (the switch path, which runs at irq depth
    // 1): the same lock without a push and pop of its own. Panics if
    // interrupts are not masked.
    void lock_masked() {
        if (hal::Cpu::irq_depth() == 0) panic("spin lock: lock_masked with interrupts on");
        acquire();
    }
    void unlock_masked() { release(); }

    // Takes the lock only if nobody holds or waits for it.
    [[nodiscard]] bool try_lock() {
        jitter::point(jitter::Site::LockAcquire);
        hal::Cpu::irq_push();
        const std::uint32_t me = hal::Cpu::lock_id();
        if (owner_.load(std::memory_order_relaxed) == me) panic("spin lock recursion");
        // Acquire on serving_ synchronises with the last unlock(); the CAS only
        // claims the ticket equal to it (free lock), so it can stay relaxed.
        std::uint32_t ticket = serving_.load(std::memory_order_acquire);
        if (next_.compare_exchange_strong(ticket, ticket + 1, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
            owner_.store(me, std::memory_order_relaxed);
            return true;
        }
        hal::Cpu::irq_pop();
        return false;
    }

    // For asserts: true only on the cpu that holds the lock.
    [[nodiscard]] bool held_by_me() const {
        return owner_.load(std::memory_order_relaxed) == hal::Cpu::lock_id();
    }
    // Racy snapshot for diagnostics only.
    [[nodiscard]] std::uint32_t owner() const { return owner_.load(std::memory_order_relaxed); }
    // Tickets handed out and not yet served, the holder's included: 0 free, 1 held, 1 + n
    // with n cpus waiting. Racy snapshot for diagnostics and tests only.
    [[nodiscard]] std::uint32_t tickets_out() const {
        return next_.load(std::memory_order_relaxed) - serving_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] const char* name() const { return name_; }

  private:
    void acquire() {
        const std::uint32_t me = hal::Cpu::lock_id();
        // Relaxed is enough: only this cpu ever stores `me` here, so seeing it
        // means this cpu holds the lock (coherence of one location).
        if (owner_.load(std::memory_order_relaxed) == me) panic("spin lock recursion");
        // Relaxed: the ticket only reserves a place; acquire on serving_ orders.
        const std::uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
        // Acquire pairs with the release in unlock(): the previous critical
        // section happens-before ours.
        while (serving_.load(std::memory_order_acquire) != ticket)
            hal::Cpu::relax();
        store_relaxed(owner_, me);
    }

    void release() {
        if (owner_.load(std::memory_order_relaxed) != hal::Cpu::lock_id()) {
            panic("spin lock released by a cpu that does not hold it");
        }
        if (wake_ != WakeDebt::None) [[unlikely]]
            settle_wake();
        store_relaxed(owner_, kNoOwner);
        // Only the holder writes serving_; release publishes the critical section.
        store_release(serving_, serving_.load(std::memory_order_relaxed) + 1);
        jitter::point(jitter::Site::LockRelease); // others may take it meanwhile
    }

    // What this hold owes the sleepers of a WakeCondition (base/wake_condition.hpp): Owed once
    // a condition was set while a sleeper was published, Read once the sleeper slot was read
    // or written. Released Owed, the hold set a condition and never looked at who waits for
    // it: its sleeper is never woken (the waker's half of a lost wake-up).
    enum class WakeDebt : std::uint8_t { None, Owed, Read };
    void settle_wake() {
        if (wake_ == WakeDebt::Owed) wake_owed_at_release(name_);
        wake_ = WakeDebt::None;
    }
    [[noreturn, gnu::cold]] static void wake_owed_at_release(const char* lock) {
        (void)lock;
        panic("a wake condition was set while a sleeper was published, and its critical section "
              "ended without reading the sleeper (a waker that read who sleeps outside the lock: "
              "a lost wake-up; see the backtrace)");
    }
    template <typename T>
    friend class SleeperSlot;
    template <typename T, typename S>
    friend class WakeCondition;

    std::atomic<std::uint32_t> next_{0};         // next ticket to hand out
    std::atomic<std::uint32_t> serving_{0};      // ticket that holds the lock
    std::atomic<std::uint32_t> owner_{kNoOwner}; // cpu id of the holder
    mutable WakeDebt wake_ = WakeDebt::None;     // guarded by this lock
    const char* name_;
};

// Holds a SpinLock for the guard's scope.
class SpinGuard final {
  public:
    explicit SpinGuard(SpinLock& lock) : lock_(lock) { lock_.lock(); }
    ~SpinGuard() { lock_.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

  private:
    SpinLock& lock_;
};

} // namespace k
