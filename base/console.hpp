// Line-atomic console: each println() reaches the UART as one unbroken line.
#pragma once

#include "base/format.hpp"

#include <cstddef>
#include <cstdint>

namespace k::console {

// Uses the DTB's ns16550a when there is one, else the SBI legacy console.
void init(std::uint64_t uart_base, std::uint32_t reg_shift);

void write_line(const LineBuffer& line);
// Writes [text, text + len) as one unbroken piece (no other line comes in between), bytes as
// they are (a user's console_write: newlines included, none added).
void write_bytes(const char* text, std::size_t len);
// Panic path: writes even if another hart holds the console lock (bounded wait).
void write_line_forced(const LineBuffer& line);

} // namespace k::console

namespace k {

template <typename... Args>
void println(const Args&... args) {
    LineBuffer line;
    (line.put(args), ...);
    console::write_line(line);
}

} // namespace k
