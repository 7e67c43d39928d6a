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

// Under Sv39 the backtrace reads a frame record only where this says the kernel's table maps
// it (the stacks' guard pages are not). Installed by the kernel's address space
// (mm/kernel_space.cpp) once its table is built; until then every address inside the image is
// read as is (translation is off).
using BacktraceCheck = bool (*)(std::uintptr_t va);
void set_backtrace_check(BacktraceCheck check);
bool panicking();

} // namespace k
