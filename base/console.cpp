// UART 16550 / SBI console sink with one lock per line.
#include "base/console.hpp"

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

void emit(const LineBuffer& line) {
    for (std::size_t i = 0; i < line.size(); ++i)
        put_raw(line.data()[i]);
    put_raw('\n');
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
    SpinGuard guard(g_lock);
    emit(line);
}

void write_bytes(const char* text, std::size_t len) {
    SpinGuard guard(g_lock);
    for (std::size_t i = 0; i < len; ++i)
        put_raw(text[i]);
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
    emit(line);
    if (locked) g_lock.unlock();
    hal::Cpu::irq_pop();
}

} // namespace k::console
