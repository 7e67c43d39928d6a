// How a shell is started (RFC-0032): what its parent sends it, and the test-only verdict call of
// the scripted stand-in console (user/shellscript).
//
// The shell's slot 0 is a bootstrap endpoint from its parent (spawn's cap). Before it prints a
// prompt it receives two messages on it, each granting one capability:
//   label kShellConsole: the console endpoint (Send), which lands in kShellConsoleSlot;
//   label kShellHarts:   a HartControl capability, into kShellHartSlot (a message without a
//                        capability is fine: offline and online then say MissingRight/EmptySlot).
// The parent sends both before it starts the console's server, so only the shell receives them.
#pragma once

#include <stdint.h>

namespace shell {

inline constexpr uint64_t kShellConsole = 1;
inline constexpr uint64_t kShellHarts = 2;

inline constexpr uint64_t kShellBootSlot = 0;
inline constexpr uint64_t kShellConsoleSlot = 1;
inline constexpr uint64_t kShellHartSlot = 2;
inline constexpr uint64_t kShellJobSlot0 = 8; // task capabilities of `run`'s jobs: 8..8+kJobs-1
inline constexpr uint64_t kJobs = 16;

// The stand-in's verdict: a call with this label on the console endpoint, once the shell has
// ended, is answered with label = the expectations of its script that failed; then it exits.
inline constexpr uint64_t kScriptVerdict = 0x100;

// The shell's exit codes: 0 after `shutdown`, kExitConsole when the console went away or
// refused a read (it cannot read any more), kExitBoot when the bootstrap messages did not come.
inline constexpr int kExitConsole = 3;
inline constexpr int kExitBoot = 4;

} // namespace shell
