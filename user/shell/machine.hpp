// The shell's commands on the machine (RFC-0032): `ps` (processes and their threads), `harts`
// (each hart's state and counters), `offline N` and `online N` (through the HartControl
// capability in kShellHartSlot, user/shell/proto.hpp).
#pragma once

#include <stdint.h>

namespace shell {

extern bool g_harts;   // the HartControl capability arrived (set by the bootstrap)
extern int64_t g_cpus; // harts this machine has (hart_info's count; set at startup)

void cmd_ps();
void cmd_harts();
// `offline N` (online false) or `online N` (online true); w: the line's n words.
void cmd_hart(const char* cmd, char** w, uint64_t n, bool online);

} // namespace shell
