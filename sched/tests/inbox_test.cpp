// Host tests of the per-hart inbox: the empty edge, bounded drain, Keep, deferral.
#include "base/tests/harts.hpp"
#include "base/tests/panic_check.hpp"
#include "sched/inbox.hpp"
#include "sched/run_queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

using sched::DrainAction;
using sched::Qos;

namespace {

struct Task {
    k::ListLink link;
    std::uint32_t id = 0;
    std::atomic<std::uint32_t> seen{0};
};
using Box = sched::Inbox<Task, &Task::link>;

std::vector<std::uint32_t> take_all(Box& box) {
    std::vector<std::uint32_t> out;
    (void)box.drain(
        [&](Task& t) {
            out.push_back(t.id);
            return DrainAction::Take;
        },
        1000);
    return out;
}

} // namespace

TEST_CASE("inbox: push reports only the empty -> non-empty edge", "[sched][inbox]") {
    Task t[3];
    Box box;
    CHECK(box.try_push(t[0]) == sched::PushResult::FirstPending);
    CHECK(box.try_push(t[1]) == sched::PushResult::Queued);
    CHECK(box.pending() == 2);
    CHECK(take_all(box).size() == 2);
    CHECK(box.pending() == 0);
    CHECK(box.try_push(t[2]) == sched::PushResult::FirstPending);
    CHECK(hal::Cpu::irq_depth() == 0);
}

TEST_CASE("inbox: drain visits at most max entries, FIFO", "[sched][inbox]") {
    Task t[10];
    Box box;
    for (std::uint32_t i = 0; i < 10; ++i) {
        t[i].id = i;
        (void)box.try_push(t[i]);
    }
    std::vector<std::uint32_t> got;
    const std::uint32_t n = box.drain(
        [&](Task& x) {
            got.push_back(x.id);
            return DrainAction::Take;
        },
        3);
    CHECK(n == 3);
    CHECK(got == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(box.pending() == 7);
    CHECK(take_all(box) == std::vector<std::uint32_t>{3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("inbox: Keep leaves entries in place and in order", "[sched][inbox]") {
    Task t[5];
    Box box;
    for (std::uint32_t i = 0; i < 5; ++i) {
        t[i].id = i;
        (void)box.try_push(t[i]);
    }
    std::uint32_t visited = 0;
    const std::uint32_t n = box.drain(
        [&](Task& x) {
            ++visited;
            CHECK_FALSE(x.link.linked()); // unlinked while fn holds it
            return x.id % 2 == 1 ? DrainAction::Keep : DrainAction::Take;
        },
        100);
    CHECK(visited == 5);
    CHECK(n == 3);
    CHECK(take_all(box) == std::vector<std::uint32_t>{1, 3});
    const auto s = box.stats();
    CHECK(s.pushed == 5);
    CHECK(s.taken == 5);
    CHECK(s.kept == 2);
}

TEST_CASE("inbox: a wake defers while the run queue class is full", "[sched][inbox]") {
    constexpr std::uint32_t kCap = 2;
    Task t[5];
    sched::RunQueue<Task, &Task::link, kCap> rq;
    Box box;
    for (std::uint32_t i = 0; i < 5; ++i) {
        t[i].id = i;
        (void)box.try_push(t[i]);
    }
    auto into_rq = [&](Task& x) {
        return rq.enqueue(x, Qos::Normal).ok() ? DrainAction::Take : DrainAction::Keep;
    };
    CHECK(box.drain(into_rq, 8) == kCap); // only what fits
    CHECK(box.pending() == 3);
    CHECK(rq.stats().rejected[sched::qos_index(Qos::Normal)] == 3);
    Task* first = rq.pick();
    REQUIRE(first != nullptr);
    CHECK(first->id == 0);
    CHECK(box.drain(into_rq, 8) == 1); // the next in line, order kept
    CHECK(box.pending() == 2);
    std::vector<std::uint32_t> order;
    while (Task* x = rq.pick())
        order.push_back(x->id);
    CHECK(order == std::vector<std::uint32_t>{1, 2});
    CHECK(box.drain(into_rq, 8) == 2);
    CHECK(box.pending() == 0);
}

TEST_CASE("inbox: concurrent pushers and one drainer lose and duplicate nothing",
          "[sched][inbox][race]") {
    constexpr std::uint32_t kPushers = 3;
    constexpr std::uint32_t kPerPusher = 3000;
    std::vector<Task> tasks(kPushers * kPerPusher);
    for (std::uint32_t i = 0; i < tasks.size(); ++i)
        tasks[i].id = i;
    Box box;
    std::atomic<std::uint32_t> edges{0};
    std::atomic<std::uint32_t> drained{0};
    std::atomic<std::uint32_t> pushers_done{0};

    testing_harts::run_harts(kPushers + 1, [&](std::uint32_t cpu) {
        if (cpu == 1) { // the owner drains
            for (;;) {
                const bool last = pushers_done.load() == kPushers;
                drained.fetch_add(box.drain(
                    [](Task& x) {
                        x.seen.fetch_add(1);
                        return DrainAction::Take;
                    },
                    16));
                if (last && box.pending() == 0) break;
            }
            return;
        }
        const std::uint32_t base = (cpu - 2) * kPerPusher;
        for (std::uint32_t i = 0; i < kPerPusher; ++i) {
            if (box.try_push(tasks[base + i]) == sched::PushResult::FirstPending)
                edges.fetch_add(1);
        }
        pushers_done.fetch_add(1);
    });
    CHECK(drained.load() == tasks.size());
    std::uint32_t bad = 0;
    for (const Task& x : tasks)
        bad += x.seen.load() != 1 ? 1u : 0u;
    CHECK(bad == 0);
    CHECK(edges.load() >= 1);
    const auto s = box.stats();
    CHECK(s.pushed == tasks.size());
    CHECK(s.taken == tasks.size());
}

TEST_CASE("inbox: a closed inbox refuses, or parks when asked, and keeps order", "[sched][inbox]") {
    Task t[4];
    for (std::uint32_t i = 0; i < 4; ++i)
        t[i].id = i;
    Box box;
    CHECK(box.try_push(t[0]) == sched::PushResult::FirstPending);
    box.close();
    CHECK(!box.is_open());
    CHECK(box.try_push(t[1]) == sched::PushResult::Closed);
    CHECK(!t[1].link.linked());
    CHECK(box.try_push(t[2], sched::Admit::ParkIfClosed) == sched::PushResult::Parked);
    CHECK(box.try_push(t[3], sched::Admit::ParkIfClosed) == sched::PushResult::Parked);
    CHECK(box.pending() == 3);
    CHECK(box.stats().parked == 2);
    // The owner going offline takes what it may move and keeps the parked ones.
    std::vector<std::uint32_t> moved;
    (void)box.drain(
        [&](Task& x) {
            if (x.id >= 2) return DrainAction::Keep;
            moved.push_back(x.id);
            return DrainAction::Take;
        },
        1000);
    CHECK(moved == std::vector<std::uint32_t>{0});
    CHECK(box.pending() == 2);
    // Open again: the parked tasks come out first, in push order, and the
    // next push is an ordinary one.
    box.open();
    CHECK(box.is_open());
    CHECK(box.try_push(t[1], sched::Admit::ParkIfClosed) == sched::PushResult::Queued);
    CHECK(take_all(box) == std::vector<std::uint32_t>{2, 3, 1});
    CHECK(hal::Cpu::irq_depth() == 0);
}

TEST_CASE("inbox: one created closed takes nothing until opened", "[sched][inbox]") {
    Task t;
    Box box(false);
    CHECK(!box.is_open());
    CHECK(box.try_push(t) == sched::PushResult::Closed);
    box.open();
    CHECK(box.try_push(t) == sched::PushResult::FirstPending);
    CHECK(take_all(box).size() == 1);
}

TEST_CASE("inbox: lock order: inbox, then rq, never the reverse, never two rq", "[sched][inbox]") {
    // The kernel's ranks (sched/lock_order.hpp) on the host: a drain that links into a run
    // queue under its rq lock is the allowed order.
    hal::host::set_cpu(5);
    Task t[2];
    t[0].id = 1;
    Box box;
    k::SpinLock rq(sched::kRqRank);
    REQUIRE(box.try_push(t[0]) == sched::PushResult::FirstPending);
    const std::uint32_t taken = box.drain(
        [&](Task&) {
            k::SpinGuard g(rq);
            return DrainAction::Take;
        },
        10);
    CHECK(taken == 1);
    CHECK(hal::Cpu::lock_ranks() == 0);
    hal::host::set_cpu(0);

    // Every inbox entry point taken under an rq lock panics, naming RFC-0021's rule.
    const char* inbox_rule = "the inbox lock, then the owner's rq lock, never the reverse";
    CHECK(testing_harts::panics_with(
        [] {
            Task x;
            Box b;
            k::SpinLock r(sched::kRqRank);
            k::SpinGuard g(r);
            (void)b.try_push(x);
        },
        inbox_rule));
    CHECK(testing_harts::panics_with(
        [] {
            Box b;
            k::SpinLock r(sched::kRqRank);
            k::SpinGuard g(r);
            (void)b.drain([](Task&) { return DrainAction::Take; }, 1);
        },
        inbox_rule));
    CHECK(testing_harts::panics_with(
        [] {
            Box b;
            k::SpinLock r(sched::kRqRank);
            k::SpinGuard g(r);
            b.close();
        },
        inbox_rule));
    // An inbox inside another inbox's drain (a push from a drain callback).
    CHECK(testing_harts::panics_with(
        [] {
            Task x, y;
            Box a, b;
            (void)a.try_push(x);
            (void)a.drain(
                [&](Task&) {
                    (void)b.try_push(y);
                    return DrainAction::Take;
                },
                1);
        },
        inbox_rule));
    // Two rq locks, the second waited for or only tried: RFC-0022's rule.
    const char* rq_rule = "a steal never holds two rq locks together";
    CHECK(testing_harts::panics_with(
        [] {
            k::SpinLock victim(sched::kRqRank), own(sched::kRqRank);
            k::SpinGuard gv(victim);
            k::SpinGuard go(own);
        },
        rq_rule));
    CHECK(testing_harts::panics_with(
        [] {
            k::SpinLock own(sched::kRqRank), victim(sched::kRqRank);
            k::SpinGuard go(own);
            (void)victim.try_lock();
        },
        rq_rule));
}
