// What the boot task does once the harts are up: the selftest ladder (the
// default), the instruction-count benchmark, or the torture run. Chosen by
// `mode=selftest|bench|torture` in /chosen/bootargs.
#pragma once

namespace k {

enum class BootMode { Selftest, Bench, Torture };

// Reads `mode=` from the bootargs (nullptr: none). An unknown value keeps the
// selftests and returns false, so the caller can say so.
[[nodiscard]] bool parse_boot_mode(const char* bootargs, BootMode& out);

// Set once by the boot hart before any other hart starts.
void set_boot_mode(BootMode m);
BootMode boot_mode();
const char* boot_mode_name(BootMode m);

} // namespace k
