// Host tests of work stealing: request checks, bounds, QoS limit, can_take, no loss.
#include "sched/run_queue.hpp"
#include "sched/steal.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

using sched::Qos;
using sched::StealCheck;
using sched::StealRequest;

namespace {

struct Task {
    k::ListLink link;
    std::uint32_t id = 0;
    Qos qos = Qos::Idle;
    bool on_cpu = false;
};

constexpr std::uint32_t kCap = 4;
using Rq = sched::RunQueue<Task, &Task::link, kCap>;
constexpr Qos kAll[] = {Qos::Idle, Qos::Normal, Qos::Interactive, Qos::PerfBurst};

auto not_on_cpu = [](const Task& t) { return !t.on_cpu; };

} // namespace

static_assert(sched::check_steal({2, Qos::Normal}, Qos::Normal) == StealCheck::Ok);
static_assert(sched::check_steal({3, Qos::Idle}, Qos::PerfBurst) == StealCheck::AboveBound);
static_assert(sched::check_steal({1, Qos::PerfBurst}, Qos::Interactive) == StealCheck::HigherQos);

TEST_CASE("steal: check_steal table", "[sched][steal]") {
    struct Row {
        std::uint32_t max;
        Qos limit;
        Qos thief;
        StealCheck want;
        int line;
    };
    const Row rows[] = {
        {0, Qos::Idle, Qos::Idle, StealCheck::Ok, __LINE__},
        {1, Qos::Normal, Qos::PerfBurst, StealCheck::Ok, __LINE__},
        {2, Qos::PerfBurst, Qos::PerfBurst, StealCheck::Ok, __LINE__},
        {sched::kStealMaxPerAttempt, Qos::Interactive, Qos::Interactive, StealCheck::Ok, __LINE__},
        {sched::kStealMaxPerAttempt + 1, Qos::Idle, Qos::PerfBurst, StealCheck::AboveBound,
         __LINE__},
        {100, Qos::Normal, Qos::Normal, StealCheck::AboveBound, __LINE__},
        {3, Qos::PerfBurst, Qos::Idle, StealCheck::AboveBound, __LINE__}, // bound is judged first
        {2, Qos::Normal, Qos::Idle, StealCheck::HigherQos, __LINE__},
        {1, Qos::PerfBurst, Qos::Interactive, StealCheck::HigherQos, __LINE__},
        {0, Qos::Interactive, Qos::Normal, StealCheck::HigherQos, __LINE__},
    };
    for (const Row& r : rows) {
        CAPTURE(r.line);
        CHECK(sched::check_steal({r.max, r.limit}, r.thief) == r.want);
    }
    CHECK(std::string(sched::steal_check_name(StealCheck::HigherQos)) == "higher-qos");
}

TEST_CASE("steal: never more than max, never above the limit", "[sched][steal]") {
    for (Qos limit : kAll) {
        for (std::uint32_t max = 0; max <= sched::kStealMaxPerAttempt; ++max) {
            CAPTURE(sched::qos_name(limit), max);
            Task t[kCap * 4];
            Rq rq;
            for (std::uint32_t i = 0; i < kCap * 4; ++i) {
                t[i].id = i;
                t[i].qos = kAll[i % 4];
                REQUIRE(rq.enqueue(t[i], t[i].qos).ok());
            }
            Task* out[sched::kStealMaxPerAttempt] = {};
            const std::uint32_t n = rq.steal(out, {max, limit}, not_on_cpu);
            CHECK(n == max); // plenty eligible in class Idle alone
            for (std::uint32_t i = 0; i < n; ++i) {
                CHECK(sched::qos_index(out[i]->qos) <= sched::qos_index(limit));
                CHECK_FALSE(out[i]->link.linked());
            }
            CHECK(rq.size() == kCap * 4 - n);
        }
    }
}

TEST_CASE("steal: order is the lowest eligible class, from its tail", "[sched][steal]") {
    Task t[6];
    Rq rq;
    for (std::uint32_t i = 0; i < 6; ++i)
        t[i].id = i;
    REQUIRE(rq.enqueue(t[0], Qos::Normal).ok());
    REQUIRE(rq.enqueue(t[1], Qos::Idle).ok());
    REQUIRE(rq.enqueue(t[2], Qos::Idle).ok());
    REQUIRE(rq.enqueue(t[3], Qos::Interactive).ok());
    Task* out[2] = {};
    REQUIRE(rq.steal(out, {2, Qos::PerfBurst}, not_on_cpu) == 2);
    CHECK(out[0] == &t[2]);
    CHECK(out[1] == &t[1]);
    REQUIRE(rq.steal(out, {2, Qos::PerfBurst}, not_on_cpu) == 2);
    CHECK(out[0] == &t[0]);
    CHECK(out[1] == &t[3]);
    CHECK(rq.empty());
}

TEST_CASE("steal: nothing above the limit, nothing still on a cpu", "[sched][steal]") {
    Task t[6];
    Rq rq;
    REQUIRE(rq.enqueue(t[0], Qos::Interactive).ok());
    REQUIRE(rq.enqueue(t[1], Qos::PerfBurst).ok());
    Task* out[2] = {};
    CHECK(rq.steal(out, {2, Qos::Normal}, not_on_cpu) == 0);
    CHECK(rq.size() == 2);

    t[2].on_cpu = true; // Idle, tail, but still on a cpu
    t[3].on_cpu = true; // Normal, on a cpu
    REQUIRE(rq.enqueue(t[4], Qos::Idle).ok());
    REQUIRE(rq.enqueue(t[2], Qos::Idle).ok());
    REQUIRE(rq.enqueue(t[3], Qos::Normal).ok());
    REQUIRE(rq.steal(out, {2, Qos::Normal}, not_on_cpu) == 1);
    CHECK(out[0] == &t[4]);
    CHECK(t[2].link.linked());
    CHECK(t[3].link.linked());
    CHECK(rq.steal(out, {2, Qos::PerfBurst}, not_on_cpu) == 2); // t[0], t[1]
    CHECK(rq.size() == 2);
    CHECK(rq.stats().stolen == 3);
}

TEST_CASE("steal: a request above the bound moves nothing", "[sched][steal]") {
    Task t[4];
    Rq rq;
    for (Task& x : t)
        REQUIRE(rq.enqueue(x, Qos::Idle).ok());
    Task* out[8] = {};
    CHECK(rq.steal(out, {sched::kStealMaxPerAttempt + 1, Qos::PerfBurst}, not_on_cpu) == 0);
    CHECK(rq.steal(nullptr, {1, Qos::PerfBurst}, not_on_cpu) == 0);
    CHECK(rq.size() == 4);
    CHECK(rq.stats().stolen == 0);
}

TEST_CASE("steal: randomized, loses and duplicates nothing", "[sched][steal]") {
    std::mt19937 rng(12345);
    for (int round = 0; round < 500; ++round) {
        Task t[kCap * 4];
        Rq rq;
        std::set<const Task*> queued;
        for (std::uint32_t i = 0; i < kCap * 4; ++i) {
            t[i].id = i;
            t[i].qos = kAll[rng() % 4];
            t[i].on_cpu = rng() % 4 == 0;
            if (rq.enqueue(t[i], t[i].qos).ok()) queued.insert(&t[i]);
        }
        std::set<const Task*> stolen;
        for (int attempt = 0; attempt < 12; ++attempt) {
            const StealRequest req{static_cast<std::uint32_t>(rng() % 3), kAll[rng() % 4]};
            Task* out[sched::kStealMaxPerAttempt] = {};
            const std::uint32_t n = rq.steal(out, req, not_on_cpu);
            REQUIRE(n <= req.max_tasks);
            for (std::uint32_t i = 0; i < n; ++i) {
                REQUIRE(sched::qos_index(out[i]->qos) <= sched::qos_index(req.qos_limit));
                REQUIRE_FALSE(out[i]->on_cpu);
                REQUIRE(stolen.insert(out[i]).second); // never twice
                REQUIRE(queued.count(out[i]) == 1);    // only what was queued
            }
        }
        std::set<const Task*> left;
        while (Task* p = rq.pick())
            REQUIRE(left.insert(p).second);
        for (const Task* p : stolen)
            REQUIRE(left.count(p) == 0);
        REQUIRE(left.size() + stolen.size() == queued.size());
        REQUIRE(rq.stats().stolen == stolen.size());
    }
}

TEST_CASE("steal gate: one attempt per tick", "[sched][steal]") {
    sched::StealGate g;
    CHECK(g.try_begin(0));
    CHECK_FALSE(g.try_begin(0));
    CHECK(g.try_begin(1));
    CHECK_FALSE(g.try_begin(1));
    CHECK_FALSE(g.try_begin(0)); // time does not run backwards
    CHECK(g.try_begin(7));
    CHECK(g.attempts() == 3);
    CHECK(g.denied() == 3);
}
