// The steps every IPC call is made of (RFC-0028 "The kernel side"): blocking on a thread's
// completion word, posting it, the reply protocol's offer, claim and withdrawal, and the
// delivery of a message into a receiver's registers. The general calls (ipc/ipc_calls.cpp)
// and the fast path (ipc/fastpath.cpp) are both built from these, so the two cannot disagree
// on the protocol, only on which checks they make first.
//
// Blocking: a thread that queues itself blocks in its own `done` notification; whoever ends
// the wait (the partner that matched it, a reply, a destruction, a server's death) writes
// `result` and posts kComplete exactly once. A killed thread withdraws (cancel) or, when it
// is too late to withdraw, waits for the completion on its way, so no post outlives its wait.
#pragma once

#include "base/fault.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "ipc/ipc_thread.hpp"
#include "ipc/objects.hpp"
#include "sched/scheduler.hpp"
#include "sched/timer.hpp"
#include "sched/timer_list.hpp"
#include "sched/wait_channel.hpp"
#include "trap_frame.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <cstdint>

namespace k::ipc::steps {

using sched::kNoDeadline; // a wait without a timeout

// The receiver's result registers (a1 tag, a2..a5 MR0..MR3, a6 badge) and the buffer words
// copied out to its user buffer, once a message is in its record. 0 or the copy's error.
std::int64_t deliver_out(IpcThread& t, hal::TrapFrame& tf);
// Writes `result` and posts kComplete to t (waking it).
void post(IpcThread& t, std::int64_t result);
// post() without the wake: the blocked partner whose wake the caller won (Blocked -> Ready,
// on no queue: the caller must hand it to wait_complete or enqueue it), or nullptr when it was
// not blocked (it sees the post by itself).
sched::Task* fast_post(IpcThread& t, std::int64_t result);
// Withdraws t's waiter from e's queue: true when it was still queued (nothing will come).
bool withdraw_from(Endpoint& e, IpcThread& t);
// A caller's wait for its reply ends without one (killed, or its offer failed): the next
// reply with the old sequence number finds nobody. True when no reply was on its way.
bool withdraw_call(IpcThread& c);
// Caller c's call with `seq` ends with ServerGone (if it is still that call).
void server_gone(IpcThread& c, std::uint64_t seq);
// Server `s` received the call of `c`: s's reply capability now answers it. s holds none:
// its receive dropped the last one (drop_reply), and a thread in a receive is not ending.
void give_reply(IpcThread& s, IpcThread& c);
// t's reply capability, if it holds one, dies unanswered: its caller gets ServerGone.
void drop_reply(IpcThread& t);
// A caller's offer: it will wait for a reply with this sequence number.
void begin_call(IpcThread& c);

// signal's step under n.lock (held by the caller): the capability's badge (or 1 when it has
// none) goes to n's waiter, which is returned in `woken` for the caller to post() once the
// lock is released, or is ORed into the word. 0, or Destroyed.
std::int64_t signal_locked(Notification& n, ::ipc::Badge badge, IpcThread*& woken);
// notify_wait's step under n.lock (held by the caller): 0 with the word taken into
// t.word_out, kNotifyBlock with t registered as n's waiter (then notify_block()), Destroyed,
// or Busy (another thread waits there).
inline constexpr std::int64_t kNotifyBlock = 1;
std::int64_t notify_take_locked(IpcThread& t, Notification& n);
// t, registered as n's waiter, blocks until a signal (0, the word in t.word_out) or the
// notification's destruction (Destroyed); killed, it leaves n first. `me`: t's task, if the
// caller has it. The caller holds an operation reference on n.
std::int64_t notify_block(IpcThread& t, Notification& n, sched::Task* me,
                          std::uint64_t deadline = kNoDeadline);

inline IpcThread& owner(::ipc::Waiter& w) {
    return *static_cast<IpcThread*>(w.owner);
}

// Blocks until kComplete; a kKilled post calls withdraw(): true means the wait is withdrawn
// (nothing will be posted), false that a completion is on its way, which is then awaited.
// `next`: a partner whose wake the caller won (fast_post), run at once on this hart if it may
// (sched::handoff), else queued as a wake would.
// `kind`/`object`: the wait published for the lost-wake-up monitor (sched/wait_channel.hpp);
// by default the completion word alone. `me`: the thread's task if the caller has it (the fast
// path), else it is looked up.
template <typename Withdraw>
std::int64_t wait_complete(IpcThread& t, Withdraw&& withdraw, sched::Task* next = nullptr,
                           const sched::WaitKind* kind = nullptr, const void* object = nullptr,
                           sched::Task* me = nullptr, std::uint64_t deadline = kNoDeadline) {
    if (!me) me = sched::current();
    for (;;) {
        // A timed wait (RFC-0030 "Timeouts"): its timer entry posts kTimer at the deadline.
        const std::uint64_t bits =
            deadline == kNoDeadline
                ? t.done.wait(*me, next, kind, object)
                : sched::timed_wait(*me, t.done, deadline, kTimer, next, kind, object);
        next = nullptr;
        if (bits & kComplete) return t.result;
        // Killed or timed out: withdraw under the lock the partner matches under. Exactly one
        // of the two wins; a completion already on its way is awaited, without a deadline now
        // (the message wins: no message is lost to a waiter that returned TimedOut).
        const bool withdrawn = withdraw();
        // kfault=time-timeout-wins: a timeout returns even when the match came first (its
        // message is lost, its completion left in the word).
        if (withdrawn || ((bits & kTimer) != 0 && k::fault::is(k::fault::Fault::TimeTimeoutWins)))
            return kestrel::code((bits & kKilled) != 0 ? kestrel::Error::Destroyed // it ends next
                                                       : kestrel::Error::TimedOut);
        deadline = kNoDeadline;
    }
}

// Ends caller `c`'s call with `seq` (the reply, or ServerGone): fills its record under its
// reply lock, then posts. False when that call is over already (it ended, or was withdrawn).
// With `woken`, the caller is not woken but returned there (fast_post).
template <typename Fill>
bool finish_call(IpcThread& c, std::uint64_t seq, std::int64_t result, Fill&& fill,
                 sched::Task** woken = nullptr) {
    std::uint64_t gen = 0;
    {
        k::SpinGuard g(c.reply_lock);
        // kfault=reply-any-call drops the sequence test: a late reply then answers whatever
        // call the record's next thread is waiting in (SELFTEST: reply answers its own call).
        const bool stale = c.call_seq != seq && !k::fault::is(k::fault::Fault::ReplyAnyCall);
        if (!c.awaiting || stale) return false;
        fill(c);
        c.awaiting = false;
        ++c.call_seq;
        gen = c.wait_gen.load(std::memory_order_relaxed);
    }
    // The caller's wait stays open until this post: a killed caller that finds its call
    // claimed waits for it (withdraw_call). KSELFTEST: ipc kill meets reply holds this window.
    k::jitter::point(k::jitter::Site::ReplyClaimed, &c);
    if (c.wait_gen.load(std::memory_order_acquire) != gen)
        k::panic("ipc: a call's completion would be posted after its wait ended (the caller "
                 "left it, or its thread record was reused)");
    if (woken) {
        *woken = fast_post(c, result);
    } else {
        post(c, result);
    }
    return true;
}

} // namespace k::ipc::steps
