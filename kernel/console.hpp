// Line-atomic console: each println() reaches the UART as one unbroken line.
#pragma once

#include "kernel/format.hpp"

#include <cstdint>

namespace k::console {

// Uses the DTB's ns16550a when there is one, else the SBI legacy console.
void init(std::uint64_t uart_base, std::uint32_t reg_shift);

void write_line(const LineBuffer& line);
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
