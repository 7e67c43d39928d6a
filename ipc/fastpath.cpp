// The IPC fast path: Call and ReplyRecv when the message fits in the registers, Signal and
// NotifyWait (RFC-0028 "The fast path"). The idea is seL4's src/fastpath/fastpath.c: every
// precondition is one branch back to the general path, taken before anything changes, so that path
// redoes the whole call from the saved registers and the fast path never undoes anything. What it
// saves over the general path: the dispatcher, the interrupt enable and disable around it, the tag
// decoding, the staging of a message that has no buffer words, and the endpoint's reference count
// (the endpoint is used only under its lock, taken inside the capability space's lock, so the
// capability that names it cannot go while it is used; a receive that blocks takes a
// reference for its wait, as the general path does).
//
// What it keeps: every step of the reply protocol and of blocking (ipc/call_steps.hpp), so a
// kill, a destruction, a late reply or a dying server meets a fast-path thread exactly as it
// meets one of the general path; the scheduler's own handoff, with its checks, for the switch.
//
// The locks nest capability space -> endpoint -> reply -> completion word, an order no other
// path reverses (the general path takes them one at a time).
#include "ipc/fastpath.hpp"

#include "base/fault.hpp"
#include "base/percpu.hpp"
#include "hal_cpu.hpp"
#include "ipc/call_steps.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/objects.hpp"

#include <atomic>

namespace k::ipc::fastpath {

using ::ipc::EndpointState;
using ::ipc::IpcOutcome;
using ::ipc::MessageTag;
using ::ipc::ObjectType;
using ::ipc::Rights;
using namespace steps;

namespace {

bool g_enabled = true; // written once by the boot, before any user thread runs

// Per hart, written by that hart only (relaxed); summed by counts().
struct alignas(64) HartCounts {
    std::atomic<std::uint64_t> call_fast{0}, call_slow{0}, rr_fast{0}, rr_slow{0};
};
HartCounts g_counts[k::kMaxCpus];

HartCounts& here() {
    return g_counts[hal::Cpu::lock_id() & (k::kMaxCpus - 1)];
}
void bump(std::atomic<std::uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// A tag the fast path carries: length <= kMessageRegisters (no buffer words), no capability,
// no reserved bit. Bits 0..11 hold exactly those fields (ipc/message.hpp), so one compare.
constexpr std::uint64_t kTagFields = 0xfff;
bool registers_only(std::uint64_t tag) {
    static_assert(MessageTag{0, ::ipc::kMessageRegisters, 0}.word() == ::ipc::kMessageRegisters);
    return (tag & kTagFields) <= ::ipc::kMessageRegisters;
}

// The message in a1..a5 (tag, MR0..MR3).
::ipc::Message message_of(const hal::TrapFrame& tf) {
    ::ipc::Message m;
    m.tag = MessageTag::from_word(tf.x[11]);
    for (std::uint32_t i = 0; i < ::ipc::kMessageRegisters; ++i)
        m.mr[i] = tf.x[12 + i];
    return m;
}

// The endpoint capability of slot a0 with `right`, its endpoint locked, with the space's lock
// held by the caller; nullptr when the lookup fails (the general path reports why).
Endpoint* locked_endpoint(CapSpace& cs, const hal::TrapFrame& tf, Rights right,
                          ::ipc::Badge& badge) {
    const ::ipc::CapLookup l = cs.table.lookup(tf.x[10], ObjectType::Endpoint, right);
    if (!l.ok()) [[unlikely]]
        return nullptr;
    auto* ep = static_cast<Endpoint*>(l.cap.object);
    ep->lock.lock_masked();
    badge = l.cap.badge;
    return ep;
}

// Call: a receiver waits on the endpoint. The match, then the general path's commit from
// offer(): the caller's offer, the server's reply capability, the server's wake won and its
// hart handed to it while the caller waits for the reply.
bool call(sched::Task& me, IpcThread& t, hal::TrapFrame& tf) {
    if (!registers_only(tf.x[11])) [[unlikely]]
        return false;
    ::ipc::Rendezvous rv{IpcOutcome::Empty, nullptr};
    {
        SpaceGuard g(*t.caps);
        ::ipc::Badge badge = ::ipc::kNoBadge;
        Endpoint* ep = locked_endpoint(*t.caps, tf, Rights::send(), badge);
        if (!ep) [[unlikely]]
            return false;
        if (ep->queue.state() != EndpointState::Receiving) {
            ep->lock.unlock_masked();
            return false;
        }
        // Committed: from here the call ends here, whatever happens.
        t.waiter.msg = message_of(tf);
        t.waiter.badge = k::fault::is(k::fault::Fault::FastpathDropBadge) ? ::ipc::kNoBadge : badge;
        t.waiter.call = true;
        rv = ep->queue.send(t.waiter); // copies tag, registers, badge and call to the receiver
        ep->lock.unlock_masked();
    }
    if (!rv.delivered()) [[unlikely]]
        k::panic("ipc fast path: a Receiving endpoint did not deliver");
    t.buffer = tf.x[16];
    IpcThread& server = owner(*rv.partner);
    // The server stays blocked until the post below: the offer and the reply capability are
    // in place before it can reply.
    begin_call(t);
    give_reply(server, t);
    sched::Task* next = fast_post(server, 0);
    const std::int64_t r = wait_complete(
        t, [&] { return withdraw_call(t); }, next, nullptr, nullptr, &me);
    t.wait_gen.fetch_add(1, std::memory_order_release); // the wait is over: nothing may post
    tf.x[10] = static_cast<std::uint64_t>(r < 0 ? r : deliver_out(t, tf));
    return true;
}

// ReplyRecv: the thread holds a reply capability and no sender waits on the endpoint. The
// reply and the receive's queueing happen under the endpoint's lock, so no sender can come
// between them (one of the general path's interleavings); then it waits as receive_from() does,
// handing its hart to the caller it answered.
bool reply_recv(sched::Task& me, IpcThread& t, hal::TrapFrame& tf) {
    if (!registers_only(tf.x[11])) [[unlikely]]
        return false;
    sched::Task* caller_task = nullptr;
    Endpoint* ep = nullptr;
    {
        SpaceGuard g(*t.caps);
        ::ipc::Badge unused = ::ipc::kNoBadge;
        ep = locked_endpoint(*t.caps, tf, Rights::receive(), unused);
        if (!ep) [[unlikely]]
            return false;
        const EndpointState st = ep->queue.state();
        IpcThread* caller = nullptr;
        std::uint64_t seq = 0;
        if (st != EndpointState::Sending && st != EndpointState::Destroyed) {
            t.reply_lock.lock_masked();
            caller = t.reply_to;
            seq = t.reply_seq;
            if (caller) t.reply_to = nullptr; // one-shot; the commit
            t.reply_lock.unlock_masked();
        }
        if (!caller) {
            ep->lock.unlock_masked();
            return false;
        }
        // Committed. A reply that finds its call over (the caller withdrew) is dropped, and
        // the receive goes on, as in the general path. (finish_call's ReplyClaimed jitter
        // point runs here with the space and endpoint locks held: a hook there may delay,
        // never block.)
        const ::ipc::Message reply = message_of(tf);
        (void)finish_call(
            *caller, seq, 0,
            [&](IpcThread& to) {
                to.waiter.msg = reply;
                to.waiter.badge = ::ipc::kNoBadge;
            },
            &caller_task);
        t.buffer = tf.x[16];
        t.cap_dst = kestrel::kNoCap;
        tf.x[11] = kestrel::kNoCap; // as the general path's receive: a1 if the wait fails
        const ::ipc::Rendezvous rv = ep->queue.receive(t.waiter);
        if (rv.outcome != IpcOutcome::Queued) [[unlikely]]
            k::panic("ipc fast path: a receive on an endpoint without senders did not queue");
        get(*ep); // the wait's reference (a kill withdraws through it)
        ep->lock.unlock_masked();
    }
    std::int64_t r = wait_complete(
        t, [&] { return withdraw_from(*ep, t); }, caller_task, nullptr, nullptr, &me);
    put(*ep);
    if (r >= 0) {
        const std::int64_t out = deliver_out(t, tf);
        r = out < 0 ? out : 0;
    }
    tf.x[10] = static_cast<std::uint64_t>(r);
    return true;
}

// Signal: everything but a failed lookup (whose error the general path reports). The waiter
// it finds is posted once the locks are released.
bool signal(IpcThread& t, hal::TrapFrame& tf) {
    IpcThread* woken = nullptr;
    std::int64_t r = 0;
    {
        SpaceGuard g(*t.caps);
        const ::ipc::CapLookup l =
            t.caps->table.lookup(tf.x[10], ObjectType::Notification, Rights::send());
        if (!l.ok()) [[unlikely]]
            return false;
        auto& n = *static_cast<Notification*>(l.cap.object);
        n.lock.lock_masked();
        r = signal_locked(n, l.cap.badge, woken);
        n.lock.unlock_masked();
    }
    if (woken) post(*woken, 0);
    tf.x[10] = static_cast<std::uint64_t>(r);
    return true;
}

// NotifyWait: as Signal; a wait that blocks takes its operation reference on the notification
// under the lock (a kill withdraws through it).
bool notify_wait(sched::Task& me, IpcThread& t, hal::TrapFrame& tf) {
    Notification* n = nullptr;
    std::int64_t r = 0;
    {
        SpaceGuard g(*t.caps);
        const ::ipc::CapLookup l =
            t.caps->table.lookup(tf.x[10], ObjectType::Notification, Rights::receive());
        if (!l.ok()) [[unlikely]]
            return false;
        n = static_cast<Notification*>(l.cap.object);
        n->lock.lock_masked();
        r = notify_take_locked(t, *n);
        if (r == kNotifyBlock) get(*n);
        n->lock.unlock_masked();
    }
    if (r == kNotifyBlock) {
        r = notify_block(t, *n, &me);
        put(*n);
    }
    tf.x[10] = static_cast<std::uint64_t>(r);
    tf.x[11] = r == 0 ? t.word_out : 0;
    return true;
}

} // namespace

bool try_call(sched::Task& me, IpcThread& t, hal::TrapFrame& tf) {
    switch (static_cast<kestrel::Sys>(tf.x[17])) {
    case kestrel::Sys::Call: {
        const bool fast = g_enabled && call(me, t, tf);
        bump(fast ? here().call_fast : here().call_slow);
        return fast;
    }
    case kestrel::Sys::ReplyRecv: {
        const bool fast = g_enabled && reply_recv(me, t, tf);
        bump(fast ? here().rr_fast : here().rr_slow);
        return fast;
    }
    case kestrel::Sys::Signal:
        return g_enabled && signal(t, tf);
    case kestrel::Sys::NotifyWait:
        return g_enabled && notify_wait(me, t, tf);
    default:
        return false;
    }
}

void set_enabled(bool on) {
    g_enabled = on;
}

bool enabled() {
    return g_enabled;
}

Counts counts() {
    Counts c{};
    for (const HartCounts& h : g_counts) {
        c.call_fast += h.call_fast.load(std::memory_order_relaxed);
        c.call_slow += h.call_slow.load(std::memory_order_relaxed);
        c.reply_recv_fast += h.rr_fast.load(std::memory_order_relaxed);
        c.reply_recv_slow += h.rr_slow.load(std::memory_order_relaxed);
    }
    return c;
}

} // namespace k::ipc::fastpath
