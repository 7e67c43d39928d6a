// The lost-wake-up monitor's judgement, portable (the kernel feeds it samples of every task
// slot; host tests feed it tables). A sleeper is lost when it stays Blocked in one and the
// same block (the same state word: state and transition count) while the condition it waits
// for holds, for longer than a grace that covers a waker between setting the condition and
// its wake. Any wake, stale or not, changes the word and clears the suspicion.
#pragma once

#include <cstdint>

namespace sched {

// One look at one task slot.
struct SleeperSample {
    std::uint64_t word; // the task's state word (TaskStateCell::word())
    bool blocked;       // the word says Blocked
    bool holds;         // its wait's condition held when looked at (read between two equal words)
};

// Tracks up to N slots; owned by one scanner at a time (plain fields).
template <std::uint32_t N>
class LostWakeTracker final {
  public:
    // Records `s` for `slot` (< N, else ignored) at `now` (any monotonic unit). Returns how
    // long the same block has been seen with its condition holding, once that reaches
    // `grace` (> 0); 0 otherwise.
    [[nodiscard]] std::uint64_t observe(std::uint32_t slot, const SleeperSample& s,
                                        std::uint64_t now, std::uint64_t grace) {
        if (slot >= N) return 0;
        Entry& e = entries_[slot];
        if (!s.blocked || !s.holds) {
            e.since = 0;
            return 0;
        }
        if (e.since == 0 || e.word != s.word) {
            e.word = s.word;
            e.since = now + 1; // 0 means "not suspected"
            return 0;
        }
        const std::uint64_t held = now + 1 - e.since;
        return held >= grace ? held : 0;
    }

    [[nodiscard]] bool suspected(std::uint32_t slot) const {
        return slot < N && entries_[slot].since != 0;
    }

  private:
    struct Entry {
        std::uint64_t word = 0;
        std::uint64_t since = 0; // first seen holding, plus one; 0: not suspected
    };
    Entry entries_[N];
};

} // namespace sched
