// The user ladder (RFC-0027): init, spawned from the kernel, prints the `SELFTEST:` markers
// of the user tests from U-mode; this test then checks its end status and that every frame,
// address space, process and thread record it and its children took came back. Before init,
// the spawns that must be refused (a cut image, no thread record, no process record, the
// frames or the tasks running out).
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "ipc/fastpath.hpp"
#include "kernel/boot_info.hpp"
#include "mm/frames.hpp"
#include "mm/user_space.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "proc/process_record.hpp" // the slabs, to fill them for the spawn refusals
#include "sched/task_pool.hpp"
#include "sched/task_ref.hpp" // task_release, to give back the task slots held below
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"
#include "selftest/util.hpp"

namespace k::selftest {

namespace {

constexpr std::uint32_t kUserJitterMaxUs = 10;
// More frame allocations than a spawn of `hello` makes (root and tables, its pages, the stack).
constexpr std::uint64_t kMaxSpawnFrames = 128;

// Spawn refusals (RFC-0027 "Failure model"): an image the validator refuses (init cut by one
// byte) is BadImage; with every thread record taken, and then with every process record
// taken, Limit. Each gives back what it took: the caller's records_back sees every record and
// frame. The slabs are filled with records nobody runs; nothing else spawns meanwhile.
Result spawn_refusals(const elf::Image& image) {
    const elf::Image cut{image.name, image.begin, image.end - 1};
    const std::int64_t bad = user::spawn(nullptr, cut, nullptr, 0);
    println("KLOG: user: spawn of a cut image: ", bad);
    KCHECK(bad == kestrel::code(kestrel::Error::BadImage));
    static user::Process* procs[user::kMaxProcesses];
    static user::Thread* threads[user::kMaxThreads];
    std::uint32_t np = 0, nt = 0;
    procs[np] = user::alloc_process(nullptr);
    KCHECK(procs[np] != nullptr);
    ++np;
    while (nt < user::kMaxThreads && (threads[nt] = user::alloc_thread(*procs[0])) != nullptr)
        ++nt;
    const std::int64_t no_thread = user::spawn(nullptr, image, nullptr, 0);
    for (std::uint32_t i = 0; i < nt; ++i)
        user::free_thread(*threads[i]);
    while (np < user::kMaxProcesses && (procs[np] = user::alloc_process(nullptr)) != nullptr)
        ++np;
    const std::int64_t no_process = user::spawn(nullptr, image, nullptr, 0);
    for (std::uint32_t i = 0; i < np; ++i)
        user::put(*procs[i]);
    println("KLOG: user: spawn with ", nt, " thread records taken: ", no_thread, "; with ", np,
            " process records taken: ", no_process);
    KCHECK(no_thread == kestrel::code(kestrel::Error::Limit));
    KCHECK(no_process == kestrel::code(kestrel::Error::Limit));
    return Result::pass();
}

// Spawns that run out of frames or tasks midway (RFC-0027 "Failure model"): `NoMemory`, and
// every frame and record taken is back. Frames: the pool refuses after k more allocations
// (frames::refuse_after), for k = 0, 1, ... until the spawn of `hello` gets every frame it
// needs, so the refusal lands on each allocation a spawn makes in turn (the root table, the
// image's tables and pages, the stack); that last spawn must run to its end. Tasks: with no
// task slot left the anchor cannot start; with one left the anchor starts and the main thread
// cannot. Nothing else allocates frames or tasks meanwhile.
Result spawn_no_memory() {
    using kestrel::Error;
    const elf::Image* hello = user::find_image("hello", 5);
    KCHECK(hello != nullptr);
    static const char kArgs[] = "x";
    const UserRecords before = UserRecords::now();
    std::int64_t id = 0;
    std::uint64_t refused = 0;
    for (; refused < kMaxSpawnFrames; ++refused) {
        frames::refuse_after(refused);
        id = user::spawn(nullptr, *hello, kArgs, sizeof kArgs);
        frames::refuse_clear();
        if (id > 0) break;
        if (id != kestrel::code(Error::NoMemory) || !(UserRecords::now() == before)) {
            println("KLOG: user: spawn with ", refused, " frames: ", id);
            KCHECK(id == kestrel::code(Error::NoMemory));
            KCHECK(records_back("spawn out of frames", before));
        }
    }
    println("KLOG: user: spawn out of frames: NoMemory with 0 to ", refused - 1,
            " frames granted, ran with ", refused, ": task ", id);
    KCHECK(refused > 0 && id > 0);
    kestrel::WaitStatus st{};
    KCHECK(user::await(nullptr, id, true, st) >= 0);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0x41); // hello: argc + 0x40
    KCHECK(records_back("spawn out of frames", before));
    static sched::Task* held[sched::kMaxTasks];
    for (std::uint32_t left = 0; left < 2; ++left) {
        std::uint32_t n = 0;
        while (sched::task_pool_free() > left && (held[n] = sched::task_alloc()) != nullptr)
            ++n;
        const std::uint32_t free_then = sched::task_pool_free();
        const std::int64_t r = user::spawn(nullptr, *hello, kArgs, sizeof kArgs);
        for (std::uint32_t i = 0; i < n; ++i) {
            held[i]->refs.store(1, std::memory_order_relaxed); // never ran: ours is the only one
            sched::task_release(held[i]);
        }
        println("KLOG: user: spawn with ", free_then, " task slots free: ", r);
        KCHECK(free_then == left);
        KCHECK(r == kestrel::code(Error::NoMemory));
        KCHECK(records_back(left == 0 ? "spawn with no task" : "spawn with one task", before));
    }
    return Result::pass();
}

} // namespace

KSELFTEST(USR0001, "user ladder") {
    const UserRecords before = UserRecords::now();
    const elf::Image* init = k::user::find_image("init", 4);
    KCHECK(init != nullptr);
    if (const Result r = spawn_refusals(*init); !r.ok) return r;
    if (const Result r = spawn_no_memory(); !r.ok) return r;
    // The seed scenario's rounds (`user_rounds=`, else 1000) and the syscall fuzzer's seed,
    // calls and processes (`fuzz_seed=`, `fuzz_calls=`, `fuzz_procs=`; issue 22) and
    // `fuzz_hart_control=` (issue 20), passed on.
    char args[160];
    std::size_t n = put_arg(args, 0, "cpus=", online_count());
    n = put_arg(args, n, "rounds=", bootarg_number("user_rounds", 1000));
    n = put_arg(args, n, "fuzz_seed=", bootarg_number("fuzz_seed", 12345));
    n = put_arg(args, n, "fuzz_calls=", bootarg_number("fuzz_calls", 100000));
    n = put_arg(args, n, "fuzz_procs=", bootarg_number("fuzz_procs", 1));
    // 1: one fuzzer gets the HartControl capability (RFC-0032 "The fuzzer and hart control").
    n = put_arg(args, n, "fuzz_hart_control=", bootarg_number("fuzz_hart_control", 0));
    // With two harts or more the whole ladder runs under jitter (short delays at lock edges and
    // handshake steps, base/jitter.hpp), so that the races of IPC and processes are widened
    // wherever they sit, not only in the kernel's storm.
    const bool jitter_here = online_count() > 1 && !jitter::enabled();
    if (jitter_here) jitter::enable(time::now() | 1, kUserJitterMaxUs);
    const ipc::fastpath::Counts fast0 = ipc::fastpath::counts();
    const std::int64_t id = user::spawn(nullptr, *init, args, n);
    println("KLOG: user: init is task ", id);
    kestrel::WaitStatus st{};
    const bool awaited = id > 0 && user::await(nullptr, id, true, st) >= 0;
    if (jitter_here) {
        println("KLOG: user: jitter seed=", jitter::seed(), " delays=", jitter::delays());
        jitter::disable();
    }
    KCHECK(id > 0);
    KCHECK(awaited);
    println("KLOG: user: init ended: kind ", static_cast<std::uint32_t>(st.kind), " code ", st.code,
            " addr ", hex(st.addr));
    say_fastpath_share("the user ladder", fast0);
    KCHECK(st.kind == kestrel::WaitKind::Exited && st.code == 0);
    // Every record and frame of init and its children is back.
    KCHECK(records_back("user", before));
    return Result::pass();
}

} // namespace k::selftest
