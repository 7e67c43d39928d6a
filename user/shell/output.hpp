// The shell's output (RFC-0032): one buffer, written to the console endpoint as one
// kConsoleWrite request at each newline or when it is full, and the one-line messages the
// commands share.
#pragma once

#include <stdint.h>

namespace shell {

// True once the console endpoint arrived (user/shell/proto.hpp); before that, output goes
// through the kernel's console_write and there is no input.
extern bool g_console;

// Writes what is buffered (nothing when the buffer is empty).
void flush();
// Appends n bytes, a NUL-terminated string, or a signed decimal number.
void out(const char* s, uint64_t n);
void out(const char* s);
void out(int64_t v);

// "CMD: bad number 'WHAT' (...)" and "CMD: ErrorName", each one line.
void bad_number(const char* cmd, const char* what);
void error(const char* cmd, int64_t r);

// Writes v in decimal at dst[at], then a NUL (dst needs at + 11 bytes for v < 10^10).
void put_decimal(char* dst, uint64_t at, uint64_t v);

} // namespace shell
