// The page that the `hotplug` program and the kernel's `user threads across hart restart`
// selftest share (RFC-0027 invariant 1): the program maps it; the kernel reads and writes it
// through the program's space. Words of 64 bits.
#pragma once

#include <stdint.h>

namespace hotplug {

inline constexpr uint64_t kShared = 0x30000000; // the shared page's user address
inline constexpr uint64_t kThreads = 3;         // threads pinned to the hart, per process
inline constexpr uint64_t kRoundsAfter = 20;    // rounds each must run once the hart is back

// Words of the page.
inline constexpr uint64_t kPhase = 0;   // the kernel writes kBack once the hart is online again
inline constexpr uint64_t kStarted = 1; // threads that started
inline constexpr uint64_t kDone = 2;    // threads that finished their rounds
inline constexpr uint64_t kThread0 = 8; // thread t's words from kThread0 + t * kWords
inline constexpr uint64_t kBack = 1;

// A thread's words (from kThread0 + t * kWords).
inline constexpr uint64_t kRounds = 0;    // rounds run
inline constexpr uint64_t kAfter = 1;     // rounds run after it saw kBack
inline constexpr uint64_t kBadMemory = 2; // words of its own page that did not read back
inline constexpr uint64_t kBadCpu = 3;    // rounds that current_cpu() named another hart
inline constexpr uint64_t kWords = 4;

constexpr uint64_t word(uint64_t thread, uint64_t w) {
    return kThread0 + thread * kWords + w;
}

} // namespace hotplug
