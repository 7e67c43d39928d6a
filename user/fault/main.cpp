// fault: does one thing U-mode may not do, named by argv[0]; the kernel must end this task
// with the fault (its waiter gets WaitKind::Faulted, the scause code and stval) and nothing
// else. Returning from main (exit code 0) means the fault did not happen.
#include <kestrel/user.hpp>

namespace {

constexpr uint64_t kKernelText = 0x80200000; // QEMU virt: where OpenSBI starts the kernel
constexpr uint64_t kScratch = 0x20000000;    // an address no image uses
volatile uint64_t kNull = 0;                 // an address the compiler cannot see is 0

bool is(const char* a, const char* b) {
    while (*a && *a == *b)
        ++a, ++b;
    return *a == *b;
}

// Deeper and deeper until the stack's guard page: a store page fault. `depth` only grows, so
// the compiler cannot prove the recursion endless (it ends at the fault).
[[gnu::noinline]] int recurse(volatile char* p, uint64_t depth) {
    volatile char pad[512];
    pad[0] = *p;
    if (depth == ~uint64_t{0}) return pad[0];
    return recurse(pad, depth + 1) + pad[1];
}

// Little-endian bytes 44 33 22 11 88 77 66 55: the word at byte 2 is 0x77881122.
uint32_t g_word[2] = {0x11223344, 0x55667788};

void fault_soon(void*) {
    kestrel::sleep_us(20'000); // most likely the main thread sleeps by now
    *reinterpret_cast<volatile int*>(kNull) = 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 1) return 1;
    const char* k = argv[0];
    if (is(k, "load-null")) {
        return *reinterpret_cast<volatile int*>(kNull); // page 0 is never mapped
    } else if (is(k, "store-text")) {
        *reinterpret_cast<volatile uint32_t*>(reinterpret_cast<uint64_t>(&main)) = 0; // R-X
    } else if (is(k, "illegal")) {
        asm volatile(".word 0"); // all-zero: illegal everywhere
    } else if (is(k, "fp") || is(k, "fp-illegal")) {
        const uint64_t in = 0x4009'21fb'5444'2d18; // pi
        uint64_t out;
        // The thread's first F/D instruction: it traps with FS = Off, and runs again.
        asm volatile("fmv.d.x f1, %1\n\tfmv.x.d %0, f1" : "=r"(out) : "r"(in) : "f1");
        if (is(k, "fp-illegal")) asm volatile(".word 0"); // illegal with FS on, too
        return out == in ? 0x66 : 0x67;
    } else if (is(k, "misaligned")) {
        // A misaligned AMO: the unprivileged spec lets an implementation trap it (address
        // misaligned or access fault) or perform it (misaligned atomics, as QEMU 10's
        // `-cpu max`). Performed, it must have read and added exactly once: exit 0x61 says so.
        auto* p = reinterpret_cast<uint32_t*>(reinterpret_cast<uint64_t>(g_word) + 2);
        uint32_t old;
        asm volatile("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(1) : "memory");
        uint32_t now;
        asm volatile("lw %0, 0(%1)" : "=r"(now) : "r"(p) : "memory");
        return old == 0x77881122u && now == 0x77881123u ? 0x61 : 0x62;
    } else if (is(k, "kernel-jump")) {
        reinterpret_cast<void (*)()>(kKernelText)(); // a supervisor page: instruction page fault
    } else if (is(k, "kernel-read")) {
        return *reinterpret_cast<volatile int*>(kKernelText);
    } else if (is(k, "stack-overflow")) {
        char c = 0;
        return recurse(&c, 0);
    } else if (is(k, "unmapped")) {
        // Map, touch, unmap: the next touch must fault (the TLB was flushed).
        if (kestrel::map(kScratch, kestrel::kPageSize, kestrel::ProtRead | kestrel::ProtWrite) != 0)
            return 2;
        *reinterpret_cast<volatile int*>(kScratch) = 7;
        if (kestrel::unmap(kScratch, kestrel::kPageSize) != 0) return 3;
        return *reinterpret_cast<volatile int*>(kScratch);
    } else if (is(k, "sleeper")) {
        // A second thread faults while this one sleeps the longest sleep there is (60 s): the
        // kill ends the sleep at once (RFC-0027 invariant 5), and the process ends Faulted.
        if (kestrel::map(kScratch, 4 * kestrel::kPageSize,
                         kestrel::ProtRead | kestrel::ProtWrite) != 0)
            return 2;
        if (kestrel::thread_create(&fault_soon,
                                   reinterpret_cast<void*>(kScratch + 4 * kestrel::kPageSize),
                                   nullptr) <= 0)
            return 3;
        kestrel::sleep_us(kestrel::kMaxSleepUs);
        return 5; // the sleep ran out: the kill did not end it
    } else {
        return 4;
    }
    return 0;
}
