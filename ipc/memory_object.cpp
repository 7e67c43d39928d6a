// Memory object records: a fixed slab, the frames taken at creation and given back by the
// last reference.
#include "ipc/memory_object.hpp"

#include "base/panic.hpp"
#include "base/ref_count.hpp"
#include "base/spin_lock.hpp"
#include "mm/frames.hpp"

#include <type_traits>

namespace k::ipc {

namespace {

k::SpinLock g_memory_slab_lock{"ipc-memory-slab"};
MemoryObject g_memory[kMaxMemoryObjects]; // a record is free while refs == 0
std::atomic<std::uint32_t> g_free_memory{kMaxMemoryObjects};
static_assert(std::is_trivially_destructible_v<MemoryObject>, "no exit-time destructor");

void give_back(MemoryObject& m, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i)
        if (frames::free(m.frames[i]) != mm::FrameError::None)
            panic("ipc: a memory object's frame was not the pool's");
}

} // namespace

MemoryObject* memory_alloc(std::uint32_t pages, kestrel::Error& err) {
    MemoryObject* m = nullptr;
    {
        k::SpinGuard g(g_memory_slab_lock);
        for (MemoryObject& o : g_memory) {
            if (o.refs.load(std::memory_order_relaxed) != 0) continue;
            o.refs.store(1, std::memory_order_relaxed); // taken; rebuilt below, unshared
            g_free_memory.fetch_sub(1, std::memory_order_relaxed);
            m = &o;
            break;
        }
    }
    if (!m) {
        err = kestrel::Error::Limit;
        return nullptr;
    }
    m->pages = 0;
    for (std::uint32_t i = 0; i < pages; ++i) {
        const mm::FrameResult f = frames::alloc(); // zeroed
        if (f.error != mm::FrameError::None) {
            give_back(*m, i);
            put(*m);
            err = kestrel::Error::NoMemory;
            return nullptr;
        }
        m->frames[i] = f.pa;
    }
    m->pages = pages;
    return m;
}

void get(MemoryObject& m) {
    if (m.refs.fetch_add(1, std::memory_order_relaxed) == 0)
        panic("ipc: get of a free memory object");
}

// The last reference: nobody maps the frames any more (every mapping's claim is back, each
// after its space's flush) and nobody can find the object. The frames go first, then the
// record, under the slab lock that orders it with the next memory_alloc.
void put(MemoryObject& m) {
    if (k::drop_unless_last(m.refs)) return;
    // Every earlier drop (a mapping's, after its space's flush) happens before the frames go:
    // drop_unless_last read the count relaxed.
    std::atomic_thread_fence(std::memory_order_acquire);
    give_back(m, m.pages);
    m.pages = 0;
    k::SpinGuard g(g_memory_slab_lock);
    if (m.refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        g_free_memory.fetch_add(1, std::memory_order_relaxed);
}

void drop_mapping(void* owner) {
    put(*static_cast<MemoryObject*>(owner));
}

std::uint32_t free_memory_objects() {
    return g_free_memory.load(std::memory_order_relaxed);
}

} // namespace k::ipc
