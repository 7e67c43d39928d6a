// Per-hart scheduler state, shared by the scheduler's translation units.
#pragma once

#include <cstddef>

#include "base/percpu.hpp"
#include "base/store_relaxed.hpp"
#include "sched/inbox.hpp"
#include "sched/run_queue.hpp"
#include "sched/scheduler.hpp"

#include <atomic>

namespace sched::detail {

enum class Requeue : std::uint32_t { None, Local, Elsewhere };

inline constexpr std::uint32_t kOfflineAsked = 1;
inline constexpr std::uint32_t kOfflineTaken = 2;

// A power-of-two size, so that finding a hart's block is a shift, not a
// multiply the compiler repeats at every use (seen on the yield path), and no
// two harts' blocks share a cache line.
inline constexpr std::size_t kCpuSchedAlign = 1024;

// A task entering a run queue with its registers live on a hart, or by another hart than the
// queue's owner (sched/scheduler.cpp).
[[noreturn, gnu::cold]] void queued_live(const Task& t);
[[noreturn, gnu::cold]] void queued_remotely(const Task& t, std::uint32_t owner);

// The kernel's run queue: the portable one, except that a task enters it only with its
// registers saved (on_cpu == 0), and only by its own hart (RFC-0021 invariant 3). Whatever
// queues a task early, a re-queue before its save or a wake or steal that ignored on_cpu, or
// pushes it into another hart's queue instead of that hart's inbox, is refused at that
// enqueue, naming the task, wherever the enqueue is written.
// Private base: every enqueue of the kernel goes through the checks below (no path reaches the
// base's unchecked one, not even through a reference to the base).
class HartRunQueue final : private RunQueue<Task, &Task::link, kRqCapacity> {
    using Base = RunQueue<Task, &Task::link, kRqCapacity>;

  public:
    using Base::contains;
    using Base::empty;
    using Base::for_each;
    using Base::has_room;
    using Base::holds;
    using Base::pick;
    using Base::pick_from;
    using Base::remove;
    using Base::size;
    using Base::stats;
    using Base::steal;
    using Base::top;

    [[nodiscard]] EnqueueOutcome enqueue(Task& t, Qos q) {
        if (t.on_cpu.load(std::memory_order_acquire) != 0) [[unlikely]]
            queued_live(t);
        if (hal::Cpu::lock_id() != owner_) [[unlikely]]
            queued_remotely(t, owner_);
        return Base::enqueue(t, q);
    }
    // Its hart (join_scheduler(), before the hart takes work).
    void set_owner(std::uint32_t cpu) { owner_ = cpu; }

  private:
    std::uint32_t owner_ = ~0u;
};

struct alignas(kCpuSchedAlign) CpuSched {
    k::SpinLock rq_lock{kRqRank};          // ranked: inside an inbox lock, never beside another
    HartRunQueue rq;                       // guarded by rq_lock
    Inbox<Task, &Task::link> inbox{false}; // remote wake-ups; open while the hart takes work
    Task idle;                             // the hart's boot-stack context

    // Written by this hart only; atomic so that the handshake monitor may
    // read them from another hart (relaxed: it reads them under an rq lock).
    std::atomic<Task*> current{nullptr};
    std::atomic<Task*> prev{nullptr};                 // switched away from, not yet finished
    Requeue prev_requeue = Requeue::None;             // this hart only
    std::uint64_t ticks = 0;                          // this hart only
    std::uint64_t next_tick = 0;                      // this hart only: when the slice ends
    StealGate steal_gate;                             // this hart only
    std::atomic<Qos> steal_limit{kDefaultStealLimit}; // highest class this hart steals
    bool started = false;                             // this hart only

    std::atomic<std::uint32_t> queued_hint{0};  // rq.size(), published under rq_lock
    std::atomic<std::uint32_t> need_resched{0}; // set by the tick or a resched IPI on this hart
    std::atomic<std::uint32_t> slice_over{0};   // the tick asked for this resched
    // 0 none; kOfflineAsked by take_offline; kOfflineTaken once the hart
    // commits to stopping (a timed-out request is withdrawn only before that).
    std::atomic<std::uint32_t> offline_req{0};

    std::atomic<std::uint64_t> switches{0}, preempts{0}, yields_full{0}, deferred{0};
    std::atomic<std::uint64_t> steals{0}, stolen{0}, tick_count{0};
    std::atomic<std::uint64_t> resched_irqs{0}, trap_exits{0}; // diagnostics
    std::atomic<std::uint64_t> handoffs{0};   // direct switches (handoff(), the IPC fast path)
    std::atomic<std::uint64_t> timer_irqs{0}; // timer interrupts taken (RFC-0030 tickless idle)
    // 1 while this hart idles with its timer armed past its next tick (RFC-0030 "Tickless
    // idle"); written by this hart, read by busy harts' ticks, which kick it when they have
    // work queued that it could steal.
    std::atomic<std::uint32_t> idle_long{0};
};

// Holds a hart's rq lock and republishes queued_hint before releasing it, so
// idle harts can skip empty victims (and their own empty queue) without
// touching the lock: under vCPU overcommit every remote lock touch can cost
// a host time slice.
class RqGuard final {
  public:
    struct Try {};
    explicit RqGuard(CpuSched& s) : s_(s), held_(true) { s_.rq_lock.lock(); }
    // Thieves never queue up behind a victim's lock: with more vCPUs than
    // host cores a ticket queue of spinning thieves can stall the owner for
    // whole host time slices. A busy victim is simply skipped this tick.
    RqGuard(CpuSched& s, Try) : s_(s), held_(s.rq_lock.try_lock()) {}
    ~RqGuard() {
        if (!held_) return;
        k::store_relaxed(s_.queued_hint, s_.rq.size());
        s_.rq_lock.unlock();
    }
    RqGuard(const RqGuard&) = delete;
    RqGuard& operator=(const RqGuard&) = delete;
    bool held() const { return held_; }
    // Ends schedule()'s hold of the rq lock (taken with lock_masked(): the
    // switch path runs at irq depth 1 throughout): in finish_switch on the far
    // side of a switch, or where schedule() returns without switching.
    static void release_switch_hold(CpuSched& s) {
        k::store_relaxed(s.queued_hint, s.rq.size());
        s.rq_lock.unlock_masked();
    }

  private:
    CpuSched& s_;
    bool held_;
};

CpuSched& cpu_sched(std::uint32_t cpu);
CpuSched& local();

// Switch points (interrupts masked by the caller, irq depth 1).
YieldResult schedule();
// `s`: the block of the hart that just switched (hal_context_switch's carry).
void finish_switch(CpuSched& s);
// The IPC fast path's switch (see sched::handoff in scheduler.hpp), at irq depth 1. `me`: the
// calling task, if the caller knows it (its hart is then found without the cpu-id lookup).
bool handoff(Task& next, const Task* me = nullptr);
void drain_inbox(CpuSched& s);

// The caller owns a Ready task no list holds: hand it to a hart. An unpinned
// task goes to `hint` (kAnyCpu: its home) or, if that hart is not taking
// work, to the next one that is. A pinned task goes to its own hart or
// nowhere: if that hart's inbox is closed, IfClosed decides whether it is
// parked there until the hart is back (Parked) or refused (Refused).
enum class [[nodiscard]] Placed : std::uint32_t{Queued, Parked, Refused};
enum class IfClosed : std::uint32_t { Park, Refuse };
Placed make_runnable(Task& t, std::uint32_t hint, IfClosed if_closed);

[[noreturn]] void idle_loop();
bool try_steal(CpuSched& s);
// Stops this hart for good unless the request was withdrawn meanwhile.
void go_offline(CpuSched& s);

inline bool can_steal(const Task& t) {
    return !t.pinned && t.on_cpu.load(std::memory_order_acquire) == 0;
}

} // namespace sched::detail
