// Host test of k::rfence (base/rfence_gate.hpp): a sender that began on a cpu is either left
// out (the gate was closed) or waited for by quiesce(); none is inside a fence to a cpu after
// its quiesce() returned.
#include "base/rfence_gate.hpp"
#include "base/tests/harts.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

using testing_harts::run_harts;

TEST_CASE("rfence gate: no fence in flight to a cpu once it quiesced", "[sync][rfence]") {
    constexpr std::uint32_t kCpu = 3, kSenders = 3, kRounds = 1000;
    std::atomic<std::uint32_t> inside{0}, late{0}, left_out{0}, stopped{0}, round{0};
    run_harts(kSenders + 1, [&](std::uint32_t h) {
        if (h == 1) { // the leaving hart: quiesce, check no sender is inside, reopen
            for (std::uint32_t r = 1; r <= kRounds; ++r) {
                k::rfence::quiesce(kCpu);
                stopped.store(1, std::memory_order_seq_cst);
                for (int i = 0; i < 10; ++i) { // "stopped", a while
                    if (inside.load(std::memory_order_seq_cst) != 0) late.fetch_add(1);
                    std::this_thread::yield();
                }
                stopped.store(0, std::memory_order_seq_cst);
                k::rfence::reopen(kCpu);
                round.store(r, std::memory_order_seq_cst);
            }
            return;
        }
        while (round.load(std::memory_order_seq_cst) < kRounds) {
            if (!k::rfence::begin(kCpu)) {
                left_out.fetch_add(1);
                continue;
            }
            inside.fetch_add(1, std::memory_order_seq_cst);
            // "The fence", a while: the target may not be stopped while it runs.
            for (int i = 0; i < 20; ++i) {
                if (stopped.load(std::memory_order_seq_cst) != 0) late.fetch_add(1);
                std::this_thread::yield();
            }
            inside.fetch_sub(1, std::memory_order_seq_cst);
            k::rfence::end(kCpu);
        }
    });
    CHECK(late.load() == 0);
    CHECK(k::rfence::begin(kCpu)); // open again at the end
    k::rfence::end(kCpu);
    INFO("senders left out " << left_out.load());
}

TEST_CASE("rfence gate: a closed gate leaves the cpu out until reopened", "[rfence]") {
    constexpr std::uint32_t kCpu = 5;
    REQUIRE(k::rfence::begin(kCpu));
    k::rfence::end(kCpu);
    k::rfence::quiesce(kCpu); // nothing in flight: returns at once
    CHECK_FALSE(k::rfence::begin(kCpu));
    CHECK_FALSE(k::rfence::begin(kCpu));
    k::rfence::reopen(kCpu);
    CHECK(k::rfence::begin(kCpu));
    k::rfence::end(kCpu);
}
