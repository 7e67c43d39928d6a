// Host tests of k::Guarded: its accesses pass under the lock and panic without it, on any hart,
// and racy() never checks; and of the wake-condition pair built on it.
#include "base/guarded.hpp"
#include "base/spin_lock.hpp"
#include "base/tests/harts.hpp"
#include "base/tests/panic_check.hpp"
#include "base/wake_condition.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using testing_harts::panics;
using testing_harts::run_harts;

TEST_CASE("guarded: get and set under the lock, racy without it", "[sync][guarded]") {
    k::SpinLock lock("test");
    k::Guarded<std::uint64_t> word{lock, 7};
    {
        k::SpinGuard g(lock);
        CHECK(word.get() == 7);
        word.set(9);
        CHECK(word.get() == 9);
    }
    CHECK(word.racy() == 9);
}

TEST_CASE("guarded: a get or a set without the lock panics", "[sync][guarded]") {
    k::SpinLock lock("test");
    k::Guarded<std::uint32_t> flag{lock, 0};
    CHECK(panics([&] { (void)flag.get(); }));
    CHECK(panics([&] { flag.set(1); }));
}

TEST_CASE("guarded: the lock held by another hart does not count", "[sync][guarded]") {
    k::SpinLock lock("test");
    k::Guarded<std::uint32_t> flag{lock, 0};
    // Hart 1 holds the lock while hart 2 touches the field: only hart 1 may.
    CHECK(panics([&] {
        std::atomic<std::uint32_t> held{0};
        run_harts(2, [&](std::uint32_t cpu) {
            if (cpu == 1) {
                k::SpinGuard g(lock);
                held.store(1);
                while (held.load() != 2) {
                }
            } else {
                while (held.load() != 1) {
                }
                flag.set(1); // panics: the lock is hart 1's
                held.store(2);
            }
        });
    }));
}

TEST_CASE("guarded: counted increments under the lock from 4 harts add up", "[sync][guarded]") {
    k::SpinLock lock("test");
    k::Guarded<std::uint64_t> n{lock, 0};
    run_harts(4, [&](std::uint32_t) {
        for (int i = 0; i < 10000; ++i) {
            k::SpinGuard g(lock);
            n.set(n.get() + 1);
        }
    });
    CHECK(n.racy() == 40000);
}

// k::WakeCondition and k::SleeperSlot (base/wake_condition.hpp): a critical section that makes
// the condition hold while a sleeper is published must look at the sleeper before it releases.
TEST_CASE("wake condition: a waker that reads its sleeper under the lock passes",
          "[sync][guarded][wake]") {
    k::SpinLock lock("test");
    int sleeper = 0;
    k::SleeperSlot<int*> slot{lock, nullptr};
    k::WakeCondition<std::uint32_t, int*> cond{slot, 0};
    {
        k::SpinGuard g(lock);
        slot.set(&sleeper);
    }
    {
        k::SpinGuard g(lock); // the usual order: condition, then who sleeps
        cond.set(1);
        CHECK(slot.get() == &sleeper);
    }
    {
        k::SpinGuard g(lock); // the other order, one critical section: as correct
        CHECK(slot.get() == &sleeper);
        cond.set(2);
    }
    {
        k::SpinGuard g(lock); // clearing the condition owes nothing
        cond.set(0);
    }
    {
        k::SpinGuard g(lock); // nobody sleeps: nothing to read
        slot.set(nullptr);
    }
    {
        k::SpinGuard g(lock);
        cond.set(3);
    }
    CHECK(cond.racy() == 3);
}

TEST_CASE("wake condition: a waker that read its sleeper before the lock panics at release",
          "[sync][guarded][wake]") {
    k::SpinLock lock("test");
    int sleeper = 0;
    k::SleeperSlot<int*> slot{lock, nullptr};
    k::WakeCondition<std::uint32_t, int*> cond{slot, 0};
    {
        k::SpinGuard g(lock);
        slot.set(&sleeper);
    }
    CHECK(panics([&] {
        int* w = slot.racy(); // the planted bug: who sleeps, read outside the lock
        (void)w;
        k::SpinGuard g(lock);
        cond.set(1);
    }));
    // The same through lock_masked / unlock_masked (the switch path's pair).
    CHECK(panics([&] {
        hal::Cpu::irq_push();
        lock.lock_masked();
        cond.set(1);
        lock.unlock_masked();
        hal::Cpu::irq_pop();
    }));
    // The debt is the hold's: a later critical section does not settle it.
    CHECK(panics([&] {
        {
            k::SpinGuard g(lock);
            cond.set(1);
        }
        k::SpinGuard g(lock);
        (void)slot.get();
    }));
}
