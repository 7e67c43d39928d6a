// The shell's input (RFC-0032): bytes read from the console endpoint (kConsoleRead) and the
// line editor. Printable bytes are echoed, backspace and DEL erase one, ^C drops the line,
// other control bytes are ignored, CR or LF ends the line and CR LF counts once.
#pragma once

#include <stdint.h>

namespace shell {

inline constexpr uint64_t kMaxLine = 127; // bytes of a command line (longer ones are refused whole)

// One edited line into `line` (kMaxLine + 1 bytes, NUL-terminated). Returns its length, -1 at
// the end of input (the console is gone or refused a read), -2 for a line longer than
// kMaxLine (read to its end, then dropped).
int64_t read_line(char* line);

} // namespace shell
