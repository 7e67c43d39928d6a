// The task state machine: named transitions, one atomic word, one CAS winner.
#pragma once

#include <atomic>
#include <cstdint>

namespace sched {

enum class TaskState : std::uint32_t { Ready, Running, Blocked, Exited };
inline constexpr std::uint32_t kTaskStateCount = 4;

enum class BlockReason : std::uint32_t { None, Join, Sleep, Event, Ipc };
inline constexpr std::uint32_t kBlockReasonCount = 5;

enum class [[nodiscard]] Transition : std::uint32_t{Ok, Illegal};

enum class TransitionKind : std::uint32_t { Dispatch, Preempt, Block, UnblockSelf, Wake, Exit };
inline constexpr std::uint32_t kTransitionKindCount = 6;

// Row: from-state; column: transition kind. Each kind has exactly one source.
inline constexpr bool kLegal[kTaskStateCount][kTransitionKindCount] = {
    // Dispatch Preempt Block  UnblockSelf Wake   Exit
    {true, false, false, false, false, false},  // Ready
    {false, true, true, false, false, true},    // Running
    {false, false, false, true, true, false},   // Blocked
    {false, false, false, false, false, false}, // Exited (terminal)
};

// The one state a kind may start from (kTaskStateCount for an invalid kind).
[[nodiscard]] constexpr std::uint32_t source_of(TransitionKind t) {
    const auto k = static_cast<std::uint32_t>(t);
    for (std::uint32_t s = 0; k < kTransitionKindCount && s < kTaskStateCount; ++s)
        if (kLegal[s][k]) return s;
    return kTaskStateCount;
}

[[nodiscard]] constexpr bool kinds_have_one_source() {
    for (std::uint32_t k = 0; k < kTransitionKindCount; ++k) {
        std::uint32_t sources = 0;
        for (std::uint32_t s = 0; s < kTaskStateCount; ++s)
            sources += kLegal[s][k] ? 1u : 0u;
        if (sources != 1) return false;
    }
    return true;
}
static_assert(kinds_have_one_source(), "legal() compares with the single source state");

// The table's answer as one compare: with a constant kind (every named
// transition) source_of folds to a constant.
[[nodiscard]] constexpr bool legal(TaskState from, TransitionKind t) {
    return static_cast<std::uint32_t>(from) == source_of(t);
}

// Where a legal transition lands.
[[nodiscard]] constexpr TaskState target(TransitionKind t) {
    switch (t) {
    case TransitionKind::Dispatch:
        return TaskState::Running;
    case TransitionKind::Preempt:
        return TaskState::Ready;
    case TransitionKind::Block:
        return TaskState::Blocked;
    case TransitionKind::UnblockSelf:
        return TaskState::Running;
    case TransitionKind::Wake:
        return TaskState::Ready;
    case TransitionKind::Exit:
        return TaskState::Exited;
    }
    return TaskState::Exited;
}

// State and block reason live in one word so a reader never sees a torn pair
// and a compare-exchange decides races: of concurrent wake()s, or of wake()
// against the sleeper's unblock_self(), exactly one returns Ok.
// Word: bits 0-7 state, 8-15 reason, 32-63 count of transitions taken.
//
// Ordering: every CAS and every state()/reason() load is seq_cst (apply()'s
// first read is only the CAS's expected value). acq_rel would order the task's
// data (the sleeper's published state, the winner's view of it) but not the
// lost-wake-up pair: sleeper `block(); re-check condition` against waker
// `set condition; wake()` is a store-buffering pattern, and only a single
// total order forbids both sides reading the old value. The condition the
// sleeper re-checks must be written and read seq_cst (or be an RMW) too.
class TaskStateCell final {
  public:
    // A non-Blocked state always carries BlockReason::None.
    explicit constexpr TaskStateCell(TaskState s = TaskState::Ready,
                                     BlockReason r = BlockReason::None)
        : word_(pack(s, s == TaskState::Blocked ? r : BlockReason::None, 0)) {}
    TaskStateCell(const TaskStateCell&) = delete;
    TaskStateCell& operator=(const TaskStateCell&) = delete;

    // Ready -> Running: the scheduler picked it.
    Transition dispatch() { return apply(TransitionKind::Dispatch); }
    // Running -> Ready: it goes back to a run queue.
    Transition preempt() { return apply(TransitionKind::Preempt); }
    // Running -> Blocked{r}: published BEFORE the sleeper re-checks its
    // condition. r == None is Illegal.
    Transition block(BlockReason r) { return apply(TransitionKind::Block, r); }
    // Blocked -> Running: the re-check found the condition true; Illegal
    // when a waker already won (that waker now owns making it runnable).
    Transition unblock_self() { return apply(TransitionKind::UnblockSelf); }
    // Blocked -> Ready: exactly one waker wins and must make it runnable.
    Transition wake() { return apply(TransitionKind::Wake); }
    // Running -> Exited (terminal).
    Transition exit() { return apply(TransitionKind::Exit); }

    // Generic form of the named transitions (tests iterate it); `r` is used
    // by Block only. An Illegal result writes nothing.
    Transition apply(TransitionKind t, BlockReason r = BlockReason::None) {
        if (t == TransitionKind::Block && (r == BlockReason::None || !reason_valid(r))) {
            return Transition::Illegal;
        }
        const BlockReason next_reason = t == TransitionKind::Block ? r : BlockReason::None;
        // Relaxed: only the CAS's expected value; the seq_cst CAS orders, and
        // a stale value just fails it and reloads (seq_cst) for a re-judge.
        std::uint64_t cur = word_.load(std::memory_order_relaxed);
        for (;;) {
            if (!legal(state_of(cur), t)) return Transition::Illegal;
            const std::uint64_t want = pack(target(t), next_reason, count_of(cur) + 1u);
            // On failure cur is reloaded and legality re-judged: a racing
            // winner turns this call into Illegal, never into a second write.
            if (word_.compare_exchange_weak(cur, want, std::memory_order_seq_cst,
                                            std::memory_order_seq_cst)) {
                return Transition::Ok;
            }
        }
    }

    [[nodiscard]] TaskState state() const {
        return state_of(word_.load(std::memory_order_seq_cst));
    }
    // state() for the hart that runs the task, about the task it runs (or
    // has just switched away from). Relaxed is exact there: only the task
    // itself leaves Running (preempt, block, exit, all on that hart, so
    // coherence shows them in program order), and the one change another
    // hart may make meanwhile, a waker's Blocked -> Ready, never turns the
    // answer into or out of Running or Exited. The CASes stay seq_cst.
    [[nodiscard]] TaskState state_on_own_cpu() const {
        return state_of(word_.load(std::memory_order_relaxed));
    }
    [[nodiscard]] BlockReason reason() const {
        return reason_of(word_.load(std::memory_order_seq_cst));
    }
    // The whole word (state, reason, count): two equal reads mean no transition in between
    // (short of 2^32 of them). For monitors.
    [[nodiscard]] std::uint64_t word() const { return word_.load(std::memory_order_seq_cst); }
    [[nodiscard]] static constexpr TaskState state_of_word(std::uint64_t w) { return state_of(w); }
    // Number of successful transitions (wraps at 2^32); for tests and traces.
    [[nodiscard]] std::uint32_t transitions() const {
        return count_of(word_.load(std::memory_order_seq_cst));
    }

  private:
    static constexpr bool reason_valid(BlockReason r) {
        return static_cast<std::uint32_t>(r) < kBlockReasonCount;
    }
    static constexpr std::uint64_t pack(TaskState s, BlockReason r, std::uint32_t count) {
        return static_cast<std::uint64_t>(s) | static_cast<std::uint64_t>(r) << 8 |
               static_cast<std::uint64_t>(count) << 32;
    }
    static constexpr TaskState state_of(std::uint64_t w) {
        return static_cast<TaskState>(static_cast<std::uint32_t>(w & 0xffu));
    }
    static constexpr BlockReason reason_of(std::uint64_t w) {
        return static_cast<BlockReason>(static_cast<std::uint32_t>((w >> 8) & 0xffu));
    }
    static constexpr std::uint32_t count_of(std::uint64_t w) {
        return static_cast<std::uint32_t>(w >> 32);
    }

    std::atomic<std::uint64_t> word_;
};

[[nodiscard]] constexpr const char* task_state_name(TaskState s) {
    switch (s) {
    case TaskState::Ready:
        return "ready";
    case TaskState::Running:
        return "running";
    case TaskState::Blocked:
        return "blocked";
    case TaskState::Exited:
        return "exited";
    }
    return "invalid";
}

} // namespace sched
