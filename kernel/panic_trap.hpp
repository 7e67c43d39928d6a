// Panic entry points that carry trap facts.
#pragma once

#include <cstdint>

namespace k {

struct PanicFacts {
    std::uint64_t cause = 0;
    std::uint64_t sepc = 0;
    std::uint64_t stval = 0;
    std::uintptr_t fp = 0; // start of the backtrace
};

[[noreturn]] void panic_trap(const char* reason, const PanicFacts& facts);
bool panicking();

} // namespace k
