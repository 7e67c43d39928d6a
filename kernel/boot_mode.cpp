// Parsing `mode=` (kernel/boot_mode.hpp).
#include "kernel/boot_mode.hpp"

#include <cstddef>

#include "dtb/dtb.hpp"

namespace k {

namespace {

BootMode g_mode = BootMode::Selftest; // written by the boot hart before secondaries start

struct Name {
    BootMode mode;
    const char* name;
};
constexpr Name kNames[] = {
    {BootMode::Selftest, "selftest"},
    {BootMode::Bench, "bench"},
    {BootMode::Torture, "torture"},
    {BootMode::Shell, "shell"},
};

} // namespace

bool parse_boot_mode(const char* bootargs, BootMode& out) {
    out = BootMode::Selftest;
    const char* v;
    std::size_t len;
    if (!bootargs || !dtb::bootarg_value(bootargs, "mode", v, len)) return true;
    for (const Name& n : kNames) {
        if (dtb::bootarg_value_is(v, len, n.name)) {
            out = n.mode;
            return true;
        }
    }
    return false;
}

void set_boot_mode(BootMode m) {
    g_mode = m;
}

BootMode boot_mode() {
    return g_mode;
}

const char* boot_mode_name(BootMode m) {
    for (const Name& n : kNames)
        if (n.mode == m) return n.name;
    return "?";
}

} // namespace k
