// Host tests of the task state machine: the full (state, transition) table and CAS races.
#include "base/tests/harts.hpp"
#include "sched/task_state.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using sched::BlockReason;
using sched::TaskState;
using sched::TaskStateCell;
using sched::Transition;
using sched::TransitionKind;

namespace {

constexpr TaskState kStates[] = {TaskState::Ready, TaskState::Running, TaskState::Blocked,
                                 TaskState::Exited};
constexpr TransitionKind kKinds[] = {TransitionKind::Dispatch, TransitionKind::Preempt,
                                     TransitionKind::Block,    TransitionKind::UnblockSelf,
                                     TransitionKind::Wake,     TransitionKind::Exit};

Transition call_named(TaskStateCell& c, TransitionKind k, BlockReason r) {
    switch (k) {
    case TransitionKind::Dispatch:
        return c.dispatch();
    case TransitionKind::Preempt:
        return c.preempt();
    case TransitionKind::Block:
        return c.block(r);
    case TransitionKind::UnblockSelf:
        return c.unblock_self();
    case TransitionKind::Wake:
        return c.wake();
    case TransitionKind::Exit:
        return c.exit();
    }
    return Transition::Illegal;
}

} // namespace

static_assert(sched::legal(TaskState::Ready, TransitionKind::Dispatch));
static_assert(sched::legal(TaskState::Blocked, TransitionKind::Wake));
static_assert(!sched::legal(TaskState::Exited, TransitionKind::Dispatch));
static_assert(!sched::legal(TaskState::Ready, TransitionKind::Wake));

TEST_CASE("task state: every (state, transition) pair follows the table", "[sched][state]") {
    std::uint32_t legal_pairs = 0;
    for (TaskState from : kStates) {
        for (TransitionKind k : kKinds) {
            for (bool named : {true, false}) {
                CAPTURE(sched::task_state_name(from), static_cast<std::uint32_t>(k), named);
                const BlockReason start_reason =
                    from == TaskState::Blocked ? BlockReason::Ipc : BlockReason::None;
                TaskStateCell c(from, start_reason);
                REQUIRE(c.state() == from);
                REQUIRE(c.reason() == start_reason);
                const BlockReason r = BlockReason::Sleep;
                const Transition res = named ? call_named(c, k, r) : c.apply(k, r);
                if (sched::legal(from, k)) {
                    if (named) ++legal_pairs;
                    CHECK(res == Transition::Ok);
                    CHECK(c.state() == sched::target(k));
                    CHECK(c.reason() ==
                          (k == TransitionKind::Block ? BlockReason::Sleep : BlockReason::None));
                    CHECK(c.transitions() == 1);
                } else {
                    CHECK(res == Transition::Illegal);
                    CHECK(c.state() == from);
                    CHECK(c.reason() == start_reason);
                    CHECK(c.transitions() == 0);
                }
            }
        }
    }
    CHECK(legal_pairs == 6); // one legal source per transition
}

TEST_CASE("task state: block records every reason; None is illegal", "[sched][state]") {
    for (BlockReason r :
         {BlockReason::Join, BlockReason::Sleep, BlockReason::Event, BlockReason::Ipc}) {
        TaskStateCell c(TaskState::Running);
        CHECK(c.block(r) == Transition::Ok);
        CHECK(c.state() == TaskState::Blocked);
        CHECK(c.reason() == r);
        CHECK(c.wake() == Transition::Ok);
        CHECK(c.reason() == BlockReason::None);
    }
    TaskStateCell c(TaskState::Running);
    CHECK(c.block(BlockReason::None) == Transition::Illegal);
    CHECK(c.state() == TaskState::Running);
    CHECK(c.transitions() == 0);
    CHECK(c.block(static_cast<BlockReason>(77)) == Transition::Illegal);
    CHECK(c.state() == TaskState::Running);
}

TEST_CASE("task state: a full life cycle", "[sched][state]") {
    TaskStateCell c; // Ready
    CHECK(c.dispatch() == Transition::Ok);
    CHECK(c.preempt() == Transition::Ok);
    CHECK(c.dispatch() == Transition::Ok);
    CHECK(c.block(BlockReason::Join) == Transition::Ok);
    CHECK(c.unblock_self() == Transition::Ok);
    CHECK(c.state() == TaskState::Running);
    CHECK(c.exit() == Transition::Ok);
    CHECK(c.state() == TaskState::Exited);
    for (TransitionKind k : kKinds)
        CHECK(c.apply(k, BlockReason::Event) == Transition::Illegal);
    CHECK(c.transitions() == 6);
}

TEST_CASE("task state: N concurrent wake() on one Blocked cell, exactly one wins",
          "[sched][state][race]") {
    constexpr std::uint32_t kThreads = 6;
    constexpr std::uint32_t kRounds = 2000;
    TaskStateCell cell(TaskState::Blocked, BlockReason::Event);
    testing_harts::SpinBarrier start(kThreads + 1);
    testing_harts::SpinBarrier done(kThreads + 1);
    std::atomic<std::uint32_t> wins{0};
    std::uint32_t bad_rounds = 0;

    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (std::uint32_t r = 0; r < kRounds; ++r) {
                start.wait();
                if (cell.wake() == Transition::Ok) wins.fetch_add(1);
                done.wait();
            }
        });
    }
    for (std::uint32_t r = 0; r < kRounds; ++r) {
        wins.store(0);
        start.wait();
        done.wait();
        if (wins.load() != 1 || cell.state() != TaskState::Ready) ++bad_rounds;
        // Back to Blocked for the next round, through legal transitions only.
        if (cell.dispatch() != Transition::Ok || cell.block(BlockReason::Event) != Transition::Ok) {
            ++bad_rounds;
        }
    }
    for (auto& t : threads)
        t.join();
    CHECK(bad_rounds == 0);
    CHECK(cell.transitions() == 3 * kRounds);
}

TEST_CASE("task state: wake() against unblock_self(), exactly one wins", "[sched][state][race]") {
    constexpr std::uint32_t kRounds = 3000;
    TaskStateCell cell(TaskState::Blocked, BlockReason::Sleep);
    testing_harts::SpinBarrier start(3);
    testing_harts::SpinBarrier done(3);
    std::atomic<std::uint32_t> waker_won{0};
    std::atomic<std::uint32_t> self_won{0};
    std::uint32_t bad_rounds = 0;
    std::uint32_t waker_total = 0;
    std::uint32_t self_total = 0;

    std::thread waker([&] {
        for (std::uint32_t r = 0; r < kRounds; ++r) {
            start.wait();
            if (cell.wake() == Transition::Ok) waker_won.fetch_add(1);
            done.wait();
        }
    });
    std::thread sleeper([&] {
        for (std::uint32_t r = 0; r < kRounds; ++r) {
            start.wait();
            if (cell.unblock_self() == Transition::Ok) self_won.fetch_add(1);
            done.wait();
        }
    });
    for (std::uint32_t r = 0; r < kRounds; ++r) {
        waker_won.store(0);
        self_won.store(0);
        start.wait();
        done.wait();
        const std::uint32_t w = waker_won.load();
        const std::uint32_t s = self_won.load();
        waker_total += w;
        self_total += s;
        if (w + s != 1) ++bad_rounds;
        // The winner decides where the task is: Ready (waker) or Running (self).
        if (w == 1 && cell.state() != TaskState::Ready) ++bad_rounds;
        if (s == 1 && cell.state() != TaskState::Running) ++bad_rounds;
        if (w == 1 && cell.dispatch() != Transition::Ok) ++bad_rounds;
        if (cell.block(BlockReason::Sleep) != Transition::Ok) ++bad_rounds;
    }
    waker.join();
    sleeper.join();
    CHECK(bad_rounds == 0);
    CHECK(waker_total + self_total == kRounds);
}
