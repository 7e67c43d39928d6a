// Host tests of k::RwLock: concurrent readers, exclusive writers, writer preference.
#include "base/rw_lock.hpp"
#include "base/tests/harts.hpp"
#include "base/tests/panic_check.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

using testing_harts::panics;
using testing_harts::run_harts;

TEST_CASE("rw lock: readers hold it at the same time", "[sync][rw]") {
    k::RwLock lock("readers");
    constexpr std::uint32_t kReaders = 4;
    std::atomic<std::uint32_t> inside{0};
    std::atomic<std::uint32_t> max_inside{0};
    std::atomic<std::uint32_t> bad{0};

    run_harts(kReaders, [&](std::uint32_t) {
        k::ReadGuard g(lock);
        if (hal::Cpu::irq_depth() != 1 || hal::Cpu::irq_enabled()) bad.fetch_add(1);
        const std::uint32_t now = inside.fetch_add(1) + 1;
        std::uint32_t seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        // Every reader waits (bounded) for all others to be inside too.
        for (std::uint64_t spins = 0; inside.load() < kReaders && spins < 50'000'000; ++spins) {
            std::this_thread::yield();
        }
        if (hal::Cpu::irq_depth() != 1) bad.fetch_add(1);
    });
    CHECK(max_inside.load() == kReaders);
    CHECK(bad.load() == 0);
    CHECK(lock.readers() == 0);
}

TEST_CASE("rw lock: writers exclusive against readers and writers", "[sync][rw]") {
    k::RwLock lock("mixed");
    std::uint64_t a = 0; // guarded by lock (write)
    std::uint64_t b = 0; // guarded by lock (write); a == b outside a write
    std::atomic<std::uint32_t> readers_in{0};
    std::atomic<std::uint32_t> writers_in{0};
    std::atomic<std::uint32_t> violations{0};
    constexpr std::uint32_t kIters = 5000;

    run_harts(4, [&](std::uint32_t cpu) {
        for (std::uint32_t i = 0; i < kIters; ++i) {
            if ((i + cpu) % 4 == 0) {
                k::WriteGuard g(lock);
                if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) violations.fetch_add(1);
                if (!lock.write_held_by_me()) violations.fetch_add(1);
                ++a;
                ++b;
                writers_in.fetch_sub(1);
            } else {
                k::ReadGuard g(lock);
                readers_in.fetch_add(1);
                if (writers_in.load() != 0 || a != b) violations.fetch_add(1);
                readers_in.fetch_sub(1);
            }
        }
        if (hal::Cpu::irq_depth() != 0) violations.fetch_add(1);
    });
    CHECK(violations.load() == 0);
    CHECK(a == 4u * kIters / 4);
    CHECK(a == b);
}

TEST_CASE("rw lock: a waiting writer goes before later readers", "[sync][rw]") {
    k::RwLock lock("prefer");
    std::atomic<std::uint32_t> step{0};
    std::atomic<std::uint32_t> writer_order{0};
    std::atomic<std::uint32_t> late_reader_order{0};
    std::atomic<std::uint32_t> order{0};

    hal::host::set_cpu(1);
    lock.lock_shared(); // the first reader holds it
    std::thread writer([&] {
        hal::host::set_cpu(2);
        step.store(1);
        k::WriteGuard g(lock);
        writer_order.store(order.fetch_add(1) + 1);
    });
    while (lock.writers_waiting() == 0)
        std::this_thread::yield();
    std::thread late_reader([&] {
        hal::host::set_cpu(3);
        k::ReadGuard g(lock);
        late_reader_order.store(order.fetch_add(1) + 1);
    });
    // Give the late reader time to arrive; it must not get in meanwhile.
    for (int i = 0; i < 1000; ++i)
        std::this_thread::yield();
    CHECK(late_reader_order.load() == 0);
    lock.unlock_shared();
    writer.join();
    late_reader.join();
    CHECK(writer_order.load() == 1);
    CHECK(late_reader_order.load() == 2);
    CHECK(hal::Cpu::irq_depth() == 0);
    hal::host::set_cpu(0);
}

TEST_CASE("rw lock: write owner recorded, irq depth returns to 0", "[sync][rw]") {
    hal::host::set_cpu(6);
    k::RwLock lock("owner");
    {
        k::WriteGuard g(lock);
        CHECK(lock.write_held_by_me());
        CHECK(hal::Cpu::irq_depth() == 1);
        bool other = true;
        run_harts(
            1, [&](std::uint32_t) { other = lock.write_held_by_me(); }, 7);
        CHECK_FALSE(other);
    }
    CHECK_FALSE(lock.write_held_by_me());
    {
        k::ReadGuard r1(lock);
        CHECK(lock.readers() == 1);
        CHECK(hal::Cpu::irq_depth() == 1);
    }
    CHECK(hal::Cpu::irq_depth() == 0);
    CHECK(hal::Cpu::irq_enabled());
    hal::host::set_cpu(0);
}

TEST_CASE("rw lock: write recursion and read-while-writing panic", "[sync][rw]") {
    CHECK(panics([] {
        k::RwLock lock("rec");
        lock.lock();
        lock.lock();
    }));
    CHECK(panics([] {
        k::RwLock lock("rec-read");
        lock.lock();
        lock.lock_shared();
    }));
    CHECK(panics([] {
        k::RwLock lock("foreign");
        lock.unlock();
    }));
}
