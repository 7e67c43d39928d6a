// ipcpair: the kernel's fast-path test (RFC-0028). A client and a server, each in its own
// process (its own address space), each a thread pinned to one hart, call and reply_recv
// `calls` times. The kernel counts the direct switches (sched::handoff) meanwhile.
//   client: argv "client" "calls=N" ["apart" | "hart=H"]; creates the endpoint and spawns the
//           server with it, on the client's hart (with "apart": on hart 1, or 0 when the
//           client's is 1; with "hart=H": both pinned threads on hart H).
//   server: argv "server" "hart=H"; slot 0 holds the endpoint. A call with label 0 ends it.
// Every 16th call each side also checks that it runs on its hart (a pinned thread never runs
// elsewhere, across hot-plug too); a call on the wrong hart counts as wrong.
// Exit code 0: every reply was the right one; otherwise the number of wrong ones (or 100 + a
// setup step that failed).
#include <kestrel/user.hpp>

using kestrel::IpcMsg;

namespace {

constexpr uint64_t kEndpoint = 0;
constexpr uint64_t kDone = 1;           // a notification: the pinned thread signals its end
constexpr uint64_t kStack = 0x22000000; // the pinned thread's stack, 4 pages
constexpr uint64_t kStackLen = 4 * 4096;

volatile int64_t g_result = -1; // the pinned thread's verdict; -1 while it runs
int64_t g_calls = 0;
int64_t g_hart = 0; // the pinned thread's hart

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

void server_body(void*) {
    IpcMsg m;
    int64_t r = kestrel::recv(kEndpoint, m);
    while (r == 0 && kestrel::tag_label(m.tag) != 0) {
        m.mr[0] += 1; // the answer: MR0 + 1, the label echoed, the rest as they came
        if ((m.mr[0] & 15) == 0 && kestrel::current_cpu() != g_hart) m.mr[0] = 0; // wrong
        m.tag = kestrel::make_tag(kestrel::tag_label(m.tag), 4);
        r = kestrel::reply_recv(kEndpoint, m);
    }
    // Label 0 ends the loop: answer it, then leave.
    g_result = r == 0 && kestrel::reply(m) == 0 ? 0 : 1;
    (void)kestrel::signal(kDone);
    kestrel::exit(0);
}

void client_body(void*) {
    int64_t wrong = 0;
    for (int64_t i = 0; i < g_calls; ++i) {
        IpcMsg m;
        m.tag = kestrel::make_tag(7, 4);
        m.mr[0] = static_cast<uint64_t>(i);
        m.mr[3] = 0x5eed;
        const int64_t r = kestrel::call(kEndpoint, m);
        if (r != 0 || m.mr[0] != static_cast<uint64_t>(i) + 1 || kestrel::tag_label(m.tag) != 7 ||
            m.mr[3] != 0x5eed)
            ++wrong;
        if ((i & 15) == 0 && kestrel::current_cpu() != g_hart) ++wrong;
    }
    IpcMsg quit; // label 0: the server answers and ends
    if (kestrel::call(kEndpoint, quit) != 0) ++wrong;
    g_result = wrong;
    (void)kestrel::signal(kDone);
    kestrel::exit(0);
}

// Starts body on `hart`, pinned, and blocks until it has set g_result. It blocks in
// notify_wait, not sleep: a sleeping thread yields, stays queued, and a queued task of the
// pair's class turns the fast path off on its hart (RFC-0028).
int64_t run_pinned(void (*body)(void*), int64_t hart) {
    g_hart = hart;
    if (kestrel::map(kStack, kStackLen, kestrel::ProtRead | kestrel::ProtWrite) != 0) return 101;
    if (kestrel::notification_create(kDone) != 0) return 108;
    const int64_t id =
        kestrel::thread_create(body, reinterpret_cast<void*>(kStack + kStackLen), nullptr,
                               kestrel::pin_hart(static_cast<uint64_t>(hart)));
    if (id <= 0) return 102;
    uint64_t word = 0;
    while (g_result < 0)
        if (kestrel::notify_wait(kDone, word) != 0) return 109;
    return g_result;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && starts(argv[0], "server") && starts(argv[1], "hart="))
        return static_cast<int>(run_pinned(&server_body, kestrel::parse_int(argv[1] + 5)));
    if (argc < 2 || !starts(argv[0], "client") || !starts(argv[1], "calls=")) return 103;
    g_calls = kestrel::parse_int(argv[1] + 6);
    const bool on = argc >= 3 && starts(argv[2], "hart=");
    const int64_t hart = on ? kestrel::parse_int(argv[2] + 5) : kestrel::current_cpu();
    const bool apart = argc >= 3 && starts(argv[2], "apart");
    const int64_t server_hart = apart ? (hart == 1 ? 0 : 1) : hart;
    if (kestrel::endpoint_create(kEndpoint) != 0) return 104;
    char args[32] = "server\0hart=";
    size_t n = 12;
    {
        char tmp[24];
        size_t k = 0;
        uint64_t v = static_cast<uint64_t>(server_hart);
        do {
            tmp[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0)
            args[n++] = tmp[--k];
        args[n++] = '\0';
    }
    const int64_t server = kestrel::spawn("ipcpair", 7, args, n, kEndpoint);
    if (server <= 0) return 105;
    const int64_t wrong = run_pinned(&client_body, hart);
    if (kestrel::cap_delete(kEndpoint) != 0) return 106;
    kestrel::WaitStatus st{};
    if (kestrel::wait(server, &st) != 0 || st.kind != kestrel::WaitKind::Exited || st.code != 0)
        return 107;
    kestrel::Line()
        .put("ULOG: ipcpair: ")
        .put(g_calls)
        .put(" calls on hart ")
        .put(hart)
        .put(", server on hart ")
        .put(server_hart)
        .put(", ")
        .put(wrong)
        .put(" wrong")
        .done();
    return static_cast<int>(wrong);
}
