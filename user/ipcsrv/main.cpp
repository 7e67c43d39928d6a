// ipcsrv: init's IPC partner for the IPC ladder (RFC-0028). Its capability slot 0 holds the
// endpoint (or notification) init gave it through spawn's cap argument. argv[0] is the mode:
//   echo       serves calls with reply_recv (labels in proto.hpp) until kQuit; exits with 0,
//              or with 100 - error when a receive fails.
//   grant      serves calls with recv(cap_dst = kGrantSlot) + reply; reports whether a
//              capability arrived and uses it (notify_poll's result in a buffer word, then
//              signal), until kQuit.
//   die        receives one call, then exits (code 7) without replying.
//   fault      receives one call, then faults (load from page 0) without replying.
//   drop       receives one call, then a second one (which drops the first's reply), answers
//              the second (echo) and exits 0.
//   callfault  a caller that dies while its call is held by init: receives (with Grant) a
//              notification from init, starts a thread that calls slot 0, waits on the
//              notification, then faults.
//   signal     sleeps argv[1] microseconds, then signals slot 0; exits with signal's result.
#include <kestrel/user.hpp>

#include "proto.hpp"

using kestrel::IpcMsg;

namespace {

bool same(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

uint64_t g_buf[kestrel::kMaxIpcLength];

int echo() {
    IpcMsg m;
    int64_t r = kestrel::recv(0, m, g_buf);
    int64_t served = 0;
    for (;;) {
        if (r < 0) return static_cast<int>(100 + r);
        ++served;
        const uint64_t label = kestrel::tag_label(m.tag);
        const uint64_t len = kestrel::tag_length(m.tag);
        if (label == proto::kQuit) {
            IpcMsg out;
            out.tag = kestrel::make_tag(proto::kQuit, 1);
            out.mr[0] = static_cast<uint64_t>(served);
            kestrel::reply(out);
            return 0;
        }
        if (label == proto::kCaps) {
            const uint64_t caps = kestrel::tag_caps(m.tag);
            m.tag = kestrel::make_tag(proto::kCaps, 4);
            m.mr[0] = caps;
            m.mr[1] = m.mr[3];
        } else if (label == proto::kWhere) {
            const uint64_t badge = m.badge;
            m.tag = kestrel::make_tag(proto::kWhere, 4);
            m.mr[0] = static_cast<uint64_t>(kestrel::current_cpu());
            m.mr[1] = badge;
            m.mr[2] += 1;
            m.mr[3] += 1;
        } else {
            // Echo (and any other label): label and length back, every word + 1.
            m.tag = kestrel::make_tag(label, len);
            for (uint64_t& w : m.mr)
                w += 1;
            for (uint64_t i = 4; i < len && i < kestrel::kMaxIpcLength; ++i)
                g_buf[i - 4] += 1;
        }
        r = kestrel::reply_recv(0, m, g_buf);
    }
}

int grant() {
    constexpr uint64_t slot = proto::kGrantSlot;
    for (;;) {
        IpcMsg m;
        const int64_t r = kestrel::recv(0, m, nullptr, slot);
        if (r < 0) return static_cast<int>(100 + r);
        IpcMsg out;
        if (kestrel::tag_label(m.tag) == proto::kQuit) {
            out.tag = kestrel::make_tag(proto::kQuit, 1);
            kestrel::reply(out);
            return 0;
        }
        const uint64_t caps = kestrel::tag_caps(m.tag);
        out.tag = kestrel::make_tag(proto::kGrant, 4);
        out.mr[0] = caps;
        out.mr[1] = m.mr[3];
        if (caps == 1) {
            // Use it: first a poll (the rights it arrived with; one buffer word), then a signal.
            uint64_t word = 0;
            out.tag = kestrel::make_tag(proto::kGrant, 5);
            g_buf[0] = static_cast<uint64_t>(kestrel::notify_poll(m.mr[3], word));
            out.mr[2] = static_cast<uint64_t>(kestrel::signal(m.mr[3]));
            out.mr[3] = static_cast<uint64_t>(kestrel::cap_delete(m.mr[3]));
        } else {
            // Nothing may have landed: the slot must still be empty.
            out.mr[2] = static_cast<uint64_t>(kestrel::cap_delete(slot));
            out.mr[3] = 0;
        }
        kestrel::reply(out, g_buf);
    }
}

constexpr uint64_t kStack = 0x21000000;
volatile int64_t g_call_result = 1;
volatile uint64_t g_zero = 0; // an address the compiler cannot see is null

void dying_caller(void*) {
    IpcMsg m;
    m.tag = kestrel::make_tag(proto::kDying, 4);
    g_call_result = kestrel::call(0, m); // never answered: this process faults first
    kestrel::exit(0);
}

int callfault() {
    IpcMsg m;
    // init sends the notification it will signal (slot 1 here) once it holds our call.
    if (kestrel::recv(0, m, nullptr, 1) != 0 || kestrel::tag_caps(m.tag) != 1 || m.mr[3] != 1)
        return 1;
    if (kestrel::map(kStack, 4 * 4096, kestrel::ProtRead | kestrel::ProtWrite) != 0) return 2;
    if (kestrel::thread_create(&dying_caller, reinterpret_cast<void*>(kStack + 4 * 4096),
                               nullptr) <= 0)
        return 3;
    uint64_t word = 0;
    if (kestrel::notify_wait(1, word) != 0) return 4;
    // init holds the call: die with it unanswered (a load from page 0).
    return static_cast<int>(*reinterpret_cast<volatile uint64_t*>(g_zero));
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 1) return 1;
    const char* mode = argv[0];
    if (same(mode, "echo")) return echo();
    if (same(mode, "grant")) return grant();
    if (same(mode, "callfault")) return callfault();
    if (same(mode, "signal")) {
        kestrel::sleep_us(argc > 1 ? static_cast<uint64_t>(kestrel::parse_int(argv[1])) : 0);
        return static_cast<int>(kestrel::signal(0));
    }
    IpcMsg m;
    if (kestrel::recv(0, m) != 0) return 1;
    if (same(mode, "die")) return 7;
    if (same(mode, "fault")) return static_cast<int>(*reinterpret_cast<volatile uint64_t*>(g_zero));
    if (same(mode, "drop")) {
        // Receiving a second call drops the reply owed to the first caller; the second gets
        // its answer.
        if (kestrel::recv(0, m) != 0) return 2;
        m.tag = kestrel::make_tag(proto::kEcho, 4);
        for (uint64_t& w : m.mr)
            w += 1;
        return kestrel::reply(m) == 0 ? 0 : 3;
    }
    return 1;
}
