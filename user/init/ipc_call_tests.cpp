// The IPC ladder (RFC-0028), calls: round trip, cross-hart, rights, badges.
#include <kestrel/user.hpp>

#include "../ipcsrv/proto.hpp"
#include "init.hpp"

using kestrel::Error;
using kestrel::IpcMsg;
using kestrel::Line;

namespace init {

namespace {

// A sender of a 20-word message (16 words through its buffer) for the bad receive buffer case.
struct BufSend {
    uint64_t slot;
    volatile int64_t result; // the send's result (kPending until it returns)
};
BufSend g_bufsend;

void buf_sender(void*) {
    uint64_t words[16];
    for (uint64_t k = 0; k < 16; ++k)
        words[k] = 700 + k;
    IpcMsg m;
    m.tag = kestrel::make_tag(proto::kEcho, 20);
    for (uint64_t k = 0; k < 4; ++k)
        m.mr[k] = 11 + k;
    g_bufsend.result = kestrel::send(g_bufsend.slot, m, words);
    kestrel::exit(0);
}

} // namespace

void test_ipc_round_trip() {
    const char* t = "ipc round trip";
    const int before = g_failed;
    const Objects o = snapshot();
    constexpr uint64_t E = 8, N = 9, R = 10, Empty = 11;
    check(t, kestrel::endpoint_create(E) == 0, "endpoint_create");
    check(t, objects(0) == o.v[0] - 1, "one endpoint record taken", objects(0) - o.v[0]);
    check(t, kestrel::notification_create(N) == 0, "notification_create");
    check(t, kestrel::cap_mint(E, R, kestrel::RightReceive, 0) == 0, "mint a receive-only cap");
    const int64_t srv = spawn_srv("echo", E);
    if (!check(t, srv > 0, "spawn ipcsrv with the endpoint", srv)) {
        empty_slots(E, Empty + 1);
        return;
    }
    // Register messages.
    constexpr uint64_t kCalls = 1000;
    int64_t wrong = 0, first_wrong = -1;
    for (uint64_t i = 0; i < kCalls; ++i) {
        IpcMsg m = msg(proto::kEcho, 4);
        const uint64_t v[4] = {i, i * 3 + 1, ~i, i << 20};
        for (int k = 0; k < 4; ++k)
            m.mr[k] = v[k];
        const int64_t r = kestrel::call(E, m);
        bool ok = r == 0 && kestrel::tag_label(m.tag) == proto::kEcho &&
                  kestrel::tag_length(m.tag) == 4 && kestrel::tag_caps(m.tag) == 0 && m.badge == 0;
        for (int k = 0; k < 4; ++k)
            ok = ok && m.mr[k] == v[k] + 1;
        if (!ok) {
            ++wrong;
            if (first_wrong < 0) first_wrong = static_cast<int64_t>(i);
        }
    }
    check(t, wrong == 0, "register replies wrong", wrong);
    // Buffered messages: 20 words (16 through the buffer), and the bounds 5 and 64.
    uint64_t buf[kestrel::kMaxIpcLength - 4];
    int64_t buffered = 0, bwrong = 0;
    for (uint64_t round = 0; round < 60; ++round) {
        const uint64_t len = round == 0 ? 64 : round == 1 ? 5 : 20;
        IpcMsg m = msg(proto::kEcho, len);
        for (int k = 0; k < 4; ++k)
            m.mr[k] = round + static_cast<uint64_t>(k);
        for (uint64_t k = 0; k < len - 4; ++k)
            buf[k] = round * 1000 + k;
        for (uint64_t k = len - 4; k < kestrel::kMaxIpcLength - 4; ++k)
            buf[k] = 0xdead;
        const int64_t r = kestrel::call(E, m, buf);
        bool ok = r == 0 && kestrel::tag_length(m.tag) == len &&
                  kestrel::tag_label(m.tag) == proto::kEcho && m.mr[3] == round + 4;
        for (uint64_t k = 0; k < len - 4; ++k)
            ok = ok && buf[k] == round * 1000 + k + 1;
        for (uint64_t k = len - 4; k < kestrel::kMaxIpcLength - 4; ++k)
            ok = ok && buf[k] == 0xdead; // nothing written past the message
        bwrong += ok ? 0 : 1;
        ++buffered;
    }
    check(t, bwrong == 0, "buffered replies wrong", bwrong);
    // Capability errors: one distinct code per reason.
    IpcMsg m = msg(proto::kEcho, 4);
    const int64_t out = kestrel::send(kestrel::kCapSlots, m);
    const int64_t far = kestrel::send(~uint64_t{0}, m);
    const int64_t far32 = kestrel::send(uint64_t{1} << 32, m);
    const int64_t empty = kestrel::send(Empty, m);
    const int64_t type = kestrel::send(N, m);
    const int64_t right = kestrel::send(R, m);
    check(t, out == e(Error::SlotOutOfRange), "send on slot 64", out);
    check(t, far == e(Error::SlotOutOfRange), "send on slot 2^64-1", far);
    check(t, far32 == e(Error::SlotOutOfRange), "send on slot 2^32", far32);
    check(t, empty == e(Error::EmptySlot), "send on an empty slot", empty);
    check(t, type == e(Error::WrongType), "send on a notification", type);
    check(t, right == e(Error::MissingRight), "send on a receive-only cap", right);
    check(t,
          out != empty && out != type && out != right && empty != type && empty != right &&
              type != right,
          "the four capability errors are distinct");
    m = msg(proto::kEcho, 4);
    check(t, kestrel::call(Empty, m) == e(Error::EmptySlot), "call on an empty slot");
    m = msg(proto::kEcho, 4);
    check(t, kestrel::poll(kestrel::kCapSlots + 6, m) == e(Error::SlotOutOfRange),
          "poll on slot 70");
    // Bad tags and buffers, refused before anything is delivered.
    m = msg(proto::kEcho, kestrel::kMaxIpcLength + 1);
    const int64_t longer = kestrel::call(E, m, buf);
    check(t, longer == e(Error::BadLength), "a 65-word message", longer);
    m.tag = kestrel::make_tag(proto::kEcho, 4) | (uint64_t{1} << 10);
    const int64_t reserved = kestrel::call(E, m);
    check(t, reserved == e(Error::BadTag), "a tag with reserved bits", reserved);
    m = msg(proto::kEcho, 4, 2);
    const int64_t two = kestrel::call(E, m);
    check(t, two == e(Error::BadTag), "a tag with two capabilities", two);
    m = msg(proto::kEcho, 20);
    const int64_t kbuf = kestrel::call(E, m, reinterpret_cast<uint64_t*>(0x80200000));
    check(t, kbuf == e(Error::BadPointer), "a buffer in the kernel", kbuf);
    m = msg(proto::kEcho, 20);
    const int64_t nbuf = kestrel::call(E, m, nullptr);
    check(t, nbuf == e(Error::BadPointer), "a 20-word message without a buffer", nbuf);
    // The server is unharmed by all that.
    m = msg(proto::kEcho, 4);
    m.mr[0] = 41;
    const int64_t after = kestrel::call(E, m);
    check(t, after == 0 && m.mr[0] == 42, "a call after the refusals", after);
    // A capability sent (E has Grant) to a receiver that named no slot (kNoCap): the message
    // goes, the capability does not (the receiver's tag says caps = 0), the sender keeps it.
    m = msg(proto::kCaps, 4, 1);
    m.mr[3] = N;
    const int64_t nocap = kestrel::call(E, m);
    check(t, nocap == 0 && kestrel::tag_label(m.tag) == proto::kCaps && m.mr[1] == N,
          "a capability to a receiver without a slot", nocap);
    check(t, m.mr[0] == 0, "the receiver without a slot saw caps", static_cast<int64_t>(m.mr[0]));
    uint64_t kept = 0;
    check(t, kestrel::notify_poll(N, kept) == 0, "the sender kept the capability it sent");
    IpcMsg q = msg(proto::kQuit, 1);
    const int64_t qr = kestrel::call(E, q);
    check(t, qr == 0 && q.mr[0] == kCalls + static_cast<uint64_t>(buffered) + 3,
          "the server counted every delivered call", static_cast<int64_t>(q.mr[0]));
    waited(t, srv, kestrel::WaitKind::Exited, 0, "the server's exit status");
    // A receiver's bad buffer (in the kernel): the message is taken, its registers arrive and
    // the receive returns BadPointer; the sender's send is done (RFC-0028 "The message moves
    // with the active side"). raw_call7: the wrapper drops the registers of a failed call.
    const int64_t free_threads = objects(3);
    g_bufsend.slot = E;
    g_bufsend.result = kPending;
    const int64_t bs = start_thread(&buf_sender, 0, nullptr);
    if (check(t, bs > 0, "thread_create", bs)) {
        uint64_t regs[7] = {E, kestrel::kNoCap, 0, 0, 0, 0, 0x80200000};
        const int64_t rb = kestrel::raw_call7(static_cast<uint64_t>(kestrel::Sys::Recv), regs);
        check(t, rb == e(Error::BadPointer), "a receive into a kernel buffer", rb);
        check(t,
              kestrel::tag_length(regs[1]) == 20 && regs[2] == 11 && regs[3] == 12 &&
                  regs[4] == 13 && regs[5] == 14,
              "the registers arrived with BadPointer", static_cast<int64_t>(regs[2]));
        wait_until(g_bufsend.result, kPending, 5'000'000);
        if (g_bufsend.result == kPending) { // still queued: take it, so the thread can end
            uint64_t sink[kestrel::kMaxIpcLength - 4];
            IpcMsg in;
            static_cast<void>(kestrel::poll(E, in, sink));
            wait_until(g_bufsend.result, kPending, 5'000'000);
        }
        check(t, g_bufsend.result == 0, "the sender's send was taken", g_bufsend.result);
        threads_gone(t, free_threads);
    }
    // Nobody receives or sends now: the non-blocking forms say so.
    m = msg(proto::kEcho, 4);
    check(t, kestrel::nb_send(E, m) == 0, "nb_send without a receiver drops");
    check(t, kestrel::poll(E, m) == 0, "poll without a sender is empty");
    check(t, kestrel::cap_delete(E) == 0 && kestrel::cap_delete(R) == 0, "delete the endpoint");
    check(t, kestrel::cap_delete(N) == 0, "delete the notification");
    check(t, kestrel::cap_delete(E) == e(Error::EmptySlot), "delete an empty slot");
    check_objects(t, o);
    Line()
        .put("ULOG: ipc round trip calls=")
        .put(static_cast<int64_t>(kCalls))
        .put(" buffered=")
        .put(buffered)
        .put(" wrong=")
        .put(wrong + bwrong)
        .put(" first-wrong=")
        .put(first_wrong)
        .done();
    pass(t, before);
}

namespace {

const char* hex(uint64_t v, char (&out)[20]) {
    static const char kDigits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = kDigits[v & 15];
        v >>= 4;
    } while (v != 0);
    int at = 0;
    out[at++] = '0';
    out[at++] = 'x';
    while (n > 0)
        out[at++] = tmp[--n];
    out[at] = '\0';
    return out;
}

} // namespace

// Client (init) and server on different harts: the server tells its hart in every reply, init
// reads its own before and after each call. A round trip counts as cross-hart when the
// server's hart differs from both. The scheduler may move init onto the server's hart (an
// idle hart steals the woken caller); after 50 round trips in a row on one hart the server is
// replaced by a new one, which spawn places on the next hart. Every reply must be right, and
// kCross round trips must cross (20 s at most).
void test_ipc_cross_hart() {
    const char* t = "ipc cross-hart";
    const int before = g_failed;
    const Objects o = snapshot();
    constexpr uint64_t E = 8;
    constexpr int64_t kCross = 2000;
    check(t, kestrel::endpoint_create(E) == 0, "endpoint_create");
    int64_t srv = -1, servers = 0, rounds = 0, cross = 0, wrong = 0, together = 0;
    uint64_t client_harts = 0, server_harts = 0;
    const int64_t deadline = kestrel::time_us() + 20'000'000;
    while (cross < kCross && wrong == 0 && kestrel::time_us() < deadline) {
        if (srv < 0) {
            srv = spawn_srv("echo", E);
            if (!check(t, srv > 0, "spawn ipcsrv", srv)) break;
            ++servers;
            together = 0;
        }
        IpcMsg m = msg(proto::kWhere, 4);
        const uint64_t i = static_cast<uint64_t>(rounds++);
        m.mr[2] = i;
        m.mr[3] = ~i;
        const int64_t c0 = kestrel::current_cpu();
        const int64_t r = kestrel::call(E, m);
        const int64_t c1 = kestrel::current_cpu();
        const bool ok = r == 0 && kestrel::tag_label(m.tag) == proto::kWhere && m.mr[1] == 0 &&
                        m.mr[2] == i + 1 && m.mr[3] == ~i + 1;
        if (!ok) {
            ++wrong;
            check(t, false, "a wrong reply", r);
            break;
        }
        const int64_t sc = static_cast<int64_t>(m.mr[0]);
        client_harts |= uint64_t{1} << (c0 & 63);
        server_harts |= uint64_t{1} << (sc & 63);
        if (sc != c0 && sc != c1) {
            ++cross;
            together = 0;
        } else if (++together >= 50) {
            quit_srv(t, E, srv);
            srv = -1;
        }
    }
    if (srv > 0) quit_srv(t, E, srv);
    char h1[20], h2[20];
    Line()
        .put("ULOG: ipc cross-hart rounds=")
        .put(rounds)
        .put(" cross=")
        .put(cross)
        .put(" wrong=")
        .put(wrong)
        .put(" servers=")
        .put(servers)
        .put(" client-harts=")
        .put(hex(client_harts, h1))
        .put(" server-harts=")
        .put(hex(server_harts, h2))
        .done();
    check(t, wrong == 0, "replies wrong", wrong);
    check(t, cross >= kCross, "round trips across harts", cross);
    check(t, kestrel::cap_delete(E) == 0, "delete the endpoint");
    check_objects(t, o);
    pass(t, before);
}

void test_rights_enforced() {
    const char* t = "rights enforced";
    const int before = g_failed;
    const Objects o = snapshot();
    constexpr uint64_t E = 8, SO = 9, RO = 10, N = 11, N2 = 12, G = 13, X = 14, B = 15, NB = 16;
    using kestrel::RightGrant;
    using kestrel::RightReceive;
    using kestrel::RightSend;
    check(t, kestrel::endpoint_create(E) == 0, "endpoint_create");
    check(t, kestrel::cap_mint(E, SO, RightSend, 0) == 0, "mint send-only");
    check(t, kestrel::cap_mint(E, RO, RightReceive, 0) == 0, "mint receive-only");
    check(t, kestrel::cap_mint(E, G, RightSend | RightGrant, 0) == 0, "mint send+grant");
    check(t,
          kestrel::notification_create(N) == 0 &&
              kestrel::cap_copy(N, N2, kestrel::kRightsAll) == 0,
          "a notification and a copy of it");
    const int64_t srv = spawn_srv("grant", E);
    if (!check(t, srv > 0, "spawn the grant server", srv)) {
        empty_slots(E, B + 1);
        return;
    }
    // Without the send right (the server waits in recv: a wrongly accepted send would go).
    IpcMsg m = msg(proto::kGrant, 4);
    const int64_t s = kestrel::send(RO, m);
    check(t, s == e(Error::MissingRight), "send without the send right", s);
    m = msg(proto::kGrant, 4);
    const int64_t nb = kestrel::nb_send(RO, m);
    check(t, nb == e(Error::MissingRight), "nb_send without the send right", nb);
    m = msg(proto::kGrant, 4);
    const int64_t c = kestrel::call(RO, m);
    check(t, c == e(Error::MissingRight), "call without the send right", c);
    m = msg(0, 0);
    const int64_t p = kestrel::poll(SO, m);
    check(t, p == e(Error::MissingRight), "poll without the receive right", p);
    check(t, kestrel::signal(E) == e(Error::WrongType), "signal on an endpoint");
    // A capability offered through a cap without Grant: the message goes, the cap does not.
    m = msg(proto::kGrant, 4, 1);
    m.mr[3] = N;
    const int64_t ng = kestrel::call(SO, m);
    check(t, ng == 0, "call with a cap through a cap without grant", ng);
    check(t, m.mr[0] == 0, "the receiver's tag says caps=0", static_cast<int64_t>(m.mr[0]));
    check(t, static_cast<int64_t>(m.mr[2]) == e(Error::EmptySlot),
          "the receiver's cap_dst slot stayed empty", static_cast<int64_t>(m.mr[2]));
    uint64_t word = 99;
    check(t, kestrel::notify_poll(N2, word) == 0 && word == 0, "nothing signalled",
          static_cast<int64_t>(word));
    check(t, kestrel::notify_poll(N, word) == 0, "the sender kept its capability");
    // With Grant it moves with its rights and badge: a send-only copy of N with badge 0x40.
    // The receiver cannot poll through it, and its signal sets 0x40.
    check(t, kestrel::cap_mint(N, NB, RightSend, 0x40) == 0, "mint a badged send-only cap");
    m = msg(proto::kGrant, 4, 1);
    m.mr[3] = NB;
    uint64_t polled[1] = {99};
    const int64_t gr = kestrel::call(G, m, polled);
    check(t, gr == 0, "call with a cap through a cap with grant", gr);
    check(t, m.mr[0] == 1, "the receiver's tag says caps=1", static_cast<int64_t>(m.mr[0]));
    check(t, m.mr[1] == proto::kGrantSlot, "MR3 names the slot it landed in",
          static_cast<int64_t>(m.mr[1]));
    check(t, m.mr[2] == 0, "the receiver signalled through it", static_cast<int64_t>(m.mr[2]));
    check(t, m.mr[3] == 0, "the receiver deleted it", static_cast<int64_t>(m.mr[3]));
    check(t, static_cast<int64_t>(polled[0]) == e(Error::MissingRight),
          "the receiver's poll through the send-only cap", static_cast<int64_t>(polled[0]));
    word = 0;
    check(t, kestrel::notify_poll(N2, word) == 0 && word == 0x40,
          "the signal arrived with the badge", static_cast<int64_t>(word));
    const int64_t kept = kestrel::signal(NB);
    static_cast<void>(kestrel::notify_poll(N2, word));
    Line()
        .put("ULOG: rights: after a granted transfer the sender's slot ")
        .put(kept == 0 ? "still holds it" : "is empty")
        .put(" (")
        .put(kept)
        .put(")")
        .done();
    // Mint and copy: rights only shrink, a badge is set once, bits outside the three refused.
    const int64_t esc1 = kestrel::cap_mint(RO, X, RightSend, 0);
    check(t, esc1 == e(Error::RightsEscalation), "mint send from receive-only", esc1);
    const int64_t esc2 = kestrel::cap_copy(SO, X, RightSend | RightReceive);
    check(t, esc2 == e(Error::RightsEscalation), "copy receive from send-only", esc2);
    const int64_t esc3 = kestrel::cap_mint(SO, X, kestrel::kRightsAll, 0x9);
    check(t, esc3 == e(Error::RightsEscalation), "mint all rights from send-only", esc3);
    const int64_t inv = kestrel::cap_mint(E, X, 8, 0);
    check(t, inv == e(Error::InvalidRights), "mint rights bit 8", inv);
    // The syscall's rights argument is 64 bits: 0x101 is refused, not cut to 0x01 (Send).
    const int64_t wide = kestrel::cap_mint(E, X, 0x101, 0);
    check(t, wide == e(Error::InvalidRights), "mint rights 0x101", wide);
    check(t, kestrel::cap_delete(X) == e(Error::EmptySlot), "no refused mint filled a slot");
    check(t, kestrel::cap_copy(RO, X, RightReceive) == 0, "copy receive-only");
    m = msg(proto::kGrant, 4);
    check(t, kestrel::nb_send(X, m) == e(Error::MissingRight), "the copy cannot send");
    check(t, kestrel::cap_delete(X) == 0, "delete the copy");
    check(t, kestrel::cap_mint(E, B, RightSend, 0x5) == 0, "mint badge 5");
    const int64_t re1 = kestrel::cap_mint(B, X, RightSend, 0x6);
    check(t, re1 == e(Error::BadgeAlreadySet), "re-badge 5 -> 6", re1);
    const int64_t re2 = kestrel::cap_mint(B, X, RightSend, 0x5);
    check(t, re2 == e(Error::BadgeAlreadySet), "re-badge 5 -> 5", re2);
    check(t, kestrel::cap_mint(B, X, RightSend, 0) == 0, "mint keeping the badge");
    const int64_t occ = kestrel::endpoint_create(E);
    check(t, occ == e(Error::SlotOccupied), "endpoint_create on a full slot", occ);
    const int64_t occ2 = kestrel::cap_mint(E, SO, RightSend, 0);
    check(t, occ2 == e(Error::SlotOccupied), "mint onto a full slot", occ2);
    quit_srv(t, E, srv);
    for (uint64_t slot = E; slot <= NB; ++slot)
        static_cast<void>(kestrel::cap_delete(slot));
    check_objects(t, o);
    pass(t, before);
}

void test_badge_delivered() {
    const char* t = "badge delivered";
    const int before = g_failed;
    const Objects o = snapshot();
    constexpr uint64_t E = 8, B1 = 9, B2 = 10, B3 = 11;
    check(t, kestrel::endpoint_create(E) == 0, "endpoint_create");
    check(t, kestrel::cap_mint(E, B1, kestrel::RightSend, 0x11) == 0, "mint badge 0x11");
    check(t, kestrel::cap_mint(E, B2, kestrel::RightSend, 0x22) == 0, "mint badge 0x22");
    check(t, kestrel::cap_copy(B1, B3, kestrel::RightSend) == 0, "copy of the 0x11 cap");
    const int64_t srv = spawn_srv("echo", E);
    if (!check(t, srv > 0, "spawn ipcsrv", srv)) {
        empty_slots(E, B3 + 1);
        return;
    }
    struct Case {
        uint64_t slot, badge;
    };
    static const Case kCases[] = {{B1, 0x11}, {B2, 0x22}, {E, 0}, {B3, 0x11}};
    int64_t calls = 0, wrong = 0, last_bad = 0;
    for (uint64_t i = 0; i < 50; ++i)
        for (const Case& c : kCases) {
            IpcMsg m = msg(proto::kWhere, 4);
            m.mr[2] = i;
            const int64_t r = kestrel::call(c.slot, m);
            ++calls;
            if (r != 0 || m.mr[1] != c.badge || m.mr[2] != i + 1) {
                ++wrong;
                last_bad = r != 0 ? r : static_cast<int64_t>(m.mr[1]);
            }
        }
    Line().put("ULOG: badge calls=").put(calls).put(" wrong=").put(wrong).done();
    check(t, wrong == 0, "calls that saw the wrong badge", last_bad);
    quit_srv(t, E, srv);
    empty_slots(E, B3 + 1);
    check_objects(t, o);
    pass(t, before);
}

} // namespace init
