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

} // namespace k::ipc::steps
