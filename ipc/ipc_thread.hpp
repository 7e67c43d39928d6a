// A user thread's IPC state: its place on an endpoint, its completion word, its staging
// buffer and its one-shot reply capability (RFC-0028 "The kernel side").
#pragma once

#include "base/spin_lock.hpp"
#include "ipc/message.hpp"
#include "ipc/waiter.hpp"
#include "sched/notification.hpp"

#include <atomic>
#include <cstdint>

namespace k::ipc {

struct CapSpace;

// Bits posted to IpcThread::done. Exactly one kComplete is posted per blocking phase (a match,
// a reply, a destruction, a server's death), by whoever ended it; kKilled by a fault of
// another thread of the process.
inline constexpr std::uint64_t kComplete = 1;
inline constexpr std::uint64_t kKilled = 2;
// Posted by the thread's own timer entry when a timed wait's deadline passes (sched/timer.hpp,
// RFC-0030); a timed wait leaves none behind.
inline constexpr std::uint64_t kTimer = 4;

struct IpcThread {
    ::ipc::Waiter waiter;     // on one endpoint at a time; guarded by that endpoint's lock
    sched::Notification done; // the thread blocks here; see kComplete / kKilled
    std::int64_t result = 0;  // written by the poster of kComplete, before it posts

    // The message words beyond MR3: a sender stages its own here; the partner that matches
    // copies them into the receiver's (both kernel memory), and the receiver copies its own
    // out to its user buffer. Guarded by the protocol: only the thread itself, or the party
    // that matched it while it is blocked.
    std::uint64_t words[::ipc::kMaxBufferWords] = {};
    std::uint64_t cap_dst = 0;   // receive: where a transferred capability lands (or kNoCap)
    std::uint64_t cap_src = 0;   // send: the slot of the capability to transfer
    bool grant = false;          // send: the sender's endpoint capability has Grant
    std::uint64_t offer_seq = 0; // call: call_seq when it offered (the server's reply_seq)
    std::uint64_t word_out = 0;  // notify_wait: the word a signal handed over
    std::uint64_t buffer = 0;    // the call's user buffer (a6 on entry; a6 returns the badge)
    // notify_wait: the notification it is registered at, for the lost-wake-up monitor (set by
    // the thread before it blocks, cleared after; read racily).
    std::atomic<const void*> notify_at{nullptr};
    CapSpace* caps = nullptr; // the thread's process's capability space

    // The reply protocol (each field under the lock of the thread that owns it).
    k::SpinLock reply_lock{"reply"};
    IpcThread* reply_to = nullptr; // as a server: the caller the reply capability answers
    std::uint64_t reply_seq = 0;   // as a server: reply_to's call_seq at the match
    std::uint64_t call_seq = 0;    // as a caller: bumped when a call ends; never reset
    bool awaiting = false;         // as a caller: waits for a reply
    // As a caller: moves on when a call's wait opens (begin_call) and when it closes (call()
    // returns), and when the record is reused. Whoever claims the call's end reads it under
    // reply_lock and checks it again just before posting: a post to a wait that has closed,
    // or to a record reused meanwhile, panics. Written by the thread itself (and reset).
    std::atomic<std::uint64_t> wait_gen{0};

    // A new thread takes the record: everything but call_seq starts afresh (a reply meant for
    // the record's last thread must still find a stale sequence number).
    void reset(CapSpace* space);
};

} // namespace k::ipc
