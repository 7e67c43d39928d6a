// mode=torture: the controller. Spawns the workers, serves their timed
// sleeps, wakes parked ones in bursts onto one hart at a time, respawns the
// ones that exit, takes harts offline and back, and scans the handshake
// invariants; then winds down and proves lost=0 duplicated=0 leaked=0.
// Bootargs: torture_ms=<run length, ms> torture_seed=<u64> torture_hotplug=0|1.
#include "selftest/torture.hpp"
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"
#include "kernel/boot_info.hpp"
#include "sched/handshake_monitor.hpp"
#include "sched/task_pool.hpp"
#include "sched/watchdog.hpp"
#include "selftest/selftest.hpp"
#include "selftest/torture_report.hpp"
#include "selftest/util.hpp"
#include "trap_frame.hpp"

#include <new>

namespace k::selftest {

using namespace torture;

namespace {

constexpr std::uint64_t kDefaultMs = 5'000;
constexpr std::uint64_t kMaxMs = 3'600'000;
// Past its length the run goes on (bounded) until it exercised every
// operation it claims; under host load a steal may take a while.
constexpr std::uint64_t kCoverageGraceUs = 20'000'000;
constexpr std::uint64_t kBurstUs = 2'000;         // the burst target moves on this often
constexpr std::uint64_t kWatchdogUs = 60'000'000; // a controller pass must come this often
constexpr std::uint32_t kJitterMaxUs = 20;

bool parse_u64(const char* key, std::uint64_t& out) {
    const char* v;
    std::size_t len;
    const char* args = platform().bootargs;
    if (!args || !dtb::bootarg_value(args, key, v, len)) return true; // absent: default
    if (len == 0 || len > 19) return false;
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < len; ++i) {
        if (v[i] < '0' || v[i] > '9') return false;
        x = x * 10 + static_cast<std::uint64_t>(v[i] - '0');
    }
    out = x;
    return true;
}

struct Hotplugger {
    std::uint32_t away = 0; // the cpu now offline (0: none; the boot cpu never goes)
    std::uint64_t next = 0; // when the next take/bring is due
    std::uint64_t rng = 0;
    std::uint64_t offline = 0, online = 0, errors = 0;

    void step(std::uint64_t now) {
        const std::uint32_t n = cpu_count();
        if (n < 2 || now < next) return;
        const std::uint64_t r = next_random(rng);
        if (away == 0) {
            const std::uint32_t c = 1 + static_cast<std::uint32_t>(r % (n - 1));
            if (!cpu_online(c)) return;
            if (sched::take_offline(c) == sched::Hotplug::Ok) {
                away = c;
                ++offline;
            } else {
                ++errors;
            }
            next = time::now() + time::from_us(2'000 + r % 30'000);
        } else {
            if (sched::bring_online(away) == sched::Hotplug::Ok) {
                away = 0;
                ++online;
            } else {
                ++errors;
            }
            next = time::now() + time::from_us(10'000 + r % 60'000);
        }
    }
    // Wind-down: every hart back.
    void finish() {
        if (away != 0 && sched::bring_online(away) == sched::Hotplug::Ok) {
            away = 0;
            ++online;
        }
    }
};

// Asleep on its doorbell with a token in it: a wake is owed.
bool owed_a_wake(const Slot& s) {
    if (!s.ref) return false;
    const sched::Task& task = *s.ref;
    return s.note.waiter() == &task && task.state.state() == sched::TaskState::Blocked &&
           task.state.reason() == sched::BlockReason::Event && s.note.pending() != 0 &&
           task.on_cpu.load() == 0;
}

bool spawn_worker(Torture& t, Slot& s, std::uint64_t r) {
    sched::Spawned w = sched::spawn(
        &worker_body, &s,
        sched::SpawnOptions{sched::Qos::Normal, some_online_cpu(r), false, "tt-worker"});
    if (w.error != sched::SpawnError::None) return false;
    s.ref = static_cast<sched::TaskRef&&>(w.task);
    bump(t.n.spawned);
    return true;
}

// Joins a finished generation (checking its identity) and starts the next.
// Wind-down (final): joins whatever generation is left, starts none.
void respawn(Torture& t, Slot& s, std::uint64_t r, Report& rep, bool final = false) {
    if (s.ref) {
        if (!final && (!s.finished.load(std::memory_order_acquire) ||
                       s.ref->state.state() != sched::TaskState::Exited))
            return;
        const std::int64_t v = sched::join(s.ref);
        bump(t.n.joins);
        if (v != worker_identity(s.index, s.gen.load())) ++rep.worker_value_bad;
        s.ref.reset();
    }
    if (final || t.stop.load(std::memory_order_relaxed)) return;
    s.gen.fetch_add(1, std::memory_order_acq_rel);
    s.finished.store(0, std::memory_order_relaxed);
    if (spawn_worker(t, s, r)) bump(t.n.respawns);
}

// Timed sleeps whose deadline passed get their timer token, unless the
// doorbell is rung already (retried next pass: a ring would hide a lost wake).
void serve_timers(Torture& t) {
    const std::uint64_t now = time::now();
    for (std::uint32_t i = 0; i < t.count; ++i) {
        Slot& s = t.slots[i];
        std::uint64_t d = s.sleep_until.load(std::memory_order_acquire);
        if (d == 0 || now < d || s.note.pending() != 0) continue;
        if (!s.sleep_until.compare_exchange_strong(d, 0, std::memory_order_acq_rel)) continue;
        bump(t.n.timer_fires);
        if (!send_token(s, kBitTimer, sched::kAnyCpu, false)) bump(t.n.v_dup_token);
    }
}

void wake_parked(Torture& t, std::uint32_t target) {
    for (std::uint32_t i = 0; i < t.count; ++i) {
        Slot& s = t.slots[i];
        if (s.note.waiter() && s.note.pending() == 0 &&
            s.sleep_until.load(std::memory_order_relaxed) == 0)
            (void)send_token(s, kBitBurst, target, true);
    }
}

std::uint64_t sum_stolen() {
    std::uint64_t n = 0;
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        n += sched::stats(c).stolen;
    return n;
}

std::uint64_t sum_yields_full() {
    std::uint64_t n = 0;
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        n += sched::stats(c).yields_full;
    return n;
}

} // namespace

void run_torture() {
    // Too big for the boot task's stack; raw storage: a static with a
    // destructor would need atexit, and the run ends in shutdown anyway.
    alignas(Torture) static unsigned char storage[sizeof(Torture)];
    Torture& t = *new (storage) Torture();
    static Report rep;
    new (&rep) Report();
    std::uint64_t ms = kDefaultMs, hotplug = 1;
    t.seed = time::now() ^ 0x746f727475726500ull;
    if (!parse_u64("torture_ms", ms) || ms == 0 || ms > kMaxMs ||
        !parse_u64("torture_seed", t.seed) || !parse_u64("torture_hotplug", hotplug) ||
        hotplug > 1) {
        println("KTORTURE: FAIL bad bootargs (torture_ms=1..", kMaxMs,
                ", torture_seed=<u64>, torture_hotplug=0|1)");
        shutdown(false);
    }
    rep.seed = t.seed;
    rep.ms = ms;
    rep.harts = online_count();
    t.count = kWorkersPerCpu * rep.harts;
    if (t.count > kMaxWorkers) t.count = kMaxWorkers;

    if (!await(kEventuallyUs, pool_quiescent)) rep.fail("task pool not quiescent at start");
    rep.pool_free_start = sched::task_pool_free();
    rep.reclaimed_start = sched::task_pool_reclaimed();
    const std::uint64_t stolen_start = sum_stolen(), full_start = sum_yields_full();
    if (!jitter::enabled()) jitter::enable(t.seed | 1, kJitterMaxUs);
    __atomic_store_n(&hal_switch_check_on, 1u, __ATOMIC_RELAXED);
    println("KTORTURE: start seed=", t.seed, " ms=", ms, " harts=", rep.harts, " workers=", t.count,
            " hotplug=", hotplug, " jitter-seed=", jitter::seed());

    std::uint64_t rng = t.seed | 1;
    // Every slot is a wake target from the first worker's first step on.
    for (std::uint32_t i = 0; i < kMaxWorkers; ++i) {
        t.slots[i].t = &t;
        t.slots[i].index = i;
    }
    for (std::uint32_t i = 0; i < t.count; ++i)
        if (!spawn_worker(t, t.slots[i], next_random(rng))) rep.fail("could not spawn the workers");

    Hotplugger hp;
    hp.rng = t.seed ^ 0x686f74706c7567ull;
    if (hp.rng == 0) hp.rng = 1;
    const bool smp = rep.harts > 1;
    const std::uint64_t start = time::now();
    const std::uint64_t end = start + time::from_us(ms * 1000);
    const std::uint64_t hard_end = end + time::from_us(kCoverageGraceUs);
    auto covered = [&] {
        for (std::uint32_t o = 0; o < static_cast<std::uint32_t>(Op::Count); ++o)
            if (t.n.ops[o].load() == 0) return false;
        if (t.n.sleeps.load() == 0 || t.n.children.load() == 0 || t.n.respawns.load() == 0)
            return false;
        if (!smp) return true; // no flood on the controller's hart (torture_worker.cpp)
        if (t.n.flood_full.load() == 0) return false;
        return t.n.migrations.load() > 0 && sum_stolen() > stolen_start &&
               (hotplug == 0 || hp.online > 0);
    };
    std::uint64_t next_burst = 0, scans = 0, seen = 0;
    std::uint32_t target = 0;
    while (rep.ok()) {
        const std::uint64_t now = time::now();
        if (now >= hard_end || (now >= end && covered())) break;
        watchdog::arm("torture controller", kWatchdogUs);
        const sched::HandshakeScan scan = sched::scan_handshake();
        ++scans;
        seen += scan.tasks_seen;
        if (scan.finding.rule != sched::HandshakeRule::Ok) {
            rep.handshake = scan;
            rep.fail("handshake monitor: a takeable task is still held by a hart");
            break;
        }
        serve_timers(t);
        if (now >= next_burst) {
            target = some_online_cpu(next_random(rng));
            next_burst = now + time::from_us(kBurstUs);
            bump(t.n.bursts);
        }
        wake_parked(t, target);
        for (std::uint32_t i = 0; i < t.count; ++i)
            respawn(t, t.slots[i], next_random(rng), rep);
        if (hotplug) hp.step(now);
        if (sched::yield() != sched::YieldResult::Switched)
            (void)time::wait_until(time::deadline_in_us(200), [] { return false; });
    }
    rep.elapsed_us = time::to_us(time::now() - start);
    if (rep.ok() && !covered()) rep.fail("coverage: an operation never happened within the bound");

    // Wind-down. Stop first; every hart back; then a wake still owed after
    // the bound is a lost one (nothing rings a rung doorbell again).
    t.stop.store(1, std::memory_order_release);
    hp.finish();
    watchdog::arm("torture wind-down", kWatchdogUs);
    auto owed = [&] {
        serve_timers(t);
        std::uint32_t n = 0;
        for (std::uint32_t i = 0; i < t.count; ++i)
            n += owed_a_wake(t.slots[i]) ? 1 : 0;
        return n;
    };
    if (!await(kEventuallyUs, [&] { return owed() == 0; })) rep.lost_wakes = owed();
    rep.hp_offline = hp.offline;
    rep.hp_online = hp.online;
    rep.hp_errors = hp.errors;
    rep.steals = sum_stolen() - stolen_start;
    // Every generation leaves its loop: a stop token wakes the parked ones.
    const bool all_done = await(kEventuallyUs, [&] {
        serve_timers(t);
        bool done = true;
        for (std::uint32_t i = 0; i < t.count; ++i) {
            Slot& s = t.slots[i];
            if (!s.ref || s.finished.load(std::memory_order_acquire)) continue;
            done = false;
            (void)send_token(s, kBitStop, sched::kAnyCpu, false);
        }
        return done;
    });
    if (!all_done || rep.lost_wakes) {
        rep.fail(rep.lost_wakes ? "lost wake-up: a worker slept on with its doorbell rung"
                                : "workers did not finish");
        rep.scans = scans;
        rep.queued_seen = seen;
        finish(t, rep); // prints, dumps, shuts down: never returns
    }
    for (std::uint32_t i = 0; i < t.count; ++i)
        respawn(t, t.slots[i], 0, rep, true);
    rep.wound_down = true;
    watchdog::disarm();
    rep.steals = sum_stolen() - stolen_start;
    rep.sched_yields_full = sum_yields_full() - full_start;
    if (jitter::enabled()) jitter::disable();
    rep.scans = scans;
    rep.queued_seen = seen;
    finish(t, rep);
}

} // namespace k::selftest
