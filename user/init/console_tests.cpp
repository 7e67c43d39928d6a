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

// The console burst (RFC-0031 "The console rule"): writers on up to three harts, through
// console_write, through the driver, and through console_write a line in three pieces, while
// faulting processes make the kernel print its fault lines. The gate checks every line: the
// whole lines' exact form and count (scripts/qemu-test.sh, as for the kernel's `console
// burst`), and no tag inside any line (a piece is never followed by another writer's bytes on
// its line: the console ends the line first).
constexpr char kPayload[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";
constexpr int64_t kMinLines = 8, kMaxLines = 600;
constexpr uint64_t kMaxWriters = 6, kFaulters = 4;

struct BurstWriter {
    char kind; // 'u': console_write, 'd': through the driver, 'p': console_write in pieces
    int64_t index;
    volatile int64_t lines;
    volatile int64_t bad; // writes that did not write every byte
    volatile int64_t first, last;
};
BurstWriter g_writers[kMaxWriters];
volatile int64_t g_started = 0, g_burst_done = 0, g_writer_count = 0;

void burst_writer(void* arg) {
    BurstWriter& w = *static_cast<BurstWriter*>(arg);
    w.first = kestrel::time_us();
    __atomic_fetch_add(&g_started, 1, __ATOMIC_SEQ_CST);
    int64_t i = 0;
    while (i < kMaxLines && (i < kMinLines || !g_burst_done || g_started < g_writer_count)) {
        char line[96];
        size_t n = 0;
        for (const char* p = w.kind == 'p' ? "ULOG: piece " : "ULOG: whole "; *p; ++p)
            line[n++] = *p;
        line[n++] = w.kind;
        n += kestrel::format_int(w.index, line + n);
        line[n++] = ' ';
        n += kestrel::format_int(i, line + n);
        line[n++] = ' ';
        const size_t head = n;
        for (const char* p = kPayload; *p; ++p)
            line[n++] = *p;
        line[n++] = '\n';
        bool whole = false;
        if (w.kind == 'p') { // three writes: the tag and numbers, half the payload, the rest
            const size_t mid = head + (n - head) / 2;
            whole = kestrel::console_write(line, head) == static_cast<int64_t>(head) &&
                    kestrel::console_write(line + head, mid - head) ==
                        static_cast<int64_t>(mid - head) &&
                    kestrel::console_write(line + mid, n - mid) == static_cast<int64_t>(n - mid);
        } else {
            const int64_t got =
                w.kind == 'u' ? kestrel::console_write(line, n) : write_through(line, n);
            whole = got == static_cast<int64_t>(n);
        }
        if (!whole) w.bad = w.bad + 1;
        w.lines = ++i;
    }
    w.last = kestrel::time_us();
    kestrel::exit(0);
}

// Up to three online harts, from the caller's on (hart_info): the writers' harts.
uint64_t burst_harts(uint64_t* harts) {
    const uint64_t self = static_cast<uint64_t>(kestrel::current_cpu());
    uint64_t n = 0;
    for (uint64_t i = 0; i < kestrel::kMaxHarts && n < 3; ++i) {
        const uint64_t h = (self + i) % kestrel::kMaxHarts;
        kestrel::HartInfo hi{};
        if (kestrel::hart_info(h, &hi) == 1 && hi.state == kestrel::HartOnline) harts[n++] = h;
    }
    return n;
}

// With the driver holding the UART (the kernel's lines go through SBI): six writers, and four
// processes whose faults the kernel reports while they write.
void test_console_burst() {
    const char* t = "console burst through the driver";
    const int f0 = g_failed;
    const int64_t rw = kestrel::ProtRead | kestrel::ProtWrite;
    const int64_t free_threads = objects(3);
    if (!check(t,
               kestrel::map(kThreadStacks, kMaxWriters * kThreadStackPages * 4096,
                            static_cast<uint64_t>(rw)) == 0,
               "map the writers' stacks"))
        return;
    uint64_t harts[3] = {};
    const uint64_t nh = burst_harts(harts);
    g_started = 0;
    g_burst_done = 0;
    g_writer_count = 0;
    for (uint64_t j = 0; j < kMaxWriters && nh > 0; ++j) {
        BurstWriter& w = g_writers[j];
        w.kind = "udp"[j % 3];
        w.index = static_cast<int64_t>(j / 3);
        w.lines = 0;
        w.bad = 0;
        w.first = 0;
        w.last = 0;
        const uint64_t top = kThreadStacks + (j + 1) * kThreadStackPages * 4096;
        const int64_t th = kestrel::thread_create(&burst_writer, reinterpret_cast<void*>(top), &w,
                                                  kestrel::pin_hart(harts[j % nh]));
        if (!check(t, th > 0, "thread_create", th)) break;
        g_writer_count = g_writer_count + 1;
    }
    const int64_t deadline = kestrel::time_us() + 10'000'000;
    while (g_started < g_writer_count && kestrel::time_us() < deadline)
        kestrel::sleep_us(200);
    // The kernel's lines: a fault report each, printed while every writer is still writing.
    int64_t ids[kFaulters] = {};
    const int64_t spawned_at = kestrel::time_us();
    for (uint64_t i = 0; i < kFaulters; ++i) {
        char args[16];
        const size_t n = add_arg(args, 0, "unmapped");
        ids[i] = spawn("fault", args, n);
        check(t, ids[i] > 0, "spawn a faulting process", ids[i]);
    }
    for (uint64_t i = 0; i < kFaulters; ++i) {
        kestrel::WaitStatus st{};
        check(t,
              ids[i] <= 0 ||
                  (kestrel::wait(ids[i], &st) == 0 && st.kind == kestrel::WaitKind::Faulted),
              "a faulting process faulted", ids[i]);
    }
    const int64_t reaped_at = kestrel::time_us();
    g_burst_done = 1;
    threads_gone(t, free_threads);
    int64_t lines = 0, pieces = 0, bad = 0, fewest = kMaxLines, latest_first = 0,
            earliest_last = kestrel::time_us() + 1;
    for (int64_t j = 0; j < g_writer_count; ++j) {
        const BurstWriter& w = g_writers[j];
        (w.kind == 'p' ? pieces : lines) += w.lines;
        bad += w.bad;
        fewest = w.lines < fewest ? w.lines : fewest;
        latest_first = w.first > latest_first ? w.first : latest_first;
        earliest_last = w.last < earliest_last ? w.last : earliest_last;
    }
    // The gate compares `lines=` with the whole lines ("ULOG: whole") it counted.
    Line()
        .put("ULOG: whole-burst user writers=")
        .put(g_writer_count)
        .put(" harts=")
        .put(static_cast<int64_t>(nh))
        .put(" lines=")
        .put(lines)
        .put(" in-pieces=")
        .put(pieces)
        .put(" fewest=")
        .put(fewest)
        .put(" faulters-inside=")
        .put(latest_first <= spawned_at && reaped_at <= earliest_last ? 1 : 0)
        .done();
    check(t, g_writer_count == static_cast<int64_t>(kMaxWriters), "writers started",
          g_writer_count);
    check(t, bad == 0, "writes that did not write every byte", bad);
    check(t, fewest >= kMinLines, "a writer wrote too few lines", fewest);
    check(t, latest_first <= spawned_at && reaped_at <= earliest_last,
          "the faulting processes' lines came while every writer wrote (us after the first end)",
          reaped_at - earliest_last);
    check(t, kestrel::unmap(kThreadStacks, kMaxWriters * kThreadStackPages * 4096) == 0,
          "unmap the writers' stacks");
    pass(t, f0);
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
        test_console_burst();
    }
    if (drv > 0) {
        check(ti, kestrel::task_kill(kTask) == 0, "end the driver");
        kestrel::WaitStatus st{};
        check(ti, kestrel::wait(drv, &st) == 0, "reap the driver");
    }
    empty_slots(kEp, kTask + 1);
}

} // namespace init
