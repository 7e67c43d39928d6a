/* Probes whose instruction may raise an illegal-instruction trap. Each probe
 * pc is listed with its fixup in .kfixup; the trap path resumes a trapping
 * probe at the fixup, which returns 0. The normal path returns 1. */

    .macro FIXUP pc, fixup
    .pushsection .kfixup, "a", @progbits
    .balign 8
    .dword \pc, \fixup
    .popsection
    .endm

    .text
    .globl hal_probe_stimecmp
    .align 2
hal_probe_stimecmp:
    li t0, -1
1:  csrw 0x14d, t0                  /* stimecmp = never */
    li a0, 1
    ret
2:  li a0, 0
    ret
    FIXUP 1b, 2b

    .globl hal_probe_illegal
    .align 2
hal_probe_illegal:
1:  .word 0                         /* all-zero: illegal on every hart */
    li a0, 1
    ret
2:  li a0, 0
    ret
    FIXUP 1b, 2b
