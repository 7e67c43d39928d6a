// Time (RFC-0030): a kill ends a join at once. A waiter process joins a victim that blocks in
// receive for ever; init kills the waiter: its join must end within a bound (it would stay
// there until the victim ended; kfault=time-kill-join), then the victim goes too.
#include <kestrel/user.hpp>

#include "init.hpp"

using kestrel::Line;

namespace init {

namespace {

// Polls pred every millisecond (a real sleep) for at most `us`.
template <typename Pred>
bool within(int64_t us, Pred pred) {
    const int64_t end = kestrel::time_us() + us;
    while (!pred()) {
        if (kestrel::time_us() >= end) return pred();
        (void)kestrel::sleep_us(1000);
    }
    return true;
}

volatile int64_t g_sent = 0, g_send_err = 0;
constexpr int64_t kHammer = 400;

// Sends 1..kHammer (MR0) on the endpoint in `arg`, each a blocking send.
void hammer_sender(void* arg) {
    const uint64_t ep = reinterpret_cast<uint64_t>(arg);
    for (int64_t i = 1; i <= kHammer; ++i) {
        kestrel::IpcMsg m = msg(1, 4);
        m.mr[0] = static_cast<uint64_t>(i);
        const int64_t r = kestrel::send(ep, m);
        if (r != 0) {
            g_send_err = r;
            break;
        }
        g_sent = i;
    }
    kestrel::exit(0);
}

} // namespace

// Timed waits (RFC-0030 "Timeouts"): each call times out with TimedOut and leaves no trace on
// its queue; then a receiver with random short timeouts meets a sender on another hart: every
// message arrives exactly once, in order (a message that matched a timed-out wait would be
// lost: kfault=time-timeout-wins).
void test_timed_waits() {
    const char* t = "timed waits";
    const int before = g_failed;
    const Objects o = snapshot();
    const int64_t free_threads = objects(3);
    constexpr uint64_t E = 8, N = 9;
    using kestrel::Error;
    check(t, kestrel::endpoint_create(E) == 0 && kestrel::notification_create(N) == 0,
          "endpoint_create, notification_create");
    kestrel::IpcMsg m{};
    int64_t t0 = kestrel::time_us();
    int64_t r = kestrel::recv_timed(E, m, 20'000);
    const int64_t waited = kestrel::time_us() - t0;
    check(t, r == e(Error::TimedOut), "recv_timed with no sender", r);
    check(t, waited >= 20'000, "recv_timed returned before its timeout", waited);
    check(t, kestrel::recv_timed(E, m, 0) == e(Error::TimedOut), "recv_timed(0): a poll");
    check(t, kestrel::recv_timed(E, m, kestrel::kMaxSleepUs + 1) == e(Error::BadArgument),
          "a timeout above kMaxSleepUs");
    uint64_t w = 0;
    check(t, kestrel::notify_wait_timed(N, w, 5'000) == e(Error::TimedOut),
          "notify_wait_timed with no signal");
    check(t, kestrel::signal(N) == 0 && kestrel::notify_wait_timed(N, w, 0) == 0 && w == 1,
          "notify_wait_timed(0) takes a pending word", static_cast<int64_t>(w));
    m = msg(1, 4);
    check(t, kestrel::call_timed(E, m, 5'000) == e(Error::TimedOut), "call_timed, no server");
    check(t, kestrel::recv_timed(E, m, 0) == e(Error::TimedOut),
          "the timed-out call left the endpoint's queue");
    // The race: the sender on another hart when there is one.
    const uint64_t top = kThreadStacks + kThreadStackPages * 4096;
    const int64_t other = g_cpus >= 2 ? other_online_hart() : -1;
    const uint64_t flags =
        other >= 0 ? kestrel::ThreadPinned | (static_cast<uint64_t>(other + 1) << 8) : 0;
    g_sent = 0;
    g_send_err = 0;
    const int64_t th = kestrel::thread_create(&hammer_sender, reinterpret_cast<void*>(top),
                                              reinterpret_cast<void*>(E), flags);
    int64_t expect = 1, timeouts = 0, wrong = 0;
    uint64_t seed = 0x2545;
    if (check(t, th > 0, "thread_create", th)) {
        const int64_t end = kestrel::time_us() + 30'000'000;
        while (expect <= kHammer && wrong == 0 && kestrel::time_us() < end) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            r = kestrel::recv_timed(E, m, (seed >> 33) % 300);
            if (r == e(Error::TimedOut)) {
                ++timeouts;
            } else if (r == 0 && m.mr[0] == static_cast<uint64_t>(expect)) {
                ++expect;
            } else {
                ++wrong;
                check(t, false, "a message lost or out of order: expected", expect);
            }
        }
    }
    Line()
        .put("ULOG: timed waits: ")
        .put(expect - 1)
        .put(" of ")
        .put(kHammer)
        .put(" received in order, ")
        .put(timeouts)
        .put(" timeouts between them")
        .done();
    check(t, expect == kHammer + 1, "messages received in order", expect - 1);
    check(t, g_send_err == 0, "a send failed", g_send_err);
    // On a failure the sender may still block in send: the endpoint's deletion ends it.
    check(t, kestrel::cap_delete(E) == 0 && kestrel::cap_delete(N) == 0, "delete both");
    threads_gone(t, free_threads);
    check_objects(t, o);
    pass(t, before);
}

void test_kill_ends_join() {
    const char* t = "kill ends a join";
    const int before = g_failed;
    constexpr uint64_t E = 50, Tv = 51, Tw = 52; // slots free in init at this point
    if (!check(t, kestrel::endpoint_create(E) == 0, "endpoint_create")) return;
    const int64_t victim = kestrel::spawn("killer", 6, "victim-recv", 12, E, Tv);
    char args[48];
    size_t n = add_int(args, 0, victim);
    n = add_arg(args, n, "0");
    n = add_arg(args, n, "0");
    const int64_t waiter = kestrel::spawn("waiter", 6, args, n, kestrel::kNoCap, Tw);
    if (check(t, victim > 0 && waiter > 0, "spawn the victim and its waiter", waiter)) {
        check(t, within(10'000'000, [&] { return kestrel::joiners(victim) == 1; }),
              "the waiter joins the victim", kestrel::joiners(victim));
        const int64_t t0 = kestrel::time_us();
        check(t, kestrel::task_kill(Tw) == 0, "kill the waiter");
        const bool left = within(2'000'000, [&] { return kestrel::joiners(victim) == 0; });
        const int64_t us = kestrel::time_us() - t0;
        check(t, kestrel::task_kill(Tv) == 0, "kill the victim");
        kestrel::WaitStatus ws{}, vs{};
        check(t, kestrel::wait(waiter, &ws) == 0 && ws.kind == kestrel::WaitKind::Killed,
              "the waiter ended Killed", static_cast<int64_t>(ws.kind));
        check(t, kestrel::wait(victim, &vs) == 0 && vs.kind == kestrel::WaitKind::Killed,
              "the victim ended Killed", static_cast<int64_t>(vs.kind));
        Line()
            .put("ULOG: kill ends a join: left the join=")
            .put(left ? 1 : 0)
            .put(" after us ")
            .put(us)
            .done();
        check(t, left, "the killed waiter stayed in its join", us);
    }
    check(t, kestrel::cap_delete(E) == 0, "delete the endpoint");
    (void)kestrel::cap_delete(Tv);
    (void)kestrel::cap_delete(Tw);
    pass(t, before);
}

} // namespace init
