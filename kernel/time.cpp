// Timer programming and tick conversion.
#include "kernel/time.hpp"

#include "sbi.hpp"

namespace k::time {

namespace {
std::uint64_t g_hz = 10'000'000; // written once at boot, before secondaries
bool g_sstc = false;
} // namespace

void init(std::uint64_t timebase_hz, bool sstc) {
    if (timebase_hz) g_hz = timebase_hz;
    g_sstc = sstc;
}

std::uint64_t hz() {
    return g_hz;
}
bool has_sstc() {
    return g_sstc;
}

std::uint64_t from_us(std::uint64_t us) {
    return us * g_hz / 1'000'000;
}
std::uint64_t to_us(std::uint64_t ticks) {
    return ticks * 1'000'000 / g_hz;
}

void arm(std::uint64_t deadline) {
    if (g_sstc) {
        hal::csr::write_stimecmp(deadline);
    } else {
        (void)hal::sbi::set_timer(deadline); // SBI TIME cannot fail for a valid deadline
    }
}

void disarm() {
    arm(~std::uint64_t{0});
}

} // namespace k::time
