// console: the user-space console driver (issue 20, RFC-0031 "The console driver"). It owns the
// ns16550 UART's receive side and serves user/include/kestrel/console.hpp on its endpoint.
//
// Slot 0: its endpoint (spawn's capability). Before it serves, its parent sends it two
// capabilities over that endpoint, each a call with caps = 1: the UART's Device capability
// (landing in slot 1), then its Irq capability (slot 2). It binds the Irq to a notification of
// its own (slot 3), enables the receive interrupt and serves one request at a time: a read
// drains the receive register and, with nothing there, waits for the interrupt (bytes typed
// meanwhile wait in the UART, and behind it in QEMU: the driver never clears the FIFO). Its
// writes go through console_write, so they stay whole lines among the kernel's (the kernel
// writes through SBI while the UART is handed over). Exits only when killed or on a setup
// failure (code 1..4).
#include <kestrel/console.hpp>
#include <kestrel/user.hpp>

namespace {

using kestrel::IpcMsg;

constexpr uint64_t kEp = 0, kDev = 1, kIrq = 2, kNote = 3;
constexpr uint64_t kUartVa = 0x4000'0000;
constexpr uint64_t kRbr = 0, kIer = 1, kLsr = 5;
constexpr uint8_t kIerRx = 1, kLsrDr = 1;

volatile uint8_t* uart() {
    return reinterpret_cast<volatile uint8_t*>(kUartVa);
}

// One setup message: a call carrying a capability into `dst`; answered with label 0.
bool take_cap(uint64_t dst) {
    IpcMsg m;
    const int64_t r = kestrel::recv(kEp, m, nullptr, dst);
    IpcMsg ok;
    ok.tag = kestrel::make_tag(0, 0, 0);
    (void)kestrel::reply(ok);
    return r == 0 && kestrel::tag_caps(m.tag) == 1;
}

// Words 0..3 of a message are MR0..MR3, the rest its buffer.
uint64_t& word(IpcMsg& m, uint64_t* buf, uint64_t i) {
    return i < kestrel::kMessageRegisters ? m.mr[i] : buf[i - kestrel::kMessageRegisters];
}

// At least one byte (at most `want`), waiting for the receive interrupt while there is none.
uint64_t read_bytes(char* out, uint64_t want) {
    uint64_t n = 0;
    for (;;) {
        while (n < want && (uart()[kLsr] & kLsrDr))
            out[n++] = static_cast<char>(uart()[kRbr]);
        if (n > 0) return n;
        uint64_t w = 0;
        (void)kestrel::notify_wait(kNote, w);
        (void)kestrel::irq_ack(kIrq); // the register is drained above before the next wait
    }
}

void serve() {
    uint64_t buf[kestrel::kMaxIpcLength] = {};
    IpcMsg m;
    (void)kestrel::recv(kEp, m, buf);
    for (;;) {
        IpcMsg out;
        const uint64_t label = kestrel::tag_label(m.tag), len = kestrel::tag_length(m.tag);
        const uint64_t n = m.mr[0];
        uint64_t words[kestrel::kMaxIpcLength] = {};
        if (label == kestrel::kConsoleRead && n >= 1 && n <= kestrel::kConsoleReadMax) {
            char bytes[kestrel::kConsoleReadMax];
            const uint64_t got = read_bytes(bytes, n);
            kestrel::console_pack(bytes, got, words);
            const uint64_t used = kestrel::console_words(got);
            for (uint64_t i = 0; i < used; ++i)
                word(out, buf, i) = words[i];
            out.tag = kestrel::make_tag(got, used, 0);
        } else if (label == kestrel::kConsoleWrite && n <= kestrel::kConsoleWriteMax &&
                   len >= 1 + kestrel::console_words(n)) {
            for (uint64_t i = 0; i < kestrel::console_words(n); ++i)
                words[i] = word(m, buf, 1 + i);
            char bytes[kestrel::kConsoleWriteMax];
            kestrel::console_unpack(words, n, bytes);
            const int64_t w = kestrel::console_write(bytes, n);
            out.tag = kestrel::make_tag(w == static_cast<int64_t>(n) ? n : 0, 0, 0);
        } else {
            out.tag = kestrel::make_tag(kestrel::kConsoleRefused, 0, 0);
        }
        (void)kestrel::reply_recv(kEp, out, buf);
        m = out;
    }
}

} // namespace

int main(int, char**) {
    if (!take_cap(kDev) || !take_cap(kIrq)) return 1;
    if (kestrel::device_map(kDev, kUartVa) != 1) return 2;
    if (kestrel::notification_create(kNote) != 0) return 3;
    if (kestrel::irq_bind(kIrq, kNote, 1) < 0) return 4;
    uart()[kIer] = kIerRx;
    serve();
    return 0;
}
