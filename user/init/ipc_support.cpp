// The IPC ladder's helpers (user/init/init.hpp): object counts, servers, threads, jobs.
#include <kestrel/user.hpp>

#include "../ipcsrv/proto.hpp"
#include "init.hpp"

using kestrel::IpcMsg;

namespace init {

int64_t objects(uint64_t kind) {
    return kestrel::object_count(kind);
}

Objects read_objects() {
    Objects o{};
    for (uint64_t k = 0; k < kObjectKinds; ++k)
        o.v[k] = objects(k);
    return o;
}

bool same(const Objects& a, const Objects& b) {
    for (uint64_t k = 0; k < kObjectKinds; ++k)
        if (a.v[k] != b.v[k]) return false;
    return true;
}

// The free counts once they stop moving: a reaped process's record is freed by its anchor
// task a little after wait() returns, so a reading right after a wait may be one short.
Objects snapshot() {
    Objects o = read_objects();
    const int64_t deadline = kestrel::time_us() + 2'000'000;
    while (kestrel::time_us() < deadline) {
        kestrel::sleep_us(5000);
        const Objects n = read_objects();
        if (same(n, o)) break;
        o = n;
    }
    return o;
}

// The counts are back to `before` (waiting 5 s at most for the late frees above).
void check_objects(const char* t, const Objects& before) {
    static const char* const kNames[kObjectKinds] = {
        "endpoint records",      "notification records", "process records", "thread records",
        "memory object records", "irq source records",   "device records"};
    Objects now = read_objects();
    const int64_t deadline = kestrel::time_us() + 5'000'000;
    while (!same(now, before) && kestrel::time_us() < deadline) {
        kestrel::sleep_us(1000);
        now = read_objects();
    }
    for (uint64_t k = 0; k < kObjectKinds; ++k)
        check(t, now.v[k] == before.v[k], kNames[k], now.v[k] - before.v[k]);
}

void empty_slots(uint64_t from, uint64_t to) {
    for (uint64_t s = from; s < to; ++s)
        static_cast<void>(kestrel::cap_delete(s));
}

IpcMsg msg(uint64_t label, uint64_t length, uint64_t caps) {
    IpcMsg m;
    m.tag = kestrel::make_tag(label, length, caps);
    return m;
}

int64_t spawn_srv(const char* mode, uint64_t cap, const char* extra) {
    char a[48];
    size_t n = add_arg(a, 0, mode);
    if (extra) n = add_arg(a, n, extra);
    return spawn("ipcsrv", a, n, cap);
}

// Ends an echo or grant server on `slot` (kQuit) and reaps it; true when it exited with 0.
bool quit_srv(const char* t, uint64_t slot, int64_t srv) {
    IpcMsg m = msg(proto::kQuit, 1);
    const int64_t r = kestrel::call(slot, m);
    check(t, r == 0 && kestrel::tag_label(m.tag) == proto::kQuit, "the server's quit reply", r);
    kestrel::WaitStatus st{};
    const int64_t w = kestrel::wait(srv, &st);
    return check(t, w == 0 && st.kind == kestrel::WaitKind::Exited && st.code == 0,
                 "the server's exit status", w == 0 ? st.code : w);
}

bool waited(const char* t, int64_t id, kestrel::WaitKind kind, int32_t code, const char* what) {
    kestrel::WaitStatus st{};
    const int64_t w = kestrel::wait(id, &st);
    return check(t, w == 0 && st.kind == kind && st.code == code, what,
                 w == 0 ? static_cast<int64_t>(st.kind) * 1000 + st.code : w);
}

int64_t start_thread(void (*fn)(void*), uint64_t index, void* arg) {
    const uint64_t top = kThreadStacks + (index + 1) * kThreadStackPages * 4096;
    return kestrel::thread_create(fn, reinterpret_cast<void*>(top), arg);
}

// Waits (5 s at most) until the free thread records are back to `free_before` (or more: a
// record of an earlier test may come back late): the test's threads have ended and their
// stacks may go.
bool threads_gone(const char* t, int64_t free_before) {
    const int64_t deadline = kestrel::time_us() + 5'000'000;
    while (objects(3) < free_before && kestrel::time_us() < deadline)
        kestrel::sleep_us(1000);
    return check(t, objects(3) >= free_before, "the test's threads ended",
                 free_before - objects(3));
}

bool wait_until(volatile int64_t& v, int64_t not_value, int64_t us) {
    const int64_t deadline = kestrel::time_us() + us;
    while (v == not_value && kestrel::time_us() < deadline)
        kestrel::sleep_us(500);
    return v != not_value;
}

// A thread blocked in one IPC call (the notification, destruction and server death tests).
Job g_jobs[6];

void job_thread(void* arg) {
    Job* j = static_cast<Job*>(arg);
    j->started = 1;
    IpcMsg m = msg(proto::kEcho, 4);
    uint64_t w = 0;
    int64_t r = 0;
    switch (j->op) {
    case 0:
        r = kestrel::recv(j->slot, m);
        break;
    case 1:
        r = kestrel::send(j->slot, m);
        break;
    case 2:
        r = kestrel::call(j->slot, m);
        break;
    default:
        r = kestrel::notify_wait(j->slot, w);
        break;
    }
    j->result = r;
    kestrel::exit(0);
}

} // namespace init
