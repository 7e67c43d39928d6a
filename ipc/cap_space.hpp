// A process's capability space: kCapSlots slots, the table over them and the lock that guards
// both (RFC-0028 "Capability spaces").
#pragma once

#include "base/spin_lock.hpp"
#include "ipc/cap_table.hpp"
#include "ipc/message.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <cstdint>

namespace k::ipc {

inline constexpr std::uint32_t kCapSlots = static_cast<std::uint32_t>(kestrel::kCapSlots);
static_assert(::ipc::Rights::kSend == kestrel::RightSend &&
                  ::ipc::Rights::kReceive == kestrel::RightReceive &&
                  ::ipc::Rights::kGrant == kestrel::RightGrant,
              "the ABI's rights bits are the capability table's");
static_assert(::ipc::kMessageRegisters == kestrel::kMessageRegisters &&
                  ::ipc::kMaxLength == kestrel::kMaxIpcLength,
              "the ABI's message sizes are the kernel's");

struct CapSpace {
    // Taken only through SpaceGuard (or transfer's pair of them), which checks the order.
    k::SpinLock lock{"cap-space"};
    ::ipc::Capability slots[kCapSlots];      // guarded by lock
    ::ipc::CapTable table{slots, kCapSlots}; // guarded by lock
    const CapSpace* below = nullptr;         // guarded by lock: see SpaceGuard

    // A new process's: every slot empty.
    void reset();
    // The process ended: every capability removed; each last one destroys its object.
    void clear();
};

// Holds a space's lock for the guard's scope. A hart may hold two space locks at once (a
// transfer), and only in address order: a space lock taken while this hart holds one at the
// same or a higher address panics before it waits ("capability-space locks out of address
// order"), so an order that could deadlock fails at its first use, contended or not. Each hart
// keeps the last space lock it took; `below` chains the one it held before.
class SpaceGuard final {
  public:
    explicit SpaceGuard(CapSpace& s);
    ~SpaceGuard();
    SpaceGuard(const SpaceGuard&) = delete;
    SpaceGuard& operator=(const SpaceGuard&) = delete;

  private:
    CapSpace& s_;
};

// The syscall error for a capability-table refusal (a distinct code per reason).
std::int64_t error_of(::ipc::CapError e);

// What a syscall's capability lookup gives: the capability (a copy) and, for an endpoint,
// notification or task, its object with an operation reference (put() / task_put() it when
// done), or the error.
struct Found {
    std::int64_t error; // 0 or a negative kestrel::Error
    ::ipc::Capability cap;
};
Found lookup(CapSpace& s, std::uint64_t slot, ::ipc::ObjectType type, ::ipc::Rights needed);
// 0 when `slot` holds a capability of any type, else SlotOutOfRange or EmptySlot.
std::int64_t check_held(CapSpace& s, std::uint64_t slot);
// 0 when `slot` is empty, else SlotOutOfRange or SlotOccupied. A refusal before work is done;
// another thread may still fill the slot before the insert that follows.
std::int64_t check_free(CapSpace& s, std::uint64_t slot);

// The capability calls. Each returns 0 or a negative kestrel::Error.
std::int64_t create(CapSpace& s, std::uint64_t slot, ::ipc::ObjectType type);
// The first capability (all rights) to a new object the caller made: 0, or the slot's error
// (the caller then drops the object's reference).
std::int64_t insert(CapSpace& s, std::uint64_t slot, ::ipc::ObjectType type,
                    ::ipc::KernelObject& object);
std::int64_t mint(CapSpace& s, std::uint64_t src, std::uint64_t dst, std::uint64_t rights,
                  std::uint64_t badge);
std::int64_t remove(CapSpace& s, std::uint64_t slot);
// Copies `from`'s `src` into `to`'s `dst`, same rights and badge (spawn's cap, a transfer).
std::int64_t transfer(CapSpace& from, std::uint64_t src, CapSpace& to, std::uint64_t dst);

} // namespace k::ipc
