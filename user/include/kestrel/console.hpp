// The console protocol: what a client says to the user-space console driver (issue 20), over
// an endpoint the driver receives on. Freestanding, like syscall.hpp; kernel code never sees it.
//
// Requests are `call`s; the tag's label names the operation, and every byte string travels
// packed into message words little-endian (byte i of the string is bits 8*(i%8).. of word
// i/8), starting at the word each operation names.
//
//   read   label kConsoleRead, MR0 = the most bytes wanted (1..kConsoleReadMax). The reply
//          comes once at least one byte has arrived (a line editor may hold bytes until a
//          newline): label = n, the bytes in words 0.. of the reply (tag length = words used).
//   write  label kConsoleWrite, MR0 = n (0..kConsoleWriteMax), the bytes in words 1..; the
//          driver writes them as one unbroken piece of a line. Reply label = n written.
//
// An unknown label, or a count outside its range, is answered with label kConsoleRefused and
// nothing read or written: a bad request never costs the driver its state or a byte of input.
#pragma once

#include <stdint.h>

#include "syscall.hpp"

namespace kestrel {

inline constexpr uint64_t kConsoleRead = 1;
inline constexpr uint64_t kConsoleWrite = 2;
inline constexpr uint64_t kConsoleRefused = 0xfff; // a reply label no count can take

// Bytes per read reply: every word a message can carry.
inline constexpr uint64_t kConsoleReadMax = kMaxIpcLength * 8;
// Bytes per write request: the words after MR0.
inline constexpr uint64_t kConsoleWriteMax = (kMaxIpcLength - 1) * 8;

// Words that `bytes` bytes take.
constexpr uint64_t console_words(uint64_t bytes) {
    return (bytes + 7) / 8;
}

// Packs `n` bytes of `src` into `words` (console_words(n) of them, the last zero-padded).
inline void console_pack(const char* src, uint64_t n, uint64_t* words) {
    for (uint64_t w = 0; w < console_words(n); ++w)
        words[w] = 0;
    for (uint64_t i = 0; i < n; ++i)
        words[i / 8] |= static_cast<uint64_t>(static_cast<uint8_t>(src[i])) << (8 * (i % 8));
}

// Unpacks `n` bytes from `words` into `dst`.
inline void console_unpack(const uint64_t* words, uint64_t n, char* dst) {
    for (uint64_t i = 0; i < n; ++i)
        dst[i] = static_cast<char>((words[i / 8] >> (8 * (i % 8))) & 0xff);
}

} // namespace kestrel
