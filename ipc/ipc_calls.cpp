// Send, receive, call and reply over endpoints; signal and wait on notifications: the general
// path of every IPC call, built from the steps of ipc/call_steps.hpp (which also says how a
// thread blocks and who posts its completion).
//
// The message: the side that finds a queued partner (the active side) moves it. The portable
// queue copies tag, MR0..MR3 and badge; the buffer words go from the sender's staging array to
// the receiver's, and the capability from space to space. The receiver copies its staging
// array out to its own user buffer when it runs.
#include "ipc/ipc_calls.hpp"

#include "base/panic.hpp"
#include "ipc/call_steps.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/objects.hpp"
#include "sched/wait_channel.hpp"
#include "trap/user_copy.hpp"

#include <cstring>

namespace k::ipc {

using ::ipc::IpcOutcome;
using ::ipc::MessageTag;
using ::ipc::ObjectType;
using ::ipc::Rights;
using ::ipc::TagError;
using kestrel::Error;
using namespace steps;

namespace {

std::int64_t tag_error(std::uint64_t word, bool reply) {
    switch (MessageTag::check(word)) {
    case TagError::Ok:
        break;
    case TagError::LengthTooLong:
        return kestrel::code(Error::BadLength);
    case TagError::TooManyCaps:
    case TagError::ReservedBits:
        return kestrel::code(Error::BadTag);
    }
    if (reply && MessageTag::from_word(word).caps != 0) return kestrel::code(Error::BadTag);
    return 0;
}

// The sender's part of a message from the registers and its user buffer into `t`.
std::int64_t stage(IpcThread& t, const hal::TrapFrame& tf) {
    const MessageTag tag = MessageTag::from_word(tf.x[11]);
    t.waiter.msg.tag = tag;
    for (std::uint32_t i = 0; i < ::ipc::kMessageRegisters; ++i)
        t.waiter.msg.mr[i] = tf.x[12 + i];
    const std::uint32_t n = tag.buffer_words();
    if (n == 0) return 0;
    return k::uaccess::copy_in(t.words, tf.x[16], std::uint64_t{n} * 8);
}

// The active side moves the buffer words and the capability from `from` to `to` (the queue
// has copied tag, registers and badge already). The passive side is blocked meanwhile.
void move(IpcThread& from, IpcThread& to) {
    MessageTag& tag = to.waiter.msg.tag;
    std::memcpy(to.words, from.words, std::size_t{tag.buffer_words()} * 8);
    if (tag.caps == 0) return;
    bool moved = false;
    if (from.grant && to.cap_dst != kestrel::kNoCap)
        moved = transfer(*from.caps, from.cap_src, *to.caps, to.cap_dst) == 0;
    tag.caps = moved ? 1 : 0;
    if (moved) to.waiter.msg.mr[3] = to.cap_dst;
}

// The sending half of send, nb_send and call. Returns 0 (or 1: nb_send delivered) once the
// message is taken; for a call, once the reply is in t's record.
std::int64_t offer(IpcThread& t, hal::TrapFrame& tf, bool block, bool is_call,
                   std::uint64_t deadline = kNoDeadline) {
    if (const std::int64_t e = tag_error(tf.x[11], false); e != 0) return e;
    const Found f = lookup(*t.caps, tf.x[10], ObjectType::Endpoint, Rights::send());
    if (f.error != 0) return f.error;
    Endpoint& ep = *static_cast<Endpoint*>(f.cap.object);
    std::int64_t r = stage(t, tf);
    t.waiter.badge = f.cap.badge;
    t.waiter.call = is_call;
    t.grant = f.cap.rights.has(Rights::grant());
    t.cap_src = tf.x[15]; // MR3 names the capability when the tag says caps = 1
    if (r == 0 && t.waiter.msg.tag.caps != 0) r = check_held(*t.caps, t.cap_src); // any type
    if (r != 0) {
        put(ep);
        return r;
    }
    if (is_call) begin_call(t);
    ::ipc::Rendezvous rv{IpcOutcome::Dropped, nullptr};
    {
        k::SpinGuard g(ep.lock);
        rv = block ? ep.queue.send(t.waiter) : ep.queue.nb_send(t.waiter);
    }
    switch (rv.outcome) {
    case IpcOutcome::Delivered: {
        IpcThread& rx = owner(*rv.partner);
        move(t, rx);
        if (!is_call) {
            post(rx, 0);
            r = block ? 0 : 1;
            break;
        }
        // The fast path: the server runs next, here if it may, while we wait for its reply.
        give_reply(rx, t);
        sched::Task* server = fast_post(rx, 0);
        put(ep);
        return wait_complete(
            t, [&] { return withdraw_call(t); }, server, nullptr, nullptr, nullptr, deadline);
    }
    case IpcOutcome::Queued:
        // A call's match posts nothing: the one post it gets is the reply's (or an error's).
        r = wait_complete(
            t,
            [&] {
                if (withdraw_from(ep, t)) return !is_call || withdraw_call(t);
                return is_call ? withdraw_call(t) : false;
            },
            nullptr, nullptr, nullptr, nullptr, deadline);
        put(ep);
        if (is_call && r < 0) (void)withdraw_call(t); // Destroyed before a match: no reply
        return r;
    case IpcOutcome::Dropped:
        r = 0;
        break;
    case IpcOutcome::Destroyed:
        r = kestrel::code(Error::Destroyed);
        break;
    case IpcOutcome::NodeBusy:
        k::panic("ipc: a thread's waiter is queued twice");
    case IpcOutcome::Empty:
        k::panic("ipc: send returned Empty");
    }
    put(ep);
    if (is_call && r < 0) (void)withdraw_call(t);
    return r;
}

// `next`: a caller whose reply this thread just gave (reply_receive's fast path): it runs when
// this thread blocks, or is queued as a wake would be.
std::int64_t receive_from(IpcThread& t, hal::TrapFrame& tf, bool block, sched::Task* next,
                          std::uint64_t deadline = kNoDeadline) {
    sched::WonWake pending(next);
    const Found f = lookup(*t.caps, tf.x[10], ObjectType::Endpoint, Rights::receive());
    if (f.error != 0) return f.error;
    Endpoint& ep = *static_cast<Endpoint*>(f.cap.object);
    drop_reply(t); // as seL4's receive deletes the caller capability first
    t.buffer = tf.x[16];
    t.cap_dst = tf.x[11];
    ::ipc::Rendezvous rv{IpcOutcome::Empty, nullptr};
    {
        k::SpinGuard g(ep.lock);
        rv = block ? ep.queue.receive(t.waiter) : ep.queue.poll(t.waiter);
    }
    std::int64_t r = 0;
    switch (rv.outcome) {
    case IpcOutcome::Delivered: {
        IpcThread& tx = owner(*rv.partner);
        move(tx, t);
        if (t.waiter.call) {
            give_reply(t, tx); // the caller stays blocked until the reply
        } else {
            post(tx, 0);
        }
        r = block ? 0 : 1;
        break;
    }
    case IpcOutcome::Queued:
        r = wait_complete(
            t, [&] { return withdraw_from(ep, t); }, pending.take(), nullptr, nullptr, nullptr,
            deadline);
        break;
    case IpcOutcome::Empty:
        put(ep);
        tf.x[11] = 0; // poll: no message
        return 0;
    case IpcOutcome::Destroyed:
        r = kestrel::code(Error::Destroyed);
        break;
    case IpcOutcome::NodeBusy:
        k::panic("ipc: a thread's waiter is queued twice");
    case IpcOutcome::Dropped:
        k::panic("ipc: receive returned Dropped");
    }
    put(ep);
    if (r < 0) return r;
    const std::int64_t out = deliver_out(t, tf);
    return out < 0 ? out : r;
}

// reply(); `fast`: the caller is not woken but returned in `woken` (see fast_post).
std::int64_t reply_to_caller(IpcThread& t, hal::TrapFrame& tf, sched::Task** woken) {
    if (const std::int64_t e = tag_error(tf.x[11], true); e != 0) return e;
    if (const std::int64_t e = stage(t, tf); e != 0) return e; // before the capability is used
    IpcThread* c = nullptr;
    std::uint64_t seq = 0;
    {
        k::SpinGuard g(t.reply_lock);
        c = t.reply_to;
        seq = t.reply_seq;
        t.reply_to = nullptr; // one-shot
    }
    if (!c) return kestrel::code(Error::NoCaller);
    const bool done = finish_call(
        *c, seq, 0,
        [&](IpcThread& to) {
            to.waiter.msg = t.waiter.msg;
            to.waiter.badge = ::ipc::kNoBadge;
            std::memcpy(to.words, t.words, std::size_t{t.waiter.msg.tag.buffer_words()} * 8);
        },
        woken);
    return done ? 0 : kestrel::code(Error::NoCaller);
}

} // namespace

std::int64_t send(IpcThread& t, hal::TrapFrame& tf, bool block) {
    return offer(t, tf, block, false);
}

std::int64_t call(IpcThread& t, hal::TrapFrame& tf, std::uint64_t deadline) {
    t.buffer = tf.x[16];
    const std::int64_t r = offer(t, tf, true, true, deadline);
    t.wait_gen.fetch_add(1, std::memory_order_release); // the wait is over: nothing may post
    if (r < 0) return r;
    return deliver_out(t, tf); // the reply
}

std::int64_t receive(IpcThread& t, hal::TrapFrame& tf, bool block, std::uint64_t deadline) {
    return receive_from(t, tf, block, nullptr, deadline);
}

std::int64_t reply(IpcThread& t, hal::TrapFrame& tf) {
    return reply_to_caller(t, tf, nullptr);
}

std::int64_t reply_receive(IpcThread& t, hal::TrapFrame& tf) {
    sched::Task* caller = nullptr;
    // As seL4's ReplyRecv: a failed reply does not stop the receive.
    (void)reply_to_caller(t, tf, &caller);
    tf.x[11] = kestrel::kNoCap;
    return receive_from(t, tf, true, caller);
}

std::int64_t signal(IpcThread& t, hal::TrapFrame& tf) {
    const Found f = lookup(*t.caps, tf.x[10], ObjectType::Notification, Rights::send());
    if (f.error != 0) return f.error;
    Notification& n = *static_cast<Notification*>(f.cap.object);
    IpcThread* w = nullptr;
    std::int64_t r = 0;
    {
        k::SpinGuard g(n.lock);
        r = signal_locked(n, f.cap.badge, w);
    }
    if (w) post(*w, 0);
    put(n);
    return r;
}

std::int64_t notify_wait(IpcThread& t, hal::TrapFrame& tf, std::uint64_t deadline) {
    const Found f = lookup(*t.caps, tf.x[10], ObjectType::Notification, Rights::receive());
    if (f.error != 0) return f.error;
    Notification& n = *static_cast<Notification*>(f.cap.object);
    std::int64_t r = 0;
    {
        k::SpinGuard g(n.lock);
        r = notify_take_locked(t, n);
    }
    if (r == kNotifyBlock) r = notify_block(t, n, nullptr, deadline);
    put(n);
    tf.x[11] = r == 0 ? t.word_out : 0;
    return r;
}

std::int64_t notify_poll(IpcThread& t, hal::TrapFrame& tf) {
    const Found f = lookup(*t.caps, tf.x[10], ObjectType::Notification, Rights::receive());
    if (f.error != 0) return f.error;
    Notification& n = *static_cast<Notification*>(f.cap.object);
    std::uint64_t w = 0;
    {
        k::SpinGuard g(n.lock);
        w = n.word;
        n.word = 0;
    }
    put(n);
    tf.x[11] = w;
    return 0;
}

void thread_end(IpcThread& t) {
    {
        // No reply reaches a call of its own any more (a thread that ends waits in none)...
        k::SpinGuard g(t.reply_lock);
        t.awaiting = false;
        ++t.call_seq;
    }
    drop_reply(t); // ...and a caller it holds gets ServerGone (nobody gives it another now)
}

void kill(IpcThread& t) {
    (void)t.done.signal(kKilled);
}

void IpcThread::reset(CapSpace* space) {
    k::SpinGuard g(reply_lock);
    waiter.msg = {};
    waiter.badge = ::ipc::kNoBadge;
    waiter.call = false;
    waiter.status = ::ipc::WaitStatus::Idle;
    waiter.owner = this;
    new (&done) sched::Notification();
    result = 0;
    caps = space;
    reply_to = nullptr;
    reply_seq = 0;
    awaiting = false;
    ++call_seq;
    wait_gen.fetch_add(1, std::memory_order_relaxed); // a claim on the last thread's call fails
}

} // namespace k::ipc
