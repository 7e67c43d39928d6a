// The shell's command table (RFC-0032): one line, split into words, to the command it names.
#pragma once

namespace shell {

// Runs one command line (edited in place). False for `shutdown`, true otherwise: an unknown
// command, too many words or a command's bad input gets a one-line message.
bool run_line(char* line);

} // namespace shell
