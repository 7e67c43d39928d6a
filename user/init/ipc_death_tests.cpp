// The IPC ladder (RFC-0028), death: endpoint destruction, server death, the reply rule.
#include <kestrel/user.hpp>

#include "../ipcsrv/proto.hpp"
#include "init.hpp"

using kestrel::Error;
using kestrel::IpcMsg;
using kestrel::Line;

namespace init {

void test_endpoint_destruction() {
    const char* t = "endpoint destruction wakes blocked";
    const int before = g_failed;
    const Objects o = snapshot();
    const int64_t free_threads = objects(3);
    // Ea: two blocked receivers; Eb: a blocked sender and a blocked caller; Nw: a waiter;
    // Ec: a receiver, with a second capability Ec2 (deleting that one destroys nothing).
    constexpr uint64_t Ea = 8, Eb = 9, Nw = 10, Ec = 11, Ec2 = 12;
    check(t,
          kestrel::endpoint_create(Ea) == 0 && kestrel::endpoint_create(Eb) == 0 &&
              kestrel::notification_create(Nw) == 0 && kestrel::endpoint_create(Ec) == 0 &&
              kestrel::cap_copy(Ec, Ec2, kestrel::kRightsAll) == 0,
          "the objects");
    const Job kJobs[6] = {{0, Ea, 0, 0}, {0, Ea, 0, 0}, {1, Eb, 0, 0},
                          {2, Eb, 0, 0}, {3, Nw, 0, 0}, {0, Ec, 0, 0}};
    int started = 0;
    for (int i = 0; i < 6; ++i) {
        g_jobs[i].op = kJobs[i].op;
        g_jobs[i].slot = kJobs[i].slot;
        g_jobs[i].started = 0;
        g_jobs[i].result = kPending;
        const int64_t id = start_thread(&job_thread, static_cast<uint64_t>(i), &g_jobs[i]);
        if (check(t, id > 0, "thread_create", id)) ++started;
    }
    if (started != 6) {
        empty_slots(Ea, Ec2 + 1);
        threads_gone(t, free_threads);
        return;
    }
    for (Job& j : g_jobs)
        check(t, wait_until(j.started, 0, 5'000'000), "a thread started");
    kestrel::sleep_us(50'000);
    int64_t early = 0;
    for (const Job& j : g_jobs)
        early += j.result != kPending ? 1 : 0;
    check(t, early == 0, "threads returned before any delete", early);
    // Not the last capability: nothing happens.
    check(t, kestrel::cap_delete(Ec2) == 0, "delete Ec's second cap");
    kestrel::sleep_us(20'000);
    check(t, g_jobs[5].result == kPending, "a receiver woke on a delete that was not the last",
          g_jobs[5].result);
    const uint64_t kOrder[4] = {Ea, Eb, Nw, Ec};
    for (uint64_t slot : kOrder) {
        check(t, kestrel::cap_delete(slot) == 0, "delete the last cap");
        for (Job& j : g_jobs) {
            if (j.slot != slot) continue;
            wait_until(j.result, kPending, 5'000'000);
            check(t, j.result == e(Error::Destroyed), "a blocked thread returned Destroyed",
                  j.result);
        }
        for (const Job& j : g_jobs)
            if (j.slot > slot && j.slot != Ec2)
                check(t, j.result == kPending, "a thread on another object woke", j.result);
    }
    IpcMsg m = msg(proto::kEcho, 4);
    uint64_t w = 0;
    check(t, kestrel::send(Ea, m) == e(Error::EmptySlot), "send on the emptied slot");
    check(t, kestrel::poll(Eb, m) == e(Error::EmptySlot), "poll on the emptied slot");
    check(t, kestrel::notify_poll(Nw, w) == e(Error::EmptySlot), "notify_poll on it");
    check(t, kestrel::recv(Ec, m) == e(Error::EmptySlot), "recv on it");
    check(t, kestrel::cap_delete(Ec2) == e(Error::EmptySlot), "delete it again");
    threads_gone(t, free_threads);
    check_objects(t, o);
    pass(t, before);
}

void test_server_death() {
    const char* t = "server death errors caller";
    const int before = g_failed;
    const Objects o = snapshot();
    constexpr uint64_t E = 8, Nk = 9, Nk2 = 10;
    check(t, kestrel::endpoint_create(E) == 0, "endpoint_create");
    IpcMsg m = msg(proto::kEcho, 4);
    const int64_t none = kestrel::reply(m);
    check(t, none == e(Error::NoCaller), "reply with no call to answer", none);
    // The server exits, faults, or receives again before replying.
    struct Case {
        const char* mode;
        kestrel::WaitKind kind;
        int32_t code;
    };
    static const Case kCases[] = {{"die", kestrel::WaitKind::Exited, 7},
                                  {"fault", kestrel::WaitKind::Faulted, 13}};
    for (const Case& c : kCases) {
        const int64_t srv = spawn_srv(c.mode, E);
        if (!check(t, srv > 0, c.mode, srv)) continue;
        m = msg(proto::kEcho, 4);
        const int64_t r = kestrel::call(E, m);
        check(t, r == e(Error::ServerGone), c.mode, r);
        waited(t, srv, c.kind, c.code, c.mode);
    }
    // The server receives a second call before replying to the first: the first caller gets
    // ServerGone, the second its answer. A thread of init makes one call, init the other (in
    // whichever order they arrive).
    const int64_t dropper = spawn_srv("drop", E);
    if (check(t, dropper > 0, "spawn the dropping server", dropper)) {
        Job& j = g_jobs[0];
        j.op = 2;
        j.slot = E;
        j.started = 0;
        j.result = kPending;
        const int64_t free_threads = objects(3);
        const int64_t th = start_thread(&job_thread, 0, &j);
        if (check(t, th > 0, "thread_create", th)) {
            wait_until(j.started, 0, 5'000'000);
            kestrel::sleep_us(50'000); // its call is most likely the server's first
            const int64_t early = j.result;
            m = msg(proto::kEcho, 4);
            m.mr[0] = 5;
            const int64_t r = kestrel::call(E, m);
            wait_until(j.result, kPending, 5'000'000);
            Line()
                .put("ULOG: server death: drop: thread's call ")
                .put(static_cast<int64_t>(j.result))
                .put(" (before the second call: ")
                .put(early)
                .put("), init's call ")
                .put(r)
                .done();
            const bool thread_first = j.result == e(Error::ServerGone) && r == 0 && m.mr[0] == 6;
            const bool init_first = r == e(Error::ServerGone) && j.result == 0;
            check(t, thread_first || init_first, "one call dropped, the other answered", r);
            threads_gone(t, free_threads);
        }
        waited(t, dropper, kestrel::WaitKind::Exited, 0, "the dropping server's status");
    }
    // The caller dies while init holds its call: the reply fails for init only.
    check(t,
          kestrel::notification_create(Nk) == 0 &&
              kestrel::cap_copy(Nk, Nk2, kestrel::kRightsAll) == 0,
          "the kill notification");
    const int64_t caller = spawn_srv("callfault", E);
    if (check(t, caller > 0, "spawn the dying caller", caller)) {
        m = msg(proto::kKill, 4, 1);
        m.mr[3] = Nk2;
        check(t, kestrel::send(E, m) == 0, "give the caller its kill notification");
        // Its thread calls: poll until the call is here (10 s at most, never for ever).
        IpcMsg in;
        int64_t got = 0;
        const int64_t deadline = kestrel::time_us() + 10'000'000;
        while ((got = kestrel::poll(E, in)) == 0 && kestrel::time_us() < deadline)
            kestrel::sleep_us(1000);
        if (check(t, got == 1 && kestrel::tag_label(in.tag) == proto::kDying,
                  "the dying caller's call", got)) {
            check(t, kestrel::signal(Nk) == 0, "tell the caller to fault");
            waited(t, caller, kestrel::WaitKind::Faulted, 13, "the caller faulted");
            IpcMsg out = msg(proto::kEcho, 4);
            const int64_t dead = kestrel::reply(out);
            check(t, dead == e(Error::NoCaller), "reply to a dead caller", dead);
            const int64_t again = kestrel::reply(out);
            check(t, again == e(Error::NoCaller), "the reply is gone after that", again);
        } else {
            kestrel::WaitStatus st{};
            kestrel::wait(caller, &st);
        }
    }
    // The replier is unharmed: the endpoint still serves a fresh server.
    const int64_t srv = spawn_srv("echo", E);
    if (check(t, srv > 0, "spawn an echo server", srv)) {
        m = msg(proto::kEcho, 4);
        m.mr[0] = 9;
        const int64_t r = kestrel::call(E, m);
        check(t, r == 0 && m.mr[0] == 10, "a call after the deaths", r);
        quit_srv(t, E, srv);
    }
    empty_slots(E, Nk2 + 1);
    check_objects(t, o);
    pass(t, before);
}

namespace {

// The reply rule (RFC-0028 "Call and the one-shot reply"): a reply answers only the call it
// was made for. init holds the call of a caller and kills it; a new thread of init then takes
// the dead caller's thread record and calls a second endpoint, whose server (another thread of
// init) holds that call unanswered. init's late reply must be NoCaller and must not reach the
// new call, which gets its own server's answer.
//
// The record is reused by construction: the kernel hands out the lowest free thread record
// (proc/process_table.cpp alloc_thread), the server thread is started before the caller is
// spawned, and between the caller's end and the new thread's start no other thread starts or
// ends (init is the only process, and the earlier tests waited for their threads).
constexpr uint64_t kOwnAnswer = 0x600d;
constexpr uint64_t kStaleAnswer = 0x57a1e;

struct ReplyRule {
    uint64_t ep;                  // the second endpoint (the new caller's)
    volatile int64_t received;    // 1: the server holds the new call; < 0: its recv failed
    volatile int64_t go;          // 1: init's late reply is done, the server may answer
    volatile int64_t cap_replied; // the server's reply with caps = 1 (kPending until then)
    volatile int64_t replied;     // the server's reply result (kPending until then)
    volatile int64_t called;      // the new call's result (kPending until it returns)
    volatile uint64_t answer;     // MR0 of the answer the new call received
};
ReplyRule g_rr;

void rr_server(void*) {
    IpcMsg m;
    const int64_t r = kestrel::recv(g_rr.ep, m);
    g_rr.received = r == 0 ? 1 : (r < 0 ? r : -1000);
    wait_until(g_rr.go, 0, 10'000'000);
    // A reply carries no capability: BadTag, and the reply capability stays (RFC-0028
    // "Objects and rights").
    IpcMsg out = msg(proto::kEcho, 4, 1);
    out.mr[0] = kStaleAnswer + 1;
    out.mr[3] = g_rr.ep;
    g_rr.cap_replied = r == 0 ? kestrel::reply(out) : r;
    out = msg(proto::kEcho, 4);
    out.mr[0] = kOwnAnswer;
    g_rr.replied = r == 0 ? kestrel::reply(out) : r;
    kestrel::exit(0);
}

void rr_caller(void*) {
    IpcMsg m = msg(proto::kEcho, 4);
    const int64_t r = kestrel::call(g_rr.ep, m);
    g_rr.answer = m.mr[0];
    g_rr.called = r;
    kestrel::exit(0);
}

} // namespace

void test_reply_rule() {
    const char* t = "reply answers its own call";
    const int before = g_failed;
    const Objects o = snapshot();
    const int64_t free_threads = objects(3);
    constexpr uint64_t E = 8, E2 = 9, T = 10;
    if (!check(t, kestrel::endpoint_create(E) == 0 && kestrel::endpoint_create(E2) == 0,
               "the endpoints")) {
        empty_slots(E, T + 1);
        return;
    }
    g_rr.ep = E2;
    g_rr.received = 0;
    g_rr.go = 0;
    g_rr.cap_replied = kPending;
    g_rr.replied = kPending;
    g_rr.called = kPending;
    g_rr.answer = 0;
    // The server first: its record must not be the one the caller frees.
    const int64_t srv = start_thread(&rr_server, 0, nullptr);
    // The caller: killer's victim mode calls its slot 0 and waits for the reply.
    const int64_t victim = kestrel::spawn("killer", 6, "victim-call", 12, E, T);
    IpcMsg held;
    const int64_t got = victim > 0 ? kestrel::recv(E, held) : victim;
    if (check(t, srv > 0, "start the server thread", srv) &&
        check(t, got == 0, "hold the victim's call", got)) {
        check(t, kestrel::task_kill(T) == 0, "kill the victim");
        waited(t, victim, kestrel::WaitKind::Killed, 0, "the victim ended Killed");
        // The victim's record is free: the new caller takes it.
        const int64_t caller = start_thread(&rr_caller, 1, nullptr);
        if (check(t, caller > 0, "start the new caller", caller) &&
            check(t, wait_until(g_rr.received, 0, 5'000'000) && g_rr.received == 1,
                  "the server holds the new call", g_rr.received)) {
            IpcMsg late = msg(proto::kEcho, 4);
            late.mr[0] = kStaleAnswer;
            const int64_t r = kestrel::reply(late);
            check(t, r == e(Error::NoCaller), "the reply to the killed caller", r);
        }
        g_rr.go = 1;
        if (caller > 0) {
            wait_until(g_rr.called, kPending, 5'000'000);
            check(t, g_rr.called == 0, "the new call's result", g_rr.called);
            check(t, g_rr.answer == kOwnAnswer, "the new call got another call's reply",
                  static_cast<int64_t>(g_rr.answer));
        }
        wait_until(g_rr.replied, kPending, 5'000'000);
        check(t, g_rr.cap_replied == e(Error::BadTag), "a reply with a capability",
              g_rr.cap_replied);
        check(t, g_rr.replied == 0, "the new call's server could not answer it", g_rr.replied);
    } else {
        g_rr.go = 1;
        if (victim > 0) {
            static_cast<void>(kestrel::task_kill(T));
            kestrel::WaitStatus st{};
            static_cast<void>(kestrel::wait(victim, &st));
        }
    }
    empty_slots(E, T + 1); // the server's recv, if still blocked, ends Destroyed
    threads_gone(t, free_threads);
    check_objects(t, o);
    pass(t, before);
}

// One fuzzer's summary (proto.hpp): printed, and checked to add up (issue 22): the calls it
// was asked for, ok + errors by code + other = calls, the calls by number = calls, its own
// check, every number covered, its own IPC exchange. Returns the errors it reported.

} // namespace init
