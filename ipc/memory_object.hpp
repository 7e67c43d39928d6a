// Memory objects (issue 19): a capability names N zeroed frames, which mem_map maps into any
// space whose capability allows it (RFC-0028 "Memory objects"). seL4's frame capabilities and
// Zircon's VMOs are the model; the pages are fixed at creation and never move.
#pragma once

#include "ipc/kernel_object.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <atomic>
#include <cstdint>

namespace k::ipc {

inline constexpr std::uint32_t kMaxMemoryObjects = 32;
inline constexpr std::uint32_t kMaxMemoryPages = kestrel::kMaxMemoryPages; // 1 MiB

// refs: one for "has capabilities", one per mapping (its claim, held by the space from
// uspace::map_shared until the flush of unmap_shared or the space's release), one per
// operation in progress. The last reference gives every frame back: by then no space maps
// them and no hart caches a translation that any thread can still use.
struct MemoryObject : ::ipc::KernelObject {
    std::atomic<std::uint32_t> refs{0};
    std::uint32_t pages = 0;                 // 1..kMaxMemoryPages, fixed at creation
    std::uint64_t frames[kMaxMemoryPages]{}; // [0, pages): fixed at creation
};

// A new object of `pages` zeroed frames (1..kMaxMemoryPages; the caller checks), with
// refs = 1, or nullptr: Limit (no record left) or NoMemory (not enough frames: every frame
// taken went back) in `err`.
MemoryObject* memory_alloc(std::uint32_t pages, kestrel::Error& err);
// An operation's or a mapping's reference, and its drop; the last gives the frames back.
void get(MemoryObject& m);
void put(MemoryObject& m);
// uspace::DropFn for a mapping's claim (owner: the MemoryObject).
void drop_mapping(void* owner);
std::uint32_t free_memory_objects(); // records free now, for leak checks

} // namespace k::ipc
