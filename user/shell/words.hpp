// A command line's words and numbers (RFC-0032).
#pragma once

#include <stdint.h>

namespace shell {

inline constexpr uint64_t kMaxWords = 8; // words of a command line

// Splits `line` in place at spaces into `words` (kMaxWords entries). Returns the word count,
// or kMaxWords + 1 for too many.
uint64_t split(char* line, char** words);
// True when the NUL-terminated strings a and b are equal.
bool same(const char* a, const char* b);
// A decimal number of 1..9 digits (no sign): the only numbers a command takes. False (v
// unspecified) for anything else.
bool number(const char* s, uint64_t& v);

} // namespace shell
