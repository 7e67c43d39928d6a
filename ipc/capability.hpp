// A capability: the type and address of one kernel object, the rights it carries and its badge.
#pragma once

#include "ipc/kernel_object.hpp"

#include <cstdint>

namespace ipc {

// What a capability names. None marks an empty slot; no object has that type.
enum class ObjectType : std::uint8_t {
    None,
    Endpoint,     // synchronous rendezvous (ipc/endpoint_queue.hpp)
    Notification, // a word of bits, signal ORs a badge in (sched/notification.hpp)
    Task,         // wait for or kill a task
    Reply,        // one-shot: answers one call, then is gone
    Memory,       // frames to map (ipc/memory_object.hpp): Receive = read, Send = write
    Platform,     // the machine's interrupt sources and devices: makes Irq and Device (irq/)
    Irq,          // one interrupt source, bound to a notification (irq/irq.hpp)
    Device,       // the MMIO pages of one DTB device node, to map (irq/device.hpp)
    HartControl,  // the right to take harts offline and online (ipc/hart_control.hpp): Send
};

// A set of the three rights (seL4's Write/Read/Grant). Bits outside kAll are never valid: the
// table refuses them (CapError::InvalidRights), so a set held in a slot is always within kAll.
struct Rights {
    static constexpr std::uint8_t kSend = 1u << 0;    // send, call, signal
    static constexpr std::uint8_t kReceive = 1u << 1; // receive, poll, wait
    static constexpr std::uint8_t kGrant = 1u << 2;   // a message may carry a capability
    static constexpr std::uint8_t kAll = kSend | kReceive | kGrant;

    std::uint8_t bits = 0;

    [[nodiscard]] static constexpr Rights none() { return {}; }
    [[nodiscard]] static constexpr Rights send() { return {kSend}; }
    [[nodiscard]] static constexpr Rights receive() { return {kReceive}; }
    [[nodiscard]] static constexpr Rights grant() { return {kGrant}; }
    [[nodiscard]] static constexpr Rights all() { return {kAll}; }

    [[nodiscard]] constexpr bool valid() const { return (bits & ~kAll) == 0; }
    // Every right of `r` is in this set (true for r = none()).
    [[nodiscard]] constexpr bool has(Rights r) const { return (bits & r.bits) == r.bits; }
    [[nodiscard]] constexpr bool subset_of(Rights r) const { return r.has(*this); }
    [[nodiscard]] constexpr Rights operator|(Rights r) const {
        return {static_cast<std::uint8_t>(bits | r.bits)};
    }
    [[nodiscard]] constexpr bool operator==(const Rights&) const = default;
};

// 0 is "unbadged". A badge is chosen once, by mint, on an unbadged endpoint, notification or
// Platform capability; every capability derived from it keeps it (RFC-0028 "Badges").
using Badge = std::uint64_t;
inline constexpr Badge kNoBadge = 0;

// 24 bytes, copied by value: a slot of a CapTable holds one. `object` is the object's header;
// the kernel reaches the object itself from it (the header is its first member). An empty
// capability is all zero.
struct Capability {
    KernelObject* object = nullptr;
    Badge badge = kNoBadge;
    ObjectType type = ObjectType::None;
    Rights rights;

    [[nodiscard]] constexpr bool empty() const { return type == ObjectType::None; }
    [[nodiscard]] constexpr bool operator==(const Capability&) const = default;
};

// Endpoints and notifications carry a badge (the receiver or waiter learns it); a Platform
// capability's badge is its scope (irq/platform_scope.hpp: 0 every device, b only node b - 1).
[[nodiscard]] constexpr bool badgeable(ObjectType t) {
    return t == ObjectType::Endpoint || t == ObjectType::Notification || t == ObjectType::Platform;
}

[[nodiscard]] constexpr const char* object_type_name(ObjectType t) {
    switch (t) {
    case ObjectType::None:
        return "none";
    case ObjectType::Endpoint:
        return "endpoint";
    case ObjectType::Notification:
        return "notification";
    case ObjectType::Task:
        return "task";
    case ObjectType::Reply:
        return "reply";
    case ObjectType::Memory:
        return "memory";
    case ObjectType::Platform:
        return "platform";
    case ObjectType::Irq:
        return "irq";
    case ObjectType::Device:
        return "device";
    case ObjectType::HartControl:
        return "hart-control";
    }
    return "invalid";
}

} // namespace ipc
