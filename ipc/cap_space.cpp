// Capability-space calls: the table's operations under the space's lock, object references.
#include "ipc/cap_space.hpp"

#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "hal_cpu.hpp"
#include "ipc/objects.hpp"

#include <cstdint>
#include <new>

namespace k::ipc {

using ::ipc::Capability;
using ::ipc::CapError;
using ::ipc::ObjectType;
using ::ipc::Rights;
using kestrel::Error;

namespace {

// Per hart: the space lock it took last and holds, or nullptr. Written only by its hart with
// interrupts masked, so a thread that reads its own entry there cannot migrate meanwhile.
const CapSpace* g_top[k::kMaxCpus] = {};

// Takes s's lock, after the order check (see SpaceGuard).
void take(CapSpace& s) {
    k::jitter::point(k::jitter::Site::LockAcquire);
    hal::Cpu::irq_push(); // from here this hart's entry cannot change under us
    const std::uint32_t cpu = hal::Cpu::lock_id();
    const CapSpace* held = g_top[cpu];
    if (held && reinterpret_cast<std::uintptr_t>(held) >= reinterpret_cast<std::uintptr_t>(&s))
        k::panic("ipc: capability-space locks out of address order (a transfer must take the "
                 "lower address first, or two transfers in opposite directions deadlock)");
    s.lock.lock_masked();
    s.below = held;
    g_top[cpu] = &s;
}

void drop(CapSpace& s) {
    const std::uint32_t cpu = hal::Cpu::lock_id();
    if (g_top[cpu] != &s) k::panic("ipc: capability-space locks released out of order");
    g_top[cpu] = s.below;
    s.below = nullptr;
    s.lock.unlock_masked();
    hal::Cpu::irq_pop();
}

// Takes two spaces' locks in address order (a transfer between two processes in both
// directions at once must not deadlock); one lock when they are the same space.
class PairGuard final {
  public:
    PairGuard(CapSpace& a, CapSpace& b) : first_(&a < &b ? a : b), second_(&a < &b ? b : a) {
        take(first_);
        if (&first_ != &second_) take(second_);
    }
    ~PairGuard() {
        if (&first_ != &second_) drop(second_);
        drop(first_);
    }
    PairGuard(const PairGuard&) = delete;
    PairGuard& operator=(const PairGuard&) = delete;

  private:
    CapSpace& first_;
    CapSpace& second_;
};

} // namespace

SpaceGuard::SpaceGuard(CapSpace& s) : s_(s) {
    take(s_);
}

SpaceGuard::~SpaceGuard() {
    drop(s_);
}

void CapSpace::reset() {
    SpaceGuard g(*this);
    new (&table)::ipc::CapTable(slots, kCapSlots);
}

void CapSpace::clear() {
    for (std::uint32_t i = 0; i < kCapSlots; ++i) {
        ::ipc::CapRemoved r{CapError::EmptySlot, {}, false};
        {
            SpaceGuard g(*this);
            if (!table.peek(i).cap.empty()) r = table.remove(i);
        }
        if (r.ok() && r.last) destroy(r.cap);
    }
}

std::int64_t error_of(CapError e) {
    switch (e) {
    case CapError::Ok:
        return 0;
    case CapError::SlotOutOfRange:
        return kestrel::code(Error::SlotOutOfRange);
    case CapError::EmptySlot:
        return kestrel::code(Error::EmptySlot);
    case CapError::SlotOccupied:
        return kestrel::code(Error::SlotOccupied);
    case CapError::WrongType:
        return kestrel::code(Error::WrongType);
    case CapError::MissingRight:
        return kestrel::code(Error::MissingRight);
    case CapError::BadgeAlreadySet:
        return kestrel::code(Error::BadgeAlreadySet);
    case CapError::RightsEscalation:
        return kestrel::code(Error::RightsEscalation);
    case CapError::NotBadgeable:
        return kestrel::code(Error::NotBadgeable);
    case CapError::InvalidRights:
        return kestrel::code(Error::InvalidRights);
    case CapError::CountOverflow:
        return kestrel::code(Error::CountOverflow);
    case CapError::InvalidObject: // the kernel's own insert only
    case CapError::ObjectHasCaps:
        break;
    }
    return kestrel::code(Error::BadArgument);
}

Found lookup(CapSpace& s, std::uint64_t slot, ObjectType type, Rights needed) {
    SpaceGuard g(s);
    const ::ipc::CapLookup l = s.table.lookup(slot, type, needed);
    if (!l.ok()) return {error_of(l.error), {}};
    get_object(l.cap); // while the capability is in the table: the object is alive
    return {0, l.cap};
}

std::int64_t check_held(CapSpace& s, std::uint64_t slot) {
    SpaceGuard g(s);
    const ::ipc::CapLookup l = s.table.peek(slot);
    if (!l.ok()) return error_of(l.error);
    return l.cap.empty() ? kestrel::code(Error::EmptySlot) : 0;
}

std::int64_t check_free(CapSpace& s, std::uint64_t slot) {
    SpaceGuard g(s);
    const ::ipc::CapLookup l = s.table.peek(slot);
    if (!l.ok()) return error_of(l.error);
    return l.cap.empty() ? 0 : kestrel::code(Error::SlotOccupied);
}

std::int64_t create(CapSpace& s, std::uint64_t slot, ObjectType type) {
    if (const std::int64_t e = check_free(s, slot); e != 0) return e; // before a record is taken
    Endpoint* e = type == ObjectType::Endpoint ? endpoint_alloc() : nullptr;
    Notification* n = type == ObjectType::Notification ? notification_alloc() : nullptr;
    ::ipc::KernelObject* obj = e ? static_cast<::ipc::KernelObject*>(e) : n;
    if (!obj) return kestrel::code(Error::NoMemory);
    CapError r;
    {
        SpaceGuard g(s);
        r = s.table.insert(slot, type, obj, Rights::all());
    }
    if (r != CapError::Ok) { // another thread filled the slot meanwhile
        if (e) put(*e);
        if (n) put(*n);
    }
    return error_of(r);
}

std::int64_t insert(CapSpace& s, std::uint64_t slot, ObjectType type, ::ipc::KernelObject& object) {
    SpaceGuard g(s);
    return error_of(s.table.insert(slot, type, &object, Rights::all()));
}

std::int64_t mint(CapSpace& s, std::uint64_t src, std::uint64_t dst, std::uint64_t rights,
                  std::uint64_t badge) {
    if (rights > 0xff)
        return kestrel::code(Error::InvalidRights); // Rights holds 8 bits; never truncate
    SpaceGuard g(s);
    return error_of(s.table.mint(src, dst, Rights{static_cast<std::uint8_t>(rights)}, badge));
}

std::int64_t remove(CapSpace& s, std::uint64_t slot) {
    ::ipc::CapRemoved r{CapError::EmptySlot, {}, false};
    {
        SpaceGuard g(s);
        r = s.table.remove(slot);
    }
    if (!r.ok()) return error_of(r.error);
    if (r.last) destroy(r.cap);
    return 0;
}

std::int64_t transfer(CapSpace& from, std::uint64_t src, CapSpace& to, std::uint64_t dst) {
    PairGuard g(from, to);
    const ::ipc::CapLookup l = from.table.peek(src);
    if (!l.ok()) return error_of(l.error);
    if (l.cap.empty()) return kestrel::code(Error::EmptySlot);
    return error_of(to.table.copy(from.table, src, dst, l.cap.rights));
}

} // namespace k::ipc
