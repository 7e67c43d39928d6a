// The kernel objects capabilities name: endpoints and notifications, from fixed slabs.
#pragma once

#include "base/spin_lock.hpp"
#include "ipc/capability.hpp"
#include "ipc/endpoint_queue.hpp"
#include "ipc/kernel_object.hpp"

#include <atomic>
#include <cstdint>

namespace k::ipc {

struct IpcThread;

inline constexpr std::uint32_t kMaxEndpoints = 256;
inline constexpr std::uint32_t kMaxNotifications = 256;

// Object lifetime: the base's `caps` counts capabilities (ipc/kernel_object.hpp); `refs` counts one
// for "has capabilities" plus one per operation in progress. The last capability's removal
// destroys the object (waking every waiter with Destroyed); the last ref frees the record.
// So an operation that found the object through a capability may use it to the end, even if
// the capability is deleted meanwhile.
struct Endpoint : ::ipc::KernelObject { // a capability points at the KernelObject base
    std::atomic<std::uint32_t> refs{0};
    k::SpinLock lock{"endpoint"};
    ::ipc::EndpointQueue queue; // guarded by lock
};

struct Notification : ::ipc::KernelObject {
    std::atomic<std::uint32_t> refs{0};
    k::SpinLock lock{"ipc-notification"};
    std::uint64_t word = 0;      // guarded by lock
    IpcThread* waiter = nullptr; // guarded by lock: the one thread in notify_wait
    bool destroyed = false;      // guarded by lock
};

// What a task capability names: a process. Its capabilities keep the process record (not the
// process) alive: the record's owner counts them and the operations in progress through `get`
// and `put`, like Endpoint::refs, and sets both when it makes the record
// (proc/process_table.cpp). IPC knows nothing else of processes.
struct TaskObject : ::ipc::KernelObject {
    void* process = nullptr;            // the k::user::Process this is part of
    void (*get)(TaskObject&) = nullptr; // one more reference on the record
    void (*put)(TaskObject&) = nullptr; // one fewer; the last one frees the record
};
// What a Platform, Irq or Device capability names: a record of a room above IPC (irq/), which
// sets the two hooks when it makes the record. IPC counts on it as on a TaskObject: get and
// put an operation's reference; the last capability's removal puts the capabilities' one.
struct ForeignObject : ::ipc::KernelObject {
    void (*get)(ForeignObject&) = nullptr;
    void (*put)(ForeignObject&) = nullptr;
};
inline void foreign_get(ForeignObject& o) {
    o.get(o);
}
inline void foreign_put(ForeignObject& o) {
    o.put(o);
}

inline void task_get(TaskObject& t) {
    t.get(t);
}
inline void task_put(TaskObject& t) {
    t.put(t);
}

// A new object with refs = 1 (its capabilities'), or nullptr when the slab is empty. The caller
// inserts its first capability; if that fails it calls put().
Endpoint* endpoint_alloc();
Notification* notification_alloc();

// An operation's reference, taken while a capability to the object is held (under the
// capability space's lock) and dropped when the operation ends.
void get(Endpoint& e);
void put(Endpoint& e);
void get(Notification& n);
void put(Notification& n);

// An operation's reference on a capability's object (endpoint, notification or task; nothing
// for other types), taken while the capability is in its table. Dropped with the typed put().
void get_object(const ::ipc::Capability& c);

// The object lost its last capability: destroy it (every waiter returns Destroyed) and drop
// the capabilities' reference. For a type without kernel state (none yet) nothing happens.
void destroy(const ::ipc::Capability& last);

// Free records now, for leak checks (object_count).
std::uint32_t free_endpoints();
std::uint32_t free_notifications();

} // namespace k::ipc
