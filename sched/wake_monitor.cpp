// The lost-wake-up monitor over the task slab, and the panics of block_on().
#include "sched/wake_monitor.hpp"

#include "base/format.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "sched/lost_wake.hpp"
#include "sched/scheduler.hpp"
#include "sched/task_panic.hpp"
#include "sched/task_pool.hpp"
#include "sched/wait_channel.hpp"

#include <atomic>

namespace sched {

namespace {

// KPANIC "sched: <what>: task <name> #<id> <tail> <n><unit>".
[[noreturn, gnu::cold]] void sleeper_panic(const char* what, const Task& t, const char* tail,
                                           std::uint64_t n, const char* unit) {
    k::LineBuffer l;
    task_panic_begin(l, what, t);
    l.put(' ');
    l.put(tail);
    if (unit) {
        l.put(' ');
        l.put(n);
        l.put(unit);
    }
    task_panic_end(l, k::current_cpu());
}

} // namespace

void block_outside_lock(const Task& me, const char* wait) {
    sleeper_panic("Blocked published outside the lock its waker takes (a lost wake-up)", me, wait,
                  0, nullptr);
}

void sleeper_read_early(const char* wait) {
    k::LineBuffer l;
    l.put("sched: a waker read the sleepers of a ");
    l.put(wait);
    l.put(" before setting its condition (a lost wake-up)");
    task_panic_end(l, k::current_cpu());
}

void block_refused(const Task& me, const char* wait) {
    sleeper_panic("cannot block: not running", me, wait, 0, nullptr);
}

namespace wake_monitor {

namespace {

std::atomic<std::uint32_t> g_on{0};
std::atomic<std::uint64_t> g_next{0}; // time of the next scan (timebase ticks)
std::atomic<std::uint32_t> g_busy{0}; // 1 while a hart scans: it owns g_tracker
std::atomic<std::uint64_t> g_scans{0};
std::atomic<const Task*> g_probe_task{nullptr};
std::atomic<Observer> g_probe_observer{nullptr};
LostWakeTracker<kMaxTasks> g_tracker; // guarded by g_busy

// Still the same block, still holding (a look again, after the grace: a wake that came
// meanwhile ends the suspicion instead of a panic).
bool still_lost(const Task& t, std::uint64_t w) {
    if (t.state.word() != w) return false;
    const WaitKind* kind = t.wait_kind.load(std::memory_order_acquire);
    const void* object = t.wait_object.load(std::memory_order_acquire);
    return kind != nullptr && t.state.word() == w && kind->holds(object) && t.state.word() == w;
}

void report(const Task& t, std::uint64_t w, const char* wait, std::uint64_t held_us) {
    if (g_probe_task.load(std::memory_order_acquire) == &t) {
        if (Observer o = g_probe_observer.load(std::memory_order_acquire)) {
            o(t, wait, held_us);
            return;
        }
    }
    if (!still_lost(t, w)) return;
    dump_state("lost wake-up");
    sleeper_panic("lost wake-up", t, wait, held_us / 1000, " ms Blocked while its condition held");
}

void scan(std::uint64_t now) {
    const std::uint64_t grace = k::time::from_us(kGraceUs);
    for (std::uint32_t i = 0; i < kMaxTasks; ++i) {
        const Task& t = task_slot(i);
        const std::uint64_t w = t.state.word();
        const bool blocked = TaskStateCell::state_of_word(w) == TaskState::Blocked;
        bool holds = false;
        const WaitKind* kind = nullptr;
        if (blocked) {
            // Published before the Blocked CAS that w saw; the answer counts only if the word
            // is unchanged after it (the same block, so the object is still the one waited on).
            kind = t.wait_kind.load(std::memory_order_acquire);
            const void* object = t.wait_object.load(std::memory_order_acquire);
            // The pair is this block's only if no transition came between the two reads of
            // the word (acquire above: a later block's pair would show its transitions).
            holds = kind != nullptr && t.state.word() == w && kind->holds(object) &&
                    t.state.word() == w;
        }
        const std::uint64_t held =
            g_tracker.observe(i, SleeperSample{w, blocked, holds}, now, grace);
        if (held) report(t, w, kind->name, k::time::to_us(held));
    }
    g_scans.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

void enable() {
    g_next.store(0, std::memory_order_relaxed);
    g_on.store(1, std::memory_order_release);
}

void disable() {
    g_on.store(0, std::memory_order_release);
}

bool enabled() {
    return g_on.load(std::memory_order_acquire) != 0;
}

void poll() {
    if (!g_on.load(std::memory_order_relaxed)) return;
    const std::uint64_t now = k::time::now();
    std::uint64_t next = g_next.load(std::memory_order_relaxed);
    if (now < next) return;
    // One hart per period takes the scan; a scan still running elsewhere skips this one.
    if (!g_next.compare_exchange_strong(next, now + k::time::from_us(kScanUs),
                                        std::memory_order_relaxed))
        return;
    if (g_busy.exchange(1, std::memory_order_acquire)) return;
    scan(now);
    g_busy.store(0, std::memory_order_release);
}

std::uint64_t scans() {
    return g_scans.load(std::memory_order_relaxed);
}

void set_probe(const Task* task, Observer observer) {
    // The task first when clearing, the observer first when setting: a scan never sees the
    // probe's task without its observer.
    if (task) {
        g_probe_observer.store(observer, std::memory_order_release);
        g_probe_task.store(task, std::memory_order_release);
    } else {
        g_probe_task.store(nullptr, std::memory_order_release);
        g_probe_observer.store(observer, std::memory_order_release);
    }
}

} // namespace wake_monitor

} // namespace sched
