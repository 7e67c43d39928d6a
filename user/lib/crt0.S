/* User entry: the kernel enters _start in U-mode with sp = the top of the user stack
   (16-byte aligned), a0 = argc, a1 = argv. kestrel_start (syscalls.cpp) calls main, whose
   return value becomes exit()'s code: main is called from C++, since a freestanding clang
   gives main C++ linkage (mangled) where GCC does not. */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    li s0, 0            /* frame-pointer chain ends here */
    li ra, 0
    tail kestrel_start
    .size _start, . - _start

/* One word each in rodata, data and bss, kept by user.ld: every image then has its three
   PT_LOADs non-empty (the validator refuses an empty segment) and a zero-filled tail, even a
   program with no constants or variables of its own. */
    .section .rodata.kestrel, "a", @progbits
    .globl kestrel_abi_version
    .balign 8
kestrel_abi_version:
    .dword 1
    .section .data.kestrel, "aw", @progbits
    .globl kestrel_image_data
    .balign 8
kestrel_image_data:
    .dword 0
    .section .bss.kestrel, "aw", @nobits
    .globl kestrel_image_bss
    .balign 8
kestrel_image_bss:
    .zero 8
