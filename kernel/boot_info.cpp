// The platform description parsed once by the boot hart.
#include "kernel/boot_info.hpp"

namespace k {

namespace {
dtb::Platform g_platform{}; // written by the boot hart before secondaries start
std::uint32_t g_usable = 1;
const char* g_fallback = nullptr;
} // namespace

const char* platform_fallback() {
    return g_fallback;
}
void set_platform_fallback(const char* reason) {
    g_fallback = reason;
}

const dtb::Platform& platform() {
    return g_platform;
}
void set_platform(const dtb::Platform& p) {
    g_platform = p;
}
std::uint32_t usable_cpu_target() {
    return g_usable;
}
void set_usable_cpu_target(std::uint32_t n) {
    g_usable = n;
}

} // namespace k
