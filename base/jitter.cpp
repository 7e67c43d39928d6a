// The kernel's jitter hook: a shared splitmix64 stream and time-CSR delays.
#include "base/jitter.hpp"

#include "base/console.hpp"
#include "base/time.hpp"
#include "dtb/dtb.hpp"
#include "trap_frame.hpp"

namespace k::jitter {

namespace {

std::atomic<std::uint64_t> g_state{0};
std::atomic<std::uint64_t> g_seed{0};
std::atomic<std::uint64_t> g_delays{0};
std::atomic<std::uint32_t> g_max_us{20};

// splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
// generators", OOPSLA 2014): one atomic add per draw, so every hart draws
// from the same stream without a lock (a lock here would recurse).
std::uint64_t draw() {
    std::uint64_t z = g_state.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void delay(Site s, const void*) {
    if (s == Site::CurrentLookup || s == Site::CpuIdLookup) return;
    const std::uint64_t r = draw();
    // Lock edges are frequent: one in four. A handshake step: one in two.
    if ((r & (s == Site::LockRelease || s == Site::LockAcquire ? 3u : 1u)) != 0) return;
    const std::uint64_t us = 1 + (r >> 8) % g_max_us.load(std::memory_order_relaxed);
    g_delays.fetch_add(1, std::memory_order_relaxed);
    // Interrupts may be masked and a lock held: spin on the clock, not wfi.
    const std::uint64_t end = time::now() + time::from_us(us);
    while (time::now() < end) {
    }
}

} // namespace

void enable(std::uint64_t seed_value, std::uint32_t max_us) {
    if (seed_value == 0) seed_value = 0x6a697474u; // "jitt"
    if (max_us < 1) max_us = 1;
    if (max_us > 100) max_us = 100;
    g_seed.store(seed_value, std::memory_order_relaxed);
    g_state.store(seed_value, std::memory_order_relaxed);
    g_max_us.store(max_us, std::memory_order_relaxed);
    g_hook.store(&delay, std::memory_order_release);
    __atomic_store_n(&hal_switch_delay_on, 1u, __ATOMIC_RELEASE);
}

void disable() {
    Hook expected = &delay;
    (void)g_hook.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
    __atomic_store_n(&hal_switch_delay_on, 0u, __ATOMIC_RELEASE);
}

bool enabled() {
    return g_hook.load(std::memory_order_relaxed) == &delay;
}

std::uint64_t seed() {
    return g_seed.load(std::memory_order_relaxed);
}

std::uint64_t delays() {
    return g_delays.load(std::memory_order_relaxed);
}

bool init(const char* bootargs) {
    const char* v;
    std::size_t len;
    if (!bootargs || !dtb::bootarg_value(bootargs, "jitter", v, len)) return false;
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < len && i < 19; ++i) {
        if (v[i] < '0' || v[i] > '9') {
            println("KINIT: jitter: seed is not a decimal number; jitter stays off");
            return false;
        }
        s = s * 10 + static_cast<std::uint64_t>(v[i] - '0');
    }
    enable(s, 20);
    println("KINIT: jitter on, seed ", seed(), ": delays at lock releases and handshake steps");
    return true;
}

} // namespace k::jitter

// The save's delay (hal/riscv64/context_switch.S), between the register stores and the stamp.
extern "C" void hal_switch_delay() {
    k::jitter::point(k::jitter::Site::SwitchSave);
}
