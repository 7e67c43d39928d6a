// Interrupt-disabling reader/writer spin lock (writer-preferring) and its guards.
#pragma once

#include "base/panic.hpp"
#include "base/spin_lock.hpp"
#include "hal_cpu.hpp"

#include <atomic>
#include <cstdint>

namespace k {

// Writer-preferring: once a writer waits, new readers back off until no
// writer waits, so a steady stream of readers cannot starve a writer (the
// read side is the common, short path; writes are rare updates). Readers can
// starve under a continuous stream of writers; waiting writers are unordered.
// Not recursive on either side: read-locking twice on one cpu can deadlock
// against a waiting writer. Write recursion and read-while-writing panic.
class RwLock final {
  public:
    explicit constexpr RwLock(const char* name) : name_(name) {}
    RwLock(const RwLock&) = delete;
    RwLock& operator=(const RwLock&) = delete;

    void lock_shared() {
        hal::Cpu::irq_push();
        if (write_owner_.load(std::memory_order_relaxed) == hal::Cpu::lock_id()) {
            panic("rw lock read while this cpu holds it for write");
        }
        for (;;) {
            // Relaxed polling; the acquiring CAS below is what orders.
            while (writers_waiting_.load(std::memory_order_relaxed) != 0 ||
                   (state_.load(std::memory_order_relaxed) & kWriter) != 0) {
                hal::Cpu::relax();
            }
            std::uint32_t s = state_.load(std::memory_order_relaxed);
            // Acquire pairs with the writer's release in unlock().
            if ((s & kWriter) == 0 &&
                state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
                return;
            }
        }
    }

    void unlock_shared() {
        // Release: the reader's loads happen-before the next writer's stores.
        state_.fetch_sub(1, std::memory_order_release);
        hal::Cpu::irq_pop();
    }

    void lock() {
        hal::Cpu::irq_push();
        const std::uint32_t me = hal::Cpu::lock_id();
        if (write_owner_.load(std::memory_order_relaxed) == me) panic("rw lock write recursion");
        writers_waiting_.fetch_add(1, std::memory_order_relaxed);
        for (;;) {
            std::uint32_t expected = 0;
            // Acquire pairs with the release of the last reader or writer out.
            if (state_.compare_exchange_weak(expected, kWriter, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
                break;
            }
            hal::Cpu::relax();
        }
        writers_waiting_.fetch_sub(1, std::memory_order_relaxed);
        write_owner_.store(me, std::memory_order_relaxed);
    }

    void unlock() {
        if (write_owner_.load(std::memory_order_relaxed) != hal::Cpu::lock_id()) {
            panic("rw lock write-released by a cpu that does not hold it");
        }
        write_owner_.store(kNoOwner, std::memory_order_relaxed);
        // Readers never CAS while kWriter is set, so the word is exactly kWriter.
        state_.store(0, std::memory_order_release);
        hal::Cpu::irq_pop();
    }

    [[nodiscard]] bool write_held_by_me() const {
        return write_owner_.load(std::memory_order_relaxed) == hal::Cpu::lock_id();
    }
    // Racy snapshot for diagnostics and tests.
    [[nodiscard]] std::uint32_t readers() const {
        return state_.load(std::memory_order_relaxed) & ~kWriter;
    }
    [[nodiscard]] std::uint32_t writers_waiting() const {
        return writers_waiting_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] const char* name() const { return name_; }

  private:
    static constexpr std::uint32_t kWriter = 1u << 31;

    std::atomic<std::uint32_t> state_{0};           // kWriter | reader count
    std::atomic<std::uint32_t> writers_waiting_{0}; // writers spinning in lock()
    std::atomic<std::uint32_t> write_owner_{kNoOwner};
    const char* name_;
};

class ReadGuard final {
  public:
    explicit ReadGuard(RwLock& lock) : lock_(lock) { lock_.lock_shared(); }
    ~ReadGuard() { lock_.unlock_shared(); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

  private:
    RwLock& lock_;
};

class WriteGuard final {
  public:
    explicit WriteGuard(RwLock& lock) : lock_(lock) { lock_.lock(); }
    ~WriteGuard() { lock_.unlock(); }
    WriteGuard(const WriteGuard&) = delete;
    WriteGuard& operator=(const WriteGuard&) = delete;

  private:
    RwLock& lock_;
};

} // namespace k
