// Host tests of k::SpinLock: exclusion across fake harts, irq nesting, owner, recursion.
#include "base/spin_lock.hpp"
#include "base/tests/harts.hpp"
#include "base/tests/panic_check.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>

using testing_harts::panics;
using testing_harts::panics_with;
using testing_harts::run_harts;
using testing_harts::SpinBarrier;

TEST_CASE("spin lock: mutual exclusion across 4 harts", "[sync][spin]") {
    k::SpinLock lock("test");
    std::uint64_t counter = 0; // guarded by lock
    std::atomic<std::uint32_t> inside{0};
    std::atomic<std::uint32_t> overlaps{0};
    std::atomic<std::uint32_t> bad_irq{0};
    constexpr std::uint32_t kIters = 20000;

    run_harts(4, [&](std::uint32_t) {
        for (std::uint32_t i = 0; i < kIters; ++i) {
            k::SpinGuard g(lock);
            if (inside.fetch_add(1, std::memory_order_relaxed) != 0) overlaps.fetch_add(1);
            if (hal::Cpu::irq_enabled() || hal::Cpu::irq_depth() != 1 || !lock.held_by_me()) {
                bad_irq.fetch_add(1);
            }
            ++counter;
            inside.fetch_sub(1, std::memory_order_relaxed);
        }
        if (hal::Cpu::irq_depth() != 0 || !hal::Cpu::irq_enabled()) bad_irq.fetch_add(1);
    });

    CHECK(counter == 4u * kIters);
    CHECK(overlaps.load() == 0);
    CHECK(bad_irq.load() == 0);
    CHECK(lock.owner() == k::kNoOwner);
}

TEST_CASE("spin lock: owner recorded, irq depth nests and returns to 0", "[sync][spin]") {
    hal::host::set_cpu(3);
    k::SpinLock a("a");
    k::SpinLock b("b");
    REQUIRE(hal::Cpu::irq_depth() == 0);
    {
        k::SpinGuard ga(a);
        CHECK(a.owner() == 3);
        CHECK(a.held_by_me());
        CHECK_FALSE(b.held_by_me());
        CHECK(hal::Cpu::irq_depth() == 1);
        CHECK_FALSE(hal::Cpu::irq_enabled());
        {
            k::SpinGuard gb(b);
            CHECK(hal::Cpu::irq_depth() == 2);
            CHECK(b.owner() == 3);
        }
        CHECK(hal::Cpu::irq_depth() == 1);
        CHECK_FALSE(hal::Cpu::irq_enabled());

        bool other_sees_held = true;
        run_harts(
            1, [&](std::uint32_t) { other_sees_held = a.held_by_me(); }, 5);
        CHECK_FALSE(other_sees_held);
    }
    CHECK(hal::Cpu::irq_depth() == 0);
    CHECK(hal::Cpu::irq_enabled());
    CHECK(a.owner() == k::kNoOwner);
    CHECK(std::string(a.name()) == "a");
    hal::host::set_cpu(0);
}

TEST_CASE("spin lock: try_lock succeeds only when free and restores irq state", "[sync][spin]") {
    hal::host::set_cpu(1);
    k::SpinLock lock("try");
    REQUIRE(lock.try_lock());
    CHECK(lock.held_by_me());
    CHECK(hal::Cpu::irq_depth() == 1);

    bool got = true;
    std::uint32_t depth_after = 99;
    run_harts(
        1,
        [&](std::uint32_t) {
            got = lock.try_lock();
            depth_after = hal::Cpu::irq_depth();
        },
        2);
    CHECK_FALSE(got);
    CHECK(depth_after == 0);

    lock.unlock();
    CHECK(hal::Cpu::irq_depth() == 0);
    run_harts(
        1,
        [&](std::uint32_t) {
            got = lock.try_lock();
            if (got) lock.unlock();
            depth_after = hal::Cpu::irq_depth();
        },
        2);
    CHECK(got);
    CHECK(depth_after == 0);
    hal::host::set_cpu(0);
}

TEST_CASE("spin lock: recursion and foreign release panic", "[sync][spin]") {
    CHECK(panics([] {
        hal::host::set_cpu(2);
        k::SpinLock lock("recursive");
        lock.lock();
        lock.lock();
    }));
    CHECK(panics([] {
        hal::host::set_cpu(2);
        k::SpinLock lock("recursive-try");
        lock.lock();
        (void)lock.try_lock();
    }));
    CHECK(panics([] {
        k::SpinLock lock("never-locked");
        lock.unlock();
    }));
    // Control: the helper does not report a clean run as a panic.
    CHECK_FALSE(panics([] {
        k::SpinLock lock("fine");
        k::SpinGuard g(lock);
    }));
}

namespace {
constexpr k::LockRank kOuter{"outer", 1, "test rule: outer, then inner"};
constexpr k::LockRank kInner{"inner", 2, "test rule: never two inner"};
} // namespace

TEST_CASE("spin lock: ranked locks nest in their order only", "[sync][spin]") {
    hal::host::set_cpu(4);
    k::SpinLock outer(kOuter), inner(kInner), other_inner(kInner);
    k::SpinLock plain("plain");
    CHECK(std::string(inner.name()) == "inner");
    REQUIRE(hal::Cpu::lock_ranks() == 0);
    {
        // The order, with an unranked lock in between: allowed, and recorded per level.
        k::SpinGuard go(outer);
        CHECK(hal::Cpu::lock_ranks() == 1u << 1);
        k::SpinGuard gp(plain);
        k::SpinGuard gi(inner);
        CHECK(hal::Cpu::lock_ranks() == ((1u << 1) | (1u << 2)));
    }
    CHECK(hal::Cpu::lock_ranks() == 0);
    // One inner after another, not together: allowed; a failed try_lock records nothing.
    { k::SpinGuard gi(inner); }
    REQUIRE(other_inner.try_lock());
    other_inner.unlock();
    {
        k::SpinGuard gi(inner);
        bool got = true;
        run_harts(
            1, [&](std::uint32_t) { got = inner.try_lock(); }, 5);
        CHECK_FALSE(got);
    }
    CHECK(hal::Cpu::lock_ranks() == 0);
    // Another hart's holdings are its own.
    {
        k::SpinGuard gi(inner);
        bool other_ok = false;
        run_harts(
            1,
            [&](std::uint32_t) {
                k::SpinGuard go(outer);
                k::SpinGuard gi2(other_inner);
                other_ok = hal::Cpu::lock_ranks() == ((1u << 1) | (1u << 2));
            },
            5);
        CHECK(other_ok);
    }

    // Out of order, each way of taking a lock: a panic with the rule of the lock being taken.
    CHECK(panics_with(
        [] {
            k::SpinLock o(kOuter), i(kInner);
            k::SpinGuard gi(i);
            k::SpinGuard go(o);
        },
        "test rule: outer, then inner"));
    CHECK(panics_with(
        [] {
            k::SpinLock a(kInner), b(kInner);
            k::SpinGuard ga(a);
            k::SpinGuard gb(b);
        },
        "test rule: never two inner"));
    CHECK(panics_with(
        [] {
            k::SpinLock a(kInner), b(kInner);
            k::SpinGuard ga(a);
            (void)b.try_lock(); // free, but not to be held beside a
        },
        "test rule: never two inner"));
    CHECK(panics_with(
        [] {
            k::SpinLock a(kInner), b(kInner);
            k::SpinGuard ga(a);
            hal::Cpu::irq_push();
            b.lock_masked();
        },
        "test rule: never two inner"));
    // Control: the same calls in order do not panic.
    CHECK_FALSE(panics([] {
        k::SpinLock o(kOuter), i(kInner);
        o.lock();
        i.lock();
        o.unlock(); // out of nesting order: allowed, the record follows
        if (hal::Cpu::lock_ranks() != 1u << 2) std::abort();
        i.unlock();
        if (hal::Cpu::lock_ranks() != 0) std::abort();
    }));
    hal::host::set_cpu(0);
}

TEST_CASE("spin lock: waiters enter in ticket (FIFO) order", "[sync][spin]") {
    // Hart 1 holds the lock; hart 2 queues for it, then hart 3 (each only once the lock's
    // ticket count shows the one before it waiting); hart 1 releases. Hart 2 must enter
    // first, every round: a test-and-set lock lets either win.
    constexpr std::uint32_t kRounds = 1000;
    k::SpinLock lock("fifo");
    SpinBarrier start(3), done(3);
    std::uint32_t first[kRounds] = {}; // written under lock
    std::uint32_t entered = 0;         // entries this round, under lock
    run_harts(3, [&](std::uint32_t cpu) {
        for (std::uint32_t r = 0; r < kRounds; ++r) {
            if (cpu == 1) lock.lock();
            start.wait();
            if (cpu == 1) {
                while (lock.tickets_out() != 3)
                    hal::Cpu::relax();
                lock.unlock();
            } else {
                if (cpu == 3) {
                    while (lock.tickets_out() != 2)
                        hal::Cpu::relax();
                }
                k::SpinGuard g(lock);
                if (entered++ == 0) first[r] = cpu;
            }
            done.wait();
            if (cpu == 1) entered = 0; // nobody holds or waits for the lock here
            start.wait();
        }
    });
    std::uint32_t in_order = 0;
    for (std::uint32_t r = 0; r < kRounds; ++r)
        in_order += first[r] == 2 ? 1 : 0;
    CHECK(in_order == kRounds);
    CHECK(lock.tickets_out() == 0);
}
