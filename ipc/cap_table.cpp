// Capability table operations: bounds, then the derivation rules, then the object's count.
#include "ipc/cap_table.hpp"

#include "base/panic.hpp"

namespace ipc {

namespace {

// 0 -> 1 only: the object's first capability. False when it already has some.
bool count_first(KernelObject& o) {
    std::uint32_t expected = 0;
    return __atomic_compare_exchange_n(&o.caps, &expected, 1u, false, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED);
}

// n -> n + 1 for n >= 1 (the caller holds a capability to o). False at kMaxCaps.
bool count_more(KernelObject& o) {
    std::uint32_t n = __atomic_load_n(&o.caps, __ATOMIC_RELAXED);
    do {
        if (n == KernelObject::kMaxCaps) return false;
    } while (
        !__atomic_compare_exchange_n(&o.caps, &n, n + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

// n -> n - 1; true when that was the last. Acquire-release: whoever sees 0 and destroys the
// object sees every write made through the other capabilities before they were removed.
bool count_less(KernelObject& o) {
    const std::uint32_t left = __atomic_sub_fetch(&o.caps, 1u, __ATOMIC_ACQ_REL);
    if (left == KernelObject::kMaxCaps) k::panic("ipc: capability count underflow");
    return left == 0;
}

} // namespace

CapTable::CapTable(Capability* slots, std::uint32_t count)
    : slots_(slots), count_(slots != nullptr ? count : 0) {
    for (std::uint32_t i = 0; i < count_; ++i)
        slots_[i] = Capability{};
}

CapError CapTable::insert(CapSlot dst, ObjectType type, KernelObject* object, Rights rights) {
    if (type == ObjectType::None || object == nullptr) return CapError::InvalidObject;
    if (!rights.valid()) return CapError::InvalidRights;
    if (!in_range(dst)) return CapError::SlotOutOfRange;
    Capability& d = slots_[dst];
    if (!d.empty()) return CapError::SlotOccupied;
    if (!count_first(*object)) return CapError::ObjectHasCaps;
    d = Capability{object, kNoBadge, type, rights};
    ++used_;
    return CapError::Ok;
}

CapLookup CapTable::lookup(CapSlot slot, ObjectType type, Rights needed) const {
    if (!in_range(slot)) return {CapError::SlotOutOfRange, {}};
    const Capability& c = slots_[slot];
    if (c.empty()) return {CapError::EmptySlot, {}};
    if (c.type != type) return {CapError::WrongType, {}};
    if (!c.rights.has(needed)) return {CapError::MissingRight, {}};
    return {CapError::Ok, c};
}

CapLookup CapTable::peek(CapSlot slot) const {
    if (!in_range(slot)) return {CapError::SlotOutOfRange, {}};
    return {CapError::Ok, slots_[slot]};
}

CapError CapTable::mint(const CapTable& from, CapSlot src, CapSlot dst, Rights rights,
                        Badge badge) {
    if (!from.in_range(src)) return CapError::SlotOutOfRange;
    const Capability s = from.slots_[src];
    if (s.empty()) return CapError::EmptySlot;
    if (!rights.valid()) return CapError::InvalidRights;
    if (!rights.subset_of(s.rights)) return CapError::RightsEscalation;
    if (badge != kNoBadge) {
        if (!badgeable(s.type)) return CapError::NotBadgeable;
        if (s.badge != kNoBadge) return CapError::BadgeAlreadySet;
    }
    if (!in_range(dst)) return CapError::SlotOutOfRange;
    Capability& d = slots_[dst];
    if (!d.empty()) return CapError::SlotOccupied;
    if (!count_more(*s.object)) return CapError::CountOverflow;
    d = Capability{s.object, badge != kNoBadge ? badge : s.badge, s.type, rights};
    ++used_;
    return CapError::Ok;
}

CapRemoved CapTable::remove(CapSlot slot) {
    if (!in_range(slot)) return {CapError::SlotOutOfRange, {}, false};
    Capability& c = slots_[slot];
    if (c.empty()) return {CapError::EmptySlot, {}, false};
    const Capability taken = c;
    c = Capability{};
    --used_;
    return {CapError::Ok, taken, count_less(*taken.object)};
}

} // namespace ipc
