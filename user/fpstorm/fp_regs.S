/* fpstorm's register work: the only code of the program that touches f0-f31 and fcsr. */

/* The pattern: f0 = base, f(n+1) = f(n) + 0x111; fcsr = base & 0x1f (the flags; frm = 0). */
.macro FILL
    mv t1, a0
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fmv.d.x f\n, t1
    addi t1, t1, 0x111
    .endr
    andi t1, a0, 0x1f
    fscsr t1
.endm

/* a0 = how many of f0-f31 and fcsr differ from the pattern of \base (FILL's). */
.macro CHECK base
    li a0, 0
    mv t1, \base
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fmv.x.d t0, f\n
    sub t0, t0, t1
    snez t0, t0
    add a0, a0, t0
    addi t1, t1, 0x111
    .endr
    frcsr t0
    andi t1, \base, 0x1f
    sub t0, t0, t1
    snez t0, t0
    add a0, a0, t0
.endm

    .text
/* void fp_fill(uint64_t base): the pattern into every f register, fs0-fs11 too: only for a
 * caller that keeps nothing in f registers (fpstorm's main thread). */
    .globl fp_fill
    .align 2
fp_fill:
    FILL
    ret

/* uint64_t fp_check(uint64_t base): how many of f0-f31 and fcsr differ from base's pattern. */
    .globl fp_check
    .align 2
fp_check:
    mv t3, a0
    CHECK t3
    ret

/* uint64_t fp_first_look(): the thread's first F/D instruction is this function's first: the
 * number of f registers and fcsr that are not zero (0 when its state starts zeroed). */
    .globl fp_first_look
    .align 2
fp_first_look:
    li a0, 0
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fmv.x.d t0, f\n
    snez t0, t0
    add a0, a0, t0
    .endr
    frcsr t0
    snez t0, t0
    add a0, a0, t0
    ret

/* uint64_t fp_round(uint64_t base, uint64_t spin, uint64_t number, uint64_t arg):
 * fills every f register and fcsr from `base`, runs `spin` iterations of an integer loop (a
 * window for the tick), makes the syscall `number` with a0 = arg (0: none; the kernel keeps
 * every register but a0), then counts the f registers and fcsr that differ from the pattern.
 * fs0-fs11 are the caller's (psABI): saved and restored around it. */
    .globl fp_round
    .align 2
fp_round:
    addi sp, sp, -96
    fsd f8, 0(sp)
    fsd f9, 8(sp)
    fsd f18, 16(sp)
    fsd f19, 24(sp)
    fsd f20, 32(sp)
    fsd f21, 40(sp)
    fsd f22, 48(sp)
    fsd f23, 56(sp)
    fsd f24, 64(sp)
    fsd f25, 72(sp)
    fsd f26, 80(sp)
    fsd f27, 88(sp)
    mv t3, a0
    FILL
1:  beqz a1, 2f
    addi a1, a1, -1
    j 1b
2:  beqz a2, 3f
    mv a7, a2
    mv a0, a3
    ecall
3:  CHECK t3
    fld f8, 0(sp)
    fld f9, 8(sp)
    fld f18, 16(sp)
    fld f19, 24(sp)
    fld f20, 32(sp)
    fld f21, 40(sp)
    fld f22, 48(sp)
    fld f23, 56(sp)
    fld f24, 64(sp)
    fld f25, 72(sp)
    fld f26, 80(sp)
    fld f27, 88(sp)
    addi sp, sp, 96
    ret
