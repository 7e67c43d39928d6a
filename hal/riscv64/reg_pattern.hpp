// Callee-saved register pattern check (hal/riscv64/reg_pattern.S).
#pragma once

#include <cstdint>

extern "C" {
// Fills s0..s11 with seed + k * 0x0101010101010101, calls fn(arg) and returns
// a mask of the s registers (bit k = s_k) that lost their value across it.
std::uint64_t hal_call_with_pattern(std::uint64_t seed, void (*fn)(void*), void* arg);
}
