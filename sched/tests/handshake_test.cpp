// Host tests of the handshake invariants the kernel's monitor checks.
#include "sched/handshake.hpp"

#include <catch2/catch.hpp>

using sched::check_queued;
using sched::HandshakeRule;
using sched::HartView;
using sched::QueuedView;

namespace {
int t1, t2, t3; // stand-ins for tasks: only their addresses matter
}

TEST_CASE("a saved, queued task that no hart holds passes") {
    const HartView harts[] = {{&t2, nullptr, 100, 200}, {&t3, &t2, 300, 400}};
    const QueuedView q{&t1, 0, 500, 600, true};
    CHECK(check_queued(q, harts, 2).rule == HandshakeRule::Ok);
}

TEST_CASE("each handshake rule names the hart that still holds the task") {
    const QueuedView q{&t1, 0, 500, 600, true};
    SECTION("current") {
        const HartView harts[] = {{&t2, nullptr, 100, 200}, {&t1, nullptr, 500, 600}};
        const auto f = check_queued(q, harts, 2);
        CHECK(f.rule == HandshakeRule::QueuedCurrent);
        CHECK(f.hart == 1);
    }
    SECTION("prev: re-queued before the switch finished") {
        const HartView harts[] = {{&t2, &t1, 100, 200}};
        const auto f = check_queued(q, harts, 1);
        CHECK(f.rule == HandshakeRule::QueuedPrev);
        CHECK(f.hart == 0);
    }
    SECTION("stack: a hart runs on (or is switching to) its stack") {
        const HartView harts[] = {{&t2, nullptr, 100, 200}, {&t3, nullptr, 500, 600}};
        const auto f = check_queued(q, harts, 2);
        CHECK(f.rule == HandshakeRule::QueuedStack);
        CHECK(f.hart == 1);
    }
}

TEST_CASE("on_cpu set: an error in a run queue, a pending drain in an inbox") {
    const HartView harts[] = {{&t1, nullptr, 500, 600}};
    QueuedView q{&t1, 1, 500, 600, true};
    const auto f = check_queued(q, harts, 1);
    CHECK(f.rule == HandshakeRule::QueuedOnCpu);
    CHECK(f.hart == 0);
    q.in_run_queue = false;
    CHECK(check_queued(q, harts, 1).rule == HandshakeRule::Ok);
}

TEST_CASE("an inbox task with registers saved obeys the same rules") {
    const HartView harts[] = {{&t2, &t1, 100, 200}};
    const QueuedView q{&t1, 0, 500, 600, false};
    CHECK(check_queued(q, harts, 1).rule == HandshakeRule::QueuedPrev);
}
