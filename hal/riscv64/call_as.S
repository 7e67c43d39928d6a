/* void hal_call_as(uintptr_t tp, uintptr_t stack_top, void (*fn)(void*), void* arg)
 * Runs fn(arg) with the given tp and with sp at stack_top (rounded down to 16), then
 * restores the caller's tp and sp. s0 and s1 carry them across the call (callee-saved, so
 * fn keeps them); the caller's s0, s1 and ra are saved on its own stack. */
    .text
    .globl hal_call_as
    .align 2
hal_call_as:
    addi sp, sp, -32
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    mv s0, tp
    mv s1, sp
    mv tp, a0
    andi a1, a1, -16
    mv sp, a1
    mv a0, a3
    jalr a2
    mv sp, s1
    mv tp, s0
    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    addi sp, sp, 32
    ret
