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

// A place in a lock order, for locks that must nest one way only. A lock built with a rank
// may be taken (lock, lock_masked, try_lock) only while this hart holds no ranked lock of the
// same or a higher level: two locks of one level are never held together, and a lower level
// is never taken under a higher one. Each hart keeps the levels it holds as a bit mask
// (hal::Cpu::lock_ranks()), so the check is one compare and the record one or and one and-not
// per acquisition; unranked locks pay one branch. A broken order panics with `rule`.
struct LockRank {
    const char* name;    // the name of every lock of this rank
    std::uint32_t level; // 0..7 (a lock keeps 1 << level in a byte); the outermost has the lowest
    const char* rule;    // the panic's reason: the order in words, and where it is stated
};

template <typename T>
class SleeperSlot;
template <typename T, typename S>
class WakeCondition;

// Ticket lock: FIFO hand-off, so no hart starves under contention (a plain
// test-and-set lock lets the hart that last released win again and again).
// Interrupts stay masked on this hart while the lock is held (irq_push()
// nests per hart), so an interrupt handler can never spin on a lock its own
// hart holds. Acquiring a lock this cpu already holds panics, and so does taking a ranked
// lock out of its order (LockRank).
class SpinLock final {
  public:
    explicit constexpr SpinLock(const char* name) : name_(name) {}
    explicit constexpr SpinLock(const LockRank& rank)
        : rank_bit_(static_cast<std::uint8_t>(1u << rank.level)), rank_(&rank) {}
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
        enter_rank(); // an attempt out of order panics whether or not the lock is free
        // Acquire on serving_ synchronises with the last unlock(); the CAS only
        // claims the ticket equal to it (free lock), so it can stay relaxed.
        std::uint32_t ticket = serving_.load(std::memory_order_acquire);
        if (next_.compare_exchange_strong(ticket, ticket + 1, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
            owner_.store(me, std::memory_order_relaxed);
            return true;
        }
        leave_rank();
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
    [[nodiscard]] const char* name() const { return rank_bit_ != 0 ? rank_->name : name_; }

  private:
    void acquire() {
        const std::uint32_t me = hal::Cpu::lock_id();
        // Relaxed is enough: only this cpu ever stores `me` here, so seeing it
        // means this cpu holds the lock (coherence of one location).
        if (owner_.load(std::memory_order_relaxed) == me) panic("spin lock recursion");
        enter_rank();
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
        leave_rank();
        store_relaxed(owner_, kNoOwner);
        // Only the holder writes serving_; release publishes the critical section.
        store_release(serving_, serving_.load(std::memory_order_relaxed) + 1);
        jitter::point(jitter::Site::LockRelease); // others may take it meanwhile
    }

    // The rank record lives on the hart, not the thread: the scheduler's rq lock is taken before
    // a switch and released by the incoming thread on the same hart.
    void enter_rank() {
        const std::uint32_t bit = rank_bit_;
        if (bit == 0) return;
        std::uint32_t& held = hal::Cpu::lock_ranks();
        // A bit at or above ours is set exactly when the mask is at least our bit.
        if (held >= bit) [[unlikely]]
            out_of_order(rank_->rule);
        held |= bit;
    }
    void leave_rank() {
        if (rank_bit_ != 0) hal::Cpu::lock_ranks() &= ~std::uint32_t{rank_bit_};
    }
    [[noreturn, gnu::cold]] static void out_of_order(const char* rule) { panic(rule); }

    // What this hold owes the sleepers of a WakeCondition (base/wake_condition.hpp): Owed once
    // a condition was set while a sleeper was published, Read once the sleeper slot was read
    // or written. Released Owed, the hold set a condition and never looked at who waits for
    // it: its sleeper is never woken (the waker's half of a lost wake-up).
    enum class WakeDebt : std::uint8_t { None, Owed, Read };
    void settle_wake() {
        if (wake_ == WakeDebt::Owed) wake_owed_at_release(name());
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
    std::uint8_t rank_bit_ = 0;                  // 1 << LockRank::level; 0 unranked
    union {                                      // which one: rank_bit_ says
        const char* name_;
        const LockRank* rank_;
    };
};

// A rank costs no room: selftests keep arrays of lock-holding objects on their stacks.
static_assert(sizeof(SpinLock) == 24);

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
