// The process record and its table, shared by proc/process.cpp (spawn, threads, the
// end), process_table.cpp (the slabs, lookup by id) and task_caps.cpp. Not an interface: the
// rest of the kernel uses proc/process.hpp.
#pragma once

#include "base/spin_lock.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/objects.hpp"
#include "proc/process.hpp"
#include "sched/event.hpp"
#include "sched/task.hpp"

#include <atomic>
#include <cstdint>

namespace k::user {

struct Process {
    // The record's own lock for what a lookup by id reads: refs' moves to and from 0, id,
    // parent, parent_linked and anchor. Taken inside the table lock (alloc_process,
    // orphan_children) or alone (lookups, the last put); nothing is taken inside it. One lock
    // per record, not the table's: every join and joiners probe reads one record, and a global
    // ticket lock taken that often convoyed 8 harts on 2 host cores (issue 22).
    k::SpinLock slot{"process-slot"};
    std::atomic<std::uint32_t> refs{0}; // 0: the slot is free (taken under g_lock and slot)
    std::uint32_t id = 0;               // guarded by slot; written while refs == 0
    const char* name = "";              // its image's; written at spawn before the anchor
    Process* parent = nullptr;          // fixed at spawn; guarded by slot for reaping
    bool parent_linked = false;         // guarded by slot: the parent's reference is held
    uspace::UserSpace* space = nullptr; // the process's reference, until its last thread ends
    // Set at spawn with a counted reference (a raw pointer, not a TaskRef: the slots stay
    // trivially destructible, so no exit-time destructor is registered for the array; Clang
    // would call atexit, which a freestanding kernel lacks). Dropped when the slot is freed.
    sched::Task* anchor = nullptr; // guarded by slot
    sched::Event end;              // the last thread signals it; the anchor waits
    k::SpinLock lock{"process"};
    std::uint32_t threads = 0;             // guarded by lock: live threads
    bool dead = false;                     // guarded by lock: no thread may start any more
    std::atomic<bool> kill{false};         // a thread faulted: the others leave at their next exit
    std::atomic<std::uint32_t> waiting{0}; // tasks inside await() for this process
    kestrel::WaitStatus status{};          // guarded by lock; final once dead
    k::ipc::CapSpace caps;                 // its capabilities; emptied when its last thread ends
    // What task capabilities name. Each capability, and each task_kill or task_wait in
    // progress, holds a reference on the record (task_get); caps is 0 for a new process.
    k::ipc::TaskObject task;
};

// The table (proc/process_table.cpp). Records and threads come from fixed slabs; a
// record is reused only once its last reference is gone.
Process* alloc_process(Process* parent); // refs = 1 (the parent's link), or nullptr: full
void process_get(Process& p);
void put(Process& p);             // the last reference frees the record (and drops its anchor)
Thread* alloc_thread(Process& p); // nullptr: none free
void free_thread(Thread& t);
// The parent ended: its children are nobody's to reap any more (their links are dropped).
void orphan_children(Process& parent);
// Every thread of p but `spare` leaves its IPC wait (ipc/ipc_calls.hpp kill()).
void kill_threads(Process& p, const Thread* spare);
// The thread's task, published by the thread itself when it starts: from then on a kill of its
// process ends its joins (sched::abort_waits), and at once when the kill came first.
void bind_task(Thread& t, sched::Task* task);
// The process `id` with a reference taken, or nullptr: none, still being spawned, or (with
// `reap`) not caller's child with its link still held.
Process* find_process(Process* caller, std::int64_t id, bool reap);
// Takes the parent's link off p: true for the one caller that took it.
bool unlink_parent(Process& p);
// Publishes p's anchor under its slot lock (a lookup by id finds p only with one).
void publish_anchor(Process& p, sched::Task* anchor);

// Blocks until p has ended (the caller holds a reference) and copies its status out. True
// when it had ended before the call (proc/process.cpp).
bool join_process(Process& p, kestrel::WaitStatus& out, bool& killed);
// The parent's task capability to p in `slot` (kNoCap or a kernel parent: none). False when
// the slot is taken; no reference is then held (proc/task_caps.cpp).
bool give_task_cap(Process* parent, std::uint64_t slot, Process& p);
// A task object's reference on its record (TaskObject::get/put, ipc/objects.hpp).
void task_object_get(k::ipc::TaskObject& t);
void task_object_put(k::ipc::TaskObject& t);

} // namespace k::user
