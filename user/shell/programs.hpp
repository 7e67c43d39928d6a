// Starting images from the shell (RFC-0032): spawning with argv words, the foreground runs
// (`bench`, `fuzz`) and how a task's end is named.
#pragma once

#include <kestrel/user.hpp>

#include <stdint.h>

namespace shell {

// Spawns `image` with words [first, n) as its argv, its task capability into task_dst
// (kestrel::kNoCap: none). Returns the task id, or a negative kestrel error (BadLength: the
// words exceed kMaxArgBytes; NoImage: an empty or too long name; spawn's errors).
int64_t start(const char* image, char** words, uint64_t first, uint64_t n, uint64_t task_dst);
// "exited", "faulted", "killed" (or "ended").
const char* status_text(const kestrel::WaitStatus& st);
// Runs `image` with argv words [0, n) in the foreground: spawn, wait, say how it ended.
// Returns its exit code, or -1 when it did not start, could not be waited for or did not exit.
int64_t foreground(const char* cmd, const char* image, char** words, uint64_t n);

// `bench [ITERS]` and `fuzz SEED CALLS` (w: the line's n words, w[0] the command).
void cmd_bench(char** w, uint64_t n);
void cmd_fuzz(char** w, uint64_t n);

} // namespace shell
