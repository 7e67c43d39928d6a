// An endpoint's rendezvous state machine (seL4): idle, a queue of senders, or one of receivers.
#pragma once

#include "base/intrusive_list.hpp"
#include "ipc/waiter.hpp"

#include <cstdint>

namespace ipc {

// Never both senders and receivers: one FIFO list and a state saying what it holds (seL4's
// endpoint). Destroyed is final: the object is about to be freed.
enum class EndpointState : std::uint8_t { Idle, Sending, Receiving, Destroyed };

// clang-format off
enum class [[nodiscard]] IpcOutcome : std::uint8_t {
    Delivered, // matched a queued partner (Rendezvous::partner); the message moved
    Queued,    // the node is queued: the caller blocks until its status changes
    Dropped,   // nb_send: no receiver was waiting, the message is gone
    Empty,     // poll: no sender was waiting
    NodeBusy,  // the node is already queued (here or on another endpoint): nothing changed
    Destroyed, // the endpoint is destroyed: nothing changed
};
// clang-format on

struct [[nodiscard]] Rendezvous {
    IpcOutcome outcome;
    Waiter* partner; // Delivered: the queued waiter that was matched, now off the queue

    [[nodiscard]] constexpr bool delivered() const { return outcome == IpcOutcome::Delivered; }
};

enum class [[nodiscard]] CancelResult : std::uint8_t{
    Removed,   // it was queued here; now off, status Cancelled
    NotQueued, // it is not on this endpoint's queue (matched already, or never queued)
};

// Pure data structure, no blocking and no lock: the kernel holds the endpoint's lock around
// every call, blocks a Queued caller with the scheduler and wakes the partner of a Delivered
// one. On a match the sender's msg, badge and call flag are copied into the receiver's node.
// Each operation is O(1) except destroy() (O(waiters)).
class EndpointQueue final {
  public:
    constexpr EndpointQueue() = default;
    EndpointQueue(const EndpointQueue&) = delete;
    EndpointQueue& operator=(const EndpointQueue&) = delete;

    // Blocking send: the oldest queued receiver gets the message (Delivered, partner = it),
    // else the sender is queued at the tail (Queued). NodeBusy, Destroyed.
    Rendezvous send(Waiter& sender) { return offer(sender, true); }
    // Non-blocking send: Delivered as send(), else Dropped (the sender is never queued).
    Rendezvous nb_send(Waiter& sender) { return offer(sender, false); }
    // Blocking receive: the oldest queued sender's message (Delivered, partner = that sender,
    // which the caller wakes or, for a call, keeps for the reply), else queued (Queued).
    Rendezvous receive(Waiter& receiver) { return take(receiver, true); }
    // Non-blocking receive: Delivered as receive(), else Empty.
    Rendezvous poll(Waiter& receiver) { return take(receiver, false); }

    // A queued waiter leaves (its task died, or its wait timed out).
    CancelResult cancel(Waiter& w);

    // Detaches every waiter, oldest first: each gets status Destroyed and then each(Waiter&)
    // is called (the kernel wakes it with an error). The state becomes Destroyed and every
    // later send or receive returns Destroyed. Returns how many were detached; 0 on a second
    // call.
    template <typename Fn>
    std::uint32_t destroy(Fn&& each) {
        state_ = EndpointState::Destroyed;
        std::uint32_t n = 0;
        while (Waiter* w = queue_.pop_front()) {
            w->status = WaitStatus::Destroyed;
            each(*w);
            ++n;
        }
        return n;
    }

    [[nodiscard]] EndpointState state() const { return state_; }
    [[nodiscard]] std::uint32_t waiting() const { return queue_.size(); }
    [[nodiscard]] bool holds(const Waiter& w) const { return queue_.contains(w); }

  private:
    using Queue = k::IntrusiveList<Waiter, &Waiter::link>;

    Rendezvous offer(Waiter& sender, bool block);
    Rendezvous take(Waiter& receiver, bool block);

    Queue queue_;
    EndpointState state_ = EndpointState::Idle;
};

} // namespace ipc
