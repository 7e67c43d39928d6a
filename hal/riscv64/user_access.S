/* long hal_user_copy(void* dst, const void* src, unsigned long n)
 * Copies n bytes with sstatus.SUM set, so that either side may be a user page
 * (privileged spec v1.12 §4.1.1.2: S-mode touches U pages only with SUM = 1).
 * Returns 0, or -1 when a load or store faulted: every access is listed in
 * .kuaccess, and the trap path resumes a page or access fault at one of them
 * at its fixup (hal::apply_user_fixup) when stval is a user address. The
 * caller has checked that the user side lies in the user half; SUM is clear
 * again on both ways out. Doublewords while both pointers are 8-aligned,
 * bytes otherwise. */
#define SSTATUS_SUM (1 << 18)

    .macro UACCESS insn:vararg
99: \insn
    .pushsection .kuaccess, "a", @progbits
    .balign 8
    .dword 99b, .Lfault
    .popsection
    .endm

    .text
    .globl hal_user_copy
    .align 2
hal_user_copy:
    li t1, SSTATUS_SUM
    csrs sstatus, t1
    or t2, a0, a1
    andi t2, t2, 7
    bnez t2, 2f
1:  li t2, 8
    bltu a2, t2, 2f
    UACCESS ld t0, 0(a1)
    UACCESS sd t0, 0(a0)
    addi a0, a0, 8
    addi a1, a1, 8
    addi a2, a2, -8
    j 1b
2:  beqz a2, 3f
    UACCESS lbu t0, 0(a1)
    UACCESS sb t0, 0(a0)
    addi a0, a0, 1
    addi a1, a1, 1
    addi a2, a2, -1
    j 2b
3:  csrc sstatus, t1
    li a0, 0
    ret
.Lfault:
    li t1, SSTATUS_SUM
    csrc sstatus, t1
    li a0, -1
    ret
