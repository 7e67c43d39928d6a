// The user-space console driver (issue 20, RFC-0031 "The console driver"): init hands it the
// UART's Device and Irq capabilities, writes a line through it, reads what the gate typed on
// the host side (selftest/console_input.txt on QEMU's stdin) and checks every byte.
#include <kestrel/console.hpp>

#include "init.hpp"

namespace init {

using kestrel::Error;
using kestrel::IpcMsg;
using kestrel::Line;

namespace {

constexpr uint64_t kEp = 8, kDev = 9, kIrq = 10, kTask = 11;
// What the gate types (selftest/console_input.txt), up to and with its newline.
constexpr char kTyped[] = "kestrel: typed on the host side of the UART\n";
constexpr int64_t kInputUs = 20'000'000;

// A write request through the driver: the reply's label (bytes written, or refused).
int64_t write_through(const char* s, uint64_t n) {
    uint64_t words[kestrel::kMaxIpcLength] = {};
    words[0] = n;
    kestrel::console_pack(s, n, words + 1);
    const uint64_t used = 1 + kestrel::console_words(n);
    IpcMsg m = msg(kestrel::kConsoleWrite, used);
    for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
        m.mr[i] = words[i];
    const int64_t r = kestrel::call(kEp, m, words + kestrel::kMessageRegisters);
    return r < 0 ? r : static_cast<int64_t>(kestrel::tag_label(m.tag));
}

} // namespace

bool give_cap(uint64_t ep, uint64_t slot) {
    IpcMsg m = msg(0, 4, 1);
    m.mr[3] = slot;
    return kestrel::call(ep, m) == 0 && kestrel::tag_label(m.tag) == 0;
}

void test_console_driver() {
    const char* tw = "console driver write";
    const char* ti = "console driver input";
    const int f0 = g_failed;
    if (!check(tw, kestrel::endpoint_create(kEp) == 0, "endpoint")) return;
    const int64_t drv = kestrel::spawn("console", 7, nullptr, 0, kEp, kTask);
    check(tw, drv > 0, "spawn the driver", drv);
    check(tw, kestrel::device_get(kestrel::kPlatformSlot, "ns16550a", 8, kDev) == 10,
          "device_get of the UART");
    check(tw, kestrel::irq_get(kestrel::kPlatformSlot, 10, kIrq) == 0, "irq_get of its source");
    const bool given = drv > 0 && check(tw, give_cap(kEp, kDev), "hand the device over") &&
                       check(tw, give_cap(kEp, kIrq), "hand the interrupt over");
    // The driver's copies are the holders from here.
    check(tw, kestrel::cap_delete(kDev) == 0 && kestrel::cap_delete(kIrq) == 0, "drop init's");
    if (given) {
        static constexpr char kLine[] = "ULOG: a line written through the console driver\n";
        const int64_t n = write_through(kLine, sizeof kLine - 1);
        check(tw, n == static_cast<int64_t>(sizeof kLine - 1), "the driver wrote every byte", n);
        IpcMsg bad = msg(77, 1);
        check(tw,
              kestrel::call(kEp, bad) == 0 &&
                  kestrel::tag_label(bad.tag) == kestrel::kConsoleRefused,
              "an unknown label refused");
        IpcMsg zero = msg(kestrel::kConsoleRead, 1);
        zero.mr[0] = 0;
        check(tw,
              kestrel::call(kEp, zero) == 0 &&
                  kestrel::tag_label(zero.tag) == kestrel::kConsoleRefused,
              "a read of 0 bytes refused");
        pass(tw, f0);
        // The typed line, read in as many pieces as the driver gives.
        const int f1 = g_failed;
        char got[sizeof kTyped] = {};
        uint64_t have = 0;
        const int64_t deadline = kestrel::time_us() + kInputUs;
        while (have < sizeof kTyped - 1 && kestrel::time_us() < deadline) {
            uint64_t buf[kestrel::kMaxIpcLength] = {};
            IpcMsg m = msg(kestrel::kConsoleRead, 1);
            m.mr[0] = sizeof kTyped - 1 - have;
            // Timed (RFC-0030): a boot whose host side types nothing fails here, by name,
            // instead of waiting in the driver for ever.
            const int64_t left = deadline - kestrel::time_us();
            const int64_t r =
                kestrel::call_timed(kEp, m, left > 0 ? static_cast<uint64_t>(left) : 0,
                                    buf + kestrel::kMessageRegisters);
            if (!check(ti, r != kestrel::code(Error::TimedOut),
                       "nothing typed on the host side within 20 s (is the feeder of "
                       "scripts/lib/ladder.sh on QEMU's stdin?)",
                       static_cast<int64_t>(have)))
                break;
            const uint64_t k = kestrel::tag_label(m.tag);
            if (!check(ti, r == 0 && k >= 1 && k <= sizeof kTyped - 1 - have, "a read reply",
                       r < 0 ? r : static_cast<int64_t>(k)))
                break;
            for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
                buf[i] = m.mr[i];
            kestrel::console_unpack(buf, k, got + have);
            have += k;
        }
        bool same = have == sizeof kTyped - 1;
        for (uint64_t i = 0; same && i < have; ++i)
            same = got[i] == kTyped[i];
        check(ti, same, "the bytes typed on the host, in order", static_cast<int64_t>(have));
        pass(ti, f1);
    }
    if (drv > 0) {
        check(ti, kestrel::task_kill(kTask) == 0, "end the driver");
        kestrel::WaitStatus st{};
        check(ti, kestrel::wait(drv, &st) == 0, "reap the driver");
    }
    empty_slots(kEp, kTask + 1);
}

} // namespace init
