// Host tests of the timer queue's portable part (sched/timer_list.hpp) and of the race rule of
// RFC-0030 "Timeouts": a fire and a cancel of one entry, under the queue's lock, have exactly
// one winner, and a cancel that loses returns only after the fire's effect is complete.
#include "sched/timer_list.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Entry {
    k::ListLink link;
    std::uint64_t deadline = 0;
    std::uint32_t id = 0;
};
using List = sched::TimerList<Entry, &Entry::link, &Entry::deadline>;

} // namespace

TEST_CASE("timer list: deadline order, FIFO among equals", "[sched][timer]") {
    Entry e[6];
    const std::uint64_t dl[6] = {50, 10, 30, 10, 70, 30};
    List l;
    for (std::uint32_t i = 0; i < 6; ++i) {
        e[i].deadline = dl[i];
        e[i].id = i;
        l.insert(e[i]);
    }
    REQUIRE(l.size() == 6);
    REQUIRE(l.next_deadline() == 10);
    std::vector<std::uint32_t> order;
    while (Entry* x = l.pop_due(1000))
        order.push_back(x->id);
    REQUIRE(order == std::vector<std::uint32_t>{1, 3, 2, 5, 0, 4});
    REQUIRE(l.empty());
    REQUIRE(l.next_deadline() == sched::kNoDeadline);
}

TEST_CASE("timer list: pop_due takes only what is due", "[sched][timer]") {
    Entry a, b;
    a.deadline = 100;
    b.deadline = 200;
    List l;
    l.insert(b);
    l.insert(a);
    REQUIRE(l.pop_due(99) == nullptr);
    REQUIRE(l.pop_due(100) == &a);
    REQUIRE(l.pop_due(150) == nullptr);
    REQUIRE(l.remove(b));
    REQUIRE_FALSE(l.remove(b)); // not there any more: a cancel after the fire
    REQUIRE(l.empty());
}

TEST_CASE("timer race: fire and cancel of one entry, exactly one wins", "[sched][timer]") {
    // Each round a waiter arms an entry due "now"; a firer pops due entries and posts their
    // bit; the waiter cancels. Exactly one of the two unlinks it; when the fire won, its post
    // is visible to the waiter once its cancel returned (both under the lock).
    constexpr int kRounds = 20000;
    std::mutex lock;
    List l;
    std::atomic<int> round{0};
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> posted{0};
    std::thread firer([&] {
        while (!stop.load()) {
            std::lock_guard<std::mutex> g(lock);
            while (Entry* x = l.pop_due(~std::uint64_t{0}))
                posted.fetch_add(x->id, std::memory_order_relaxed);
        }
    });
    int fired = 0, cancelled = 0, both = 0, neither = 0;
    for (int r = 1; r <= kRounds; ++r) {
        Entry e;
        e.deadline = 0;
        e.id = 1;
        const std::uint64_t before = posted.load();
        {
            std::lock_guard<std::mutex> g(lock);
            l.insert(e);
        }
        round.store(r);
        bool removed = false;
        {
            std::lock_guard<std::mutex> g(lock);
            removed = l.remove(e);
        }
        const std::uint64_t after = posted.load();
        const bool saw_post = after != before;
        fired += saw_post && !removed ? 1 : 0;
        cancelled += !saw_post && removed ? 1 : 0;
        both += saw_post && removed ? 1 : 0;
        neither += !saw_post && !removed ? 1 : 0;
    }
    stop.store(true);
    firer.join();
    REQUIRE(both == 0);
    REQUIRE(neither == 0);
    REQUIRE(fired + cancelled == kRounds);
}
