/* uint64_t hal_call_with_pattern(uint64_t seed, void (*fn)(void*), void* arg)
 * Fills s0..s11 with seed + k * STRIDE (k = 0..11), calls fn(arg), and
 * returns a mask with bit k set for each s register that no longer holds
 * its value: a context switch inside fn whose save and restore disagree, or
 * a task resumed from a stale context, shows up here. The caller's s
 * registers are preserved as the ABI requires. */
#define STRIDE 0x0101010101010101

    .text
    .globl hal_call_with_pattern
    .align 2
hal_call_with_pattern:
    addi sp, sp, -128
    sd ra, 0(sp)
    sd s0, 8(sp)
    sd s1, 16(sp)
    sd s2, 24(sp)
    sd s3, 32(sp)
    sd s4, 40(sp)
    sd s5, 48(sp)
    sd s6, 56(sp)
    sd s7, 64(sp)
    sd s8, 72(sp)
    sd s9, 80(sp)
    sd s10, 88(sp)
    sd s11, 96(sp)
    sd a0, 104(sp)          /* the seed, in memory: the check does not trust registers */

    li t2, STRIDE
    mv s0, a0
    add s1, s0, t2
    add s2, s1, t2
    add s3, s2, t2
    add s4, s3, t2
    add s5, s4, t2
    add s6, s5, t2
    add s7, s6, t2
    add s8, s7, t2
    add s9, s8, t2
    add s10, s9, t2
    add s11, s10, t2
    mv t0, a1
    mv a0, a2
    jalr t0

    ld t0, 104(sp)
    li t2, STRIDE
    li a0, 0
    li t1, 1
    .irp reg, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11
    beq \reg, t0, 1f
    or a0, a0, t1
1:  slli t1, t1, 1
    add t0, t0, t2
    .endr

    ld ra, 0(sp)
    ld s0, 8(sp)
    ld s1, 16(sp)
    ld s2, 24(sp)
    ld s3, 32(sp)
    ld s4, 40(sp)
    ld s5, 48(sp)
    ld s6, 56(sp)
    ld s7, 64(sp)
    ld s8, 72(sp)
    ld s9, 80(sp)
    ld s10, 88(sp)
    ld s11, 96(sp)
    addi sp, sp, 128
    ret
