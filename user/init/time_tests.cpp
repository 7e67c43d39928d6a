// Time (RFC-0030): a kill ends a join at once. A waiter process joins a victim that blocks in
// receive for ever; init kills the waiter: its join must end within a bound (it would stay
// there until the victim ended; kfault=time-kill-join), then the victim goes too.
#include <kestrel/user.hpp>

#include "init.hpp"

using kestrel::Line;

namespace init {

namespace {

size_t put_uint(char* buf, size_t at, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        buf[at++] = tmp[--n];
    buf[at++] = '\0';
    return at;
}

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

} // namespace

void test_kill_ends_join() {
    const char* t = "kill ends a join";
    const int before = g_failed;
    constexpr uint64_t E = 50, Tv = 51, Tw = 52; // slots free in init at this point
    if (!check(t, kestrel::endpoint_create(E) == 0, "endpoint_create")) return;
    const int64_t victim = kestrel::spawn("killer", 6, "victim-recv", 12, E, Tv);
    char args[48];
    size_t n = put_uint(args, 0, static_cast<uint64_t>(victim));
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
