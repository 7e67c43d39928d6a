// hotplug: threads pinned to one hart that the kernel stops and restarts while they run, for
// the kernel's `user threads across hart restart` selftest (RFC-0027 invariant 1).
//   argv "hart=H" "seed=S": kThreads threads pinned to hart H, each in rounds: fill its own
//   page with a pattern of S, its index and the round; trap into the kernel and switch
//   (a yield, every 8th round a 100 us sleep); read the pattern back; ask current_cpu().
//   Every trap from U-mode checks that satp holds this process's root (the kernel's root
//   check). Counts go to the shared page (layout.hpp), which the kernel reads.
// A thread stops kRoundsAfter rounds after it saw kBack, or kGiveUpUs after it started.
// Exit 0: every thread ran its rounds after the restart, every word read back and every round
// was on H; else 1, or 100 + a setup step that failed. The main thread waits, unpinned.
#include "layout.hpp"

#include <kestrel/user.hpp>

namespace {

using namespace hotplug;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kStacks = 0x31000000; // kStackLen per thread
constexpr uint64_t kStackLen = 4 * kPage;
constexpr uint64_t kOwn = 0x32000000; // one page per thread: its pattern
constexpr uint64_t kPatternWords = kPage / 8;
constexpr int64_t kGiveUpUs = 20'000'000;

int64_t g_hart = -1;
uint64_t g_seed = 0;

uint64_t* shared() {
    return reinterpret_cast<uint64_t*>(kShared);
}

uint64_t load(uint64_t w) {
    return __atomic_load_n(&shared()[w], __ATOMIC_ACQUIRE);
}

void store(uint64_t w, uint64_t v) {
    __atomic_store_n(&shared()[w], v, __ATOMIC_RELEASE);
}

uint64_t pattern(uint64_t t, uint64_t round, uint64_t i) {
    return g_seed << 48 ^ t << 40 ^ round << 12 ^ i;
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

void body(void* arg) {
    const uint64_t t = reinterpret_cast<uint64_t>(arg);
    auto* own = reinterpret_cast<volatile uint64_t*>(kOwn + t * kPage);
    (void)__atomic_fetch_add(&shared()[kStarted], 1, __ATOMIC_ACQ_REL);
    const int64_t give_up = kestrel::time_us() + kGiveUpUs;
    uint64_t after = 0, bad_memory = 0, bad_cpu = 0;
    for (uint64_t round = 1;; ++round) {
        for (uint64_t i = 0; i < kPatternWords; ++i)
            own[i] = pattern(t, round, i);
        if (round % 8 == 0)
            (void)kestrel::sleep_us(100); // blocks: a wake, parked while the hart is away
        else
            (void)kestrel::yield();
        for (uint64_t i = 0; i < kPatternWords; ++i)
            bad_memory += own[i] != pattern(t, round, i) ? 1 : 0;
        bad_cpu += kestrel::current_cpu() != g_hart ? 1 : 0;
        store(word(t, kRounds), round);
        store(word(t, kBadMemory), bad_memory);
        store(word(t, kBadCpu), bad_cpu);
        if (load(kPhase) == kBack) store(word(t, kAfter), ++after);
        if (after >= kRoundsAfter || kestrel::time_us() >= give_up) break;
    }
    (void)__atomic_fetch_add(&shared()[kDone], 1, __ATOMIC_ACQ_REL);
    kestrel::exit(0);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !starts(argv[0], "hart=") || !starts(argv[1], "seed=")) return 100;
    g_hart = kestrel::parse_int(argv[0] + 5);
    g_seed = static_cast<uint64_t>(kestrel::parse_int(argv[1] + 5));
    constexpr uint64_t kRw = kestrel::ProtRead | kestrel::ProtWrite;
    if (kestrel::map(kShared, kPage, kRw) != 0) return 101;
    if (kestrel::map(kStacks, kThreads * kStackLen, kRw) != 0) return 102;
    if (kestrel::map(kOwn, kThreads * kPage, kRw) != 0) return 103;
    const int64_t free_threads = kestrel::object_count(3);
    for (uint64_t t = 0; t < kThreads; ++t) {
        void* top = reinterpret_cast<void*>(kStacks + (t + 1) * kStackLen);
        if (kestrel::thread_create(&body, top, reinterpret_cast<void*>(t),
                                   kestrel::pin_hart(static_cast<uint64_t>(g_hart))) <= 0)
            return 104;
    }
    // Until every thread has left (its record back): the last thread's exit code is the
    // process's, and that must be this thread's.
    const int64_t give_up = kestrel::time_us() + 2 * kGiveUpUs;
    while ((load(kDone) < kThreads || kestrel::object_count(3) < free_threads) &&
           kestrel::time_us() < give_up)
        (void)kestrel::sleep_us(1000);
    if (load(kDone) < kThreads || kestrel::object_count(3) < free_threads) return 105;
    int code = 0;
    kestrel::Line line;
    line.put("ULOG: hotplug seed ").put(static_cast<int64_t>(g_seed)).put(": hart ").put(g_hart);
    for (uint64_t t = 0; t < kThreads; ++t) {
        const uint64_t after = load(word(t, kAfter)), mem = load(word(t, kBadMemory)),
                       cpu = load(word(t, kBadCpu));
        line.put(", t").put(static_cast<int64_t>(t)).put(" rounds ");
        line.put(static_cast<int64_t>(load(word(t, kRounds)))).put(" after ");
        line.put(static_cast<int64_t>(after)).put(" bad ").put(static_cast<int64_t>(mem));
        line.put(" cpu ").put(static_cast<int64_t>(cpu));
        if (after < kRoundsAfter || mem != 0 || cpu != 0) code = 1;
    }
    line.done();
    return code;
}
