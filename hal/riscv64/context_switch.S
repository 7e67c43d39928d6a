/* void hal_context_switch(hal::Context* from, const hal::Context* to)
 * Saves the callee-saved registers of the running thread in *from and
 * resumes *to. tp is per-hart and never part of a thread's context. */
#include "asm_offsets.hpp"

    .text
    .globl hal_context_switch
    .align 2
hal_context_switch:
    sd ra, CTX_RA(a0)
    sd sp, CTX_SP(a0)
    sd s0, CTX_S(0)(a0)
    sd s1, CTX_S(1)(a0)
    sd s2, CTX_S(2)(a0)
    sd s3, CTX_S(3)(a0)
    sd s4, CTX_S(4)(a0)
    sd s5, CTX_S(5)(a0)
    sd s6, CTX_S(6)(a0)
    sd s7, CTX_S(7)(a0)
    sd s8, CTX_S(8)(a0)
    sd s9, CTX_S(9)(a0)
    sd s10, CTX_S(10)(a0)
    sd s11, CTX_S(11)(a0)

    ld ra, CTX_RA(a1)
    ld sp, CTX_SP(a1)
    ld s0, CTX_S(0)(a1)
    ld s1, CTX_S(1)(a1)
    ld s2, CTX_S(2)(a1)
    ld s3, CTX_S(3)(a1)
    ld s4, CTX_S(4)(a1)
    ld s5, CTX_S(5)(a1)
    ld s6, CTX_S(6)(a1)
    ld s7, CTX_S(7)(a1)
    ld s8, CTX_S(8)(a1)
    ld s9, CTX_S(9)(a1)
    ld s10, CTX_S(10)(a1)
    ld s11, CTX_S(11)(a1)
    ret

/* First activation of a new thread: s1 = entry, s2 = argument.
 * hal_thread_start(entry, arg) is C++ and never returns. */
    .globl hal_thread_trampoline
    .align 2
hal_thread_trampoline:
    mv a0, s1
    mv a1, s2
    mv s0, zero
    call hal_thread_start
1:  j 1b
