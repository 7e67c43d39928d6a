// mode=torture: shared state of the controller (torture.cpp) and the
// workers (torture_worker.cpp). Every operation is counted; every wake
// carries a token, every child an identity, every worker a generation.
#pragma once

#include "base/percpu.hpp"
#include "sched/notification.hpp"
#include "sched/scheduler.hpp"

#include <atomic>
#include <cstdint>

namespace k::selftest::torture {

inline constexpr std::uint32_t kMaxWorkers = 32;
inline constexpr std::uint32_t kWorkersPerCpu = 4;
inline constexpr std::uint32_t kMaxChildren = 3;            // per child op
inline constexpr std::uint32_t kFlood = sched::kRqCapacity; // pinned children of a flood op
inline constexpr std::uint64_t kSpinUs = 3'000;             // a spin op waits this long for a tick
inline constexpr std::uint64_t kSleepMaxUs = 3'000;         // a sleep op's longest deadline

// Token bits of a slot's notification word: bit i (i < kMaxWorkers) is
// worker slot i's wake; the controller owns the three above them.
inline constexpr std::uint64_t kBitBurst = 1ull << 32;
inline constexpr std::uint64_t kBitTimer = 1ull << 33;
inline constexpr std::uint64_t kBitStop = 1ull << 34;

enum class Op : std::uint32_t { Yield, Spin, Park, Sleep, Child, Flood, Exit, Count };

// Counters: relaxed, summed once the run is over. The v_ ones are violations.
struct Counts {
    std::atomic<std::uint64_t> ops[static_cast<std::uint32_t>(Op::Count)];
    std::atomic<std::uint64_t> migrations, preempted, yield_switched, yield_nothing, yield_full;
    std::atomic<std::uint64_t> flood_full, flood_not_full, flood_refused, flood_busy, flood_skipped;
    std::atomic<std::uint64_t> children, spawn_refused, joins, exits, respawns;
    std::atomic<std::uint64_t> wakes_sent, wakes_skipped, wakes_consumed, sleeps, sleep_late_max_us;
    std::atomic<std::uint64_t> spawned, bursts, timer_fires, steps_done, sleeps_cancelled;
    // Violations: a task inside a step twice at once, a wake consumed that
    // was not issued (or twice), a child run not exactly once or with a wrong
    // exit value, a sleep ended before its deadline, a callee-saved register
    // changed across a switch.
    std::atomic<std::uint64_t> v_dup_run, v_dup_token, v_child_lost, v_child_dup, v_child_value;
    std::atomic<std::uint64_t> v_early_sleep, v_regs;
};

struct Torture;

// One worker slot: its generations run one after another, never two at once.
struct Slot {
    Torture* t = nullptr;
    std::uint32_t index = 0;
    std::atomic<std::uint32_t> gen{0};         // bumped by the controller before each respawn
    sched::Notification note;                  // the slot's doorbell (outlives generations)
    std::atomic<std::uint64_t> issued{0};      // tokens signalled, not yet consumed
    std::atomic<std::uint64_t> sleep_until{0}; // deadline (ticks) the timer service owes; 0: none
    std::atomic<std::uint32_t> inside{0};      // 1 while a step runs
    std::atomic<std::uint32_t> finished{0};    // this generation left its loop
    std::uint64_t rng = 0;                     // the running generation's only
    Op op = Op::Yield;                         // the running generation's only
    std::uint64_t child_seq = 0;               // the running generation's only
    sched::TaskRef ref;                        // controller only; empty between generations
};

struct Torture {
    Slot slots[kMaxWorkers];
    std::uint32_t count = 0;
    std::uint64_t seed = 0;
    std::atomic<std::uint32_t> stop{0};
    std::atomic<std::uint32_t> flood_owner{0}; // one flood at a time (the task pool is bounded)
    Counts n{};
};

// The identity a worker generation exits with, checked by its joiner.
constexpr std::int64_t worker_identity(std::uint32_t slot, std::uint32_t gen) {
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(slot + 1) << 32) | gen);
}

inline std::uint64_t next_random(std::uint64_t& s) {
    // xorshift64 (Marsaglia 2003)
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) {
    c.fetch_add(by, std::memory_order_relaxed);
}

// The controller is the boot task, pinned to the boot cpu.
inline constexpr std::uint32_t kControllerCpu = 0;

// A random online cpu other than the controller's (its own when no other is online).
std::uint32_t some_online_cpu(std::uint64_t r);

// Issues `bit` to slot s and rings its doorbell, unless the token is still
// outstanding or (if_quiet) the doorbell is already rung: a ring then would
// hide a lost wake-up. True when it signalled.
bool send_token(Slot& s, std::uint64_t bit, std::uint32_t cpu, bool if_quiet);

// Worker generation entry (arg: its Slot).
void worker_body(void* slot);

} // namespace k::selftest::torture
