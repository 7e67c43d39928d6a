// What the TLB selftests (tlb_tests.cpp, tlb_hotplug_tests.cpp) map, write and wait for: a
// user page X that holds A, then, after an unmap and a map of a new frame, B.
#pragma once

#include <cstdint>

namespace k::selftest::tlb_probe {

inline constexpr std::uint64_t kX = 0x3e'0000'0000; // root entry 248: never the kernel's
inline constexpr std::uint64_t kA = 0xa1a1'a1a1'0000'000a, kB = 0xb2b2'b2b2'0000'000b;
inline constexpr std::uint32_t kWarmReads = 1000;
inline constexpr std::uint64_t kSeeUs = 1'000'000; // the reader must see B within this
inline constexpr std::uint32_t kHoldMax = 64;      // frames taken to keep the old one from X

} // namespace k::selftest::tlb_probe
