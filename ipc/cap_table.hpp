// A task's capability space: a bounded array of slots; a slot's index is the capability address.
#pragma once

#include "ipc/cap_error.hpp"
#include "ipc/capability.hpp"

#include <cstdint>

namespace ipc {

// A capability address as user code passes it: any 64-bit register value. Valid ones are
// [0, slot_count()); everything else is SlotOutOfRange, never truncated.
using CapSlot = std::uint64_t;

// lookup(): the capability (a copy) when error is Ok, else an empty one.
struct [[nodiscard]] CapLookup {
    CapError error;
    Capability cap;

    [[nodiscard]] constexpr bool ok() const { return error == CapError::Ok; }
};

// remove(): the capability taken out, and whether it was the last one naming its object. When
// `last` is true the object has no capabilities left and the caller destroys it.
struct [[nodiscard]] CapRemoved {
    CapError error;
    Capability cap;
    bool last;

    [[nodiscard]] constexpr bool ok() const { return error == CapError::Ok; }
};

// Not internally locked: the kernel serialises the operations on one table (and on both tables
// of a cross-table copy or mint). Object counts are atomic (ipc/kernel_object.hpp). The slots
// are caller memory: a task's cap space lives in its task record, no heap. Every operation is
// O(1); the constructor is O(count).
class CapTable final {
  public:
    // `slots[0..count)` becomes the table, every slot emptied (whatever it held is overwritten,
    // not released). count may be 0 (every slot is then out of range); slots may be null only
    // with count 0.
    CapTable(Capability* slots, std::uint32_t count);
    CapTable(const CapTable&) = delete;
    CapTable& operator=(const CapTable&) = delete;

    [[nodiscard]] std::uint32_t slot_count() const { return count_; }
    [[nodiscard]] std::uint32_t used() const { return used_; } // occupied slots

    // The kernel making an object's first capability: an unbadged capability of `type` to
    // `object` with `rights`, in empty slot `dst`. Errors: InvalidObject (type None or object
    // null), InvalidRights, SlotOutOfRange, SlotOccupied, ObjectHasCaps (object's count is not
    // 0: further capabilities come only from copy and mint).
    CapError insert(CapSlot dst, ObjectType type, KernelObject* object, Rights rights);

    // The capability at `slot` if it names a `type` object and has every right in `needed`.
    // Errors in this order: SlotOutOfRange, EmptySlot, WrongType, MissingRight.
    [[nodiscard]] CapLookup lookup(CapSlot slot, ObjectType type, Rights needed) const;

    // Genode-style: found(const Capability&) when lookup() succeeds, else missing(CapError).
    template <typename Found, typename Missing>
    auto with(CapSlot slot, ObjectType type, Rights needed, Found&& found,
              Missing&& missing) const {
        const CapLookup l = lookup(slot, type, needed);
        return l.ok() ? found(static_cast<const Capability&>(l.cap)) : missing(l.error);
    }

    // Whatever `slot` holds (an empty capability for an empty slot), for generic operations
    // (delete, introspection). Error: SlotOutOfRange only.
    [[nodiscard]] CapLookup peek(CapSlot slot) const;

    // A new capability in this table's empty slot `dst`, derived from `from`'s slot `src` (from
    // may be *this): same object and type, `rights` (a subset of the source's), and the badge
    // `badge`, or the source's badge when `badge` is kNoBadge. A badge can be set once: on a
    // badged source, a non-zero badge is BadgeAlreadySet (even an equal one). Errors:
    // SlotOutOfRange, EmptySlot (source), InvalidRights, RightsEscalation, NotBadgeable (a
    // badge on a type badgeable() refuses), BadgeAlreadySet, SlotOutOfRange, SlotOccupied
    // (destination), CountOverflow.
    CapError mint(const CapTable& from, CapSlot src, CapSlot dst, Rights rights, Badge badge);
    CapError mint(CapSlot src, CapSlot dst, Rights rights, Badge badge) {
        return mint(*this, src, dst, rights, badge);
    }

    // mint() without a new badge: the copy keeps the source's badge (or its lack of one).
    // Errors: as mint() without the badge ones.
    CapError copy(const CapTable& from, CapSlot src, CapSlot dst, Rights rights) {
        return mint(from, src, dst, rights, kNoBadge);
    }
    CapError copy(CapSlot src, CapSlot dst, Rights rights) {
        return mint(*this, src, dst, rights, kNoBadge);
    }

    // Empties `slot` and returns what it held, and whether that was the last capability to its
    // object (its count went to 0; the caller destroys the object). Errors: SlotOutOfRange,
    // EmptySlot.
    [[nodiscard]] CapRemoved remove(CapSlot slot);

  private:
    [[nodiscard]] bool in_range(CapSlot s) const { return s < count_; }

    Capability* slots_;
    std::uint32_t count_;
    std::uint32_t used_ = 0;
};

} // namespace ipc
