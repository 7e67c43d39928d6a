// The IPC ladder (RFC-0028), notifications: wait, signal, the busy waiter, the racing signal.
#include <kestrel/user.hpp>

#include "init.hpp"

using kestrel::Error;
using kestrel::Line;

namespace init {

namespace {

volatile int64_t g_busy_checked = 0;

void watchdog(void* slot) {
    if (!wait_until(g_busy_checked, 0, 3'000'000))
        kestrel::signal(reinterpret_cast<uint64_t>(slot));
    kestrel::exit(0);
}

volatile int64_t g_main_waiting = 0;
volatile int64_t g_signalled = 0;

void signaller(void* slot) {
    wait_until(g_main_waiting, 0, 5'000'000);
    kestrel::sleep_us(20'000); // let the main thread block in notify_wait
    g_signalled = 1;
    kestrel::signal(reinterpret_cast<uint64_t>(slot));
    kestrel::exit(0);
}

// The signal that races a waiter on its way into notify_wait (the lost wake-up's window): the
// racer signals as soon as it sees a new round; the waiter announces the round and waits at
// once. A wake lost here hangs a round, and the kernel's lost-wake-up monitor names the waiter.
constexpr int64_t kRaceRounds = 10000;
constexpr int64_t kRaceUs = 3'000'000;
volatile int64_t g_race_round = 0; // -1: the racer leaves
volatile int64_t g_race_done = 0;

void race_signaller(void* slot) {
    int64_t seen = 0;
    const int64_t deadline = kestrel::time_us() + 2 * kRaceUs;
    while (g_race_round >= 0 && kestrel::time_us() < deadline) {
        const int64_t r = g_race_round;
        if (r > seen) {
            seen = r;
            (void)kestrel::signal(reinterpret_cast<uint64_t>(slot));
        }
    }
    g_race_done = 1;
    kestrel::exit(0);
}

} // namespace

void test_notification() {
    const char* t = "notification";
    const int before = g_failed;
    const Objects o = snapshot();
    const int64_t free_threads = objects(3);
    constexpr uint64_t N = 8, N1 = 9, N2 = 10, N3 = 11, NR = 12, E = 13;
    using kestrel::RightSend;
    check(t, kestrel::notification_create(N) == 0, "notification_create");
    check(t,
          kestrel::cap_mint(N, N1, RightSend, 0x1) == 0 &&
              kestrel::cap_mint(N, N2, RightSend, 0x4) == 0 &&
              kestrel::cap_mint(N, N3, RightSend, 0x100) == 0 &&
              kestrel::cap_mint(N, NR, kestrel::RightReceive, 0) == 0,
          "mint badged send caps and a receive-only one");
    uint64_t w = 77;
    check(t, kestrel::notify_poll(N, w) == 0 && w == 0, "poll of an empty word is 0",
          static_cast<int64_t>(w));
    check(t, kestrel::signal(N1) == 0 && kestrel::signal(N2) == 0, "signal 0x1 and 0x4");
    check(t, kestrel::notify_poll(N, w) == 0 && w == 0x5, "the word is their OR",
          static_cast<int64_t>(w));
    check(t, kestrel::notify_poll(N, w) == 0 && w == 0, "poll took it", static_cast<int64_t>(w));
    check(t, kestrel::signal(N1) == 0 && kestrel::signal(N1) == 0, "signal 0x1 twice");
    check(t, kestrel::notify_poll(N, w) == 0 && w == 0x1, "OR, not a count",
          static_cast<int64_t>(w));
    check(t, kestrel::signal(N) == 0 && kestrel::notify_poll(NR, w) == 0 && w == 1,
          "an unbadged signal sets 1", static_cast<int64_t>(w));
    check(t, kestrel::signal(NR) == e(Error::MissingRight), "signal without the send right");
    check(t, kestrel::notify_poll(N1, w) == e(Error::MissingRight), "poll without receive");
    check(t, kestrel::endpoint_create(E) == 0, "an endpoint");
    check(t, kestrel::notify_poll(E, w) == e(Error::WrongType), "notify_poll on an endpoint");
    check(t, kestrel::notify_wait(E, w) == e(Error::WrongType), "notify_wait on an endpoint");
    check(t, kestrel::cap_delete(E) == 0, "delete the endpoint");
    // A blocked wait, woken by a thread of this process.
    g_main_waiting = 0;
    g_signalled = 0;
    const int64_t th = start_thread(&signaller, 0, reinterpret_cast<void*>(N2));
    if (check(t, th > 0, "thread_create", th)) {
        g_main_waiting = 1;
        const int64_t r = kestrel::notify_wait(N, w);
        check(t, r == 0 && w == 0x4, "notify_wait returns the thread's bit",
              r == 0 ? static_cast<int64_t>(w) : r);
        check(t, g_signalled == 1, "it returned after the signal");
    }
    // A blocked wait, woken by another process (its badge 0x100).
    const int64_t child = spawn_srv("signal", N3, "20000");
    if (check(t, child > 0, "spawn the signaller", child)) {
        const int64_t r = kestrel::notify_wait(N, w);
        check(t, r == 0 && w == 0x100, "notify_wait returns the other process's bit",
              r == 0 ? static_cast<int64_t>(w) : r);
        waited(t, child, kestrel::WaitKind::Exited, 0, "the signaller's status");
    }
    // Pending bits: wait does not block.
    check(t, kestrel::signal(N1) == 0 && kestrel::signal(N3) == 0, "signal 0x1 and 0x100");
    check(t, kestrel::notify_wait(N, w) == 0 && w == 0x101, "wait takes pending bits",
          static_cast<int64_t>(w));
    // A second waiter is refused (Busy) while a thread waits. Should the kernel block it
    // instead, a watchdog thread signals after 3 s, so the test fails rather than hangs.
    Job& j = g_jobs[0];
    j.op = 3;
    j.slot = N;
    j.started = 0;
    j.result = kPending;
    g_busy_checked = 0;
    const int64_t waiter = start_thread(&job_thread, 1, &j);
    const int64_t dog = start_thread(&watchdog, 2, reinterpret_cast<void*>(N1));
    if (check(t, waiter > 0 && dog > 0, "thread_create", waiter)) {
        wait_until(j.started, 0, 5'000'000);
        kestrel::sleep_us(50'000); // let it block in notify_wait
        check(t, j.result == kPending, "the first waiter blocked", j.result);
        const int64_t busy = kestrel::notify_wait(N, w);
        g_busy_checked = 1;
        check(t, busy == e(Error::Busy), "a second waiter", busy);
        check(t, kestrel::signal(N2) == 0, "signal the first waiter");
        wait_until(j.result, kPending, 5'000'000);
        check(t, j.result == 0, "the first waiter's wait", j.result);
    }
    // Signals racing the waiter's way in, from another hart (pinned there; none at SMP=1).
    g_race_round = 0;
    g_race_done = 0;
    const uint64_t racer_top = kThreadStacks + 8 * kThreadStackPages * 4096;
    const int64_t racer = kestrel::thread_create(
        &race_signaller, reinterpret_cast<void*>(racer_top), reinterpret_cast<void*>(N1),
        kestrel::pin_hart(kestrel::current_cpu() == 0 ? 1 : 0));
    if (racer == e(Error::BadArgument)) {
        Line().put("ULOG: notification race: one hart, skipped").done();
    } else if (check(t, racer > 0, "thread_create (racer)", racer)) {
        int64_t rounds = 0, bad = 0;
        const int64_t end = kestrel::time_us() + kRaceUs;
        while (rounds < kRaceRounds && kestrel::time_us() < end) {
            g_race_round = ++rounds;
            if (kestrel::notify_wait(N, w) != 0 || w != 0x1) ++bad;
        }
        g_race_round = -1;
        wait_until(g_race_done, 0, 5'000'000);
        Line().put("ULOG: notification race: rounds=").put(rounds).put(" bad=").put(bad).done();
        check(t, bad == 0, "every raced wait took exactly the racer's bit", bad);
    }
    threads_gone(t, free_threads);
    empty_slots(N, NR + 1);
    check_objects(t, o);
    pass(t, before);
}

} // namespace init
