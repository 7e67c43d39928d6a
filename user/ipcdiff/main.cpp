// ipcdiff: the IPC fast path's differential workload (issue 18, RFC-0028 "The fast path"). A
// client and a server, each in its own process, run a fixed script of calls drawn from a
// seeded splitmix64 stream: messages of 0..8 words (up to 4 in registers: the fast path's
// case; more: the general path's), two badged capabilities, capability transfers, bad tags,
// empty and wrong-type slots, replies through reply + recv or longer than the registers, and
// signals and waits on notifications.
// Every answer is a function of its request (label, words and the badge the server saw), so
// the client checks each reply it gets; and every result of every call, on both sides (a0,
// tag, MR0..MR3, badge, buffer words), goes into an FNV-1a hash. Whether the kernel takes the
// fast path or not must change nothing of it: the hash printed with `ipc_fastpath=off` on the
// boot line must be the one printed without (meson test fastpath-differential).
//   client: argv "seed=S" "rounds=N". Prints `ULOG: ipcdiff seed=S rounds=N wrong=W hash=H`
//           and exits 0 when every reply was right and the server ended cleanly (else 1..).
//   server: argv "server"; slot 0 holds the endpoint (Receive).
#include <kestrel/user.hpp>

using kestrel::IpcMsg;

namespace {

// Client slots: the endpoint (all rights), two badged send capabilities (the second with
// Grant), a notification to transfer, and a slot left empty.
constexpr uint64_t kEp = 0, kBadgeA = 1, kBadgeB = 2, kNote = 3, kNoteBadged = 4, kEmpty = 9;
constexpr uint64_t kNoteBadge = 0x40;
constexpr uint64_t kBadgeAValue = 0x1111, kBadgeBValue = 0x2222;
constexpr uint64_t kQuit = 0xfffff;      // the label that ends the server, which answers its hash
constexpr uint64_t kSlowReply = 0xffff0; // the server answers with reply, then recv
constexpr uint32_t kMaxWords = 8;        // 4 registers and 4 buffer words

uint64_t g_rng = 0;
uint64_t next() { // splitmix64
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct Hash {
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a, 64 bits, over each word's 8 bytes
    void add(uint64_t w) {
        for (int i = 0; i < 8; ++i) {
            h ^= (w >> (8 * i)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    // One call's results: a0, the message registers and the buffer words the tag names.
    void add(int64_t r, const IpcMsg& m, const uint64_t* buf) {
        add(static_cast<uint64_t>(r));
        add(m.tag);
        for (uint64_t w : m.mr)
            add(w);
        add(m.badge);
        const uint64_t len = kestrel::tag_length(m.tag);
        for (uint64_t i = kestrel::kMessageRegisters; i < len && i < kMaxWords; ++i)
            add(buf[i - kestrel::kMessageRegisters]);
    }
};

uint64_t word_at(const IpcMsg& m, const uint64_t* buf, uint64_t i) {
    return i < kestrel::kMessageRegisters ? m.mr[i] : buf[i - kestrel::kMessageRegisters];
}

// The server's answer to a request (label, words, badge): what the client expects back.
void answer(const IpcMsg& req, const uint64_t* rbuf, IpcMsg& out, uint64_t* obuf) {
    const uint64_t label = kestrel::tag_label(req.tag);
    const uint64_t len = kestrel::tag_length(req.tag);
    const uint64_t out_len = (label + req.badge) % (kMaxWords + 1);
    uint64_t acc = label * 31 + req.badge;
    for (uint64_t i = 0; i < len && i < kMaxWords; ++i)
        acc = acc * 1099511628211ull + word_at(req, rbuf, i);
    out.tag = kestrel::make_tag((label ^ req.badge) & 0xffffffff, out_len);
    for (uint64_t i = 0; i < kMaxWords; ++i) {
        const uint64_t v = acc + i * 0x9e3779b97f4a7c15ull;
        if (i < kestrel::kMessageRegisters) {
            out.mr[i] = i < out_len ? v : 0;
        } else {
            obuf[i - kestrel::kMessageRegisters] = i < out_len ? v : 0;
        }
    }
}

int server() {
    Hash h;
    IpcMsg m;
    uint64_t buf[kMaxWords] = {};
    int64_t r = kestrel::recv(kEp, m, buf);
    for (;;) {
        h.add(r, m, buf);
        if (r != 0) return 2;
        const uint64_t label = kestrel::tag_label(m.tag);
        IpcMsg out;
        uint64_t obuf[kMaxWords] = {};
        if (label == kQuit) {
            out.tag = kestrel::make_tag(kQuit, 1);
            out.mr[0] = h.h;
            return kestrel::reply(out) == 0 ? 0 : 3;
        }
        answer(m, buf, out, obuf);
        if (label == kSlowReply) {
            h.add(static_cast<uint64_t>(kestrel::reply(out, obuf)));
            r = kestrel::recv(kEp, m, buf);
        } else {
            m = out;
            for (uint32_t i = 0; i < kMaxWords; ++i)
                buf[i] = obuf[i];
            r = kestrel::reply_recv(kEp, m, buf);
        }
    }
}

// Kind 15: notifications, within the client: two signals (badged, unbadged), the wait that
// takes both bits at once, and a signal and a wait on slots of the wrong kind.
bool notify_round(Hash& h) {
    const int64_t s1 = kestrel::signal(kNoteBadged);
    const int64_t s2 = kestrel::signal(kNote);
    uint64_t word = 0;
    const int64_t w = kestrel::notify_wait(kNote, word);
    uint64_t none = 0;
    const int64_t bad_signal = kestrel::signal(kEp);
    const int64_t bad_wait = kestrel::notify_wait(kEmpty, none);
    const int64_t results[] = {s1, s2, w, bad_signal, bad_wait};
    for (int64_t v : results)
        h.add(static_cast<uint64_t>(v));
    h.add(word);
    return s1 == 0 && s2 == 0 && w == 0 && word == (kNoteBadge | 1) && bad_signal < 0 &&
           bad_wait < 0;
}

// One round of the script: a call of some kind; its results go into `h`. False when the reply
// was not the server's answer to the request.
bool round(Hash& h) {
    const uint64_t r0 = next();
    const uint64_t kind = r0 % 16;
    if (kind == 15) return notify_round(h);
    const uint64_t len = (r0 >> 8) % (kMaxWords + 1);
    uint64_t label = (r0 >> 16) & 0xffff;
    if (label >= kSlowReply) label -= 0x100; // the protocol's own labels are not drawn
    if (kind == 14) label = kSlowReply;
    IpcMsg m;
    uint64_t buf[kMaxWords] = {};
    for (uint64_t i = 0; i < kMaxWords; ++i) {
        const uint64_t v = next();
        if (i < kestrel::kMessageRegisters)
            m.mr[i] = v;
        else
            buf[i - kestrel::kMessageRegisters] = v;
    }
    uint64_t slot = (r0 >> 40) & 1 ? kBadgeB : kBadgeA;
    uint64_t badge = slot == kBadgeB ? kBadgeBValue : kBadgeAValue;
    m.tag = kestrel::make_tag(label, len);
    switch (kind) {
    case 10: // a capability transfer (Grant on B): the server's recv takes none, drops it
        slot = kBadgeB;
        badge = kBadgeBValue;
        m.tag = kestrel::make_tag(label, len < 4 ? 4 : len, 1);
        m.mr[3] = kNote;
        break;
    case 11:
        m.tag |= uint64_t{1} << 10; // a reserved bit: BadTag, nothing sent
        break;
    case 12:
        slot = kEmpty;
        break;
    case 13:
        slot = kNote;
        break;
    default:
        break;
    }
    IpcMsg req = m;
    req.badge = badge;
    uint64_t rbuf[kMaxWords];
    for (uint32_t i = 0; i < kMaxWords; ++i)
        rbuf[i] = buf[i];
    const int64_t r = kestrel::call(slot, m, buf);
    h.add(r, m, buf);
    if (kind >= 11 && kind <= 13) return r < 0; // refused, with its error in the hash
    if (r != 0) return false;
    if (kind == 10) req.tag = kestrel::make_tag(label, len < 4 ? 4 : len); // no cap arrived
    IpcMsg want;
    uint64_t wbuf[kMaxWords] = {};
    answer(req, rbuf, want, wbuf);
    if (m.tag != want.tag || m.badge != 0) return false;
    for (uint64_t i = 0; i < kestrel::tag_length(want.tag); ++i)
        if (word_at(m, buf, i) != word_at(want, wbuf, i)) return false;
    return true;
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 1 && starts(argv[0], "server")) return server();
    uint64_t seed = 1, rounds = 1000;
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "seed=")) seed = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 5));
        if (starts(argv[i], "rounds="))
            rounds = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 7));
    }
    g_rng = seed;
    if (kestrel::endpoint_create(kEp) != 0 ||
        kestrel::cap_mint(kEp, kBadgeA, kestrel::RightSend, kBadgeAValue) != 0 ||
        kestrel::cap_mint(kEp, kBadgeB, kestrel::RightSend | kestrel::RightGrant, kBadgeBValue) !=
            0 ||
        kestrel::notification_create(kNote) != 0 ||
        kestrel::cap_mint(kNote, kNoteBadged, kestrel::RightSend, kNoteBadge) != 0)
        return 10;
    static const char kArgs[] = "server";
    const int64_t srv = kestrel::spawn("ipcdiff", 7, kArgs, sizeof kArgs, kEp);
    if (srv <= 0) return 11;
    Hash h;
    uint64_t wrong = 0;
    for (uint64_t i = 0; i < rounds; ++i)
        if (!round(h)) ++wrong;
    IpcMsg quit;
    quit.tag = kestrel::make_tag(kQuit, 0);
    const int64_t qr = kestrel::call(kBadgeA, quit);
    h.add(qr, quit, nullptr);
    kestrel::WaitStatus st{};
    const bool clean = qr == 0 && kestrel::wait(srv, &st) == 0 &&
                       st.kind == kestrel::WaitKind::Exited && st.code == 0;
    kestrel::Line()
        .put("ULOG: ipcdiff seed=")
        .put(static_cast<int64_t>(seed))
        .put(" rounds=")
        .put(static_cast<int64_t>(rounds))
        .put(" wrong=")
        .put(static_cast<int64_t>(wrong))
        .put(" hash=")
        .hex(h.h)
        .done();
    if (!clean) return 2;
    return wrong == 0 ? 0 : 1;
}
