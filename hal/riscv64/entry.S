/* Boot entry from OpenSBI fw_dynamic and the SBI HSM start point of secondary harts. */
#include "asm_offsets.hpp"

    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    /* a0 = boot hart id, a1 = DTB physical address. FS = Off: the firmware may leave the
     * FPU on, and no task without floating-point state may run with it on
     * (hal/riscv64/fp_state.hpp). VS = Off too: no thread has vector state, so a vector
     * instruction is illegal everywhere rather than shared between threads. */
    csrw sie, zero
    csrw sscratch, zero
    li t0, SSTATUS_FS_BITS | SSTATUS_VS_BITS
    csrc sstatus, t0
    /* Our own boot lottery, before BSS is touched: under MTTCG a second hart
     * has been seen arriving here from OpenSBI while the first was booting.
     * The loser hands itself back to the firmware (HSM stop) so the boot
     * hart can start it properly later. The flag lives in .data. */
    la t0, k_boot_claimed
    li t1, 1
    amoswap.w.aq t1, t1, (t0)
    bnez t1, .Lnot_the_boot_hart
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la sp, k_cpu_stacks
    li t0, KSTACK_SLOT              /* above the slot's guard page */
    add sp, sp, t0
    mv s0, zero
    mv tp, zero
    call kmain
3:  wfi
    j 3b

.Lnot_the_boot_hart:
    la t0, k_boot_intruder_hart
    sd a0, 0(t0)
    fence w, w                      /* the id is visible before the count moves */
    la t0, k_boot_intruders
    li t1, 1
    amoadd.w t1, t1, (t0)
    li a7, 0x48534d                 /* SBI HSM */
    li a6, 1                        /* hart_stop */
    ecall
4:  wfi
    j 4b

    .section .data
    .align 2
    .globl k_boot_claimed, k_boot_intruders, k_boot_intruder_hart
k_boot_claimed:
    .word 0
k_boot_intruders:
    .word 0
    .align 3
k_boot_intruder_hart:
    .dword 0

    .text
    .globl secondary_entry
    .align 2
secondary_entry:
    /* a0 = hart id, a1 = opaque = this hart's HartHead, prepared by the boot hart. */
    csrw sie, zero
    csrw sscratch, zero
    li t0, SSTATUS_FS_BITS | SSTATUS_VS_BITS
    csrc sstatus, t0
    mv tp, a1
    ld sp, HART_STACK_HI(tp)
    mv s0, zero
    call secondary_main
4:  wfi
    j 4b
