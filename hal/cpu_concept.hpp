// The CPU HAL contract, checked against hal/riscv64 and the hal/host fake.
#pragma once

#include <concepts>
#include <cstdint>

namespace hal {

// Interrupt masking nests per hart: irq_push() disables and counts,
// irq_pop() re-enables only when the outermost push had them enabled.
// id() is the validated cpu id (base/percpu.hpp: tp hint, stack range,
// BOOT). lock_id() is the id a lock records as its owner: it trusts this
// hart's block exactly as far as irq_push() already does (the lock pushed
// first), so validating it again there would guard nothing. lock_ranks() is this hart's
// record of the ranked locks it holds (k::LockRank, base/spin_lock.hpp), a bit per level.
template <typename T>
concept CpuHal = requires(std::uint32_t n) {
    { T::irq_push() } -> std::same_as<void>;
    { T::irq_pop() } -> std::same_as<void>;
    { T::irq_enabled() } -> std::same_as<bool>;
    { T::irq_depth() } -> std::same_as<std::uint32_t>;
    { T::relax() } -> std::same_as<void>;
    { T::id() } -> std::same_as<std::uint32_t>;
    { T::lock_id() } -> std::same_as<std::uint32_t>;
    { T::lock_ranks() } -> std::same_as<std::uint32_t&>;
};

} // namespace hal
