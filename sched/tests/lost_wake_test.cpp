// Host tests of the lost-wake-up monitor's judgement (sched/lost_wake.hpp) against real task
// state words: only one unchanged block whose condition holds for the whole grace is reported.
#include "sched/lost_wake.hpp"
#include "sched/task_state.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using sched::BlockReason;
using sched::LostWakeTracker;
using sched::SleeperSample;
using sched::TaskState;
using sched::TaskStateCell;
using sched::Transition;

namespace {

constexpr std::uint64_t kGrace = 100;

SleeperSample look(const TaskStateCell& c, bool holds) {
    const std::uint64_t w = c.word();
    return SleeperSample{w, TaskStateCell::state_of_word(w) == TaskState::Blocked, holds};
}

} // namespace

TEST_CASE("a block whose condition holds for the grace is reported, with how long", "[lost_wake]") {
    TaskStateCell c{TaskState::Running};
    REQUIRE(c.block(BlockReason::Event) == Transition::Ok);
    LostWakeTracker<4> t;
    CHECK(t.observe(1, look(c, true), 1000, kGrace) == 0);
    CHECK(t.suspected(1));
    CHECK(t.observe(1, look(c, true), 1050, kGrace) == 0);
    CHECK(t.observe(1, look(c, true), 1099, kGrace) == 0);
    CHECK(t.observe(1, look(c, true), 1100, kGrace) == 100);
    CHECK(t.observe(1, look(c, true), 1300, kGrace) == 300);
}

TEST_CASE("a sleeper whose condition does not hold is never reported", "[lost_wake]") {
    TaskStateCell c{TaskState::Running};
    REQUIRE(c.block(BlockReason::Join) == Transition::Ok);
    LostWakeTracker<4> t;
    for (std::uint64_t now = 0; now < 10 * kGrace; now += 10)
        CHECK(t.observe(0, look(c, false), now, kGrace) == 0);
    CHECK_FALSE(t.suspected(0));
}

TEST_CASE("any wake in between, even a stale one that blocks again, starts the grace anew",
          "[lost_wake]") {
    TaskStateCell c{TaskState::Running};
    REQUIRE(c.block(BlockReason::Event) == Transition::Ok);
    LostWakeTracker<4> t;
    CHECK(t.observe(2, look(c, true), 0, kGrace) == 0);
    // Woken, dispatched, re-checked, blocked again: the same state and reason, a new word.
    REQUIRE(c.wake() == Transition::Ok);
    REQUIRE(c.dispatch() == Transition::Ok);
    REQUIRE(c.block(BlockReason::Event) == Transition::Ok);
    CHECK(t.observe(2, look(c, true), 150, kGrace) == 0);
    CHECK(t.observe(2, look(c, true), 249, kGrace) == 0);
    CHECK(t.observe(2, look(c, true), 250, kGrace) == 100);
}

TEST_CASE("the condition turning false, or the task waking, clears the suspicion", "[lost_wake]") {
    TaskStateCell c{TaskState::Running};
    REQUIRE(c.block(BlockReason::Event) == Transition::Ok);
    LostWakeTracker<4> t;
    CHECK(t.observe(3, look(c, true), 0, kGrace) == 0);
    CHECK(t.observe(3, look(c, false), 50, kGrace) == 0);
    CHECK_FALSE(t.suspected(3));
    CHECK(t.observe(3, look(c, true), 60, kGrace) == 0);
    CHECK(t.observe(3, look(c, true), 159, kGrace) == 0); // the grace counts from 60
    REQUIRE(c.wake() == Transition::Ok);
    CHECK(t.observe(3, look(c, true), 500, kGrace) == 0); // Ready: not a sleeper
    CHECK_FALSE(t.suspected(3));
}

TEST_CASE("slots are independent and out-of-range slots are ignored", "[lost_wake]") {
    TaskStateCell a{TaskState::Running}, b{TaskState::Running};
    REQUIRE(a.block(BlockReason::Event) == Transition::Ok);
    REQUIRE(b.block(BlockReason::Join) == Transition::Ok);
    LostWakeTracker<2> t;
    CHECK(t.observe(0, look(a, true), 0, kGrace) == 0);
    CHECK(t.observe(1, look(b, false), 0, kGrace) == 0);
    CHECK(t.observe(0, look(a, true), 100, kGrace) == 100);
    CHECK(t.observe(1, look(b, false), 100, kGrace) == 0);
    CHECK(t.observe(2, look(a, true), 0, kGrace) == 0);
    CHECK(t.observe(2, look(a, true), 1000, kGrace) == 0);
    CHECK_FALSE(t.suspected(2));
}
