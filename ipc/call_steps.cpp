// The steps of every IPC call (ipc/call_steps.hpp).
#include "ipc/call_steps.hpp"

#include "base/spin_lock.hpp"
#include "trap/user_copy.hpp"

namespace k::ipc::steps {

using ::ipc::MessageTag;
using kestrel::Error;

// The receiver's result registers and buffer, once a message is in its record.
std::int64_t deliver_out(IpcThread& t, hal::TrapFrame& tf) {
    const ::ipc::Message& m = t.waiter.msg;
    tf.x[11] = m.tag.word();
    for (std::uint32_t i = 0; i < ::ipc::kMessageRegisters; ++i)
        tf.x[12 + i] = m.mr[i];
    tf.x[16] = t.waiter.badge;
    const std::uint32_t n = m.tag.buffer_words();
    if (n == 0) return 0;
    return k::uaccess::copy_out(t.buffer, t.words, std::uint64_t{n} * 8);
}

void post(IpcThread& t, std::int64_t result) {
    t.result = result;
    (void)t.done.signal(kComplete);
}

// post() without the wake, for the fast path: the blocked partner whose wake the caller won
// (Blocked -> Ready, on no queue: the caller must hand it to wait_complete or enqueue it), or
// nullptr when it was not blocked (it sees the post by itself).
sched::Task* fast_post(IpcThread& t, std::int64_t result) {
    t.result = result;
    const sched::TaskRef w = t.done.post(kComplete);
    if (!w || w->state.wake() != sched::Transition::Ok) return nullptr;
    return w.get(); // the thread record keeps its task alive while it is blocked
}

// Withdraws t's waiter from e's queue: true when it was still queued (nothing will come).
bool withdraw_from(Endpoint& e, IpcThread& t) {
    k::SpinGuard g(e.lock);
    return e.queue.cancel(t.waiter) == ::ipc::CancelResult::Removed;
}

// A caller's wait for its reply ends without one (killed, or its offer failed): the next
// reply with the old sequence number finds nobody. True when no reply was on its way.
bool withdraw_call(IpcThread& c) {
    k::SpinGuard g(c.reply_lock);
    if (!c.awaiting) return false; // a reply (or ServerGone) is being posted
    c.awaiting = false;
    ++c.call_seq;
    return true;
}

void server_gone(IpcThread& c, std::uint64_t seq) {
    (void)finish_call(c, seq, kestrel::code(Error::ServerGone), [](IpcThread&) {});
}

// Server `s` received the call of `c`: s's reply capability now answers it. s holds none:
// its receive dropped the last one (drop_reply), and a thread in a receive is not ending.
void give_reply(IpcThread& s, IpcThread& c) {
    k::SpinGuard g(s.reply_lock);
    if (s.reply_to) k::panic("ipc: a reply capability given over another");
    s.reply_to = &c;
    s.reply_seq = c.offer_seq;
}

// t's reply capability, if it holds one, dies unanswered: its caller gets ServerGone.
void drop_reply(IpcThread& t) {
    IpcThread* c = nullptr;
    std::uint64_t seq = 0;
    {
        k::SpinGuard g(t.reply_lock);
        c = t.reply_to;
        seq = t.reply_seq;
        t.reply_to = nullptr;
    }
    if (c) server_gone(*c, seq);
}

// A caller's offer: it will wait for a reply with this sequence number.
void begin_call(IpcThread& c) {
    k::SpinGuard g(c.reply_lock);
    c.awaiting = true;
    c.offer_seq = c.call_seq;
    c.wait_gen.fetch_add(1, std::memory_order_relaxed); // the call's wait opens
}

std::int64_t signal_locked(Notification& n, ::ipc::Badge badge, IpcThread*& woken) {
    woken = nullptr;
    if (n.destroyed) return kestrel::code(Error::Destroyed);
    const std::uint64_t bits = badge != ::ipc::kNoBadge ? badge : 1;
    if ((woken = n.waiter) != nullptr) {
        n.waiter = nullptr;
        woken->word_out = n.word | bits;
        n.word = 0;
    } else {
        n.word |= bits;
    }
    return 0;
}

std::int64_t notify_take_locked(IpcThread& t, Notification& n) {
    if (n.destroyed) return kestrel::code(Error::Destroyed);
    if (n.word != 0) {
        t.word_out = n.word;
        n.word = 0;
        return 0;
    }
    if (n.waiter) return kestrel::code(Error::Busy);
    n.waiter = &t;
    return kNotifyBlock;
}

namespace {

// A notify_wait in progress, for the lost-wake-up monitor: it is over when the completion is
// posted, or overdue when bits wait in the notification it is registered at (a signal that
// came after its registration hands the bits over and posts; bits left in the word mean one
// that did not see it). The object is the thread record (a static pool) and the notification
// a slab object: both stay mapped whenever the monitor reads them.
bool notify_wait_holds(const void* o) {
    const IpcThread& t = *static_cast<const IpcThread*>(o);
    if (t.done.pending() != 0) return true;
    const auto* n = static_cast<const Notification*>(t.notify_at.load(std::memory_order_acquire));
    return n && __atomic_load_n(&n->waiter, __ATOMIC_RELAXED) == &t &&
           __atomic_load_n(&n->word, __ATOMIC_RELAXED) != 0;
}
constexpr sched::WaitKind kNotifyWait{"ipc notification", &notify_wait_holds};

} // namespace

std::int64_t notify_block(IpcThread& t, Notification& n, sched::Task* me, std::uint64_t deadline) {
    t.notify_at.store(&n, std::memory_order_release);
    const std::int64_t r = wait_complete(
        t,
        [&] {
            k::SpinGuard g(n.lock);
            if (n.waiter != &t) return false; // a signal or the destruction is posting
            n.waiter = nullptr;
            return true;
        },
        nullptr, &kNotifyWait, &t, me, deadline);
    t.notify_at.store(nullptr, std::memory_order_release);
    return r;
}

} // namespace k::ipc::steps
