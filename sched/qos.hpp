// Quality-of-service classes of the scheduler, lowest first.
#pragma once

#include <cstdint>

namespace sched {

// Pick order is highest first: PerfBurst > Interactive > Normal > Idle.
enum class Qos : std::uint32_t { Idle, Normal, Interactive, PerfBurst };

inline constexpr std::uint32_t kQosCount = 4;

[[nodiscard]] constexpr std::uint32_t qos_index(Qos q) {
    return static_cast<std::uint32_t>(q);
}

[[nodiscard]] constexpr bool qos_valid(Qos q) {
    return qos_index(q) < kQosCount;
}

// Caller guarantees i < kQosCount.
[[nodiscard]] constexpr Qos qos_from_index(std::uint32_t i) {
    return static_cast<Qos>(i);
}

[[nodiscard]] constexpr const char* qos_name(Qos q) {
    switch (q) {
    case Qos::Idle:
        return "idle";
    case Qos::Normal:
        return "normal";
    case Qos::Interactive:
        return "interactive";
    case Qos::PerfBurst:
        return "perf-burst";
    }
    return "invalid";
}

} // namespace sched
