// Tick <-> microsecond arithmetic that cannot overflow for any accepted timebase (portable).
#pragma once

#include <cstdint>

namespace k::time {

// The timebase range the kernel accepts from the DTB: 1 kHz .. 10 GHz.
inline constexpr std::uint64_t kMinTimebaseHz = 1'000;
inline constexpr std::uint64_t kMaxTimebaseHz = 10'000'000'000;
inline constexpr std::uint64_t kDefaultTimebaseHz = 10'000'000;
inline constexpr std::uint64_t kUsPerSecond = 1'000'000;
// The saturated value of every conversion: "later than anything representable".
inline constexpr std::uint64_t kForever = ~std::uint64_t{0};
// No timer deadline is armed further ahead than this (µs): every hart that armed its timer
// takes a timer interrupt, and so polls the watchdog, at least once per this interval.
inline constexpr std::uint64_t kMaxArmAheadUs = 1'000'000;

constexpr bool timebase_in_range(std::uint64_t hz) {
    return hz >= kMinTimebaseHz && hz <= kMaxTimebaseHz;
}

constexpr std::uint64_t add_saturating(std::uint64_t a, std::uint64_t b) {
    return a > kForever - b ? kForever : a + b;
}

// Ticks in `us` microseconds at `hz` Hz, rounded up (a wait is never shorter than asked).
// hz in kMinTimebaseHz..kMaxTimebaseHz; any us. Saturates at kForever; hz 0 gives kForever.
// Split at whole seconds so no product exceeds 1e6 * 1e10 < 2^64.
constexpr std::uint64_t ticks_from_us(std::uint64_t us, std::uint64_t hz) {
    if (hz == 0) return kForever;
    const std::uint64_t whole = us / kUsPerSecond;
    const std::uint64_t part = us % kUsPerSecond; // < 1e6
    const std::uint64_t frac = (part * hz + kUsPerSecond - 1) / kUsPerSecond;
    if (whole != 0 && whole > (kForever - frac) / hz) return kForever;
    return whole * hz + frac;
}

// Microseconds in `ticks` ticks at `hz` Hz, rounded down (elapsed time is never overstated).
// hz in kMinTimebaseHz..kMaxTimebaseHz; any ticks. Saturates at kForever; hz 0 gives kForever.
constexpr std::uint64_t us_from_ticks(std::uint64_t ticks, std::uint64_t hz) {
    if (hz == 0) return kForever;
    const std::uint64_t whole = ticks / hz;
    const std::uint64_t part = ticks % hz; // < 1e10
    const std::uint64_t frac = part * kUsPerSecond / hz;
    if (whole != 0 && whole > (kForever - frac) / kUsPerSecond) return kForever;
    return whole * kUsPerSecond + frac;
}

// The deadline to program when `deadline` is asked for at time `now`: unchanged when due or
// within `max_ahead` ticks, else now + max_ahead (saturating). All values in ticks.
constexpr std::uint64_t clamp_deadline(std::uint64_t now, std::uint64_t deadline,
                                       std::uint64_t max_ahead) {
    if (deadline <= now || deadline - now <= max_ahead) return deadline;
    return add_saturating(now, max_ahead);
}

} // namespace k::time
