// The console's line rule (base/console.hpp, RFC-0031 "The console rule"): a line reaches the
// UART whole, whoever writes it and on whichever hart. The kernel cannot read its own UART
// back, so this test only makes the burst happen and checks that it did: every writer wrote
// all its lines, and the writers' bursts overlapped in time. The gate (scripts/qemu-test.sh)
// checks the lines themselves: every "KLOG: whole ..." line has its exact form, the count
// named by the summary line arrived whole, and no line of the boot carries a second tag.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

namespace {

// The burst's payload: what the gate's awk expects after "KLOG: whole k<w> <i> " (60 bytes).
constexpr char kPayload[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";
// Each writer writes at least kMinLines and goes on until every writer has written kMinLines
// (so the bursts overlap by construction, however late the host runs a hart's vCPU): at most
// kMaxLines, or until kBurstUs passed.
constexpr std::uint32_t kMinLines = 8, kMaxLines = 1000;
constexpr std::uint64_t kBurstUs = 5'000'000;
// Writers on this many harts at most: more add only lock contention (each spinning vCPU takes a
// host thread from the holder), not more chances to cut a line.
constexpr std::uint32_t kMaxWriters = 4;

struct Writer {
    std::uint32_t index = 0;
    std::atomic<std::uint32_t> written{0};
    std::uint64_t first = 0, last = 0; // time of the first line's start, the last one's end
};

// One burst line: even ones through write_line (println), odd ones through write_bytes with
// their newline, the path a user's console_write takes.
void write_one(const Writer& w, std::uint32_t i) {
    LineBuffer line;
    line.put("KLOG: whole k");
    line.put(w.index);
    line.put(' ');
    line.put(i);
    line.put(' ');
    line.put(kPayload);
    if (i % 2 == 0) {
        console::write_line(line);
    } else {
        line.put('\n');
        console::write_bytes(line.data(), line.size(), console::kKernel);
    }
}

} // namespace

KSELFTEST(CONS0001, "console burst") {
    // One pinned writer per online hart (up to four), all released at one instant (a time, not a
    // flag each polls in a loop of its own). After the first writer's fourth line the console is
    // handed over as to a user driver (RFC-0031): the rest of the lines go through SBI, under the
    // same lock.
    const OnlineCpus on = online_cpus();
    const std::uint32_t writers_n = on.count < kMaxWriters ? on.count : kMaxWriters;
    Writer writers[kMaxCpus];
    const bool was_handed = console::handed_over();
    const std::uint64_t start = time::deadline_in_us(20'000);
    std::atomic<std::uint32_t> halfway{0};
    std::atomic<std::uint32_t> reached{0}; // writers that wrote kMinLines
    auto body = [&](Writer& w) {
        (void)time::wait_until(start, [] { return false; });
        const std::uint64_t until = time::now() + time::from_us(kBurstUs);
        w.first = time::now();
        std::uint32_t i = 0;
        while (i < kMaxLines && (i < kMinLines || reached.load() < writers_n) &&
               time::now() < until) {
            if (i == kMinLines / 2 && halfway.fetch_add(1) == 0 && !was_handed)
                console::hand_over();
            write_one(w, i);
            w.written.store(++i);
            if (i == kMinLines) reached.fetch_add(1);
        }
        w.last = time::now();
    };
    struct Arg {
        decltype(body)* fn;
        Writer* w;
    };
    auto entry = [](void* p) {
        Arg* a = static_cast<Arg*>(p);
        (*a->fn)(*a->w);
    };
    Arg args[kMaxCpus];
    std::uint32_t spawned = 0;
    {
        TaskScope scope;
        for (std::uint32_t i = 0; i < writers_n; ++i) {
            writers[i].index = i;
            args[i] = Arg{&body, &writers[i]};
            if (scope
                    .spawn(
                        +entry, &args[i],
                        sched::SpawnOptions{sched::Qos::Normal, on.cpu[i], true, "console-burst"})
                    .error == sched::SpawnError::None)
                ++spawned;
        }
    } // joins every writer
    if (!was_handed) console::take_back();
    std::uint32_t total = 0;
    std::uint64_t latest_first = 0, earliest_last = ~std::uint64_t{0};
    for (std::uint32_t i = 0; i < spawned; ++i) {
        total += writers[i].written.load();
        latest_first = writers[i].first > latest_first ? writers[i].first : latest_first;
        earliest_last = writers[i].last < earliest_last ? writers[i].last : earliest_last;
    }
    const bool overlapped = latest_first < earliest_last;
    // The gate compares `lines=` with the whole burst lines it counted since the last summary.
    println("KLOG: whole-burst kernel writers=", spawned, " lines=", total,
            " overlapped=", overlapped ? "yes" : "no");
    KCHECK(spawned == writers_n);
    KCHECK(total >= spawned * kMinLines);
    KCHECK(spawned < 2 || overlapped);
    return Result::pass();
}

} // namespace k::selftest
