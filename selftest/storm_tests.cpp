// The scheduler storm: unpinned tasks yield, spin into preemption, park and
// get woken across harts, spawn and join children, and get stolen, while
// every switch is checked three ways: each task's own callee-saved register
// pattern, the dispatch check in schedule(), and an outside monitor of the
// handshake invariants (sched/handshake.hpp). Jitter widens the windows.
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "reg_pattern.hpp"
#include "sched/event.hpp"
#include "sched/handshake_monitor.hpp"
#include "sched/notification.hpp"
#include "sched/task_pool.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "trap_frame.hpp"

#include <atomic>

namespace k::selftest {

using sched::Qos;
using sched::SpawnOptions;

namespace {

constexpr std::uint32_t kMaxWorkers = 32;
constexpr std::uint32_t kWorkersPerCpu = 4;
// The storm lasts kStormUs and at least kStormMinSteps worker steps (a host
// that starves the vCPUs must not shrink it to nothing), at most kStormMaxUs.
constexpr std::uint64_t kStormUs = 400'000;
constexpr std::uint64_t kStormMaxUs = kEventuallyUs;
constexpr std::uint64_t kStormMinSteps = 2'000;
constexpr std::uint64_t kBurstUs = 2'000; // the monitor wakes parked workers this often
constexpr std::uint64_t kSpinUs = 3'000;  // a spin op waits this long for a tick
constexpr std::uint32_t kJitterMaxUs = 20;
constexpr std::uint32_t kWakePassesPerScan = 8;
constexpr std::uint32_t kEventsPerWorker = 128; // one-shot: each event op uses the next one

enum class Op : std::uint32_t { Yield, Spin, Park, EventWait, Child };

struct Storm;

struct Worker {
    Storm* storm = nullptr;
    std::uint32_t index = 0;
    std::uint64_t rng = 0;
    Op op = Op::Yield;
    sched::Notification note;
    // One-shot events, used in turn (then the op parks on `note` instead); the one it waits
    // on, or is about to, is `event` (storage lives as long as the storm, so a late signal of
    // an old one is harmless). Signallers signal only an unsignalled event: a lost wake-up
    // stays lost, for the lost-wake-up monitor to find.
    sched::Event events[kEventsPerWorker];
    std::uint32_t events_used = 0;
    std::atomic<sched::Event*> event{nullptr};
    sched::Task* task = nullptr; // valid while the storm holds its TaskRef
    std::atomic<std::uint32_t> finished{0};
    // Counts (this worker writes them; read after it finished).
    std::uint64_t steps = 0, bad = 0, first_bad_mask = 0, migrations = 0, preempted = 0;
    std::uint64_t children = 0, child_failures = 0;
};

struct Storm {
    Worker workers[kMaxWorkers];
    std::uint32_t count = 0;
    std::uint32_t online[kMaxCpus] = {};
    std::uint32_t online_n = 0;
    std::atomic<std::uint32_t> stop{0};
    std::atomic<std::uint64_t> peer_signals{0};
    std::atomic<std::uint64_t> child_bad{0};
    std::atomic<std::uint64_t> steps{0};
};

std::uint64_t next_random(std::uint64_t& s) {
    // xorshift64 (Marsaglia 2003): per worker, no shared state.
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

void child_step(void*) {
    (void)sched::yield();
}

void child_body(void* arg) {
    auto* storm = static_cast<Storm*>(arg);
    const std::uint64_t seed = 0x6368696c64000000ull ^ time::now();
    if (hal_call_with_pattern(seed, &child_step, nullptr) != 0) storm->child_bad.fetch_add(1);
}

// Signals w's current event unless it is signalled already (a lost wake is not papered over).
void signal_event(Worker& w, std::uint32_t cpu = sched::kAnyCpu) {
    sched::Event* e = w.event.load(std::memory_order_acquire);
    if (e && !e->signalled()) (void)e->signal(cpu);
}

// One operation, run with the register pattern live in s0..s11.
void worker_step(void* p) {
    auto* w = static_cast<Worker*>(p);
    switch (w->op) {
    case Op::Yield:
        (void)sched::yield();
        break;
    case Op::Spin:
        if (spin_until_preempted(kSpinUs)) ++w->preempted;
        break;
    case Op::Park:
        (void)w->note.wait();
        break;
    case Op::EventWait:
        if (w->events_used == kEventsPerWorker) {
            (void)w->note.wait();
            break;
        }
        w->event.store(&w->events[w->events_used++], std::memory_order_release);
        w->event.load(std::memory_order_relaxed)->wait();
        break;
    case Op::Child: {
        Storm* storm = w->storm;
        const std::uint32_t cpu = storm->online[next_random(w->rng) % storm->online_n];
        sched::Spawned c =
            sched::spawn(&child_body, storm, SpawnOptions{Qos::Normal, cpu, false, "storm-child"});
        if (c.error != sched::SpawnError::None) {
            ++w->child_failures; // pool or target busy: not an error of the storm
            break;
        }
        (void)sched::join(c.task);
        ++w->children;
        break;
    }
    }
}

void worker_body(void* p) {
    auto* w = static_cast<Worker*>(p);
    Storm* storm = w->storm;
    while (!storm->stop.load(std::memory_order_acquire)) {
        const std::uint64_t r = next_random(w->rng);
        const std::uint32_t pick = static_cast<std::uint32_t>(r % 16);
        w->op = pick < 6    ? Op::Yield
                : pick < 8  ? Op::Spin
                : pick < 11 ? Op::Park
                : pick < 15 ? Op::EventWait
                            : Op::Child;
        const std::uint32_t cpu_before = sched::cpu_of_current();
        const std::uint64_t seed = (static_cast<std::uint64_t>(w->index) << 48) ^ (r >> 16);
        const std::uint64_t mask = hal_call_with_pattern(seed, &worker_step, w);
        if (mask != 0) {
            if (w->bad++ == 0) w->first_bad_mask = mask;
        }
        if (sched::cpu_of_current() != cpu_before) ++w->migrations;
        ++w->steps;
        storm->steps.fetch_add(1, std::memory_order_relaxed);
        // Now and then wake a peer: a cross-hart wake of a task that may be
        // switching out right now. Only an empty word is signalled, so a
        // lost wake-up is not papered over by a later signal.
        if ((r >> 40) % 4 == 0 && !storm->stop.load(std::memory_order_relaxed)) {
            Worker& peer = storm->workers[(r >> 44) % storm->count];
            if (&peer != w && peer.note.pending() == 0) {
                (void)peer.note.signal(1);
                storm->peer_signals.fetch_add(1, std::memory_order_relaxed);
            }
            if (&peer != w) signal_event(peer);
        }
    }
    w->finished.store(1, std::memory_order_release);
}

// Asleep on its notification with bits pending: a wake is owed to it. (A worker asleep on one
// of its events may have bits pending too: the peers signal any empty word. Its event's signal
// is the wind-down's, and the lost-wake-up monitor watches that wait.)
bool owed_a_wake(const Worker& w) {
    return w.task->state.state() == sched::TaskState::Blocked && w.note.waiter() == w.task &&
           w.note.pending() != 0 && w.task->on_cpu.load() == 0;
}

std::uint64_t sum_stolen(const Storm& s) {
    std::uint64_t n = 0;
    for (std::uint32_t i = 0; i < s.online_n; ++i)
        n += sched::stats(s.online[i]).stolen;
    return n;
}

} // namespace

KSELFTEST(RACE0001, "scheduler storm") {
    static Storm storm; // too big for the selftest task's stack
    new (&storm) Storm();
    // The monitor keeps this hart to itself when at least two others are
    // left for the workers to run, park and be stolen on; otherwise it
    // shares its hart with them and yields between scans.
    const std::uint32_t self = sched::cpu_of_current();
    for (std::uint32_t c = 0; c < cpu_count(); ++c)
        if (cpu_online(c) && c != self) storm.online[storm.online_n++] = c;
    const bool shared = storm.online_n < 2;
    if (shared) storm.online[storm.online_n++] = self;
    storm.count = kWorkersPerCpu * storm.online_n;
    if (storm.count > kMaxWorkers) storm.count = kMaxWorkers;
    KCHECK(await(kEventuallyUs, pool_quiescent));

    const bool jitter_was_on = jitter::enabled();
    if (!jitter_was_on) jitter::enable(time::now() | 1, kJitterMaxUs);
    // Every switch verifies itself (on for the whole boot already, except under the benchmark).
    const std::uint32_t check_was = __atomic_exchange_n(&hal_switch_check_on, 1u, __ATOMIC_RELAXED);
    const std::uint64_t stolen_before = sum_stolen(storm);

    // Start the workers on the lower half of the harts: the upper half has
    // to steal them, and every burst below piles them on one hart again.
    sched::TaskRef refs[kMaxWorkers];
    const std::uint32_t spawn_harts = storm.online_n > 1 ? storm.online_n / 2 : 1;
    std::uint32_t spawned = 0;
    for (std::uint32_t i = 0; i < storm.count; ++i) {
        Worker& w = storm.workers[i];
        w.storm = &storm;
        w.index = i;
        w.rng = 0x9e3779b97f4a7c15ull * (i + 1) ^ time::now();
        sched::Spawned s =
            sched::spawn(&worker_body, &w,
                         SpawnOptions{Qos::Normal, storm.online[i % spawn_harts], false, "storm"});
        if (s.error != sched::SpawnError::None) break;
        w.task = s.task.get();
        refs[i] = static_cast<sched::TaskRef&&>(s.task);
        ++spawned;
    }

    // The monitor: scan the handshake invariants from this hart while the
    // storm runs, and wake parked workers in bursts onto one hart at a time.
    std::uint64_t scans = 0, seen = 0, bursts = 0;
    sched::HandshakeScan bad{0, {sched::HandshakeRule::Ok, 0}, 0, 0};
    const std::uint64_t start = time::now();
    const std::uint64_t end = start + time::from_us(kStormUs);
    const std::uint64_t hard_end = start + time::from_us(kStormMaxUs);
    // Past its length the storm goes on (bounded) until it has done what it
    // is for: enough steps, and at SMP >= 2 at least one steal. Under host
    // load a thief may find no victim for a while; that is not a verdict.
    auto storming = [&] {
        const std::uint64_t now = time::now();
        if (now >= hard_end) return false;
        if (now < end || storm.steps.load(std::memory_order_relaxed) < kStormMinSteps) return true;
        return storm.online_n > 1 && sum_stolen(storm) == stolen_before;
    };
    std::uint64_t next_burst = 0;
    std::uint32_t target = storm.online[0];
    while (spawned == storm.count && storming()) {
        const sched::HandshakeScan scan = sched::scan_handshake();
        ++scans;
        seen += scan.tasks_seen;
        if (scan.finding.rule != sched::HandshakeRule::Ok) {
            bad = scan;
            break;
        }
        // Every parked worker is woken onto the burst's hart, often while it
        // is still switching out; the target moves on every kBurstUs.
        if (time::now() >= next_burst) {
            target = storm.online[bursts++ % storm.online_n];
            next_burst = time::now() + time::from_us(kBurstUs);
        }
        // A scan takes long next to a park: wake in several passes per scan.
        for (std::uint32_t pass = 0; pass < kWakePassesPerScan; ++pass) {
            for (std::uint32_t i = 0; i < storm.count; ++i) {
                Worker& w = storm.workers[i];
                if (w.note.waiter() && w.note.pending() == 0) (void)w.note.signal(2, target);
                // An event is signalled as soon as it is published, waiter or not: the signal
                // then races the sleeper on its way in, the lost wake-up's window.
                signal_event(w, target);
            }
        }
        if (shared) (void)sched::yield();
    }
    storm.stop.store(1, std::memory_order_release);

    // A worker asleep with bits pending is owed a wake that is in flight;
    // without the rescue below it must still arrive.
    auto owed = [&] {
        std::uint32_t n = 0;
        for (std::uint32_t i = 0; i < spawned; ++i)
            n += owed_a_wake(storm.workers[i]) ? 1 : 0;
        return n;
    };
    std::uint32_t lost = 0;
    if (!await(kEventuallyUs, [&] { return owed() == 0; })) {
        for (std::uint32_t i = 0; i < spawned; ++i) {
            Worker& w = storm.workers[i];
            if (!owed_a_wake(w)) continue;
            if (lost++ == 0)
                println("KLOG: storm: worker ", i, " (task #", w.task->id,
                        ") stayed asleep with its notification set: a lost wake-up");
        }
    }
    // Wind down: wake every parked worker until all have left their loop. The
    // workers use this frame, so there is no return before they are gone.
    const bool all_done = await(kEventuallyUs, [&] {
        bool done = true;
        for (std::uint32_t i = 0; i < spawned; ++i) {
            Worker& w = storm.workers[i];
            if (w.finished.load(std::memory_order_acquire)) continue;
            done = false;
            (void)w.note.signal(4);
            signal_event(w);
        }
        return done;
    });
    if (!all_done) {
        sched::dump_state("scheduler storm wind-down");
        k::panic("storm: workers did not finish; their frames would outlive the test");
    }
    for (std::uint32_t i = 0; i < spawned; ++i)
        (void)sched::join(refs[i]);
    for (auto& r : refs)
        r.reset();
    if (!jitter_was_on) jitter::disable();
    __atomic_store_n(&hal_switch_check_on, check_was, __ATOMIC_RELAXED);

    std::uint64_t steps = 0, badregs = 0, migrations = 0, preempted = 0, children = 0;
    std::uint64_t first_mask = 0;
    for (std::uint32_t i = 0; i < spawned; ++i) {
        const Worker& w = storm.workers[i];
        steps += w.steps;
        badregs += w.bad;
        migrations += w.migrations;
        preempted += w.preempted;
        children += w.children;
        if (!first_mask) first_mask = w.first_bad_mask;
    }
    const std::uint64_t stolen = sum_stolen(storm) - stolen_before;
    const bool refilled = await(kEventuallyUs, pool_quiescent);
    println("KLOG: storm: workers=", spawned, " worker-harts=", storm.online_n, " steps=", steps,
            " regs-bad=", badregs, " mask=", hex(first_mask),
            " child-regs-bad=", storm.child_bad.load(), " migrations=", migrations,
            " stolen=", stolen, " preempted=", preempted, " children=", children);
    println("KLOG: storm: peer-wakes=", storm.peer_signals.load(), " bursts=", bursts,
            " monitor-scans=", scans, " queued-seen=", seen, " lost-wakeups=", lost,
            " jitter-seed=", jitter::seed(), " jitter-delays=", jitter::delays());
    if (bad.finding.rule != sched::HandshakeRule::Ok) {
        println("KLOG: storm: monitor: task #", bad.task_id, " queued on cpu", bad.queued_cpu, ": ",
                sched::handshake_rule_name(bad.finding.rule), " (cpu", bad.finding.hart, ")");
        return Result::fail("handshake monitor: a takeable task is still held by a hart");
    }
    if (badregs || storm.child_bad.load())
        return Result::fail("a task's callee-saved registers changed across a switch");
    if (lost) return Result::fail("lost wake-up: a worker slept on with its notification set");
    KCHECK(spawned == storm.count);
    KCHECK(refilled);
    KCHECK(steps >= storm.count); // every worker ran
    KCHECK(scans > 0);
    KCHECK(children > 0);
    if (storm.online_n > 1) {
        // The storm did what it is for: tasks moved between harts and were stolen.
        KCHECK(migrations > 0);
        KCHECK(stolen > 0);
    }
    return Result::pass();
}

} // namespace k::selftest
