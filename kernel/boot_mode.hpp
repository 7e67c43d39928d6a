// What the boot task does once the harts are up: the selftest ladder (the
// default), the instruction-count benchmark, the torture run, or the shell (init
// starts the console's server and the shell, RFC-0032). Chosen by
// `mode=selftest|bench|torture|shell` in /chosen/bootargs.
#pragma once

namespace k {

enum class BootMode { Selftest, Bench, Torture, Shell };

// Reads `mode=` from the bootargs (nullptr: none). An unknown value keeps the
// selftests and returns false, so the caller can say so.
[[nodiscard]] bool parse_boot_mode(const char* bootargs, BootMode& out);

// Set once by the boot hart before any other hart starts.
void set_boot_mode(BootMode m);
BootMode boot_mode();
const char* boot_mode_name(BootMode m);

} // namespace k
