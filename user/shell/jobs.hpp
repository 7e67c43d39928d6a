// The shell's jobs (RFC-0032): what `run` started in the background, each with its task
// capability in slot kShellJobSlot0 + j (user/shell/proto.hpp), so `kill` and `jobs` work on it.
#pragma once

#include <stdint.h>

namespace shell {

// Reaps the jobs that ended since the last prompt, a line each.
void reap_ended();
// Kills and reaps every job still running (the shell is ending: nothing is left behind).
void end_all_jobs();

// `run IMAGE ARGS...`, `jobs`, `kill ID | kill %J` (w: the line's n words, w[0] the command).
void cmd_run(char** w, uint64_t n);
void cmd_jobs();
void cmd_kill(char** w, uint64_t n);

} // namespace shell
