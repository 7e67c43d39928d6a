// Line-atomic console: each println() reaches the UART as one unbroken line, and no console
// line ever holds two writers' bytes (RFC-0031 "The console rule").
#pragma once

#include "base/format.hpp"

#include <cstddef>
#include <cstdint>

namespace k::console {

// Uses the DTB's ns16550a when there is one, else the SBI legacy console.
void init(std::uint64_t uart_base, std::uint32_t reg_shift);

// Who writes: kKernel, or a user thread (its record's address). A writer that leaves a line
// open (its last byte not '\n') owns the console's current line until it ends it; a line of
// any other writer, the kernel's included, first ends the open one with a '\n'. A user line
// written in pieces can so be cut at a piece's end (its rest starts a line of its own); it is
// never mixed with another writer's bytes.
using Writer = std::uintptr_t;
inline constexpr Writer kKernel = 0;

void write_line(const LineBuffer& line); // as kKernel, on a line of its own
// Writes [text, text + len) for `writer` as one unbroken piece (no other writer's byte comes
// in between), bytes as they are (a user's console_write: newlines included, none added).
void write_bytes(const char* text, std::size_t len, Writer writer);
// The UART handed to a user-space driver (issue 20, RFC-0031 "The console rule"): until
// take_back(), every line goes through the SBI legacy console (OpenSBI 1.1 has no DBCN), so the
// kernel never touches the UART's registers while the driver owns them; lines stay whole
// because both the kernel's and the driver's writes still pass this console's lock. Both are
// idempotent; handed_over() says which holds.
void hand_over();
void take_back();
bool handed_over();
// The UART's interrupt-enable register (boot only, before any driver: the irq room's boot
// leftover fixture, RFC-0031 "Pending at boot"). Nothing when there is no UART.
void set_uart_ier(std::uint8_t ier);

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
