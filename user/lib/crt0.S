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
