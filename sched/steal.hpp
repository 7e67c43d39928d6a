// Bounds of work stealing: the request check and the once-per-tick gate.
#pragma once

#include "sched/qos.hpp"

#include <cstdint>

namespace sched {

// At most this many tasks move per steal attempt.
inline constexpr std::uint32_t kStealMaxPerAttempt = 2;

struct StealRequest {
    std::uint32_t max_tasks; // <= kStealMaxPerAttempt
    Qos qos_limit;           // take only classes <= this
};

enum class [[nodiscard]] StealCheck : std::uint32_t{Ok, AboveBound, HigherQos};

// Run before anything moves: the thief may not ask for more than the bound,
// nor for a class above its own limit.
[[nodiscard]] constexpr StealCheck check_steal(const StealRequest& req, Qos thief_limit) {
    if (req.max_tasks > kStealMaxPerAttempt) return StealCheck::AboveBound;
    if (qos_index(req.qos_limit) > qos_index(thief_limit)) return StealCheck::HigherQos;
    return StealCheck::Ok;
}

[[nodiscard]] constexpr const char* steal_check_name(StealCheck c) {
    switch (c) {
    case StealCheck::Ok:
        return "ok";
    case StealCheck::AboveBound:
        return "above-bound";
    case StealCheck::HigherQos:
        return "higher-qos";
    }
    return "invalid";
}

// At most one steal attempt per tick per hart. Owned and used by its hart
// only (not shared), so plain fields suffice.
class StealGate final {
  public:
    constexpr StealGate() = default;
    StealGate(const StealGate&) = delete;
    StealGate& operator=(const StealGate&) = delete;

    // True when `tick` is later than the last attempt's tick (or first ever).
    [[nodiscard]] bool try_begin(std::uint64_t tick) {
        if (started_ && tick <= last_tick_) {
            ++denied_;
            return false;
        }
        started_ = true;
        last_tick_ = tick;
        ++attempts_;
        return true;
    }

    [[nodiscard]] std::uint64_t attempts() const { return attempts_; }
    [[nodiscard]] std::uint64_t denied() const { return denied_; }

  private:
    std::uint64_t last_tick_ = 0;
    std::uint64_t attempts_ = 0;
    std::uint64_t denied_ = 0;
    bool started_ = false;
};

} // namespace sched
