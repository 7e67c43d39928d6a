// Time arithmetic: conversions over the whole accepted timebase range, saturation, clamping.
#include "base/time_math.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using namespace k::time;

namespace {

constexpr std::uint64_t kHzs[] = {kMinTimebaseHz, 32'768,        1'000'000,     10'000'000,
                                  24'000'000,     1'000'000'007, kMaxTimebaseHz};

// Reference results in 128-bit arithmetic.
__extension__ using U128 = unsigned __int128;
std::uint64_t ref_ticks(std::uint64_t us, std::uint64_t hz) {
    const U128 t = (U128{us} * hz + kUsPerSecond - 1) / kUsPerSecond;
    return t > kForever ? kForever : static_cast<std::uint64_t>(t);
}
std::uint64_t ref_us(std::uint64_t ticks, std::uint64_t hz) {
    const U128 u = U128{ticks} * kUsPerSecond / hz;
    return u > kForever ? kForever : static_cast<std::uint64_t>(u);
}

} // namespace

TEST_CASE("timebase range is 1 kHz .. 10 GHz", "[time]") {
    CHECK_FALSE(timebase_in_range(0));
    CHECK_FALSE(timebase_in_range(999));
    CHECK(timebase_in_range(1'000));
    CHECK(timebase_in_range(10'000'000));
    CHECK(timebase_in_range(10'000'000'000));
    CHECK_FALSE(timebase_in_range(10'000'000'001));
    // The field's two-cell timebase <10000000 10000000> read as one u64.
    CHECK_FALSE(timebase_in_range(std::uint64_t{10'000'000} << 32 | 10'000'000));
}

TEST_CASE("ticks_from_us matches 128-bit arithmetic over the whole range", "[time]") {
    const std::uint64_t uss[] = {0,          1,          499,          500,          999'999,
                                 1'000'000,  1'000'001,  10'000,       60'000'000,   5'000'000,
                                 1ull << 40, 1ull << 52, kForever / 3, kForever - 1, kForever};
    for (std::uint64_t hz : kHzs) {
        for (std::uint64_t us : uss) {
            INFO("hz " << hz << " us " << us);
            CHECK(ticks_from_us(us, hz) == ref_ticks(us, hz));
        }
    }
}

TEST_CASE("us_from_ticks matches 128-bit arithmetic over the whole range", "[time]") {
    const std::uint64_t ticks[] = {
        0,          1,          999,        1'000,        9'999'999,    10'000'000,
        1ull << 33, 1ull << 44, 1ull << 54, kForever / 7, kForever - 1, kForever};
    for (std::uint64_t hz : kHzs) {
        for (std::uint64_t t : ticks) {
            INFO("hz " << hz << " ticks " << t);
            CHECK(us_from_ticks(t, hz) == ref_us(t, hz));
        }
    }
}

TEST_CASE("the naive product would overflow where the split one does not", "[time]") {
    // 60 s at 10 GHz: the watchdog's bound at the fastest accepted timebase.
    CHECK(ticks_from_us(60'000'000, kMaxTimebaseHz) == 600'000'000'000);
    // 1e10 µs at 10 GHz: us * hz alone (1e20) wraps a u64; the result (1e14) does not.
    CHECK(ticks_from_us(10'000'000'000, kMaxTimebaseHz) == 100'000'000'000'000);
    // 2^50 ticks at 1 kHz: ticks * 1e6 alone wraps; the result (about 1.1e18 µs) does not.
    constexpr std::uint64_t t = 1ull << 50;
    CHECK(us_from_ticks(t, kMinTimebaseHz) == t / 1'000 * 1'000'000 + t % 1'000 * 1'000);
    // 2^63 ticks at 1 kHz is more µs than a u64 holds: saturated, not wrapped.
    CHECK(us_from_ticks(1ull << 63, kMinTimebaseHz) == kForever);
    // A whole uptime at 10 GHz converts without wrapping.
    CHECK(us_from_ticks(kForever, kMaxTimebaseHz) == kForever / 10'000);
}

TEST_CASE("round trips lose at most one tick, never gain time", "[time]") {
    for (std::uint64_t hz : kHzs) {
        for (std::uint64_t us : {1ull, 7ull, 500ull, 10'000ull, 123'456'789ull}) {
            INFO("hz " << hz << " us " << us);
            const std::uint64_t t = ticks_from_us(us, hz);
            CHECK(t >= 1); // rounded up: a nonzero wait is at least one tick
            CHECK(us_from_ticks(t, hz) >= us - 1); // and not much longer than asked for
        }
    }
}

TEST_CASE("saturation: hz 0 and huge values give kForever", "[time]") {
    CHECK(ticks_from_us(1, 0) == kForever);
    CHECK(us_from_ticks(1, 0) == kForever);
    CHECK(ticks_from_us(kForever, kMaxTimebaseHz) == kForever);
    CHECK(add_saturating(kForever - 1, 2) == kForever);
    CHECK(add_saturating(5, 6) == 11);
}

TEST_CASE("clamp_deadline never arms further than the bound", "[time]") {
    const std::uint64_t bound = ticks_from_us(kMaxArmAheadUs, 10'000'000);
    CHECK(clamp_deadline(1'000, 500, bound) == 500); // already due
    CHECK(clamp_deadline(1'000, 1'000 + bound, bound) == 1'000 + bound);
    CHECK(clamp_deadline(1'000, 1'001 + bound, bound) == 1'000 + bound);
    CHECK(clamp_deadline(1'000, kForever, bound) == 1'000 + bound); // a wrapped/saturated deadline
    CHECK(clamp_deadline(kForever - 3, kForever, bound) == kForever);
}
