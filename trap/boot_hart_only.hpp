// Boot-hart-only ownership of a mutable kernel handle: every other hart that
// asks for it gets an error value, counted, and never the handle.
#pragma once

#include <atomic>
#include <cstdint>

namespace k::trap {

enum class [[nodiscard]] Access : std::uint32_t{Granted, NotBootHart};

// A cpu id no hart has: for callers whose identity could not be established.
inline constexpr std::uint32_t kUntrustedCpu = 0xffffffffu;

template <typename T>
class BootHartOnly final {
  public:
    explicit constexpr BootHartOnly(std::uint32_t boot_cpu) : boot_cpu_(boot_cpu) {}
    BootHartOnly(const BootHartOnly&) = delete;
    BootHartOnly& operator=(const BootHartOnly&) = delete;

    // Runs fn(T&) only when `cpu` is the boot hart; fails closed otherwise.
    template <typename Fn>
    Access with_mut(std::uint32_t cpu, Fn&& fn) {
        if (cpu != boot_cpu_) {
            denied_.fetch_add(1, std::memory_order_relaxed);
            return Access::NotBootHart;
        }
        fn(value_);
        return Access::Granted;
    }

    // Read-only view, for the trap path on any hart.
    const T& get() const { return value_; }
    std::uint64_t denied() const { return denied_.load(std::memory_order_relaxed); }

  private:
    T value_{};
    std::uint32_t boot_cpu_;
    std::atomic<std::uint64_t> denied_{0};
};

} // namespace k::trap
