// The frame pool: one locked FrameAllocator, its bitmap carved from the RAM it manages.
#include "mm/frames.hpp"

#include "base/spin_lock.hpp"

namespace k::frames {

namespace {

SpinLock g_lock{"frames"};
mm::FrameAllocator g_frames; // guarded by g_lock
// The test hook: allocations still granted before alloc() refuses; -1 when not armed.
std::int64_t g_budget = -1; // guarded by g_lock

void zero(std::uint64_t pa) {
    auto* w = reinterpret_cast<volatile std::uint64_t*>(pa);
    for (std::uint64_t i = 0; i < mm::kPageSize / 8; ++i)
        w[i] = 0;
}

} // namespace

mm::FrameError init(const mm::FramePlan& plan, std::uint64_t& bitmap_pages) {
    mm::RangeSet usable = plan.usable;
    const std::uint64_t words = mm::FrameAllocator::bitmap_words(usable);
    bitmap_pages = mm::page_up(words * 8) / mm::kPageSize;
    // The bitmap's own pages leave the pool, so it may need fewer words; the old count is
    // an upper bound and is what gets passed.
    std::uint64_t at = 0;
    for (std::uint32_t i = usable.count(); i-- > 0;) {
        if (usable[i].bytes() >= bitmap_pages * mm::kPageSize) {
            at = usable[i].end - bitmap_pages * mm::kPageSize;
            break;
        }
    }
    if (bitmap_pages != 0 && at == 0) return mm::FrameError::NoBitmap;
    usable.remove(at, at + bitmap_pages * mm::kPageSize);
    SpinGuard g(g_lock);
    return g_frames.init(usable, reinterpret_cast<std::uint64_t*>(at),
                         static_cast<std::size_t>(words));
}

mm::FrameResult alloc() {
    mm::FrameResult r;
    {
        SpinGuard g(g_lock);
        if (g_budget == 0) return mm::FrameResult{0, mm::FrameError::Exhausted};
        r = g_frames.alloc();
        if (g_budget > 0 && r.error == mm::FrameError::None) --g_budget;
    }
    if (r.error == mm::FrameError::None) zero(r.pa);
    return r;
}

mm::FrameError free(std::uint64_t pa) {
    SpinGuard g(g_lock);
    return g_frames.free(pa);
}

std::uint64_t free_count() {
    return g_frames.free_frames(); // no lock: an atomic the lock holder writes (the fast call)
}

std::uint64_t total_count() {
    SpinGuard g(g_lock);
    return g_frames.total_frames();
}

void refuse_after(std::uint64_t n) {
    SpinGuard g(g_lock);
    g_budget = static_cast<std::int64_t>(n);
}

void refuse_clear() {
    SpinGuard g(g_lock);
    g_budget = -1;
}

mm::FrameSource source() {
    return mm::FrameSource{
        nullptr,
        [](void*) { return alloc(); },
        [](void*, std::uint64_t pa) { return free(pa); },
    };
}

} // namespace k::frames
