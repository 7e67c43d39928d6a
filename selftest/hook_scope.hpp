// A selftest's own jitter hook (base/jitter.hpp) in jitter::g_hook for a scope. The hook that
// was there before (the jitter mode's delays, or none) is put back after, and ours calls it
// first through chained(), so a `jitter=` boot keeps its delays while a test holds a window.
// One at a time: the ladder runs its tests one after another.
#pragma once

#include "base/jitter.hpp"

#include <atomic>

namespace k::selftest {

class HookScope final {
  public:
    explicit HookScope(jitter::Hook hook) {
        previous_.store(jitter::g_hook.load(std::memory_order_acquire), std::memory_order_release);
        jitter::g_hook.store(hook, std::memory_order_release);
    }
    ~HookScope() {
        jitter::g_hook.store(previous_.load(std::memory_order_acquire), std::memory_order_release);
    }
    HookScope(const HookScope&) = delete;
    HookScope& operator=(const HookScope&) = delete;

    // The hook that was there before ours; ours calls this first.
    static void chained(jitter::Site s, const void* subject) {
        if (const jitter::Hook h = previous_.load(std::memory_order_acquire)) h(s, subject);
    }

  private:
    static inline std::atomic<jitter::Hook> previous_{nullptr};
};

} // namespace k::selftest
