// ecall wrappers: a7 = number, a0..a2 = arguments, a0 = result (kestrel/syscall.hpp).
#include <kestrel/user.hpp>

namespace kestrel {

namespace {

int64_t call(Sys n, uint64_t x0 = 0, uint64_t x1 = 0, uint64_t x2 = 0, uint64_t x3 = 0) {
    register uint64_t a0 asm("a0") = x0;
    register uint64_t a1 asm("a1") = x1;
    register uint64_t a2 asm("a2") = x2;
    register uint64_t a3 asm("a3") = x3;
    register uint64_t a7 asm("a7") = static_cast<uint64_t>(n);
    asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a7) : "memory");
    return static_cast<int64_t>(a0);
}

uint64_t addr(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

} // namespace

void exit(int32_t code) {
    static_cast<void>(call(Sys::Exit, static_cast<uint64_t>(static_cast<int64_t>(code))));
    for (;;) // exit does not return; should it, spin rather than run off the end
        static_cast<void>(call(Sys::Yield));
}

int64_t yield() {
    return call(Sys::Yield);
}

int64_t console_write(const char* buf, size_t len) {
    return call(Sys::ConsoleWrite, addr(buf), len);
}

int64_t spawn(const char* name, size_t name_len, const char* args, size_t args_len) {
    return call(Sys::Spawn, addr(name), name_len, addr(args), args_len);
}

int64_t wait(int64_t child, WaitStatus* status) {
    return call(Sys::Wait, static_cast<uint64_t>(child), addr(status));
}

int64_t thread_create(void (*entry)(void*), void* stack_top, void* arg) {
    return call(Sys::ThreadCreate, reinterpret_cast<uint64_t>(entry), addr(stack_top), addr(arg));
}

int64_t map(uint64_t a, uint64_t len, uint64_t prot) {
    return call(Sys::Map, a, len, prot);
}

int64_t unmap(uint64_t a, uint64_t len) {
    return call(Sys::Unmap, a, len);
}
int64_t sleep_us(uint64_t us) {
    return call(Sys::Sleep, us);
}
int64_t current_cpu() {
    return call(Sys::CurrentCpu);
}
int64_t time_us() {
    return call(Sys::Time);
}
int64_t join(int64_t task, WaitStatus* status) {
    return call(Sys::Join, static_cast<uint64_t>(task), addr(status));
}
int64_t frame_count() {
    return call(Sys::FrameCount);
}
int64_t joiners(int64_t task) {
    return call(Sys::Joiners, static_cast<uint64_t>(task));
}
int64_t raw_call(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    return call(static_cast<Sys>(number), a0, a1, a2, a3);
}

int64_t parse_int(const char* s) {
    const bool neg = *s == '-';
    if (neg) ++s;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; ++s)
        v = v * 10 + (*s - '0');
    return neg ? -v : v;
}

Line& Line::put(const char* s) {
    while (*s && len_ < sizeof buf_ - 1)
        buf_[len_++] = *s++;
    return *this;
}

Line& Line::put(int64_t v) {
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
        tmp[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0 && len_ < sizeof buf_ - 1) buf_[len_++] = '-';
    while (n > 0 && len_ < sizeof buf_ - 1)
        buf_[len_++] = tmp[--n];
    return *this;
}

void Line::done() {
    buf_[len_++] = '\n';
    console_write(buf_, len_);
    len_ = 0;
}

size_t str_len(const char* s) {
    size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

int64_t print(const char* s) {
    return console_write(s, str_len(s));
}

} // namespace kestrel

// crt0's _start tail-calls this with the kernel's argc and argv.
extern "C" [[noreturn]] void kestrel_start(int argc, char** argv) {
    kestrel::exit(main(argc, argv));
}
