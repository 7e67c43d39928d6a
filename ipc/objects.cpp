// Endpoint and notification records: fixed slabs, a reference count, destruction.
#include "ipc/objects.hpp"

#include "base/fault.hpp"
#include "base/panic.hpp"
#include "base/ref_count.hpp"
#include "ipc/ipc_thread.hpp"
#include "ipc/memory_object.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <new>
#include <type_traits>

namespace k::ipc {

namespace {

k::SpinLock g_slab_lock{"ipc-slab"};
Endpoint g_endpoints[kMaxEndpoints];             // a record is free while refs == 0
Notification g_notifications[kMaxNotifications]; // likewise
std::atomic<std::uint32_t> g_free_endpoints{kMaxEndpoints};
std::atomic<std::uint32_t> g_free_notifications{kMaxNotifications};
static_assert(std::is_trivially_destructible_v<Endpoint>, "no exit-time destructor");
static_assert(std::is_trivially_destructible_v<Notification>, "no exit-time destructor");

// The first free record of `slab`, rebuilt, with refs = 1.
template <typename T, std::uint32_t N>
T* alloc(T (&slab)[N], std::atomic<std::uint32_t>& free) {
    k::SpinGuard g(g_slab_lock);
    for (T& o : slab) {
        if (o.refs.load(std::memory_order_relaxed) != 0) continue;
        new (&o) T();
        o.refs.store(1, std::memory_order_relaxed);
        free.fetch_sub(1, std::memory_order_relaxed);
        return &o;
    }
    return nullptr;
}

// Drops one reference. Only the last one takes the slab lock, which orders the free with the
// next alloc's rebuild of the record and with the free count; every other drop is one
// compare-and-swap that never lets the count reach 0 (Linux's atomic_dec_and_lock). Every IPC
// call drops a reference, so a lock here would serialise all harts' IPC on one global lock
// (issue 22: four fuzzers at SMP=8 spent minutes spinning on it).
template <typename T>
void release(T& o, std::atomic<std::uint32_t>& free) {
    if (k::drop_unless_last(o.refs)) return;
    k::SpinGuard g(g_slab_lock);
    if (o.refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        free.fetch_add(1, std::memory_order_relaxed);
}

void post_destroyed(IpcThread& t) {
    t.result = static_cast<std::int64_t>(kestrel::Error::Destroyed);
    (void)t.done.signal(kComplete);
}

} // namespace

Endpoint* endpoint_alloc() {
    return alloc(g_endpoints, g_free_endpoints);
}

Notification* notification_alloc() {
    return alloc(g_notifications, g_free_notifications);
}

void get(Endpoint& e) {
    if (e.refs.fetch_add(1, std::memory_order_relaxed) == 0)
        k::panic("ipc: get of a free endpoint");
}
void put(Endpoint& e) {
    release(e, g_free_endpoints);
}
void get(Notification& n) {
    if (n.refs.fetch_add(1, std::memory_order_relaxed) == 0)
        k::panic("ipc: get of a free notification");
}
void put(Notification& n) {
    release(n, g_free_notifications);
}

void get_object(const ::ipc::Capability& c) {
    switch (c.type) {
    case ::ipc::ObjectType::Endpoint:
        get(*static_cast<Endpoint*>(c.object));
        return;
    case ::ipc::ObjectType::Notification:
        get(*static_cast<Notification*>(c.object));
        return;
    case ::ipc::ObjectType::Task:
        task_get(*static_cast<TaskObject*>(c.object));
        return;
    case ::ipc::ObjectType::Memory:
        get(*static_cast<MemoryObject*>(c.object));
        return;
    case ::ipc::ObjectType::Platform:
    case ::ipc::ObjectType::Irq:
    case ::ipc::ObjectType::Device:
        foreign_get(*static_cast<ForeignObject*>(c.object));
        return;
    case ::ipc::ObjectType::None:
    case ::ipc::ObjectType::Reply:
    case ::ipc::ObjectType::HartControl: // one static object, never freed (ipc/hart_control.hpp)
        return;
    }
}

void destroy(const ::ipc::Capability& last) {
    switch (last.type) {
    case ::ipc::ObjectType::Endpoint: {
        Endpoint& e = *static_cast<Endpoint*>(last.object);
        {
            k::SpinGuard g(e.lock);
            (void)e.queue.destroy([](::ipc::Waiter& w) {
                if (!k::fault::is(k::fault::Fault::DestroyNoWake))
                    post_destroyed(*static_cast<IpcThread*>(w.owner));
            });
        }
        put(e); // the capabilities' reference
        return;
    }
    case ::ipc::ObjectType::Notification: {
        Notification& n = *static_cast<Notification*>(last.object);
        {
            k::SpinGuard g(n.lock);
            n.destroyed = true;
            if (IpcThread* w = n.waiter) {
                n.waiter = nullptr;
                post_destroyed(*w);
            }
        }
        put(n);
        return;
    }
    case ::ipc::ObjectType::Task:
        task_put(*static_cast<TaskObject*>(last.object)); // the capabilities' reference
        return;
    case ::ipc::ObjectType::Memory:
        // The capabilities' reference; the mappings hold their own, so the frames go only
        // with the last of them.
        put(*static_cast<MemoryObject*>(last.object));
        return;
    case ::ipc::ObjectType::Platform:
    case ::ipc::ObjectType::Irq:
    case ::ipc::ObjectType::Device:
        foreign_put(*static_cast<ForeignObject*>(last.object)); // the capabilities' reference
        return;
    case ::ipc::ObjectType::None:
    case ::ipc::ObjectType::Reply:
    case ::ipc::ObjectType::HartControl: // one static object, never freed (ipc/hart_control.hpp)
        return;
    }
}

std::uint32_t free_endpoints() {
    return g_free_endpoints.load(std::memory_order_relaxed);
}

std::uint32_t free_notifications() {
    return g_free_notifications.load(std::memory_order_relaxed);
}

} // namespace k::ipc
