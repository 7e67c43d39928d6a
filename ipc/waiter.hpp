// A task's place on an endpoint queue: an intrusive node with the message it sends or receives.
#pragma once

#include "base/intrusive_list.hpp"
#include "ipc/capability.hpp"
#include "ipc/message.hpp"

#include <cstdint>

namespace ipc {

// Where a waiter stands. The endpoint writes it; the kernel reads it when the task wakes up.
enum class WaitStatus : std::uint8_t {
    Idle,      // on no queue, nothing happened yet
    Sending,   // queued as a sender
    Receiving, // queued as a receiver
    Delivered, // matched: a sender's message was taken, or a receiver's `msg` holds one
    Cancelled, // taken off the queue by cancel() (death, timeout)
    Destroyed, // taken off the queue by destroy(): the operation fails with an error
};

// Embedded in the kernel's task (one per thread: a thread waits on one endpoint at a time).
// Before send(): `msg`, `badge` (the badge of the capability used) and `call`. After a
// receive is Delivered: the sender's `msg`, `badge` and `call`. Not copyable (the link).
struct Waiter {
    k::ListLink link;
    void* owner = nullptr; // the kernel's task; never read here
    Message msg;
    Badge badge = kNoBadge;
    bool call = false; // the sender waits for a reply (call, not send)
    WaitStatus status = WaitStatus::Idle;

    [[nodiscard]] bool queued() const { return link.linked(); }
};

} // namespace ipc
