// UART 16550 / SBI console sink with one lock per line; each line holds one writer's bytes.
#include "base/console.hpp"

#include "base/fault.hpp"
#include "base/spin_lock.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "sbi.hpp"

namespace k::console {

namespace {

volatile std::uint8_t* g_uart = nullptr; // guarded by g_lock after boot (hand_over)
volatile std::uint8_t* g_kept = nullptr; // guarded by g_lock: the UART while handed over
std::uint32_t g_shift = 0;
SpinLock g_lock{"console"};

void put_raw(char c) {
    if (!g_uart) {
        hal::sbi::legacy_putchar(c);
        return;
    }
    constexpr std::uint32_t kThr = 0, kLsr = 5;
    constexpr std::uint8_t kLsrThre = 1u << 5;
    while ((g_uart[kLsr << g_shift] & kLsrThre) == 0)
        hal::Cpu::relax();
    g_uart[kThr << g_shift] = static_cast<std::uint8_t>(c);
}

// The console's current line: open while its last byte written is not '\n', and then whose.
bool g_line_open = false;      // guarded by g_lock
Writer g_line_owner = kKernel; // guarded by g_lock

// Starts `writer`'s bytes on a line of their own: a line another writer left open is ended
// first (the caller holds g_lock).
void own_line(Writer writer) {
    if (g_line_open && g_line_owner != writer) put_raw('\n');
    g_line_open = false;
}

// Writes [text, text + len) and, when `newline`, a '\n' for `writer`, under the lock from the
// first byte to the last; the line is left open when the last byte is not '\n'.
// kfault=console-split leaves the lock half-way for 20 us (another writer's line then cuts this
// one in two: the gate's whole-line check must catch it).
void write_piece(const char* text, std::size_t len, bool newline, Writer writer) {
    std::size_t i = 0;
    if (fault::is(fault::Fault::ConsoleSplit)) {
        {
            SpinGuard guard(g_lock);
            own_line(writer);
            for (; i < len / 2; ++i)
                put_raw(text[i]);
        }
        const std::uint64_t until = time::now() + time::from_us(20);
        while (time::now() < until)
            hal::Cpu::relax();
    }
    SpinGuard guard(g_lock);
    if (i == 0) own_line(writer);
    for (; i < len; ++i)
        put_raw(text[i]);
    if (newline) put_raw('\n');
    if (newline || len > 0) {
        g_line_open = !newline && text[len - 1] != '\n';
        g_line_owner = writer;
    }
}

} // namespace

void init(std::uint64_t uart_base, std::uint32_t reg_shift) {
    g_uart = reinterpret_cast<volatile std::uint8_t*>(uart_base);
    g_shift = reg_shift;
}

void hand_over() {
    SpinGuard guard(g_lock);
    if (g_uart) {
        g_kept = g_uart;
        g_uart = nullptr;
    }
}

void take_back() {
    SpinGuard guard(g_lock);
    if (g_kept) {
        g_uart = g_kept;
        g_kept = nullptr;
    }
}

bool handed_over() {
    SpinGuard guard(g_lock);
    return g_kept != nullptr;
}

void set_uart_ier(std::uint8_t ier) {
    SpinGuard guard(g_lock);
    constexpr std::uint32_t kIer = 1;
    if (g_uart) g_uart[kIer << g_shift] = ier;
}

void write_line(const LineBuffer& line) {
    write_piece(line.data(), line.size(), true, kKernel);
}

void write_bytes(const char* text, std::size_t len, Writer writer) {
    write_piece(text, len, false, writer);
}

void write_line_forced(const LineBuffer& line) {
    // Another hart may have died holding the lock: wait 50 ms at most.
    hal::Cpu::irq_push();
    bool locked = false;
    if (!g_lock.held_by_me()) {
        std::uint64_t deadline = time::now() + time::from_us(50'000);
        while (!(locked = g_lock.try_lock()) && time::now() < deadline)
            hal::Cpu::relax();
    }
    if (g_line_open) put_raw('\n');
    for (std::size_t i = 0; i < line.size(); ++i)
        put_raw(line.data()[i]);
    put_raw('\n');
    g_line_open = false;
    if (locked) g_lock.unlock();
    hal::Cpu::irq_pop();
}

} // namespace k::console
