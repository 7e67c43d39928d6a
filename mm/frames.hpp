// The kernel's frame pool: the portable FrameAllocator behind one spin lock.
#pragma once

#include "mm/frame_allocator.hpp"
#include "mm/page_table.hpp"

#include <cstdint>

namespace k::frames {

// Boot hart, before any other hart runs: manages plan.usable minus the pages its bitmap takes
// (carved from the top of the highest range that holds it). Returns the bitmap's pages, or
// NoBitmap when no range can hold it.
mm::FrameError init(const mm::FramePlan& plan, std::uint64_t& bitmap_pages);

// A zeroed 4 KiB frame (physical address == kernel virtual address: RAM is identity-mapped);
// Exhausted when none is left: an error, never a panic.
mm::FrameResult alloc();
mm::FrameError free(std::uint64_t pa);

std::uint64_t free_count();  // frames free now
std::uint64_t total_count(); // frames managed (bitmap pages excluded)

// The pool as a page-table FrameSource.
mm::FrameSource source();

// Test hook (selftests only, never armed in a normal boot): after `n` more successful
// allocations (n >= 0) every alloc() answers Exhausted, as a dry pool would, until
// refuse_clear(). Global: the caller makes sure nothing else allocates meanwhile. Frees are
// unaffected.
void refuse_after(std::uint64_t n);
void refuse_clear();

} // namespace k::frames
