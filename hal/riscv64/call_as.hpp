// Calling kernel code as a hart whose identity is broken (hal/riscv64/call_as.S).
#pragma once

#include <cstdint>

extern "C" {
// Runs fn(arg) with tp = `tp` and sp = `stack_top` rounded down to 16 bytes, then puts the
// caller's tp and sp back. For selftests that must show what the kernel does for a caller
// with a poisoned tp on a stack no hart has registered (the cpu-id BOOT fallback). The
// caller masks interrupts first (a trap would trust tp) and gives fn a stack large enough
// for what it calls; fn must not switch tasks or fault.
void hal_call_as(std::uintptr_t tp, std::uintptr_t stack_top, void (*fn)(void*), void* arg);
}
