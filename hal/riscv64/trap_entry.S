/* Supervisor trap vector. sscratch is 0 while the kernel runs and holds the
 * hart head (the kernel's tp) while U-mode runs, so one csrrw of tp tells a
 * trap from U-mode from one taken in the kernel.
 *
 * From the kernel: a trap whose frame would cross the running stack's guard
 * band switches to the hart's emergency stack and panics. The check comes
 * before the first store to the stack: below the band lies an unmapped guard
 * page, and a trap taken there (the overflow's own page fault) would fault
 * again on every store, for ever. t0 waits in the hart head meanwhile.
 *
 * From U-mode: the frame goes at the top of the task's kernel stack
 * (HART_USER_KSP, written by hal_return_to_user on whichever hart the task
 * last left for U-mode), so it always fits; hal_user_trap handles it and the
 * task leaves through hal_return_to_user again.
 *
 * Frame check (a trap from the kernel, while hal_switch_check_on != 0: every boot but the
 * benchmark's): entry compares a position-weighted sum of the registers it saved with the same
 * sum over the slots it stored them in, and exit compares the sum over the slots it loads with
 * the sum over the registers it loaded. A save or restore that puts any register in another
 * slot, or leaves one out, panics at the first trap, on the emergency stack. Both paths use
 * SAVE_COMMON and RESTORE_COMMON, so the U-mode path's shared halves are checked here too. The
 * handler may change the frame in between (fixups, syscalls): each half is checked alone. */
#include "asm_offsets.hpp"

#define SSTATUS_SIE (1 << 1)
#define SSTATUS_SUM (1 << 18)

/* The registers both trap paths save and restore in the same slots: all but
 * sp, tp and t0, which each path handles itself. */
.macro SAVE_COMMON
    sd ra, TF_X(1)(sp)
    sd gp, TF_X(3)(sp)
    sd t1, TF_X(6)(sp)
    sd t2, TF_X(7)(sp)
    sd s0, TF_X(8)(sp)
    sd s1, TF_X(9)(sp)
    sd a0, TF_X(10)(sp)
    sd a1, TF_X(11)(sp)
    sd a2, TF_X(12)(sp)
    sd a3, TF_X(13)(sp)
    sd a4, TF_X(14)(sp)
    sd a5, TF_X(15)(sp)
    sd a6, TF_X(16)(sp)
    sd a7, TF_X(17)(sp)
    sd s2, TF_X(18)(sp)
    sd s3, TF_X(19)(sp)
    sd s4, TF_X(20)(sp)
    sd s5, TF_X(21)(sp)
    sd s6, TF_X(22)(sp)
    sd s7, TF_X(23)(sp)
    sd s8, TF_X(24)(sp)
    sd s9, TF_X(25)(sp)
    sd s10, TF_X(26)(sp)
    sd s11, TF_X(27)(sp)
    sd t3, TF_X(28)(sp)
    sd t4, TF_X(29)(sp)
    sd t5, TF_X(30)(sp)
    sd t6, TF_X(31)(sp)
.endm
.macro RESTORE_COMMON
    ld ra, TF_X(1)(sp)
    ld gp, TF_X(3)(sp)
    ld t1, TF_X(6)(sp)
    ld t2, TF_X(7)(sp)
    ld s0, TF_X(8)(sp)
    ld s1, TF_X(9)(sp)
    ld a0, TF_X(10)(sp)
    ld a1, TF_X(11)(sp)
    ld a2, TF_X(12)(sp)
    ld a3, TF_X(13)(sp)
    ld a4, TF_X(14)(sp)
    ld a5, TF_X(15)(sp)
    ld a6, TF_X(16)(sp)
    ld a7, TF_X(17)(sp)
    ld s2, TF_X(18)(sp)
    ld s3, TF_X(19)(sp)
    ld s4, TF_X(20)(sp)
    ld s5, TF_X(21)(sp)
    ld s6, TF_X(22)(sp)
    ld s7, TF_X(23)(sp)
    ld s8, TF_X(24)(sp)
    ld s9, TF_X(25)(sp)
    ld s10, TF_X(26)(sp)
    ld s11, TF_X(27)(sp)
    ld t3, TF_X(28)(sp)
    ld t4, TF_X(29)(sp)
    ld t5, TF_X(30)(sp)
    ld t6, TF_X(31)(sp)
.endm
/* The frame check's sums, over every register the frame holds but sp and tp, in one order:
 * t1, ra, gp, t0, t2, t3-t6, s0, s1, s2-s11, a0-a7 (x6, x1, x3, x5, x7, x28-x31, x8, x9,
 * x18-x27, x10-x17). TRAP_REG_SUM: t1 = the sum over the registers (t1's own value first). */
.macro TRAP_REG_SUM
    .irp reg, ra, gp, t0, t2, t3, t4, t5, t6, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, a0, a1, a2, a3, a4, a5, a6, a7
    slli t1, t1, 1
    add t1, t1, \reg
    .endr
.endm
/* \acc = the same sum over the frame's slots; \tmp is clobbered. */
.macro TRAP_SLOT_SUM acc, tmp
    ld \acc, TF_X(6)(sp)
    .irp n, 1, 3, 5, 7, 28, 29, 30, 31, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 10, 11, 12, 13, 14, 15, 16, 17
    ld \tmp, TF_X(\n)(sp)
    slli \acc, \acc, 1
    add \acc, \acc, \tmp
    .endr
.endm

/* The registers a fast call's short path keeps in the frame besides t0, t1 and tp: those a C
 * call may clobber, and s0 (zeroed for the call, so a backtrace ends there). \op: sd or ld. */
.macro FAST_SAVED op
    .irp n, 1, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31
    \op x\n, TF_X(\n)(sp)
    .endr
.endm

/* The trap CSRs into the frame, in both paths; t0 is free. With an argument, sepc also goes
 * to that slot (the kernel path's frame record, whose return address is the trapped pc). */
.macro SAVE_TRAP_CSRS sepc_copy=
    csrr t0, sepc
    sd t0, TF_SEPC(sp)
    .ifnb \sepc_copy
    sd t0, \sepc_copy(sp)
    .endif
    csrr t0, sstatus
    sd t0, TF_SSTATUS(sp)
    csrr t0, scause
    sd t0, TF_SCAUSE(sp)
    csrr t0, stval
    sd t0, TF_STVAL(sp)
.endm

    .text
    .globl hal_trap_vector
    .align 4
hal_trap_vector:
    csrrw tp, sscratch, tp
    bnez tp, .Lfrom_user
    csrrw tp, sscratch, tp          /* back to the kernel tp; sscratch = 0 again */

    sd t0, HART_TRAP_T0(tp)
    addi sp, sp, -TF_SIZE
    ld t0, HART_STACK_LO(tp)
    bltu sp, t0, .Loverflow
    ld t0, HART_TRAP_T0(tp)
    sd t0, TF_X(5)(sp)

    sd tp, TF_X(4)(sp)
    SAVE_COMMON
    sd t2, HART_TRAP_T2(tp)         /* t2 as it came in, not as its slot says */
    lla t2, hal_switch_check_on
    lwu t2, 0(t2)
    beqz t2, 1f
    ld t2, HART_TRAP_T2(tp)         /* every register as it came in again */
    TRAP_REG_SUM
    TRAP_SLOT_SUM t0, t2
    bne t0, t1, .Lsaved_wrong
1:  addi t0, sp, TF_SIZE
    sd t0, TF_X(2)(sp)
    SAVE_TRAP_CSRS TF_FRAME_RA
    /* SUM off while the trap is handled (the frame keeps the trapped value, restored at the
     * sret): an interrupt inside hal_user_copy that switches to another task must not hand
     * that task SUM = 1 (RFC-0027 invariant 4). */
    li t0, SSTATUS_SUM
    csrc sstatus, t0
    sd s0, TF_FRAME_FP(sp)
    addi s0, sp, TF_SIZE

    mv a0, sp
    call hal_trap_dispatch

    /* A preempted thread may resume on another hart: tp stays the current
     * hart's, it is never restored from the frame. */
    ld t0, TF_SEPC(sp)
    csrw sepc, t0
    ld t0, TF_SSTATUS(sp)
    csrw sstatus, t0
    lla t0, hal_switch_check_on
    lwu t0, 0(t0)
    bnez t0, .Lexit_checked
    ld t0, TF_X(5)(sp)
    RESTORE_COMMON
    ld sp, TF_X(2)(sp)                /* last: the frame is read through it */
    sret

/* Interrupts stay masked to the sret (the frame's sstatus has SIE = 0), so the hart head's
 * scratch words are this exit's alone. */
.Lexit_checked:
    TRAP_SLOT_SUM t0, t1
    sd t0, HART_TRAP_SUM(tp)
    ld t0, TF_X(5)(sp)
    RESTORE_COMMON
    sd t1, HART_TRAP_T0(tp)
    TRAP_REG_SUM
    sd t2, HART_TRAP_T2(tp)
    ld t2, HART_TRAP_SUM(tp)
    bne t1, t2, .Lrestored_wrong
    ld t2, HART_TRAP_T2(tp)
    ld t1, HART_TRAP_T0(tp)
    ld sp, TF_X(2)(sp)
    sret

.Lsaved_wrong:
    li a0, 0
    j 2f
.Lrestored_wrong:
    li a0, 1
2:  ld sp, HART_EMERGENCY_SP(tp)
    mv s0, zero
    tail hal_trap_frame_mismatch

.Loverflow:
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    addi a3, sp, TF_SIZE            /* the sp at the time of the trap */
    mv a4, s0                       /* its frame pointer, for the backtrace */
    ld sp, HART_EMERGENCY_SP(tp)
    mv s0, zero
    call hal_trap_stack_overflow
1:  j 1b

.Lfrom_user:
    /* tp = hart head, sscratch = the user's tp. */
    sd sp, HART_USER_SCRATCH(tp)
    ld sp, HART_USER_KSP(tp)
    addi sp, sp, -TF_SIZE
    sd t0, TF_X(5)(sp)
    /* A fast call (issue 18): an ecall of a number in FAST_CALLS saves only what a C call may
     * clobber (ra, t0-t6, a0-a7) and s0 (zeroed: the backtrace ends here), and
     * hal_user_fast_call answers it with interrupts still masked. It returns 0 when the
     * general path must take the call after all; the registers then come back from the
     * frame and the full save runs as for any trap. */
    csrr t0, scause
    addi t0, t0, -8                 /* 8: environment call from U-mode */
    bnez t0, .Lfull_save
    sltiu t0, a7, 64
    beqz t0, .Lfull_save
    sd t1, TF_X(6)(sp)
    li t1, FAST_CALLS
    srl t1, t1, a7
    andi t1, t1, 1
    beqz t1, .Lfull_save_t1
    FAST_SAVED sd
    csrrw t0, sscratch, zero        /* the user's tp; sscratch = 0: the kernel runs */
    sd t0, TF_X(4)(sp)
    mv s0, zero
    mv a0, sp
    call hal_user_fast_call
    ld t0, TF_X(4)(sp)
    csrw sscratch, t0               /* back as the entry found it: the user's tp */
    beqz a0, .Lfast_refused
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    FAST_SAVED ld                   /* a0: the result */
    ld t0, TF_X(5)(sp)
    ld t1, TF_X(6)(sp)
    ld sp, HART_USER_SCRATCH(tp)
    csrrw tp, sscratch, tp          /* tp = the user's; sscratch = the hart head */
    sret
.Lfast_refused:
    FAST_SAVED ld
.Lfull_save_t1:
    ld t1, TF_X(6)(sp)
.Lfull_save:
    SAVE_COMMON
    ld t0, HART_USER_SCRATCH(tp)
    sd t0, TF_X(2)(sp)
    csrrw t0, sscratch, zero        /* the user's tp; sscratch = 0: the kernel runs */
    sd t0, TF_X(4)(sp)
    SAVE_TRAP_CSRS
    /* The backtrace ends here: user frames are not kernel frames. */
    sd zero, TF_FRAME_FP(sp)
    sd zero, TF_FRAME_RA(sp)
    mv s0, zero
    mv a0, sp
    call hal_user_trap
    mv a0, sp                       /* fall through: back to U-mode, same frame */

/* void hal_return_to_user(hal::TrapFrame* frame) [[noreturn]], frame at the
 * top of the running task's kernel stack, interrupts masked (SIE = 0), the
 * task's root in satp. The frame's sstatus must say SPP = U, SPIE = 1. */
    .globl hal_return_to_user
hal_return_to_user:
    mv sp, a0
    addi t0, sp, TF_SIZE
    sd t0, HART_USER_KSP(tp)
    csrw sscratch, tp
    ld t0, TF_SEPC(sp)
    csrw sepc, t0
    /* SIE stays 0 until sret (which sets it from SPIE): with sscratch already the hart
     * head, an interrupt taken here would look like a trap from U-mode. */
    ld t0, TF_SSTATUS(sp)
    andi t0, t0, ~SSTATUS_SIE
    csrw sstatus, t0
    ld tp, TF_X(4)(sp)
    ld t0, TF_X(5)(sp)
    RESTORE_COMMON
    ld sp, TF_X(2)(sp)                /* last: the frame is read through it */
    sret
