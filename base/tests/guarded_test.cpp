// Host tests of k::Guarded: its accesses pass under the lock and panic without it, on any hart,
// and racy() never checks.
#include "base/guarded.hpp"
#include "base/spin_lock.hpp"
#include "base/tests/harts.hpp"
#include "base/tests/panic_check.hpp"

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
