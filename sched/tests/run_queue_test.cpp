// Host tests of the bounded per-hart run queue: QoS order, FIFO, bounds, remove.
#include "sched/run_queue.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using sched::EnqueueOutcome;
using sched::Qos;

namespace {

struct Task {
    k::ListLink link;
    std::uint32_t id = 0;
};

constexpr std::uint32_t kCap = 4;
using Rq = sched::RunQueue<Task, &Task::link, kCap>;
constexpr Qos kAll[] = {Qos::Idle, Qos::Normal, Qos::Interactive, Qos::PerfBurst};

std::vector<std::uint32_t> drain(Rq& rq) {
    std::vector<std::uint32_t> out;
    while (Task* t = rq.pick())
        out.push_back(t->id);
    return out;
}

} // namespace

static_assert(EnqueueOutcome::queued().ok());
static_assert(!EnqueueOutcome::full(Qos::Normal, 4).ok());
static_assert(EnqueueOutcome::full(Qos::Normal, 4).kind == EnqueueOutcome::Kind::QueueFull);
static_assert(!EnqueueOutcome::invalid_cpu().ok());

TEST_CASE("run queue: highest QoS first, whatever the enqueue order", "[sched][rq]") {
    Task t[4];
    for (std::uint32_t i = 0; i < 4; ++i)
        t[i].id = i; // id == qos index
    const std::uint32_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
    for (const auto& order : orders) {
        Rq rq;
        for (std::uint32_t i : order)
            REQUIRE(rq.enqueue(t[i], kAll[i]).ok());
        CHECK(rq.size() == 4);
        CHECK(drain(rq) == std::vector<std::uint32_t>{3, 2, 1, 0});
        CHECK(rq.empty());
    }
    CHECK(std::string(sched::qos_name(Qos::PerfBurst)) == "perf-burst");
    CHECK(std::string(sched::qos_name(Qos::Idle)) == "idle");
}

TEST_CASE("run queue: FIFO within a class, round robin on re-enqueue", "[sched][rq]") {
    Task t[3];
    for (std::uint32_t i = 0; i < 3; ++i)
        t[i].id = i;
    Rq rq;
    for (Task& x : t)
        REQUIRE(rq.enqueue(x, Qos::Normal).ok());
    std::vector<std::uint32_t> ran;
    for (int slice = 0; slice < 9; ++slice) {
        Task* cur = rq.pick();
        REQUIRE(cur != nullptr);
        ran.push_back(cur->id);
        REQUIRE(rq.enqueue(*cur, Qos::Normal).ok()); // preempted: back to the tail
    }
    CHECK(ran == std::vector<std::uint32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2});
    // A higher class arriving takes over at once; the lower one resumes in order after.
    Task hi;
    hi.id = 99;
    REQUIRE(rq.enqueue(hi, Qos::Interactive).ok());
    CHECK(drain(rq) == std::vector<std::uint32_t>{99, 0, 1, 2});
}

TEST_CASE("run queue: QueueFull at the bound of every class, queue unchanged, counted",
          "[sched][rq]") {
    Task t[kCap * 4 + 4];
    for (std::uint32_t i = 0; i < kCap * 4 + 4; ++i)
        t[i].id = i;
    Rq rq;
    std::uint32_t next = 0;
    for (Qos q : kAll) {
        for (std::uint32_t i = 0; i < kCap; ++i)
            REQUIRE(rq.enqueue(t[next++], q).ok());
        CHECK_FALSE(rq.has_room(q));
    }
    REQUIRE(rq.size() == kCap * 4);
    for (Qos q : kAll) {
        CAPTURE(sched::qos_name(q));
        Task& extra = t[next++];
        const auto before = rq.stats();
        const EnqueueOutcome o = rq.enqueue(extra, q);
        CHECK(o.kind == EnqueueOutcome::Kind::QueueFull);
        CHECK_FALSE(o.ok());
        CHECK(o.qos == q);
        CHECK(o.capacity == kCap);
        CHECK_FALSE(extra.link.linked());
        CHECK(rq.size(q) == kCap);
        CHECK(rq.size() == kCap * 4);
        CHECK(rq.stats().rejected[sched::qos_index(q)] == before.rejected[sched::qos_index(q)] + 1);
        CHECK(rq.stats().enqueued == before.enqueued);
    }
    for (Qos q : kAll)
        CHECK(rq.stats().rejected[sched::qos_index(q)] == 1);
    // The FIFO order of a full class is untouched by the refusals.
    std::vector<std::uint32_t> got = drain(rq);
    CHECK(got == std::vector<std::uint32_t>{12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3});
    // Room again once picked.
    for (Qos q : kAll)
        CHECK(rq.has_room(q));
    CHECK(rq.enqueue(t[16], Qos::Idle).ok());
}

TEST_CASE("run queue: remove from the middle, wrong class, not queued", "[sched][rq]") {
    Task t[4];
    for (std::uint32_t i = 0; i < 4; ++i)
        t[i].id = i;
    Rq rq;
    for (std::uint32_t i = 0; i < 3; ++i)
        REQUIRE(rq.enqueue(t[i], Qos::Interactive).ok());
    CHECK(rq.contains(t[1], Qos::Interactive));
    CHECK_FALSE(rq.remove(t[1], Qos::Normal)); // wrong class: nothing happens
    CHECK(rq.size() == 3);
    CHECK_FALSE(rq.remove(t[3], Qos::Interactive)); // never queued
    CHECK(rq.remove(t[1], Qos::Interactive));
    CHECK_FALSE(t[1].link.linked());
    CHECK(rq.size(Qos::Interactive) == 2);
    CHECK(rq.remove(t[0], Qos::Interactive));
    CHECK(rq.remove(t[2], Qos::Interactive));
    CHECK(rq.empty());
    CHECK(rq.pick() == nullptr); // the class bit was cleared
    const auto& s = rq.stats();
    CHECK(s.enqueued == 3);
    CHECK(s.removed == 3);
    CHECK(s.picked == 0);
}

TEST_CASE("run queue: counters balance", "[sched][rq]") {
    Task t[8];
    Rq rq;
    for (std::uint32_t i = 0; i < 8; ++i)
        (void)rq.enqueue(t[i], kAll[i % 4]);
    (void)rq.pick();
    (void)rq.pick();
    CHECK(rq.remove(t[0], Qos::Idle));
    Task* out[2];
    const std::uint32_t n = rq.steal(out, {2, Qos::Normal}, [](const Task&) { return true; });
    const auto& s = rq.stats();
    CHECK(s.enqueued == s.picked + s.removed + s.stolen + rq.size());
    CHECK(s.stolen == n);
}
