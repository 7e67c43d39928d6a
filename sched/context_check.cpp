// The switch check's failure path (hal/riscv64/context_switch.S).
#include "base/panic.hpp"
#include "trap_frame.hpp"

extern "C" [[noreturn]] void hal_context_mismatch(const hal::Context* to) {
    (void)to;
    k::panic("context switch: the registers restored differ from those saved");
}
