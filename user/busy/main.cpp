// busy: a job for the shell's tests (RFC-0032): threads that spin on the cpu until told to stop.
// argv: "ms=N" (stop after N ms; 0 or absent: spin until killed), "pin=H" (the spinner is
// pinned to hart H: never moved; parked while H is offline; without it the spinner is unpinned,
// on the main thread's hart to start with, and the scheduler moves it when that hart goes
// offline). Exit 0 when the time was up, 2 for bad arguments, 3 when the thread could not be
// made.
#include <kestrel/user.hpp>

namespace {

constexpr uint64_t kStacks = 0x3000'0000; // one page per spinner
constexpr uint64_t kPage = 4096;

volatile uint64_t g_stop = 0;
volatile uint64_t g_spins = 0;

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

// Always runnable, never blocked; it yields after each round, so that a shell sharing its hart
// answers within a switch rather than a time slice (the selftest's time budget).
void spin(void*) {
    while (g_stop == 0) {
        g_spins = g_spins + 1;
        (void)kestrel::yield();
    }
    kestrel::exit(0);
}

} // namespace

int main(int argc, char** argv) {
    int64_t ms = 0, pin = -1;
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "ms="))
            ms = kestrel::parse_int(argv[i] + 3);
        else if (starts(argv[i], "pin="))
            pin = kestrel::parse_int(argv[i] + 4);
        else
            return 2;
    }
    if (ms < 0) return 2;
    if (kestrel::map(kStacks, kPage, kestrel::ProtRead | kestrel::ProtWrite) != 0) return 3;
    void* const top = reinterpret_cast<void*>(kStacks + kPage);
    const uint64_t flags = pin >= 0 ? kestrel::pin_hart(static_cast<uint64_t>(pin)) : 0;
    if (kestrel::thread_create(&spin, top, nullptr, flags) <= 0) return 3;
    // The main thread only keeps time (asleep between looks).
    const int64_t end = kestrel::time_us() + ms * 1000;
    while (ms == 0 || kestrel::time_us() < end)
        kestrel::sleep_us(10'000);
    g_stop = 1;
    return 0;
}
