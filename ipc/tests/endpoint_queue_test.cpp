// The endpoint state machine: rendezvous, FIFO order, never both queues, cancel, destroy.
#include "ipc/endpoint_queue.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace {

using ipc::CancelResult;
using ipc::EndpointQueue;
using ipc::EndpointState;
using ipc::IpcOutcome;
using ipc::Waiter;
using ipc::WaitStatus;

void fill(Waiter& w, std::uint64_t id, ipc::Badge badge = 0, bool call = false) {
    w.msg.tag = ipc::MessageTag{id, 4, 0};
    for (std::uint32_t i = 0; i < ipc::kMessageRegisters; ++i)
        w.msg.mr[i] = id * 10 + i;
    w.badge = badge;
    w.call = call;
}

void check_got(const Waiter& r, std::uint64_t id, ipc::Badge badge, bool call) {
    CHECK(r.msg.tag.label == id);
    CHECK(r.msg.tag.length == 4);
    for (std::uint32_t i = 0; i < ipc::kMessageRegisters; ++i)
        CHECK(r.msg.mr[i] == id * 10 + i);
    CHECK(r.badge == badge);
    CHECK(r.call == call);
}

} // namespace

TEST_CASE("endpoint: a receiver waiting gets the sender's message, badge and call flag",
          "[ipc][endpoint]") {
    EndpointQueue ep;
    CHECK(ep.state() == EndpointState::Idle);
    Waiter r, s;
    ipc::Rendezvous rv = ep.receive(r);
    CHECK(rv.outcome == IpcOutcome::Queued);
    CHECK(rv.partner == nullptr);
    CHECK(ep.state() == EndpointState::Receiving);
    CHECK(r.status == WaitStatus::Receiving);
    CHECK(r.queued());

    fill(s, 77, 0xbadc0de, true);
    rv = ep.send(s);
    CHECK(rv.outcome == IpcOutcome::Delivered);
    CHECK(rv.delivered());
    CHECK(rv.partner == &r);
    check_got(r, 77, 0xbadc0de, true);
    CHECK(r.status == WaitStatus::Delivered);
    CHECK(s.status == WaitStatus::Delivered);
    CHECK_FALSE(r.queued());
    CHECK_FALSE(s.queued());
    CHECK(ep.state() == EndpointState::Idle);
    CHECK(ep.waiting() == 0);
}

TEST_CASE("endpoint: a sender waiting is taken by the next receive", "[ipc][endpoint]") {
    EndpointQueue ep;
    Waiter s, r;
    fill(s, 5, 3, false);
    CHECK(ep.send(s).outcome == IpcOutcome::Queued);
    CHECK(ep.state() == EndpointState::Sending);
    CHECK(s.status == WaitStatus::Sending);
    const ipc::Rendezvous rv = ep.receive(r);
    CHECK(rv.outcome == IpcOutcome::Delivered);
    CHECK(rv.partner == &s);
    check_got(r, 5, 3, false);
    CHECK(s.status == WaitStatus::Delivered);
    CHECK(ep.state() == EndpointState::Idle);
}

TEST_CASE("endpoint: senders and receivers are matched first come, first served",
          "[ipc][endpoint][fifo]") {
    EndpointQueue ep;
    Waiter s[5], r[5];
    for (std::uint32_t i = 0; i < 5; ++i) {
        fill(s[i], 100 + i, i + 1);
        REQUIRE(ep.send(s[i]).outcome == IpcOutcome::Queued);
    }
    CHECK(ep.waiting() == 5);
    for (std::uint32_t i = 0; i < 5; ++i) {
        const ipc::Rendezvous rv = ep.receive(r[i]);
        REQUIRE(rv.outcome == IpcOutcome::Delivered);
        CHECK(rv.partner == &s[i]);
        check_got(r[i], 100 + i, i + 1, false);
        CHECK(ep.waiting() == 4 - i);
    }
    CHECK(ep.state() == EndpointState::Idle);

    Waiter r2[4], s2[4];
    for (auto& w : r2)
        REQUIRE(ep.receive(w).outcome == IpcOutcome::Queued);
    for (std::uint32_t i = 0; i < 4; ++i) {
        fill(s2[i], 200 + i);
        const ipc::Rendezvous rv = ep.send(s2[i]);
        REQUIRE(rv.outcome == IpcOutcome::Delivered);
        CHECK(rv.partner == &r2[i]);
        check_got(r2[i], 200 + i, 0, false);
    }
    CHECK(ep.state() == EndpointState::Idle);
}

TEST_CASE("endpoint: never senders and receivers queued at once", "[ipc][endpoint]") {
    EndpointQueue ep;
    Waiter w[6];
    // Any interleaving: a queued side only grows with its own kind; the other kind drains it.
    REQUIRE(ep.send(w[0]).outcome == IpcOutcome::Queued);
    REQUIRE(ep.send(w[1]).outcome == IpcOutcome::Queued);
    CHECK(ep.receive(w[2]).outcome == IpcOutcome::Delivered); // never queued beside senders
    CHECK(ep.state() == EndpointState::Sending);
    CHECK(ep.receive(w[3]).outcome == IpcOutcome::Delivered);
    CHECK(ep.state() == EndpointState::Idle);
    CHECK(ep.receive(w[4]).outcome == IpcOutcome::Queued);
    CHECK(ep.state() == EndpointState::Receiving);
    CHECK(ep.send(w[5]).outcome == IpcOutcome::Delivered);
    CHECK(ep.state() == EndpointState::Idle);
    CHECK(ep.waiting() == 0);
}

TEST_CASE("endpoint: nb_send drops without a receiver; poll finds nothing without a sender",
          "[ipc][endpoint]") {
    EndpointQueue ep;
    Waiter s, r, s2;
    fill(s, 1);
    CHECK(ep.nb_send(s).outcome == IpcOutcome::Dropped);
    CHECK_FALSE(s.queued());
    CHECK(s.status == WaitStatus::Idle);
    CHECK(ep.state() == EndpointState::Idle);
    CHECK(ep.poll(r).outcome == IpcOutcome::Empty);
    CHECK_FALSE(r.queued());
    CHECK(ep.state() == EndpointState::Idle);

    // Senders queued: nb_send still drops (it never queues, and there is no receiver).
    REQUIRE(ep.send(s2).outcome == IpcOutcome::Queued);
    CHECK(ep.nb_send(s).outcome == IpcOutcome::Dropped);
    CHECK(ep.waiting() == 1);
    // ... and poll takes the queued sender.
    fill(s2, 9, 4);
    const ipc::Rendezvous rv = ep.poll(r);
    CHECK(rv.outcome == IpcOutcome::Delivered);
    CHECK(rv.partner == &s2);
    check_got(r, 9, 4, false);

    // Receivers queued: poll finds nothing (no sender), nb_send delivers.
    Waiter q, p;
    REQUIRE(ep.receive(q).outcome == IpcOutcome::Queued);
    CHECK(ep.poll(p).outcome == IpcOutcome::Empty);
    CHECK(ep.waiting() == 1);
    fill(s, 3);
    CHECK(ep.nb_send(s).partner == &q);
    check_got(q, 3, 0, false);
    CHECK(ep.state() == EndpointState::Idle);
}

TEST_CASE("endpoint: a node already queued is refused, here or on another endpoint",
          "[ipc][endpoint]") {
    EndpointQueue a, b;
    Waiter w;
    REQUIRE(a.send(w).outcome == IpcOutcome::Queued);
    CHECK(a.send(w).outcome == IpcOutcome::NodeBusy);
    CHECK(a.receive(w).outcome == IpcOutcome::NodeBusy);
    CHECK(a.waiting() == 1);
    CHECK(w.status == ipc::WaitStatus::Sending);
    CHECK(b.send(w).outcome == IpcOutcome::NodeBusy);
    CHECK(b.receive(w).outcome == IpcOutcome::NodeBusy);
    CHECK(b.nb_send(w).outcome == IpcOutcome::NodeBusy);
    CHECK(b.poll(w).outcome == IpcOutcome::NodeBusy);
    CHECK(b.state() == EndpointState::Idle);
    CHECK(a.cancel(w) == CancelResult::Removed);
}

TEST_CASE("endpoint: cancel takes a queued waiter out, and refuses one that is not queued",
          "[ipc][endpoint][cancel]") {
    EndpointQueue ep, other;
    Waiter s[3], r, idle;
    for (auto& w : s)
        REQUIRE(ep.send(w).outcome == IpcOutcome::Queued);
    CHECK(ep.cancel(s[1]) == CancelResult::Removed); // from the middle
    CHECK(s[1].status == WaitStatus::Cancelled);
    CHECK_FALSE(s[1].queued());
    CHECK(ep.cancel(s[1]) == CancelResult::NotQueued); // twice
    CHECK(ep.cancel(idle) == CancelResult::NotQueued); // never queued
    CHECK(idle.status == WaitStatus::Idle);
    CHECK(other.cancel(s[0]) == CancelResult::NotQueued); // queued, but elsewhere
    CHECK(s[0].status == WaitStatus::Sending);
    CHECK(ep.waiting() == 2);

    CHECK(ep.receive(r).partner == &s[0]);             // order kept around the gap
    CHECK(ep.cancel(s[0]) == CancelResult::NotQueued); // matched already: too late to cancel
    CHECK(s[0].status == WaitStatus::Delivered);
    CHECK(ep.cancel(s[2]) == CancelResult::Removed); // the last: the endpoint goes idle
    CHECK(ep.state() == EndpointState::Idle);

    Waiter q;
    REQUIRE(ep.receive(q).outcome == IpcOutcome::Queued);
    CHECK(ep.cancel(q) == CancelResult::Removed);
    CHECK(ep.state() == EndpointState::Idle);
    CHECK(ep.nb_send(s[1]).outcome == IpcOutcome::Dropped); // the cancelled receiver is gone
}

TEST_CASE("endpoint: destroy detaches every waiter, oldest first, and refuses what follows",
          "[ipc][endpoint][destroy]") {
    for (const bool senders : {true, false}) {
        CAPTURE(senders);
        EndpointQueue ep;
        Waiter w[4];
        for (auto& x : w)
            REQUIRE((senders ? ep.send(x) : ep.receive(x)).outcome == IpcOutcome::Queued);
        std::vector<Waiter*> woken;
        CHECK(ep.destroy([&](Waiter& x) {
            CHECK(x.status == WaitStatus::Destroyed);
            CHECK_FALSE(x.queued());
            woken.push_back(&x);
        }) == 4);
        CHECK(woken == std::vector<Waiter*>{&w[0], &w[1], &w[2], &w[3]});
        CHECK(ep.state() == EndpointState::Destroyed);
        CHECK(ep.waiting() == 0);
        for (auto& x : w)
            CHECK_FALSE(ep.holds(x));

        Waiter late;
        CHECK(ep.send(late).outcome == IpcOutcome::Destroyed);
        CHECK(ep.nb_send(late).outcome == IpcOutcome::Destroyed);
        CHECK(ep.receive(late).outcome == IpcOutcome::Destroyed);
        CHECK(ep.poll(late).outcome == IpcOutcome::Destroyed);
        CHECK_FALSE(late.queued());
        CHECK(late.status == WaitStatus::Idle);
        CHECK(ep.cancel(w[0]) == CancelResult::NotQueued);
        CHECK(ep.destroy([](Waiter&) { FAIL("nothing is left to detach"); }) == 0);
        CHECK(ep.state() == EndpointState::Destroyed);
        // The detached nodes are free for another endpoint.
        EndpointQueue next;
        CHECK(next.send(w[0]).outcome == IpcOutcome::Queued);
        CHECK(next.cancel(w[0]) == CancelResult::Removed);
    }
    EndpointQueue empty;
    CHECK(empty.destroy([](Waiter&) { FAIL("an idle endpoint has no waiter"); }) == 0);
    CHECK(empty.state() == EndpointState::Destroyed);
}
