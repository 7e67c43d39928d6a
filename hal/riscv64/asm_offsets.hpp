/* Layouts shared by assembly and C++. The one place these numbers live;
 * each struct checks them with static_assert where it is defined. */
#pragma once

/* hal::HartHead, reached through tp on every hart. */
#define HART_MAGIC 0
#define HART_CPU 8
#define HART_HART_ID 12
#define HART_STACK_LO 16
#define HART_STACK_HI 24
#define HART_EMERGENCY_SP 32
#define HART_USER_SCRATCH 40
#define HART_IRQ_DEPTH 48
#define HART_IRQ_SAVED 52
#define HART_TRAP_T0 56
#define HART_USER_KSP 64
#define HART_TRAP_SUM 72
#define HART_TRAP_T2 80
#define HART_LOCK_RANKS 88
#define HART_HEAD_SIZE 96

/* hal::TrapFrame: x0..x31, then CSRs, then a frame record so the
 * frame-pointer backtrace walks through the trap into the interrupted code. */
#define TF_X(n) ((n)*8)
#define TF_SEPC 256
#define TF_SSTATUS 264
#define TF_SCAUSE 272
#define TF_STVAL 280
#define TF_TASK 288
#define TF_FRAME_FP 304 /* the frame record stays the frame's last 16 bytes: s0 = sp + TF_SIZE */
#define TF_FRAME_RA 312
#define TF_SIZE 320

/* The fast calls (proc/user_trap.cpp): a bit per syscall number (kestrel::Sys) whose ecall
 * takes trap_entry.S's short path: CurrentCpu 9, Time 10, FrameCount 12. */
#define FAST_CALLS ((1 << 9) | (1 << 10) | (1 << 12))

/* hal::Context: callee-saved state of a switched-out kernel thread, then the
 * switch check: a weighted sum of the saved registers and whether it is set;
 * then the run the thread is in (set at dispatch) and the run whose end the
 * saved registers are (stamped by the save, last). */
#define CTX_RA 0
#define CTX_SP 8
#define CTX_S(n) (16 + (n)*8)
#define CTX_CHECK 112
#define CTX_CHECKED 120
#define CTX_RUN 128
#define CTX_SAVED_RUN 136
#define CTX_SIZE 144

/* Per-cpu kernel stacks (boot/idle) and the guard band at their bottom. Each
 * stack's slot starts with a guard page that the kernel's Sv39 space leaves
 * unmapped (mm/kernel_space.hpp); the stack follows it. */
#define KSTACK_SIZE 16384
#define KSTACK_GUARD 1024
#define KSTACK_GUARD_PAGE 4096
#define KSTACK_SLOT (KSTACK_GUARD_PAGE + KSTACK_SIZE)
#define EMERGENCY_STACK_SIZE 4096

/* hal::FpState: a user thread's f0..f31 (64-bit slots, the D extension's width), then fcsr,
 * then where its user trap frame keeps sstatus. */
#define FP_F(n) ((n)*8)
#define FP_FCSR 256
#define FP_USER_SSTATUS 264
#define FP_SIZE 272
#define SSTATUS_FS_BITS (3 << 13) /* sstatus.FS: Off 0, Initial 1, Clean 2, Dirty 3 */
#define SSTATUS_VS_BITS (3 << 9)  /* sstatus.VS: the same for the V extension's registers */
