// A user program with a static constructor (user/tests/user_ld_test.sh): user/user.ld must
// refuse to link it. Built with -DNO_CTOR it has none and must link (the control).
struct Counter {
    Counter();
    int n;
};

#ifndef NO_CTOR
Counter::Counter() : n(1) {
    asm volatile("" ::: "memory");
}
Counter g_counter; // needs a constructor call before main: an .init_array entry
#endif

extern "C" void _start() {
    for (;;)
        asm volatile("" ::: "memory");
}
