// The capability table: bounds, each error, the derivation rules and the object counts.
#include "ipc/cap_table.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using ipc::Capability;
using ipc::CapError;
using ipc::CapTable;
using ipc::KernelObject;
using ipc::ObjectType;
using ipc::Rights;

constexpr std::uint32_t kSlots = 8;

const Rights kSR = Rights::send() | Rights::receive();

struct Space {
    Capability slots[kSlots];
    CapTable table{slots, kSlots};
};

} // namespace

TEST_CASE("cap table: slots 0..N-1 are addressable, N and above are out of range", "[ipc][cap]") {
    Space s;
    KernelObject ep;
    CHECK(s.table.slot_count() == kSlots);
    CHECK(s.table.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);
    for (std::uint32_t i = 1; i < kSlots; ++i)
        REQUIRE(s.table.copy(0, i, Rights::all()) == CapError::Ok);
    CHECK(s.table.used() == kSlots);
    CHECK(ep.cap_count() == kSlots);
    for (std::uint32_t i = 0; i < kSlots; ++i)
        CHECK(s.table.lookup(i, ObjectType::Endpoint, Rights::all()).ok());

    const std::uint64_t bad[] = {kSlots,
                                 kSlots + 1,
                                 std::uint64_t{1} << 32,       // truncates to slot 0
                                 (std::uint64_t{1} << 32) + 1, // truncates to slot 1
                                 std::numeric_limits<std::uint64_t>::max(),
                                 std::uint64_t{0x8000'0000'0000'0000}}; // a negative register
    for (const std::uint64_t slot : bad) {
        CAPTURE(slot);
        CHECK(s.table.lookup(slot, ObjectType::Endpoint, Rights::none()).error ==
              CapError::SlotOutOfRange);
        CHECK(s.table.peek(slot).error == CapError::SlotOutOfRange);
        CHECK(s.table.remove(slot).error == CapError::SlotOutOfRange);
        CHECK(s.table.copy(0, slot, Rights::none()) == CapError::SlotOutOfRange);
        CHECK(s.table.copy(slot, 0, Rights::none()) == CapError::SlotOutOfRange);
        CHECK(s.table.mint(0, slot, Rights::none(), 5) == CapError::SlotOutOfRange);
        CHECK(s.table.insert(slot, ObjectType::Endpoint, &ep, Rights::all()) ==
              CapError::SlotOutOfRange);
    }
    CHECK(ep.cap_count() == kSlots); // nothing refused changed a count
    CHECK(s.table.used() == kSlots);
}

TEST_CASE("cap table: a table of 0 slots refuses every slot", "[ipc][cap]") {
    CapTable t{nullptr, 0};
    KernelObject ep;
    CHECK(t.slot_count() == 0);
    CHECK(t.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::SlotOutOfRange);
    CHECK(t.lookup(0, ObjectType::Endpoint, Rights::none()).error == CapError::SlotOutOfRange);
    CHECK(t.remove(0).error == CapError::SlotOutOfRange);
    CHECK(ep.cap_count() == 0);
    Capability one[1];
    CapTable nul{nullptr, 5}; // null slots: treated as no slots
    CHECK(nul.slot_count() == 0);
    CapTable t1{one, 1};
    CHECK(t1.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);
    CHECK(t1.insert(1, ObjectType::Endpoint, &ep, Rights::all()) == CapError::SlotOutOfRange);
}

TEST_CASE("cap table: the constructor empties every slot", "[ipc][cap]") {
    Capability slots[3];
    KernelObject junk;
    slots[1] = Capability{&junk, 9, ObjectType::Task, Rights::all()};
    CapTable t{slots, 3};
    CHECK(t.used() == 0);
    CHECK(t.peek(1).cap.empty());
    CHECK(t.peek(1).cap == Capability{});
}

TEST_CASE("cap table: insert makes an unbadged first capability, and only the first",
          "[ipc][cap]") {
    Space s;
    KernelObject ep, task;
    CHECK(s.table.insert(2, ObjectType::Endpoint, &ep, kSR) == CapError::Ok);
    const ipc::CapLookup l = s.table.peek(2);
    REQUIRE(l.ok());
    CHECK(l.cap.object == &ep);
    CHECK(l.cap.type == ObjectType::Endpoint);
    CHECK(l.cap.rights == kSR);
    CHECK(l.cap.badge == ipc::kNoBadge);
    CHECK(ep.cap_count() == 1);
    CHECK(s.table.used() == 1);

    // A second insert of the same object would forge a capability outside mint's rules.
    CHECK(s.table.insert(3, ObjectType::Endpoint, &ep, Rights::all()) == CapError::ObjectHasCaps);
    CHECK(s.table.peek(3).cap.empty());
    CHECK(ep.cap_count() == 1);

    CHECK(s.table.insert(2, ObjectType::Task, &task, Rights::all()) == CapError::SlotOccupied);
    CHECK(task.cap_count() == 0);
    CHECK(s.table.insert(3, ObjectType::None, &task, Rights::all()) == CapError::InvalidObject);
    CHECK(s.table.insert(3, ObjectType::Task, nullptr, Rights::all()) == CapError::InvalidObject);
    CHECK(s.table.insert(3, ObjectType::Task, &task, Rights{0x8}) == CapError::InvalidRights);
    CHECK(s.table.insert(3, ObjectType::Task, &task, Rights{0xff}) == CapError::InvalidRights);
    CHECK(task.cap_count() == 0);
    CHECK(s.table.used() == 1);
    CHECK(s.table.insert(3, ObjectType::Task, &task, Rights::none()) == CapError::Ok);
}

TEST_CASE("cap table: lookup checks range, emptiness, type and rights, in that order",
          "[ipc][cap]") {
    Space s;
    KernelObject ep, ntf;
    REQUIRE(s.table.insert(0, ObjectType::Endpoint, &ep, Rights::send()) == CapError::Ok);
    REQUIRE(s.table.insert(1, ObjectType::Notification, &ntf, Rights::all()) == CapError::Ok);

    CHECK(s.table.lookup(0, ObjectType::Endpoint, Rights::send()).ok());
    CHECK(s.table.lookup(0, ObjectType::Endpoint, Rights::none()).ok());
    CHECK(s.table.lookup(0, ObjectType::Endpoint, Rights::receive()).error ==
          CapError::MissingRight);
    CHECK(s.table.lookup(0, ObjectType::Endpoint, Rights::send() | Rights::grant()).error ==
          CapError::MissingRight);
    CHECK(s.table.lookup(0, ObjectType::Notification, Rights::send()).error == CapError::WrongType);
    CHECK(s.table.lookup(0, ObjectType::Notification, Rights::receive()).error ==
          CapError::WrongType); // the type before the rights
    CHECK(s.table.lookup(0, ObjectType::None, Rights::none()).error == CapError::WrongType);
    CHECK(s.table.lookup(5, ObjectType::Endpoint, Rights::send()).error == CapError::EmptySlot);
    CHECK(s.table.lookup(kSlots, ObjectType::Endpoint, Rights::send()).error ==
          CapError::SlotOutOfRange);

    const ipc::CapLookup l = s.table.lookup(1, ObjectType::Notification, Rights::receive());
    REQUIRE(l.ok());
    CHECK(l.cap.object == &ntf);
    CHECK(s.table.lookup(5, ObjectType::Endpoint, Rights::send()).cap.empty());

    // with(): found or missing, never both.
    int found = 0;
    CapError missing = CapError::Ok;
    s.table.with(
        0, ObjectType::Endpoint, Rights::send(),
        [&](const Capability& c) { found += c.object == &ep; }, [&](CapError e) { missing = e; });
    CHECK(found == 1);
    CHECK(missing == CapError::Ok);
    const CapError e = s.table.with(
        0, ObjectType::Endpoint, Rights::grant(), [](const Capability&) { return CapError::Ok; },
        [](CapError err) { return err; });
    CHECK(e == CapError::MissingRight);
}

TEST_CASE("cap table: mint and copy only shrink rights", "[ipc][cap][derive]") {
    Space s;
    KernelObject ep;
    REQUIRE(s.table.insert(0, ObjectType::Endpoint, &ep, kSR) == CapError::Ok);

    CHECK(s.table.copy(0, 1, Rights::all()) == CapError::RightsEscalation);
    CHECK(s.table.copy(0, 1, Rights::grant()) == CapError::RightsEscalation);
    CHECK(s.table.mint(0, 1, kSR | Rights::grant(), 7) == CapError::RightsEscalation);
    CHECK(s.table.copy(0, 1, Rights{0x10}) == CapError::InvalidRights);
    CHECK(s.table.mint(0, 1, Rights{0x80}, 0) == CapError::InvalidRights);
    CHECK(s.table.used() == 1);
    CHECK(ep.cap_count() == 1);

    CHECK(s.table.copy(0, 1, kSR) == CapError::Ok); // equal rights: allowed
    CHECK(s.table.copy(1, 2, Rights::send()) == CapError::Ok);
    CHECK(s.table.peek(2).cap.rights == Rights::send());
    // Once shrunk, a right never comes back through a derived capability.
    CHECK(s.table.copy(2, 3, Rights::receive()) == CapError::RightsEscalation);
    CHECK(s.table.mint(2, 3, kSR, 9) == CapError::RightsEscalation);
    CHECK(s.table.copy(2, 3, Rights::none()) == CapError::Ok);
    CHECK(s.table.copy(3, 4, Rights::send()) == CapError::RightsEscalation);
    CHECK(s.table.lookup(3, ObjectType::Endpoint, Rights::send()).error == CapError::MissingRight);
    CHECK(ep.cap_count() == 4);
    CHECK(s.table.used() == 4);
}

TEST_CASE("cap table: a badge is set once, and copies keep it", "[ipc][cap][derive]") {
    Space s;
    KernelObject ep;
    REQUIRE(s.table.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);

    CHECK(s.table.mint(0, 1, Rights::send(), 0x1234) == CapError::Ok);
    CHECK(s.table.peek(1).cap.badge == 0x1234);
    CHECK(s.table.peek(0).cap.badge == ipc::kNoBadge); // the source is untouched

    CHECK(s.table.mint(1, 2, Rights::send(), 0x99) == CapError::BadgeAlreadySet);
    CHECK(s.table.mint(1, 2, Rights::send(), 0x1234) == CapError::BadgeAlreadySet); // even equal
    CHECK(s.table.peek(2).cap.empty());

    CHECK(s.table.copy(1, 2, Rights::send()) == CapError::Ok);
    CHECK(s.table.peek(2).cap.badge == 0x1234);
    CHECK(s.table.mint(1, 3, Rights::none(), ipc::kNoBadge) == CapError::Ok); // mint, no badge
    CHECK(s.table.peek(3).cap.badge == 0x1234);
    CHECK(s.table.copy(0, 4, Rights::all()) == CapError::Ok);
    CHECK(s.table.peek(4).cap.badge == ipc::kNoBadge);               // unbadged stays unbadged
    CHECK(s.table.mint(4, 5, Rights::send(), 0x55) == CapError::Ok); // still mintable
    CHECK(s.table.peek(5).cap.badge == 0x55);
    CHECK(s.table.mint(0, 6, Rights::all(), ~std::uint64_t{0}) == CapError::Ok);
    CHECK(s.table.peek(6).cap.badge == ~std::uint64_t{0});
    CHECK(ep.cap_count() == 7);
}

TEST_CASE("cap table: only endpoints and notifications take a badge", "[ipc][cap][derive]") {
    Space s;
    KernelObject task, reply, ntf;
    REQUIRE(s.table.insert(0, ObjectType::Task, &task, Rights::all()) == CapError::Ok);
    REQUIRE(s.table.insert(1, ObjectType::Reply, &reply, Rights::grant()) == CapError::Ok);
    REQUIRE(s.table.insert(2, ObjectType::Notification, &ntf, Rights::all()) == CapError::Ok);
    CHECK(s.table.mint(0, 3, Rights::send(), 1) == CapError::NotBadgeable);
    CHECK(s.table.mint(1, 3, Rights::grant(), 1) == CapError::NotBadgeable);
    CHECK(s.table.mint(0, 3, Rights::send(), ipc::kNoBadge) == CapError::Ok); // a plain copy
    CHECK(s.table.mint(2, 4, Rights::send(), 1) == CapError::Ok);
    CHECK(task.cap_count() == 2);
    CHECK(reply.cap_count() == 1);
}

TEST_CASE("cap table: a Platform capability takes a badge once (its scope, RFC-0031)",
          "[ipc][cap][derive]") {
    Space s;
    KernelObject platform, irq, device, hart;
    REQUIRE(s.table.insert(0, ObjectType::Platform, &platform, Rights::all()) == CapError::Ok);
    REQUIRE(s.table.insert(1, ObjectType::Irq, &irq, Rights::all()) == CapError::Ok);
    REQUIRE(s.table.insert(2, ObjectType::Device, &device, Rights::all()) == CapError::Ok);
    REQUIRE(s.table.insert(3, ObjectType::HartControl, &hart, Rights::all()) == CapError::Ok);
    CHECK(s.table.mint(0, 4, Rights::send(), 12) == CapError::Ok); // restricted to node 11
    CHECK(s.table.peek(4).cap.badge == 12);
    CHECK(s.table.mint(4, 5, Rights::send(), 3) == CapError::BadgeAlreadySet); // no widening
    CHECK(s.table.mint(4, 5, Rights::send(), ipc::kNoBadge) == CapError::Ok);  // copies keep it
    CHECK(s.table.peek(5).cap.badge == 12);
    CHECK(s.table.mint(1, 6, Rights::send(), 1) == CapError::NotBadgeable);
    CHECK(s.table.mint(2, 6, Rights::send(), 1) == CapError::NotBadgeable);
    CHECK(s.table.mint(3, 6, Rights::send(), 1) == CapError::NotBadgeable);
    CHECK(platform.cap_count() == 3);
}

TEST_CASE("cap table: mint and copy need an occupied source and an empty destination",
          "[ipc][cap]") {
    Space s;
    KernelObject ep;
    REQUIRE(s.table.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);
    CHECK(s.table.copy(1, 2, Rights::none()) == CapError::EmptySlot);
    CHECK(s.table.mint(1, 2, Rights::none(), 3) == CapError::EmptySlot);
    CHECK(s.table.copy(0, 0, Rights::all()) == CapError::SlotOccupied); // onto itself
    REQUIRE(s.table.copy(0, 1, Rights::all()) == CapError::Ok);
    CHECK(s.table.mint(0, 1, Rights::send(), 3) == CapError::SlotOccupied);
    CHECK(s.table.peek(1).cap.badge == ipc::kNoBadge); // the occupant is untouched
    // The source is checked before the arguments, the arguments before the destination.
    CHECK(s.table.copy(5, kSlots, Rights::all()) == CapError::EmptySlot);
    CHECK(s.table.copy(0, kSlots, Rights{0x40}) == CapError::InvalidRights);
    CHECK(s.table.mint(1, 0, Rights::all(), 4) == CapError::SlotOccupied);
    CHECK(ep.cap_count() == 2);
}

TEST_CASE("cap table: copy and mint between two tables", "[ipc][cap][derive]") {
    Space a, b;
    KernelObject ep;
    REQUIRE(a.table.insert(0, ObjectType::Endpoint, &ep, kSR) == CapError::Ok);
    CHECK(b.table.mint(a.table, 0, 3, Rights::send(), 42) == CapError::Ok);
    CHECK(b.table.peek(3).cap.badge == 42);
    CHECK(b.table.peek(3).cap.object == &ep);
    CHECK(b.table.copy(a.table, 0, 4, Rights::all()) == CapError::RightsEscalation);
    CHECK(a.table.mint(b.table, 3, 1, Rights::send(), 43) == CapError::BadgeAlreadySet);
    CHECK(a.table.copy(b.table, 3, 1, Rights::send()) == CapError::Ok);
    CHECK(a.table.peek(1).cap.badge == 42);
    CHECK(a.table.used() == 2);
    CHECK(b.table.used() == 1);
    CHECK(ep.cap_count() == 3);
}

TEST_CASE("cap table: remove returns the capability and says when it was the last",
          "[ipc][cap][delete]") {
    Space a, b;
    KernelObject ep;
    REQUIRE(a.table.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);
    REQUIRE(a.table.mint(0, 1, Rights::send(), 7) == CapError::Ok);
    REQUIRE(b.table.copy(a.table, 1, 0, Rights::send()) == CapError::Ok);
    CHECK(ep.cap_count() == 3);

    CHECK(a.table.remove(2).error == CapError::EmptySlot);
    ipc::CapRemoved r = a.table.remove(0); // the original goes first: not the last
    REQUIRE(r.ok());
    CHECK(r.cap.object == &ep);
    CHECK(r.cap.rights == Rights::all());
    CHECK_FALSE(r.last);
    CHECK(a.table.peek(0).cap.empty());
    CHECK(a.table.remove(0).error == CapError::EmptySlot); // twice: empty
    CHECK(a.table.lookup(0, ObjectType::Endpoint, Rights::none()).error == CapError::EmptySlot);

    r = a.table.remove(1);
    REQUIRE(r.ok());
    CHECK(r.cap.badge == 7);
    CHECK_FALSE(r.last);
    CHECK(ep.cap_count() == 1);

    r = b.table.remove(0); // the last one, in the other table
    REQUIRE(r.ok());
    CHECK(r.last);
    CHECK(r.cap.badge == 7);
    CHECK(ep.cap_count() == 0);
    CHECK(a.table.used() == 0);
    CHECK(b.table.used() == 0);

    // The slot can be reused at once, for another object.
    KernelObject ntf;
    CHECK(a.table.insert(0, ObjectType::Notification, &ntf, Rights::all()) == CapError::Ok);
    CHECK(a.table.remove(0).last);
}

// RFC-0028 "Object lifetime": tables under different locks may remove capabilities to one
// object at once, and exactly one of the removers sees the last. Each round, three threads
// remove the 8 capabilities to one object that their own table holds (each removal under the
// table's own mutex, as the kernel takes each space's lock), all at the same moment; every
// round must report `last` exactly once and end with the count at 0.
TEST_CASE("cap table: concurrent removers in different tables see the last exactly once",
          "[ipc][cap][delete]") {
    constexpr unsigned kThreads = 3;
    constexpr unsigned kRounds = 30000;
    struct Locked {
        std::mutex m;
        Space s;
    };
    std::vector<std::unique_ptr<Locked>> t;
    for (unsigned i = 0; i < kThreads; ++i)
        t.push_back(std::make_unique<Locked>());
    std::vector<KernelObject> objects(kRounds); // a fresh object each round
    std::unique_ptr<std::atomic<unsigned>[]> lasts(new std::atomic<unsigned>[kRounds]());
    std::atomic<unsigned> go{0}, done{0};
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < kThreads; ++i) {
        workers.emplace_back([&, i] {
            for (unsigned r = 0; r < kRounds; ++r) {
                while (go.load(std::memory_order_acquire) <= r)
                    std::this_thread::yield();
                for (std::uint32_t slot = 0; slot < kSlots; ++slot) {
                    ipc::CapRemoved rem{};
                    {
                        std::lock_guard<std::mutex> g(t[i]->m);
                        rem = t[i]->s.table.remove(slot);
                    }
                    if (rem.ok() && rem.last) lasts[r].fetch_add(1, std::memory_order_relaxed);
                }
                done.fetch_add(1, std::memory_order_acq_rel);
            }
        });
    }
    unsigned bad = 0;
    for (unsigned r = 0; r < kRounds; ++r) {
        { // the workers wait: every slot of every table names the round's object
            std::lock_guard<std::mutex> g(t[0]->m);
            REQUIRE(t[0]->s.table.insert(0, ObjectType::Endpoint, &objects[r], Rights::all()) ==
                    CapError::Ok);
            for (std::uint32_t slot = 1; slot < kSlots; ++slot)
                REQUIRE(t[0]->s.table.copy(0, slot, Rights::all()) == CapError::Ok);
        }
        for (unsigned i = 1; i < kThreads; ++i) {
            std::scoped_lock g(t[0]->m, t[i]->m);
            for (std::uint32_t slot = 0; slot < kSlots; ++slot)
                REQUIRE(t[i]->s.table.copy(t[0]->s.table, 0, slot, Rights::all()) == CapError::Ok);
        }
        go.store(r + 1, std::memory_order_release);
        while (done.load(std::memory_order_acquire) < (r + 1) * kThreads)
            std::this_thread::yield();
        bad +=
            (lasts[r].load(std::memory_order_relaxed) == 1 && objects[r].cap_count() == 0) ? 0 : 1;
    }
    for (std::thread& w : workers)
        w.join();
    CHECK(bad == 0);
}

TEST_CASE("cap table: the object count stops at its bound instead of wrapping", "[ipc][cap]") {
    Space s;
    KernelObject ep;
    REQUIRE(s.table.insert(0, ObjectType::Endpoint, &ep, Rights::all()) == CapError::Ok);
    ep.caps = KernelObject::kMaxCaps - 1; // as if the rest were in other tables
    CHECK(s.table.copy(0, 1, Rights::all()) == CapError::Ok);
    CHECK(ep.cap_count() == KernelObject::kMaxCaps);
    CHECK(s.table.copy(0, 2, Rights::all()) == CapError::CountOverflow);
    CHECK(s.table.mint(0, 2, Rights::send(), 1) == CapError::CountOverflow);
    CHECK(s.table.peek(2).cap.empty());
    CHECK(s.table.used() == 2);
    CHECK_FALSE(s.table.remove(1).last);
    CHECK(ep.cap_count() == KernelObject::kMaxCaps - 1);
}

TEST_CASE("cap table: every error has its own value and name", "[ipc][cap]") {
    const char* names[ipc::kCapErrorCount] = {};
    for (std::uint32_t i = 0; i < ipc::kCapErrorCount; ++i) {
        names[i] = ipc::cap_error_name(static_cast<CapError>(i));
        CHECK(std::string(names[i]) != "unknown");
        for (std::uint32_t j = 0; j < i; ++j)
            CHECK(std::string(names[i]) != names[j]);
    }
    CHECK(std::string(ipc::cap_error_name(static_cast<CapError>(ipc::kCapErrorCount))) ==
          "unknown");
    CHECK(std::string(ipc::object_type_name(ObjectType::Reply)) == "reply");
    CHECK(std::string(ipc::object_type_name(ObjectType::Memory)) == "memory");
    CHECK(std::string(ipc::object_type_name(ObjectType::HartControl)) == "hart-control");
}
