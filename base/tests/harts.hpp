// Test helper: run one std::thread per fake hart, and a reusable spin barrier.
#pragma once

#include "hal_cpu.hpp"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace testing_harts {

// Runs fn(cpu) on `n` threads, thread i pinned to fake cpu `first + i`.
template <typename Fn>
void run_harts(std::uint32_t n, Fn fn, std::uint32_t first = 1) {
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        threads.emplace_back([&fn, cpu = first + i] {
            hal::host::set_cpu(cpu);
            fn(cpu);
        });
    }
    for (auto& t : threads)
        t.join();
}

// Sense-reversing barrier, so rounds of a race need no new threads.
class SpinBarrier {
  public:
    explicit SpinBarrier(std::uint32_t n) : n_(n) {}
    void wait() {
        const std::uint32_t gen = gen_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
            arrived_.store(0, std::memory_order_relaxed);
            gen_.fetch_add(1, std::memory_order_acq_rel);
            return;
        }
        while (gen_.load(std::memory_order_acquire) == gen)
            std::this_thread::yield();
    }

  private:
    const std::uint32_t n_;
    std::atomic<std::uint32_t> arrived_{0};
    std::atomic<std::uint32_t> gen_{0};
};

} // namespace testing_harts
