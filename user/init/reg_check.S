/* int64_t reg_check(uint64_t nr, uint64_t arg): fills every register but sp, a0 and a7 with
 * its own pattern (0x5a5a000000000000 + n * 0x0101010101 for xn), makes syscall `nr` with
 * a0 = arg, and returns 0 when every one of them (a7 with the number) still holds its value
 * afterwards, else the number of the first register that changed (1..31). RFC-0026 "The
 * syscall ABI": only a0 changes (the IPC calls aside).
 * Called from process_tests.cpp (test_syscall_errors). */
    .text
    .globl reg_check
    .type reg_check, @function
reg_check:
    addi sp, sp, -128
    sd ra, 0(sp)
    sd gp, 8(sp)
    sd tp, 16(sp)
    sd s0, 24(sp)
    sd s1, 32(sp)
    sd s2, 40(sp)
    sd s3, 48(sp)
    sd s4, 56(sp)
    sd s5, 64(sp)
    sd s6, 72(sp)
    sd s7, 80(sp)
    sd s8, 88(sp)
    sd s9, 96(sp)
    sd s10, 104(sp)
    sd s11, 112(sp)
    sd a0, 120(sp)
    mv a7, a0
    mv a0, a1
    li x1, 0x5a5a000101010101
    li x3, 0x5a5a000303030303
    li x4, 0x5a5a000404040404
    li x5, 0x5a5a000505050505
    li x6, 0x5a5a000606060606
    li x7, 0x5a5a000707070707
    li x8, 0x5a5a000808080808
    li x9, 0x5a5a000909090909
    li x11, 0x5a5a000b0b0b0b0b
    li x12, 0x5a5a000c0c0c0c0c
    li x13, 0x5a5a000d0d0d0d0d
    li x14, 0x5a5a000e0e0e0e0e
    li x15, 0x5a5a000f0f0f0f0f
    li x16, 0x5a5a001010101010
    li x18, 0x5a5a001212121212
    li x19, 0x5a5a001313131313
    li x20, 0x5a5a001414141414
    li x21, 0x5a5a001515151515
    li x22, 0x5a5a001616161616
    li x23, 0x5a5a001717171717
    li x24, 0x5a5a001818181818
    li x25, 0x5a5a001919191919
    li x26, 0x5a5a001a1a1a1a1a
    li x27, 0x5a5a001b1b1b1b1b
    li x28, 0x5a5a001c1c1c1c1c
    li x29, 0x5a5a001d1d1d1d1d
    li x30, 0x5a5a001e1e1e1e1e
    li x31, 0x5a5a001f1f1f1f1f
    ecall
    li a0, 0x5a5a000101010101
    bne x1, a0, .Lrc_bad1
    li a0, 0x5a5a000303030303
    bne x3, a0, .Lrc_bad3
    li a0, 0x5a5a000404040404
    bne x4, a0, .Lrc_bad4
    li a0, 0x5a5a000505050505
    bne x5, a0, .Lrc_bad5
    li a0, 0x5a5a000606060606
    bne x6, a0, .Lrc_bad6
    li a0, 0x5a5a000707070707
    bne x7, a0, .Lrc_bad7
    li a0, 0x5a5a000808080808
    bne x8, a0, .Lrc_bad8
    li a0, 0x5a5a000909090909
    bne x9, a0, .Lrc_bad9
    li a0, 0x5a5a000b0b0b0b0b
    bne x11, a0, .Lrc_bad11
    li a0, 0x5a5a000c0c0c0c0c
    bne x12, a0, .Lrc_bad12
    li a0, 0x5a5a000d0d0d0d0d
    bne x13, a0, .Lrc_bad13
    li a0, 0x5a5a000e0e0e0e0e
    bne x14, a0, .Lrc_bad14
    li a0, 0x5a5a000f0f0f0f0f
    bne x15, a0, .Lrc_bad15
    li a0, 0x5a5a001010101010
    bne x16, a0, .Lrc_bad16
    li a0, 0x5a5a001212121212
    bne x18, a0, .Lrc_bad18
    li a0, 0x5a5a001313131313
    bne x19, a0, .Lrc_bad19
    li a0, 0x5a5a001414141414
    bne x20, a0, .Lrc_bad20
    li a0, 0x5a5a001515151515
    bne x21, a0, .Lrc_bad21
    li a0, 0x5a5a001616161616
    bne x22, a0, .Lrc_bad22
    li a0, 0x5a5a001717171717
    bne x23, a0, .Lrc_bad23
    li a0, 0x5a5a001818181818
    bne x24, a0, .Lrc_bad24
    li a0, 0x5a5a001919191919
    bne x25, a0, .Lrc_bad25
    li a0, 0x5a5a001a1a1a1a1a
    bne x26, a0, .Lrc_bad26
    li a0, 0x5a5a001b1b1b1b1b
    bne x27, a0, .Lrc_bad27
    li a0, 0x5a5a001c1c1c1c1c
    bne x28, a0, .Lrc_bad28
    li a0, 0x5a5a001d1d1d1d1d
    bne x29, a0, .Lrc_bad29
    li a0, 0x5a5a001e1e1e1e1e
    bne x30, a0, .Lrc_bad30
    li a0, 0x5a5a001f1f1f1f1f
    bne x31, a0, .Lrc_bad31
    ld a0, 120(sp)
    bne a7, a0, .Lrc_bad17
    li a0, 0
    j .Lrc_out
.Lrc_bad1:
    li a0, 1
    j .Lrc_out
.Lrc_bad3:
    li a0, 3
    j .Lrc_out
.Lrc_bad4:
    li a0, 4
    j .Lrc_out
.Lrc_bad5:
    li a0, 5
    j .Lrc_out
.Lrc_bad6:
    li a0, 6
    j .Lrc_out
.Lrc_bad7:
    li a0, 7
    j .Lrc_out
.Lrc_bad8:
    li a0, 8
    j .Lrc_out
.Lrc_bad9:
    li a0, 9
    j .Lrc_out
.Lrc_bad11:
    li a0, 11
    j .Lrc_out
.Lrc_bad12:
    li a0, 12
    j .Lrc_out
.Lrc_bad13:
    li a0, 13
    j .Lrc_out
.Lrc_bad14:
    li a0, 14
    j .Lrc_out
.Lrc_bad15:
    li a0, 15
    j .Lrc_out
.Lrc_bad16:
    li a0, 16
    j .Lrc_out
.Lrc_bad18:
    li a0, 18
    j .Lrc_out
.Lrc_bad19:
    li a0, 19
    j .Lrc_out
.Lrc_bad20:
    li a0, 20
    j .Lrc_out
.Lrc_bad21:
    li a0, 21
    j .Lrc_out
.Lrc_bad22:
    li a0, 22
    j .Lrc_out
.Lrc_bad23:
    li a0, 23
    j .Lrc_out
.Lrc_bad24:
    li a0, 24
    j .Lrc_out
.Lrc_bad25:
    li a0, 25
    j .Lrc_out
.Lrc_bad26:
    li a0, 26
    j .Lrc_out
.Lrc_bad27:
    li a0, 27
    j .Lrc_out
.Lrc_bad28:
    li a0, 28
    j .Lrc_out
.Lrc_bad29:
    li a0, 29
    j .Lrc_out
.Lrc_bad30:
    li a0, 30
    j .Lrc_out
.Lrc_bad31:
    li a0, 31
    j .Lrc_out
.Lrc_bad17:
    li a0, 17
    j .Lrc_out
.Lrc_out:
    ld ra, 0(sp)
    ld gp, 8(sp)
    ld tp, 16(sp)
    ld s0, 24(sp)
    ld s1, 32(sp)
    ld s2, 40(sp)
    ld s3, 48(sp)
    ld s4, 56(sp)
    ld s5, 64(sp)
    ld s6, 72(sp)
    ld s7, 80(sp)
    ld s8, 88(sp)
    ld s9, 96(sp)
    ld s10, 104(sp)
    ld s11, 112(sp)
    addi sp, sp, 128
    ret
    .size reg_check, . - reg_check
