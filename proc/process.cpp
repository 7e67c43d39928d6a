// Processes and user threads: spawn, the end of a thread and of a process, wait and join.
//
// Life of a process record (refs): one for the parent's link (dropped when it reaps, or when
// the parent ends), one per live thread, one for its anchor, one per waiter while it waits.
// The anchor is a kernel task that blocks until the last thread has gone and then exits, so
// every waiter simply joins it (sched::join: any number of joiners, no lost wake-up).
#include "proc/process.hpp"

#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "hal_cpu.hpp"
#include "ipc/ipc_calls.hpp"
#include "irq/device.hpp"
#include "mm/user_space.hpp"
#include "proc/process_record.hpp"
#include "sched/scheduler.hpp"

#include <atomic>

namespace k::user {

namespace {

std::atomic<std::uint32_t> g_next_cpu{0}; // round-robin placement of new processes

void anchor_main(void* arg) {
    Process& p = *static_cast<Process*>(arg);
    p.end.wait();
    orphan_children(p);
    put(p); // the anchor's reference
    sched::exit(0);
}

// Signals p's end, which wakes its anchor and so every waiter. Only after p's space is
// released (RFC-0027 invariant 6), so that a waiter that sees the end finds the space's
// frames, tables and ASID back: p.space is cleared just after the release, and a record that
// still names a space here is a panic.
void signal_end(Process& p) {
    if (p.space) k::panic("process end signalled before the release of its space");
    (void)p.end.signal();
}

// The next online hart in turn for a new process's main thread.
std::uint32_t next_cpu() {
    const std::uint32_t n = cpu_count();
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t c = g_next_cpu.fetch_add(1, std::memory_order_relaxed) % n;
        if (cpu_online(c)) return c;
    }
    return sched::kAnyCpu;
}

// Starts a thread of `p` (threads already counted, a Thread record filled).
std::int64_t start_thread(Process& p, Thread& t, std::uint32_t cpu, const char* name,
                          bool pinned = false) {
    sched::SpawnOptions o;
    o.cpu = cpu;
    o.pinned = pinned;
    o.name = name;
    o.space = p.space;
    o.user = &t;
    sched::Spawned s = sched::spawn(&thread_main, &t, o);
    if (s.error == sched::SpawnError::InvalidCpu && !pinned) { // went offline: anywhere
        o.cpu = sched::kAnyCpu;
        s = sched::spawn(&thread_main, &t, o);
    }
    if (s.error != sched::SpawnError::None)
        return static_cast<std::int64_t>(kestrel::Error::NoMemory);
    return s.task->id;
}

// argc/argv at the top of the new stack: the strings, then the pointer array, sp 16-aligned.
bool push_args(uspace::UserSpace& s, const char* args, std::size_t len, std::uint64_t& sp,
               std::uint64_t& argc, std::uint64_t& argv) {
    std::uint64_t ptrs[kestrel::kMaxArgs + 1] = {};
    const std::uint64_t strings = (kStackTop - len) & ~std::uint64_t{15};
    argc = 0;
    for (std::size_t i = 0; i < len; ++i) {
        if (i == 0 || args[i - 1] == '\0') ptrs[argc++] = strings + i;
    }
    argv = (strings - (argc + 1) * 8) & ~std::uint64_t{15};
    sp = argv;
    return uspace::write(s, strings, args, len) == mm::SpaceError::None &&
           uspace::write(s, argv, ptrs, (argc + 1) * 8) == mm::SpaceError::None;
}

} // namespace

// Blocks until p has ended (the caller holds a reference) and copies its status out. True
// when it had ended before the call.
bool join_process(Process& p, kestrel::WaitStatus& out, bool& killed) {
    killed = false;
    // The look at the end comes before the count: a process that ends only once it sees its
    // waiters counted (the waiter count a syscall reads) then cannot have ended before this
    // waiter looked (look, count, its read of the count, its end: in that order). Counted
    // first, a waiter stalled between its count and its look (a vCPU preempted on the host)
    // saw an end that came after it was counted, and said "late" (1 boot in many at SMP=8).
    const bool ended_before = p.end.signalled(); // acquire: the count below cannot pass it
    p.waiting.fetch_add(1, std::memory_order_seq_cst);
    // A user thread's join ends when its own process is killed (RFC-0030 "Kill").
    std::int64_t value = 0;
    const bool ended = sched::join_abortable(sched::TaskRef(p.anchor), value);
    p.waiting.fetch_sub(1, std::memory_order_relaxed);
    if (!ended) {
        killed = true;
        return false;
    }
    k::SpinGuard g(p.lock);
    out = p.status;
    return ended_before;
}

std::int64_t spawn(Process* parent, const elf::Image& image, const char* args, std::size_t args_len,
                   std::uint64_t cap, std::uint64_t task_dst) {
    using E = kestrel::Error;
    Process* p = alloc_process(parent);
    if (!p) return static_cast<std::int64_t>(E::Limit);
    p->name = image.name;
    if (!parent) give_hart_control(*p); // a root process (RFC-0032)
    if (cap != kestrel::kNoCap) {
        const std::int64_t e =
            parent ? k::ipc::transfer(parent->caps, cap, p->caps, 0)
                   : static_cast<std::int64_t>(E::EmptySlot); // the kernel holds no capability
        if (e != 0) {
            put(*p); // the parent's link: the slot is free again
            return e;
        }
    }
    // A root process (the kernel spawns it: init) holds the Platform capability (issue 20):
    // the authority over interrupt sources and device memory, passed on only by it.
    if (!parent && cap == kestrel::kNoCap)
        (void)irq::give_platform(p->caps, kestrel::kPlatformSlot); // a fresh space: no refusal
    if (task_dst != kestrel::kNoCap) { // a cheap refusal first; the insert comes below
        // The kernel has no capability space: it gets no capability.
        const std::int64_t e =
            parent ? k::ipc::check_free(parent->caps, task_dst) : kestrel::code(E::EmptySlot);
        if (e != 0) {
            p->caps.clear();
            put(*p); // the parent's link: the slot is free again
            return e;
        }
    }
    Thread* t = alloc_thread(*p);
    uspace::UserSpace* space = t ? uspace::create() : nullptr;
    std::int64_t err = static_cast<std::int64_t>(t ? E::NoMemory : E::Limit);
    std::uint64_t sp = 0, argc = 0, argv = 0, entry = 0;
    if (space) {
        const uspace::Loaded l = uspace::load(*space, image);
        entry = l.entry;
        if (l.error == uspace::LoadError::None &&
            uspace::map(*space, kStackTop - kStackPages * kestrel::kPageSize,
                        kStackPages * kestrel::kPageSize,
                        kestrel::ProtRead | kestrel::ProtWrite) == 0 &&
            push_args(*space, args, args_len, sp, argc, argv)) {
            err = 0;
        } else if (l.error == uspace::LoadError::BadImage) {
            err = static_cast<std::int64_t>(E::BadImage); // a segment the space cannot hold
        }
    }
    if (err == 0) {
        p->space = space;
        t->pc = entry;
        t->sp = sp;
        t->a0 = argc;
        t->a1 = argv;
        p->threads = 1;
        process_get(*p); // the main thread's
        process_get(*p); // the anchor's
        sched::SpawnOptions ao;
        ao.name = "anchor";
        sched::Spawned a = sched::spawn(&anchor_main, p, ao);
        if (a.error != sched::SpawnError::None) {
            p->threads = 0;
            p->refs.fetch_sub(2, std::memory_order_relaxed);
            err = static_cast<std::int64_t>(E::NoMemory);
        } else {
            a.task->refs.fetch_add(1, std::memory_order_relaxed); // adopted by put()
            // Published under the record's slot lock: a join by id (any task may guess one) finds
            // the process only once it has an anchor to join.
            publish_anchor(*p, a.task.get());
            const std::int64_t id = p->id;
            // The task capability once the process has its anchor (task_wait joins it) and before
            // its thread runs: a refusal here (another thread of the parent filled the slot)
            // ends the spawn as a failed start does.
            const std::int64_t r = give_task_cap(parent, task_dst, *p)
                                       ? start_thread(*p, *t, next_cpu(), image.name)
                                       : static_cast<std::int64_t>(E::SlotOccupied);
            if (r > 0) return id;
            // The anchor waits for an end that no thread will bring: bring it here. Nobody
            // learns the id, so nobody reaps it: drop the parent's link too.
            {
                k::SpinGuard g(p->lock);
                p->threads = 0;
                p->dead = true;
                p->status = kestrel::WaitStatus{kestrel::WaitKind::Exited, -1, 0};
            }
            (void)unlink_parent(*p);
            free_thread(*t);
            uspace::release(space);
            p->space = nullptr;
            p->caps.clear();
            put(*p);        // the main thread's
            put(*p);        // the parent's link
            signal_end(*p); // the anchor drops the last one
            return r;
        }
    }
    if (t) free_thread(*t);
    if (space) uspace::release(space);
    p->caps.clear();
    put(*p); // the parent's link: the slot is free again
    return err;
}

std::int64_t thread_create(Process& p, std::uint64_t pc, std::uint64_t sp, std::uint64_t a0,
                           std::uint64_t gp, std::uint64_t tp, bool pinned, std::uint32_t cpu) {
    {
        k::SpinGuard g(p.lock);
        if (p.dead || p.threads >= kMaxThreadsPerProcess)
            return static_cast<std::int64_t>(kestrel::Error::Limit);
        ++p.threads; // a thread that is starting keeps the process (and its space) alive
    }
    process_get(p);
    Thread* t = alloc_thread(p);
    std::int64_t r = static_cast<std::int64_t>(kestrel::Error::Limit);
    if (t) {
        t->pc = pc;
        t->sp = sp;
        t->a0 = a0;
        t->gp = gp;
        t->tp = tp;
        r = start_thread(p, *t, pinned ? cpu : sched::kAnyCpu, "thread", pinned);
        if (r > 0) return r;
        free_thread(*t);
    }
    bool last = false;
    {
        k::SpinGuard g(p.lock);
        last = --p.threads == 0; // the caller is a thread of p, so never the last one
    }
    if (last) k::panic("thread_create: the caller's process lost its last thread");
    put(p);
    return r;
}

std::int64_t await(Process* caller, std::int64_t id, bool reap, kestrel::WaitStatus& out) {
    Process* p = find_process(caller, id, reap);
    if (!p) return static_cast<std::int64_t>(kestrel::Error::NoChild);
    bool killed = false;
    const bool ended_before = join_process(*p, out, killed);
    if (killed) { // the caller's process was killed: it ends at this call's return
        put(*p);
        return static_cast<std::int64_t>(kestrel::Error::Destroyed);
    }
    // A second waiter of the same child loses the race for the link: NoChild.
    const bool drop_link = reap && unlink_parent(*p);
    if (drop_link) put(*p);
    put(*p);
    if (reap && !drop_link) return static_cast<std::int64_t>(kestrel::Error::NoChild);
    return ended_before ? 0 : 1;
}

void thread_exit(kestrel::WaitKind kind, std::int32_t code, std::uint64_t addr) {
    sched::Task* me = sched::current();
    Thread& t = *static_cast<Thread*>(me->user);
    Process& p = *t.process;
    // Off this address space first: from here the hart runs the kernel's root, and no later
    // switch can load the space again (it may be destroyed below).
    hal::Cpu::irq_push();
    me->space = nullptr;
    uspace::activate(current_cpu_masked(), nullptr);
    me->fp = nullptr; // no switch saves into the record once it is free; FS = Off from here
    (void)hal::csr::swap_clear_sstatus(hal::csr::kSstatusFs);
    hal::Cpu::irq_pop();
    k::ipc::thread_end(t.ipc); // a caller waiting on this thread's reply gets ServerGone
    bool last = false;
    bool killer = false;
    {
        k::SpinGuard g(p.lock);
        if (kind == kestrel::WaitKind::Faulted && !p.kill.load(std::memory_order_relaxed)) {
            p.kill.store(true, std::memory_order_release);
            killer = true;
            p.status = kestrel::WaitStatus{kind, code, addr};
        } else if (!p.kill.load(std::memory_order_relaxed)) {
            p.status = kestrel::WaitStatus{kestrel::WaitKind::Exited, code, 0};
        }
        last = --p.threads == 0;
        if (last) p.dead = true;
    }
    if (killer) kill_threads(p, &t);
    me->user = nullptr;
    free_thread(t);
    if (last) {
        p.caps.clear(); // every last capability destroys its object, waking its waiters
        uspace::release(p.space);
        p.space = nullptr;
        signal_end(p); // after the release (invariant 6)
    }
    put(p); // this thread's
    sched::exit(0);
}

Thread* current_thread() {
    const sched::Task* me = sched::current();
    return me ? static_cast<Thread*>(me->user) : nullptr;
}

Process* current_process() {
    const sched::Task* me = sched::current();
    return me && me->user ? static_cast<Thread*>(me->user)->process : nullptr;
}

bool killed(const Process& p) {
    return p.kill.load(std::memory_order_acquire);
}

uspace::UserSpace* space_of(const Process& p) {
    return p.space;
}

void thread_main(void* arg) {
    Thread& t = *static_cast<Thread*>(arg);
    // The frame at the top of this task's kernel stack (spawn kept TF_SIZE free there) is the
    // one every later trap from U-mode uses as well.
    sched::Task* me = sched::current();
    auto* tf = reinterpret_cast<hal::TrapFrame*>(me->stack_hi - TF_SIZE);
    *tf = hal::TrapFrame{};
    tf->task = me; // the fast calls' lookup: no trap writes it
    bind_task(const_cast<Thread&>(t), me);
    tf->sepc = t.pc;
    tf->x[2] = t.sp;
    tf->x[10] = t.a0;
    tf->x[11] = t.a1;
    tf->x[3] = t.gp;
    tf->x[4] = t.tp;
    // Interrupts off from here to the sret, which turns them on again from SPIE.
    const std::uint64_t sstatus = hal::csr::swap_clear_sstatus(hal::csr::kSstatusSie);
    // SPP = U, SPIE = 1 (interrupts on in U-mode), SIE = 0, SUM = 0, FS = off (no FP state).
    tf->sstatus = (sstatus & ~(hal::csr::kSstatusSpp | hal::csr::kSstatusSum |
                               hal::csr::kSstatusFs | hal::csr::kSstatusSie)) |
                  hal::csr::kSstatusSpie;
    hal_return_to_user(tf);
}

} // namespace k::user
