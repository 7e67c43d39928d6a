// killer: the kernel's task-capability test (RFC-0028). It spawns victims with a task
// capability and ends them with task_kill while they are blocked in IPC or running.
//   argv "victim-call": calls the endpoint in slot 0 and waits for a reply that never comes.
//   argv "victim-recv": receives on the endpoint in slot 0; nobody sends (or, in case 5, the
//              test does: then it exits 99).
//   argv "victim-spin": runs in U-mode until it is killed.
//   argv "not-parent <id>": waits for process <id>, a sibling: exits 0 when that is NoChild.
//   no argv: the test. Exit code 0, or the bit of the first check that failed.
#include <kestrel/user.hpp>

using kestrel::Error;
using kestrel::IpcMsg;
using kestrel::WaitKind;
using kestrel::WaitStatus;

namespace {

constexpr uint64_t kEp = 0, kTask = 1, kTaskSendOnly = 2, kTaskRecvOnly = 3;

int64_t e(Error x) {
    return static_cast<int64_t>(x);
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b)
        ++a, ++b;
    return *a == *b;
}

// Runs user instructions until the thread is killed: only the trap that ends a killed thread
// (its next tick, at the latest) stops it.
[[noreturn]] void spin() {
    for (;;)
        asm volatile("" ::: "memory");
}

int victim(const char* kind, const char* arg) {
    if (same(kind, "victim-spin")) spin();
    if (same(kind, "not-parent")) {
        WaitStatus st{};
        return kestrel::wait(kestrel::parse_int(arg), &st) == e(Error::NoChild) ? 0 : 1;
    }
    IpcMsg m;
    m.tag = kestrel::make_tag(1, 0);
    int64_t r = 0;
    if (same(kind, "victim-call")) r = kestrel::call(kEp, m);
    if (same(kind, "victim-recv")) r = kestrel::recv(kEp, m);
    // Case 5's message: exit 99. Anything else is a killed thread back in U-mode, which must
    // never happen: it spins, so its process never ends and the test's wait never returns.
    if (r == 0) return 99;
    spin();
}

int64_t spawn_victim(const char* kind) {
    return kestrel::spawn("killer", 6, kind, kestrel::str_len(kind) + 1, kEp, kTask);
}

// Kills the victim in kTask and checks that it ended Killed; empties the slot.
bool kill_and_check(const char* what) {
    WaitStatus st{};
    const int64_t k = kestrel::task_kill(kTask);
    const int64_t w = kestrel::task_wait(kTask, &st);
    kestrel::Line()
        .put("ULOG: killer: ")
        .put(what)
        .put(": task_kill ")
        .put(k)
        .put(", task_wait ")
        .put(w)
        .put(", kind ")
        .put(static_cast<int64_t>(st.kind))
        .done();
    return k == 0 && w >= 0 && st.kind == WaitKind::Killed && st.code == 0 &&
           kestrel::cap_delete(kTask) == 0;
}

int test() {
    if (kestrel::endpoint_create(kEp) != 0) return 1;
    // 1. A caller blocked for a reply: the kill withdraws its call; our reply finds nobody.
    if (spawn_victim("victim-call") <= 0) return 2;
    IpcMsg m;
    if (kestrel::recv(kEp, m) != 0) return 2;
    if (!kill_and_check("blocked in call")) return 4;
    if (kestrel::reply(m) != e(Error::NoCaller)) return 8;
    // 2. A receiver blocked on the endpoint (probably; either way it must end Killed).
    if (spawn_victim("victim-recv") <= 0) return 16;
    (void)kestrel::sleep_us(20'000);
    if (!kill_and_check("blocked in recv")) return 32;
    // 2a. A thread running in U-mode (on this hart or another): it ends at its next trap.
    if (spawn_victim("victim-spin") <= 0) return 8192;
    (void)kestrel::sleep_us(20'000);
    if (!kill_and_check("running")) return 16384;
    // 3. Rights: kill needs Send, wait needs Receive; a task capability takes no badge.
    if (spawn_victim("victim-recv") <= 0) return 64;
    if (kestrel::cap_mint(kTask, kTaskSendOnly, kestrel::RightSend, 0) != 0 ||
        kestrel::cap_mint(kTask, kTaskRecvOnly, kestrel::RightReceive, 0) != 0)
        return 64;
    WaitStatus st{};
    if (kestrel::task_wait(kTaskSendOnly, &st) != e(Error::MissingRight) ||
        kestrel::task_kill(kTaskRecvOnly) != e(Error::MissingRight) ||
        kestrel::cap_mint(kTask, 4, kestrel::RightSend, 0x42) != e(Error::NotBadgeable) ||
        kestrel::task_wait(kEp, &st) != e(Error::WrongType))
        return 128;
    if (kestrel::task_kill(kTaskSendOnly) != 0 || kestrel::task_wait(kTaskRecvOnly, &st) < 0 ||
        st.kind != WaitKind::Killed)
        return 256;
    // A task capability outlives its task: wait again, and the status is still there.
    if (kestrel::task_wait(kTask, &st) != 0 || st.kind != WaitKind::Killed) return 512;
    (void)kestrel::cap_delete(kTaskSendOnly);
    (void)kestrel::cap_delete(kTaskRecvOnly);
    (void)kestrel::cap_delete(kTask);
    // 4. An occupied task_dst refuses the spawn before anything starts: no record taken.
    const int64_t procs = kestrel::object_count(2);
    if (kestrel::spawn("killer", 6, "victim-recv", 12, kEp, kEp) != e(Error::SlotOccupied) ||
        kestrel::object_count(2) != procs)
        return 1024;
    // 5. The last task capability's delete destroys nothing: the victim runs on and still
    // takes a message (nb_send delivers once it waits in recv; 5 s at most), then exits 99.
    // Before we reap it, a sibling may not (RFC-0027: only the parent finds a child). Last:
    // a reaped process's record comes back a little after its wait, which 4's count would see.
    const int64_t live = spawn_victim("victim-recv");
    if (live <= 0 || kestrel::cap_delete(kTask) != 0) return 2048;
    m.tag = kestrel::make_tag(1, 0);
    int64_t sent = 0;
    const int64_t deadline = kestrel::time_us() + 5'000'000;
    while ((sent = kestrel::nb_send(kEp, m)) == 0 && kestrel::time_us() < deadline)
        (void)kestrel::sleep_us(1000);
    if (sent != 1) return 2048;
    char a[40] = "not-parent";
    size_t n = 11;
    {
        char digits[24];
        size_t k = 0;
        for (int64_t v = live; v != 0; v /= 10)
            digits[k++] = static_cast<char>('0' + v % 10);
        while (k > 0)
            a[n++] = digits[--k];
        a[n++] = '\0';
    }
    const int64_t sibling = kestrel::spawn("killer", 6, a, n);
    WaitStatus sst{};
    if (sibling <= 0 || kestrel::wait(sibling, &sst) != 0 || sst.kind != WaitKind::Exited ||
        sst.code != 0)
        return 4096;
    if (kestrel::wait(live, &st) != 0 || st.kind != WaitKind::Exited || st.code != 99) return 2048;
    (void)kestrel::cap_delete(kEp);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 1) return victim(argv[0], argc >= 2 ? argv[1] : "0");
    return test();
}
