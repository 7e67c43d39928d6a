// fpstorm: every thread's f registers are its own (RFC-0027 "Floating point"). Threads of one
// process, started on the main thread's hart and spread by stealing, each in rounds: fill
// f0-f31 and fcsr with its own pattern, hold them through an integer loop (a window for the
// tick), a yield or a sleep, then check all 33. A thread's first look at its registers, before
// it writes any, must find them zero, although the main thread filled its own just before.
//   argv "threads=T" "gens=G" "rounds=R" "seed=S" "harts=H"
// Generations: the main thread fills its registers, starts T threads, waits for their end,
// checks its own registers; G times, or more (30 at most) while no round moved (H >= 2). Exit 0
// when no check failed (and, with H >= 2, some thread moved between harts in mid-round); else a bit
// per failed kind: 1 a round's registers were wrong, 2 a first look saw another thread's values, 4
// the main thread's registers were wrong, 8 nothing moved, 16 a setup step failed.
#include <kestrel/user.hpp>

extern "C" uint64_t fp_first_look();
extern "C" void fp_fill(uint64_t base);
extern "C" uint64_t fp_check(uint64_t base);
extern "C" uint64_t fp_round(uint64_t base, uint64_t spin, uint64_t number, uint64_t arg);

namespace {

using kestrel::Line;

constexpr uint64_t kStacks = 0x30000000;
constexpr uint64_t kStackBytes = 4 * 4096;
constexpr uint64_t kMaxThreads = 64;
constexpr uint64_t kMaxGens = 30;

uint64_t g_threads = 8, g_gens = 3, g_rounds = 40, g_seed = 1;
int64_t g_harts = 1;
uint64_t g_gen = 0;

// Summed by the threads (atomics): rounds checked, wrong registers, dirty first looks,
// rounds that ended on another hart than they began.
uint64_t g_checks, g_bad, g_leaks, g_moved;
uint64_t g_done; // threads of this generation that finished their rounds

void add(uint64_t& c, uint64_t v) {
    (void)__atomic_fetch_add(&c, v, __ATOMIC_RELAXED);
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

// The syscall in the middle of round r: a yield on odd rounds, a 200 us sleep every eighth
// (an idle hart then steals), none otherwise.
void pick(uint64_t r, uint64_t& number, uint64_t& arg) {
    number = 0;
    arg = 0;
    if (r % 8 == 7) {
        number = static_cast<uint64_t>(kestrel::Sys::Sleep);
        arg = 200;
    } else if (r % 2 == 1) {
        number = static_cast<uint64_t>(kestrel::Sys::Yield);
    }
}

void body(void* a) {
    const uint64_t t = reinterpret_cast<uint64_t>(a);
    if (fp_first_look() != 0) add(g_leaks, 1);
    uint64_t bad = 0, moved = 0;
    for (uint64_t r = 0; r < g_rounds; ++r) {
        const uint64_t base = g_seed << 48 ^ g_gen << 40 ^ t << 32 ^ r << 12;
        uint64_t number, arg;
        pick(r, number, arg);
        const int64_t cpu = kestrel::current_cpu();
        bad += fp_round(base, (r % 4) * 5'000, number, arg);
        moved += kestrel::current_cpu() != cpu ? 1 : 0;
    }
    add(g_checks, g_rounds);
    add(g_bad, bad);
    add(g_moved, moved);
    add(g_done, 1);
    kestrel::exit(0);
}

// Waits (20 s at most, in 1 ms sleeps) until `started` threads finished and every thread
// record is back (free0: the free count before they started): their stacks are free again.
bool all_ended(uint64_t started, int64_t free0) {
    const int64_t deadline = kestrel::time_us() + 20'000'000;
    while ((__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) < started ||
            kestrel::object_count(3) < free0) &&
           kestrel::time_us() < deadline)
        (void)kestrel::sleep_us(1000);
    return __atomic_load_n(&g_done, __ATOMIC_ACQUIRE) >= started &&
           kestrel::object_count(3) >= free0;
}

int setup_failed(const char* what, int64_t err) {
    Line().put("ULOG: fpstorm FAIL ").put(what).put(" (").put(err).put(")").done();
    return 16;
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "threads="))
            g_threads = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 8));
        if (starts(argv[i], "gens="))
            g_gens = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 5));
        if (starts(argv[i], "rounds="))
            g_rounds = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 7));
        if (starts(argv[i], "seed="))
            g_seed = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 5));
        if (starts(argv[i], "harts=")) g_harts = kestrel::parse_int(argv[i] + 6);
    }
    if (g_threads < 1 || g_threads > kMaxThreads) return setup_failed("threads=", 0);
    const int64_t m =
        kestrel::map(kStacks, g_threads * kStackBytes, kestrel::ProtRead | kestrel::ProtWrite);
    if (m != 0) return setup_failed("map of the stacks", m);
    uint64_t main_bad = 0;
    const int64_t t0 = kestrel::time_us();
    // More generations (30 in all at most) while no round has moved yet, with two harts or
    // more: stealing is the scheduler's choice, and a storm that never moved proves less.
    for (g_gen = 0; g_gen < g_gens || (g_harts >= 2 && g_moved == 0 && g_gen < kMaxGens); ++g_gen) {
        // The main thread's registers are full of its pattern while the threads start on its
        // hart: a first look that is not zero saw them (or another thread's).
        const uint64_t mine = g_seed << 48 ^ g_gen << 40 ^ 0xffull << 32;
        fp_fill(mine);
        const int64_t free0 = kestrel::object_count(3);
        __atomic_store_n(&g_done, 0, __ATOMIC_RELAXED);
        uint64_t started = 0;
        int64_t err = 0;
        while (started < g_threads && err == 0) {
            const uint64_t t = started;
            auto* top = reinterpret_cast<void*>(kStacks + (t + 1) * kStackBytes);
            const int64_t id = kestrel::thread_create(&body, top, reinterpret_cast<void*>(t));
            if (id > 0)
                ++started;
            else
                err = id;
        }
        // Every started thread has ended before the next generation reuses the stacks, also
        // after a failure: the process's status is its last thread's, so this one ends last.
        if (!all_ended(started, free0)) return setup_failed("threads still running", 0);
        if (err != 0) return setup_failed("thread_create", err);
        main_bad += fp_check(mine); // across the joins: blocked, woken, perhaps moved
    }
    (void)kestrel::unmap(kStacks, g_threads * kStackBytes);
    Line()
        .put("ULOG: fpstorm threads=")
        .put(static_cast<int64_t>(g_threads))
        .put(" gens=")
        .put(static_cast<int64_t>(g_gen))
        .put(" rounds=")
        .put(static_cast<int64_t>(g_checks))
        .put(" wrong=")
        .put(static_cast<int64_t>(g_bad))
        .put(" dirty-first-looks=")
        .put(static_cast<int64_t>(g_leaks))
        .put(" main-wrong=")
        .put(static_cast<int64_t>(main_bad))
        .put(" moved=")
        .put(static_cast<int64_t>(g_moved))
        .put(" us=")
        .put(kestrel::time_us() - t0)
        .done();
    int code = 0;
    if (g_bad != 0) code |= 1;
    if (g_leaks != 0) code |= 2;
    if (main_bad != 0) code |= 4;
    if (g_harts >= 2 && g_moved == 0) code |= 8;
    return code;
}
