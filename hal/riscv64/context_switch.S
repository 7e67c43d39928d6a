/* void* hal_context_switch(hal::Context* from, const hal::Context* to, void* carry)
 * Saves the callee-saved registers of the running thread in *from and
 * resumes *to, returning `carry` there (a2 -> a0), as Linux's switch_to
 * returns `last`: the thread that resumes learns what its switcher knew (the
 * scheduler passes its hart's block) without looking it up again. A new
 * thread gets it as the trampoline's a0. tp is per-hart and never part of a
 * thread's context.
 *
 * Switch check (on while hal_switch_check_on != 0): the save also stores
 * a position-weighted sum of the registers it saved, and the restore of a
 * context that has one recomputes it over the registers it loaded. Any
 * register the restore does not bring back exactly as saved (an offset
 * that differs between the halves, a slot overwritten in between, a
 * register left out) makes the sums differ, and the switch panics. */
#include "asm_offsets.hpp"

/* t1 = sum over ra, sp, s0..s11 of reg * 2^(13 - position) (mod 2^64). */
.macro REG_SUM
    mv t1, ra
    .irp reg, sp, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11
    slli t1, t1, 1
    add t1, t1, \reg
    .endr
.endm

    .data
    .globl hal_switch_check_on, hal_switch_delay_on
    .align 3                        /* one ld reads both flags */
hal_switch_check_on:
    .word 0
hal_switch_delay_on:
    .word 0

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
    lla t2, hal_switch_check_on
    ld t0, 0(t2)                    /* the check and the delay flag */
    bnez t0, .Lsave_extras
    sd zero, CTX_CHECKED(a0)
.Lstamp:
    ld t0, CTX_RUN(a0)              /* last: this save is the end of that run */
    sd t0, CTX_SAVED_RUN(a0)

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
    mv a0, a2
    ld t0, CTX_CHECKED(a1)
    bnez t0, 2f
    ret
2:  REG_SUM
    ld t0, CTX_CHECK(a1)
    bne t0, t1, 3f
    ret
3:  /* sp may be the register that came back wrong: panic on this hart's
     * emergency stack. */
    ld sp, HART_EMERGENCY_SP(tp)
    mv a0, a1
    mv s0, zero
    tail hal_context_mismatch

/* The save's rare half: the switch check's sum, and the jitter delay before
 * the stamp. The registers are in *a0 already, so s1-s3 and ra are free here
 * (the restore loads them from *a1); the delay runs on the old stack. */
.Lsave_extras:
    lwu t0, 0(t2)                   /* hal_switch_check_on */
    beqz t0, 4f
    REG_SUM
    sd t1, CTX_CHECK(a0)
    li t0, 1
4:  sd t0, CTX_CHECKED(a0)
    lwu t0, 4(t2)                   /* hal_switch_delay_on */
    beqz t0, .Lstamp
    mv s1, a0
    mv s2, a1
    mv s3, a2
    call hal_switch_delay
    mv a0, s1
    mv a1, s2
    mv a2, s3
    j .Lstamp

/* First activation of a new thread: s1 = entry, s2 = argument, a0 = the
 * switcher's carry. hal_thread_start(entry, arg, carry) is C++ and never
 * returns. */
    .globl hal_thread_trampoline
    .align 2
hal_thread_trampoline:
    mv a2, a0
    mv a0, s1
    mv a1, s2
    mv s0, zero
    call hal_thread_start
1:  j 1b
