// Interrupts and devices (issue 20, RFC-0031): the refusals, then seL4's three interrupt
// failures, each with a source the test triggers itself: the UART's transmit-empty interrupt
// (source 10, pending since boot: the kernel enabled it before its controller came up) and
// the goldfish RTC's alarm (source 11). Init holds the Platform capability (slot 63).
#include "init.hpp"

namespace init {

using kestrel::Error;
using kestrel::Line;

namespace {

constexpr uint64_t kN = 8, kUart = 9, kRtc = 10, kIrqU = 11, kIrqR = 12, kOther = 13, kEp = 14;
constexpr uint64_t kPlatform = kestrel::kPlatformSlot;
// In the 2 MiB region whose page table test_thread made, above the memory test's 1 MiB: no
// frame taken here stays behind.
constexpr uint64_t kUartVa = 0x2110'0000, kRtcVa = 0x2110'1000;
constexpr uint64_t kUartIrq = 10, kRtcIrq = 11;
constexpr uint64_t kBitUart = 2, kBitRtc = 1;
constexpr int64_t kWaitUs = 1'000'000; // a delivery takes microseconds; a lost one, for ever

// ns16550: IER at 1 (bit 1: transmit holding empty), IIR at 2 (reading it ends that interrupt).
volatile uint8_t* uart() {
    return reinterpret_cast<volatile uint8_t*>(kUartVa);
}
// goldfish RTC: 32-bit registers.
volatile uint32_t& rtc(uint64_t off) {
    return *reinterpret_cast<volatile uint32_t*>(kRtcVa + off);
}
constexpr uint64_t kRtcTimeLow = 0x00, kRtcAlarmLow = 0x08, kRtcAlarmHigh = 0x0c;
constexpr uint64_t kRtcIrqEnabled = 0x10, kRtcClearInterrupt = 0x1c;

int64_t len(const char* s) {
    return static_cast<int64_t>(kestrel::str_len(s));
}
int64_t dev(const char* compat, uint64_t dst, uint64_t platform = kPlatform) {
    return kestrel::device_get(platform, compat, static_cast<uint64_t>(len(compat)), dst);
}

// Polls notification kN until every bit of `want` has come (a time deadline, never a count):
// the bits seen, which the caller checks.
uint64_t wait_bits(uint64_t want) {
    uint64_t seen = 0;
    const int64_t deadline = kestrel::time_us() + kWaitUs;
    for (;;) {
        uint64_t w = 0;
        if (kestrel::notify_poll(kN, w) == 0) seen |= w;
        if ((seen & want) == want || kestrel::time_us() > deadline) return seen;
        (void)kestrel::sleep_us(200);
    }
}

// Until irq_status(slot) has `bit`, or the deadline: the last status.
int64_t wait_status(uint64_t slot, int64_t bit) {
    const int64_t deadline = kestrel::time_us() + kWaitUs;
    for (;;) {
        const int64_t s = kestrel::irq_status(slot);
        if (s < 0 || (s & bit) || kestrel::time_us() > deadline) return s;
        (void)kestrel::sleep_us(200);
    }
}

void uart_quiet() {
    uart()[1] = 0;
    (void)uart()[2];
}

// Acks `slot` once its device is quiet. The PLIC keeps a level source's pending bit from its
// last high until a claim takes it, so the ack may bring one stale delivery (a driver checks
// its device anyway): acked again until the source stays unmasked (a time deadline). The
// notification is drained. The last status.
int64_t settle(uint64_t slot) {
    const int64_t deadline = kestrel::time_us() + kWaitUs;
    for (;;) {
        if (kestrel::irq_ack(slot) != 0) return -1;
        (void)kestrel::sleep_us(1000);
        uint64_t w = 0;
        (void)kestrel::notify_poll(kN, w);
        const int64_t st = kestrel::irq_status(slot);
        if (st < 0 || (st & 1) == 0 || kestrel::time_us() > deadline) return st;
    }
}

// Before a test fires `slot`'s device: the notification drained, then the source unmasked. A
// stale delivery (inv. 7) may come after settle() returned (later still on a loaded host,
// when the hart it is routed to runs late): it masks the source, and a drain after it would
// eat its bit, so the test's own interrupt would never come. Drained first, so a stale one
// from here on leaves its bit for the test to see; masked already: settled again.
void ready(uint64_t slot) {
    uint64_t stale = 0;
    (void)kestrel::notify_poll(kN, stale);
    const int64_t st = kestrel::irq_status(slot);
    if (st >= 0 && (st & 1) != 0) (void)settle(slot);
}

void refusals(const char* t) {
    const int f0 = g_failed;
    check(t, kestrel::irq_get(kPlatform, 0, kIrqU) == e(Error::BadArgument), "source 0");
    check(t, kestrel::irq_get(kPlatform, 100'000, kIrqU) == e(Error::BadArgument),
          "a source past the controller's");
    check(t, kestrel::irq_get(kN, kUartIrq, kIrqU) == e(Error::WrongType),
          "irq_get through a notification");
    check(t, kestrel::irq_get(kOther, kUartIrq, kIrqU) == e(Error::EmptySlot),
          "irq_get through an empty slot");
    check(t, kestrel::irq_get(kPlatform, kUartIrq, kestrel::kCapSlots) == e(Error::SlotOutOfRange),
          "irq_get into a slot out of range");
    check(t, kestrel::irq_get(kPlatform, kUartIrq, kN) == e(Error::SlotOccupied),
          "irq_get into a used slot");
    check(t, kestrel::irq_bind(kEp, kN, 0) == e(Error::WrongType), "irq_bind of an endpoint");
    check(t, kestrel::irq_ack(kOther) == e(Error::EmptySlot), "irq_ack of an empty slot");
    check(t, kestrel::irq_route(kN, 0) == e(Error::WrongType), "irq_route of a notification");
    check(t, kestrel::irq_status(kEp) == e(Error::WrongType), "irq_status of an endpoint");
    check(t, dev("no,such-device", kUart) == e(Error::NoDevice), "an unknown device");
    check(t, dev("sifive,test0", kUart) == e(Error::KernelOwned), "the reset device");
    check(t, dev("sifive,clint0", kUart) == e(Error::KernelOwned), "the timer (clint)");
    check(t, dev("ns16550a", kUart, kN) == e(Error::WrongType),
          "device_get through a notification");
    check(t, dev("ns16550a", kN) == e(Error::SlotOccupied), "device_get into a used slot");
    check(t, kestrel::device_get(kPlatform, "ns16550a", 0, kUart) == e(Error::BadLength),
          "an empty name");
    check(t,
          kestrel::device_get(kPlatform, "ns16550a", kestrel::kMaxCompatible + 1, kUart) ==
              e(Error::BadLength),
          "a name past the bound");
    check(t,
          kestrel::device_get(kPlatform, reinterpret_cast<const char*>(0x10), 8, kUart) ==
              e(Error::BadPointer),
          "a name at a bad pointer");
    check(t, kestrel::device_map(kN, kUartVa) == e(Error::WrongType),
          "device_map of a notification");
    check(t, kestrel::object_count(5) > 0 && kestrel::object_count(6) > 0, "record counts");
    pass(t, f0);
}

// (c) seL4#1482: the boot left source 10 pending; it is delivered at the first bind, and the
// source works on after (never stuck in its gateway).
bool boot_pending(const char* t) {
    const int f0 = g_failed;
    if (!check(t, dev("ns16550a", kUart) == static_cast<int64_t>(kUartIrq),
               "device_get of the UART (its interrupt)"))
        return false;
    check(t, dev("ns16550a", kOther) == e(Error::InUse), "a second device_get of the UART");
    if (!check(t, kestrel::device_map(kUart, kUartVa) == 1, "device_map of the UART")) return false;
    check(t, kestrel::device_map(kUart, kUartVa) == e(Error::Exists), "device_map over itself");
    check(t, kestrel::device_map(kUart, kUartVa + 8) == e(Error::BadArgument),
          "device_map unaligned");
    check(t, kestrel::irq_get(kPlatform, kUartIrq, kIrqU) == 0, "irq_get of the UART's source");
    check(t, kestrel::irq_get(kPlatform, kUartIrq, kOther) == e(Error::InUse),
          "a second irq_get of the source");
    check(t, kestrel::irq_route(kIrqU, 0) == 0, "route to cpu 0");
    check(t, kestrel::irq_route(kIrqU, 99) == e(Error::BadArgument), "route to no cpu");
    const int64_t bound = kestrel::irq_bind(kIrqU, kN, kBitUart);
    check(t, bound == 1, "the bind delivers the boot's pending interrupt", bound);
    check(t, kestrel::irq_bind(kIrqU, kN, kBitUart) == e(Error::InUse), "a second bind");
    const uint64_t seen = wait_bits(kBitUart);
    check(t, (seen & kBitUart) != 0, "the boot's pending interrupt reached the notification",
          static_cast<int64_t>(seen));
    uart_quiet();
    const int64_t st = settle(kIrqU);
    check(t, st >= 0 && (st & 7) == 4 && (st >> 16) == static_cast<int64_t>(kUartIrq),
          "unmasked, bound, nothing latched", st);
    pass(t, f0);
    return g_failed == f0;
}

// (a) seL4#1536: an interrupt between irq_get and irq_bind is latched, delivered at the bind.
bool latched_before_bind(const char* t) {
    const int f0 = g_failed;
    if (!check(t, dev("google,goldfish-rtc", kRtc) == static_cast<int64_t>(kRtcIrq),
               "device_get of the RTC") ||
        !check(t, kestrel::device_map(kRtc, kRtcVa) == 1, "device_map of the RTC"))
        return false;
    check(t, kestrel::irq_get(kPlatform, kRtcIrq, kIrqR) == 0, "irq_get of the RTC's source");
    check(t, kestrel::irq_route(kIrqR, 0) == 0, "route to cpu 0");
    rtc(kRtcIrqEnabled) = 1;
    const uint32_t now = rtc(kRtcTimeLow); // latches the high half, as the device wants
    (void)now;
    rtc(kRtcAlarmHigh) = 0;
    rtc(kRtcAlarmLow) = 0; // in the past: fires now
    const int64_t st = wait_status(kIrqR, 2);
    check(t, st >= 0 && (st & 3) == 3, "the alarm latched (and masked) before the bind", st);
    const int64_t bound = kestrel::irq_bind(kIrqR, kN, kBitRtc);
    check(t, bound == 1, "the bind delivers the latched interrupt", bound);
    const uint64_t seen = wait_bits(kBitRtc);
    check(t, (seen & kBitRtc) != 0, "the latched interrupt reached the notification",
          static_cast<int64_t>(seen));
    pass(t, f0);
    return g_failed == f0;
}

// (b) seL4#464: the RTC's delivery stays unacknowledged (its line still high) while the UART's
// source, on the same hart, delivers.
void unacked_blocks_no_other(const char* t) {
    const int f0 = g_failed;
    const int64_t st = kestrel::irq_status(kIrqR);
    check(t, st >= 0 && (st & 1) != 0, "the RTC's source is masked, unacknowledged", st);
    ready(kIrqU);
    uart()[1] = 2; // transmit holding empty: fires at once
    const uint64_t seen = wait_bits(kBitUart);
    check(t, (seen & kBitUart) != 0, "the UART's source delivered meanwhile",
          static_cast<int64_t>(seen));
    uart_quiet();
    const int64_t u = settle(kIrqU);
    check(t, u >= 0 && (u & 1) == 0, "the UART's source unmasked", u);
    rtc(kRtcClearInterrupt) = 1;
    const int64_t after = settle(kIrqR);
    check(t, after >= 0 && (after & 3) == 0, "the RTC's source unmasked", after);
    pass(t, f0);
}

// The UART's source routed to another online hart delivers there too.
void routed(const char* t) {
    const int f0 = g_failed;
    const int64_t other = other_online_hart();
    if (!check(t, other >= 0, "another online hart", other)) return;
    const uint64_t to = static_cast<uint64_t>(other);
    check(t, kestrel::irq_route(kIrqU, to) == 0, "route to another hart", other);
    const int64_t st = kestrel::irq_status(kIrqU);
    check(t, st >= 0 && ((static_cast<uint64_t>(st) >> 8) & 0xff) == to, "routed there", st);
    ready(kIrqU);
    uart()[1] = 2;
    const uint64_t seen = wait_bits(kBitUart);
    check(t, (seen & kBitUart) != 0, "delivered from the other hart", static_cast<int64_t>(seen));
    uart_quiet();
    const int64_t u = settle(kIrqU);
    check(t, u >= 0 && (u & 1) == 0, "unmasked again", u);
    check(t, kestrel::irq_route(kIrqU, 0) == 0, "route back to cpu 0");
    pass(t, f0);
}

// RFC-0031 "Restricted Platform capabilities": a Platform capability minted with badge b
// reaches device node b - 1 and its interrupt, nothing else (NoDevice).
void restricted(const char* t, int64_t handlers, int64_t devices) {
    const int f0 = g_failed;
    constexpr uint64_t kRp = kOther + 1, kFar = kOther + 2;
    const int64_t b = restricted_platform("google,goldfish-rtc", kRp, kOther);
    if (!check(t, b > 0, "a Platform capability restricted to the RTC", b)) return;
    check(t, kestrel::cap_mint(kRp, kOther, kestrel::RightSend, 1) == e(Error::BadgeAlreadySet),
          "its scope cannot be changed");
    check(t, dev("ns16550a", kUart, kRp) == e(Error::NoDevice), "the console UART is refused");
    check(t, dev("no,such-device", kUart, kRp) == e(Error::NoDevice), "an unknown device");
    check(t, kestrel::irq_get(kRp, kUartIrq, kIrqU) == e(Error::NoDevice),
          "the UART's source is refused");
    check(t, kestrel::irq_get(kRp, kRtcIrq + 1, kIrqU) == e(Error::NoDevice),
          "another source is refused");
    check(t, kestrel::irq_get(kRp, 0, kIrqU) == e(Error::BadArgument), "source 0: out of range");
    check(t, dev("google,goldfish-rtc", kRtc, kRp) == static_cast<int64_t>(kRtcIrq),
          "its own node (the RTC's interrupt)");
    check(t, kestrel::device_map(kRtc, kRtcVa) == 1, "device_map of its node");
    check(t, kestrel::irq_get(kRp, kRtcIrq, kIrqR) == 0, "its node's source");
    const int64_t st = kestrel::irq_status(kIrqR);
    check(t, st >= 0 && (st >> 16) == static_cast<int64_t>(kRtcIrq), "the source's status", st);
    check(t, kestrel::irq_get(kPlatform, kRtcIrq, kIrqU) == e(Error::InUse),
          "held through it: the root's capability finds the source in use");
    check(t, kestrel::mem_unmap(kRtcVa, kestrel::kPageSize) == 0, "unmap the RTC");
    empty_slots(kRtc, kRtc + 1);
    empty_slots(kIrqR, kIrqR + 1);
    // A badge past the device list names nothing.
    check(t, kestrel::cap_mint(kPlatform, kFar, kestrel::RightSend, 1000) == 0, "badge 1000");
    check(t, dev("google,goldfish-rtc", kRtc, kFar) == e(Error::NoDevice),
          "badge 1000 reaches no device");
    check(t, kestrel::irq_get(kFar, kRtcIrq, kIrqR) == e(Error::NoDevice),
          "badge 1000 reaches no source");
    empty_slots(kRp, kFar + 1);
    check(t, kestrel::object_count(5) == handlers && kestrel::object_count(6) == devices,
          "every source and device record back");
    pass(t, f0);
}

// A fuzzer alone (no init protocol) with the RTC's restricted capability, killed while it
// holds the RTC's device and source: both records come back with its end (RFC-0031 inv. 1).
void killed_holder(const char* t, int64_t handlers, int64_t devices) {
    const int f0 = g_failed;
    constexpr uint64_t kRp = kOther + 1, kTask = kOther + 2;
    if (!check(t, restricted_platform("google,goldfish-rtc", kRp, kOther) > 0,
               "a Platform capability restricted to the RTC"))
        return;
    char a[96];
    size_t n = add_arg(a, 0, "alone");
    n = add_arg(a, n, "seed=");
    n = add_int(a, n - 1, 4242);
    n = add_arg(a, n, "calls=100000000");
    n = add_arg(a, n, "cpus=");
    n = add_int(a, n - 1, g_cpus);
    n = add_arg(a, n, "rtc=");
    n = add_int(a, n - 1, static_cast<int64_t>(kRtcIrq));
    const int64_t id = kestrel::spawn("fuzz", 4, a, n, kRp, kTask);
    if (!check(t, id > 0, "spawn a fuzzer holding it", id)) return;
    // Until it holds both at once (its random calls take and give them back).
    bool both = false;
    const int64_t deadline = kestrel::time_us() + 10'000'000;
    while (!both && kestrel::time_us() < deadline) {
        both = kestrel::object_count(5) == handlers - 1 && kestrel::object_count(6) == devices - 1;
        if (!both) (void)kestrel::sleep_us(500);
    }
    check(t, both, "the fuzzer took the RTC's device and source");
    check(t, kestrel::task_kill(kTask) == 0, "kill it");
    waited(t, id, kestrel::WaitKind::Killed, 0, "killed");
    const int64_t back = kestrel::time_us() + 2'000'000;
    while ((kestrel::object_count(5) != handlers || kestrel::object_count(6) != devices) &&
           kestrel::time_us() < back)
        (void)kestrel::sleep_us(1000);
    check(t, kestrel::object_count(5) == handlers, "the source record back",
          kestrel::object_count(5) - handlers);
    check(t, kestrel::object_count(6) == devices, "the device record back",
          kestrel::object_count(6) - devices);
    empty_slots(kRp, kTask + 1);
    pass(t, f0);
}

} // namespace

int64_t restricted_platform(const char* compat, uint64_t dst, uint64_t scratch) {
    for (uint64_t b = 1; b <= kestrel::kMaxDevices; ++b) {
        const int64_t m = kestrel::cap_mint(kPlatform, dst, kestrel::RightSend, b);
        if (m != 0) return m;
        const int64_t r = dev(compat, scratch, dst);
        if (r >= 0) (void)kestrel::cap_delete(scratch);
        if (r != e(Error::NoDevice)) return static_cast<int64_t>(b); // its node (even InUse)
        (void)kestrel::cap_delete(dst);
    }
    return e(Error::NoDevice);
}

bool have_virt_devices() {
    const int64_t rtc = dev("google,goldfish-rtc", kRtc);
    if (rtc >= 0) (void)kestrel::cap_delete(kRtc);
    const int64_t src = kestrel::irq_get(kPlatform, kRtcIrq, kIrqR);
    if (src == 0) (void)kestrel::cap_delete(kIrqR);
    return rtc == static_cast<int64_t>(kRtcIrq) && src != e(Error::NoDevice);
}

void test_irq() {
    const int64_t handlers = kestrel::object_count(5), devices = kestrel::object_count(6);
    const bool made =
        check("irq refusals", kestrel::notification_create(kN) == 0, "notification") &&
        check("irq refusals", kestrel::endpoint_create(kEp) == 0, "endpoint");
    if (made) {
        refusals("irq refusals");
        if (boot_pending("irq pending at boot delivered") &&
            latched_before_bind("irq latched before bind")) {
            unacked_blocks_no_other("irq unacked source blocks no other");
            if (g_cpus >= 2) routed("irq routed to another hart");
        }
    }
    const char* t = "irq freed with last capability";
    const int f0 = g_failed;
    (void)kestrel::mem_unmap(kUartVa, kestrel::kPageSize);
    (void)kestrel::mem_unmap(kRtcVa, kestrel::kPageSize);
    empty_slots(kN, kEp + 1);
    check(t, kestrel::object_count(5) == handlers, "every source record back",
          kestrel::object_count(5));
    check(t, kestrel::object_count(6) == devices, "every device record back",
          kestrel::object_count(6));
    // Freed: the sources can be had again, and come unbound and unlatched.
    check(t, kestrel::irq_get(kPlatform, kRtcIrq, kIrqR) == 0, "irq_get after the delete");
    const int64_t st = kestrel::irq_status(kIrqR);
    check(t, st >= 0 && (st & 6) == 0, "unbound and nothing latched", st);
    check(t, kestrel::cap_delete(kIrqR) == 0, "delete");
    check(t, kestrel::object_count(5) == handlers, "the source record back again");
    pass(t, f0);
    if (made) {
        restricted("irq restricted platform capability", handlers, devices);
        killed_holder("irq freed when its holder is killed", handlers, devices);
    }
}

} // namespace init
