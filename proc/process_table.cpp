// The process and thread tables: fixed slabs, references, lookup by id (RFC-0027).
#include "base/ref_count.hpp"
#include "ipc/ipc_calls.hpp"
#include "proc/process_record.hpp"

#include <new>
#include <type_traits>

namespace k::user {

namespace {

k::SpinLock g_lock{"processes"};
Process g_processes[kMaxProcesses]; // slots; see refs
static_assert(std::is_trivially_destructible_v<Process>, "no exit-time destructor for the slots");
Thread g_threads[kMaxThreads]; // guarded by g_lock (used)
std::uint32_t g_next_id = 1;   // guarded by g_lock

// A process's id names its slot: id % kMaxProcesses is its index in g_processes, so a lookup by
// id reads one record instead of scanning the table under the global lock (the fuzzers probe
// ids on every join). Ids still only grow: the next id at or above g_next_id that names the slot.
std::uint32_t id_for_slot(std::uint32_t slot) {
    const std::uint32_t base = g_next_id - g_next_id % kMaxProcesses + slot;
    const std::uint32_t id = base >= g_next_id ? base : base + kMaxProcesses;
    return id != 0 ? id : kMaxProcesses; // after 2^32 the count comes round; 0 is no id
}

Process* slot_of(std::int64_t id) {
    return id > 0 ? &g_processes[static_cast<std::uint64_t>(id) % kMaxProcesses] : nullptr;
}
std::atomic<std::uint32_t> g_free_processes{kMaxProcesses};
std::atomic<std::uint32_t> g_free_threads{kMaxThreads};

} // namespace

void process_get(Process& p) {
    p.refs.fetch_add(1, std::memory_order_relaxed);
}

Process* alloc_process(Process* parent) {
    k::SpinGuard g(g_lock);
    for (Process& p : g_processes) {
        if (p.refs.load(std::memory_order_relaxed) != 0) continue;
        k::SpinGuard s(p.slot);
        if (p.refs.load(std::memory_order_relaxed) != 0) continue; // a racing last put: not yet
        p.refs.store(1, std::memory_order_relaxed);                // the parent's link
        p.id = id_for_slot(static_cast<std::uint32_t>(&p - g_processes));
        g_next_id = p.id + 1;
        p.parent = parent;
        p.parent_linked = true;
        p.space = nullptr;
        p.threads = 0;
        p.dead = false;
        p.kill.store(false, std::memory_order_relaxed);
        p.waiting.store(0, std::memory_order_relaxed);
        p.status = kestrel::WaitStatus{};
        new (&p.end) sched::Event(); // one-shot: the slot's last process signalled it
        p.caps.reset();
        p.task.caps = 0;
        p.task.process = &p;
        p.task.get = &task_object_get;
        p.task.put = &task_object_put;
        g_free_processes.fetch_sub(1, std::memory_order_relaxed);
        return &p;
    }
    return nullptr;
}

void put(Process& p) {
    // Not the last reference: one compare-and-swap that never reaches 0, no lock (Linux's
    // atomic_dec_and_lock; every task capability lookup ends in a put).
    if (k::drop_unless_last(p.refs)) return;
    sched::TaskRef anchor;  // dropped after the lock: the anchor has exited by now
    k::SpinGuard g(p.slot); // the record is rebuilt only under its slot lock: the last put too
    if (p.refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    anchor = sched::TaskRef::adopt(p.anchor);
    p.anchor = nullptr;
    p.id = 0;
    g_free_processes.fetch_add(1, std::memory_order_relaxed);
}

Thread* alloc_thread(Process& p) {
    k::SpinGuard g(g_lock);
    for (Thread& t : g_threads) {
        if (t.used) continue;
        t.process = &p;
        t.pc = t.sp = t.a0 = t.a1 = t.gp = t.tp = 0;
        t.used = true;
        t.task = nullptr;
        t.ipc.reset(&p.caps);
        g_free_threads.fetch_sub(1, std::memory_order_relaxed);
        return &t;
    }
    return nullptr;
}

void free_thread(Thread& t) {
    k::SpinGuard g(g_lock);
    t.used = false;
    t.task = nullptr;
    t.process = nullptr;
    g_free_threads.fetch_add(1, std::memory_order_relaxed);
}

// The parent ended: its children are nobody's to reap any more.
void orphan_children(Process& parent) {
    Process* drop[kMaxProcesses];
    std::uint32_t n = 0;
    {
        k::SpinGuard g(g_lock);
        for (Process& c : g_processes) {
            k::SpinGuard s(c.slot);
            if (c.refs.load(std::memory_order_relaxed) == 0 || c.parent != &parent) continue;
            c.parent = nullptr;
            if (c.parent_linked) {
                c.parent_linked = false;
                drop[n++] = &c;
            }
        }
    }
    for (std::uint32_t i = 0; i < n; ++i)
        put(*drop[i]);
}

// Under g_lock, so no record is freed (and reused) meanwhile.
void kill_threads(Process& p, const Thread* spare) {
    k::SpinGuard g(g_lock);
    for (Thread& t : g_threads) {
        if (!t.used || t.process != &p || &t == spare) continue;
        k::ipc::kill(t.ipc);
        // A thread blocked in wait, join or task_wait ends it now (RFC-0030 "Kill"). The task
        // lives: the thread clears this under g_lock before it exits.
        if (t.task) sched::abort_waits(*t.task);
    }
}

void bind_task(Thread& t, sched::Task* task) {
    k::SpinGuard g(g_lock);
    t.task = task;
    if (t.process->kill.load(std::memory_order_acquire)) sched::abort_waits(*task);
}

Process* find_process(Process* caller, std::int64_t id, bool reap) {
    Process* const c = slot_of(id);
    if (!c) return nullptr;
    k::SpinGuard g(c->slot);
    if (c->refs.load(std::memory_order_relaxed) == 0 || c->id != id) return nullptr;
    if (reap && (c->parent != caller || !c->parent_linked)) return nullptr;
    if (!c->anchor) return nullptr; // still being spawned: not a task yet
    process_get(*c);
    return c;
}

bool unlink_parent(Process& p) {
    k::SpinGuard g(p.slot);
    if (!p.parent_linked) return false;
    p.parent_linked = false;
    return true;
}

void publish_anchor(Process& p, sched::Task* anchor) {
    k::SpinGuard g(p.slot);
    p.anchor = anchor;
}

std::int64_t joiners(Process* caller, std::int64_t id) {
    if (id == 0 && caller) return caller->waiting.load(std::memory_order_seq_cst);
    Process* const c = slot_of(id);
    if (!c) return static_cast<std::int64_t>(kestrel::Error::NoChild);
    k::SpinGuard g(c->slot);
    if (c->refs.load(std::memory_order_relaxed) != 0 && c->id == id && c->anchor)
        return c->waiting.load(std::memory_order_seq_cst);
    return static_cast<std::int64_t>(kestrel::Error::NoChild);
}

std::uint32_t free_processes() {
    return g_free_processes.load(std::memory_order_relaxed);
}

std::uint32_t free_threads() {
    return g_free_threads.load(std::memory_order_relaxed);
}

// proc_info: the record under the table lock (threads do not come or go meanwhile) and its
// slot lock (the id, parent and anchor stay), then its own lock for the counts. Lock order as
// alloc_process: the table, then the slot.
bool process_info(std::uint32_t index, kestrel::ProcInfo& out) {
    static_assert(kMaxProcesses == kestrel::kMaxProcesses, "the ABI's bound is the table's");
    if (index >= kMaxProcesses) return false;
    Process& p = g_processes[index];
    out = kestrel::ProcInfo{};
    {
        k::SpinGuard g(g_lock);
        k::SpinGuard s(p.slot);
        if (p.refs.load(std::memory_order_relaxed) == 0 || p.id == 0 || p.anchor == nullptr)
            return false;
        out.id = p.id;
        out.parent = p.parent ? __atomic_load_n(&p.parent->id, __ATOMIC_RELAXED) : 0;
        for (std::size_t i = 0; i + 1 < sizeof out.name && p.name[i] != '\0'; ++i)
            out.name[i] = p.name[i];
        std::uint32_t n = 0;
        for (const Thread& t : g_threads) {
            if (!t.used || t.process != &p || n == kestrel::kProcInfoThreads) continue;
            const sched::Task* task = t.task; // under g_lock, as bind_task writes it
            if (!task) continue; // not started yet
            kestrel::ThreadInfo& ti = out.thread[n++];
            ti.id = task->id;
            ti.hart = task->home_cpu.load(std::memory_order_relaxed);
            ti.state = static_cast<std::uint32_t>(task->state.state());
            ti.pinned = task->pinned ? 1 : 0;
        }
    }
    k::SpinGuard l(p.lock);
    out.threads = p.threads;
    out.dead = p.dead ? 1 : 0;
    return true;
}

} // namespace k::user
