// The endpoint state machine: a match takes the oldest partner, otherwise the caller queues.
#include "ipc/endpoint_queue.hpp"

#include "base/panic.hpp"

namespace ipc {

namespace {

void deliver(const Waiter& from, Waiter& to) {
    to.msg = from.msg;
    to.badge = from.badge;
    to.call = from.call;
}

} // namespace

Rendezvous EndpointQueue::offer(Waiter& sender, bool block) {
    if (state_ == EndpointState::Destroyed) return {IpcOutcome::Destroyed, nullptr};
    if (sender.queued()) return {IpcOutcome::NodeBusy, nullptr};
    if (state_ == EndpointState::Receiving) {
        Waiter* r = queue_.pop_front();
        if (r == nullptr) k::panic("ipc: endpoint receiving with an empty queue");
        if (queue_.empty()) state_ = EndpointState::Idle;
        deliver(sender, *r);
        r->status = WaitStatus::Delivered;
        sender.status = WaitStatus::Delivered;
        return {IpcOutcome::Delivered, r};
    }
    if (!block) return {IpcOutcome::Dropped, nullptr};
    queue_.push_back(sender);
    sender.status = WaitStatus::Sending;
    state_ = EndpointState::Sending;
    return {IpcOutcome::Queued, nullptr};
}

Rendezvous EndpointQueue::take(Waiter& receiver, bool block) {
    if (state_ == EndpointState::Destroyed) return {IpcOutcome::Destroyed, nullptr};
    if (receiver.queued()) return {IpcOutcome::NodeBusy, nullptr};
    if (state_ == EndpointState::Sending) {
        Waiter* s = queue_.pop_front();
        if (s == nullptr) k::panic("ipc: endpoint sending with an empty queue");
        if (queue_.empty()) state_ = EndpointState::Idle;
        deliver(*s, receiver);
        s->status = WaitStatus::Delivered;
        receiver.status = WaitStatus::Delivered;
        return {IpcOutcome::Delivered, s};
    }
    if (!block) return {IpcOutcome::Empty, nullptr};
    queue_.push_back(receiver);
    receiver.status = WaitStatus::Receiving;
    state_ = EndpointState::Receiving;
    return {IpcOutcome::Queued, nullptr};
}

CancelResult EndpointQueue::cancel(Waiter& w) {
    if (!queue_.remove(w)) return CancelResult::NotQueued;
    w.status = WaitStatus::Cancelled;
    if (queue_.empty()) state_ = EndpointState::Idle;
    return CancelResult::Removed;
}

} // namespace ipc
