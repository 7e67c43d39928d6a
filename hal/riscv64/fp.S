/* A user thread's floating-point registers to and from memory (hal/riscv64/fp_state.hpp): the
 * only F and D instructions of the kernel image (the meson test `kernel-no-fp` checks). */
#include "asm_offsets.hpp"

#define SSTATUS_FS_CLEAN (2 << 13)

    .text
/* void hal_fp_save(hal::FpState* s): FS is not Off (the caller saw Dirty). */
    .globl hal_fp_save
    .align 2
hal_fp_save:
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fsd f\n, FP_F(\n)(a0)
    .endr
    frcsr t0
    sd t0, FP_FCSR(a0)
    ret

/* void hal_fp_load(const hal::FpState* s): FS on for the loads, Clean after them (the loads
 * made it Dirty): the registers now equal *s. */
    .globl hal_fp_load
    .align 2
hal_fp_load:
    li t1, SSTATUS_FS_CLEAN
    csrs sstatus, t1
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fld f\n, FP_F(\n)(a0)
    .endr
    ld t0, FP_FCSR(a0)
    fscsr t0
    li t0, SSTATUS_FS_BITS
    csrc sstatus, t0
    csrs sstatus, t1
    ret
