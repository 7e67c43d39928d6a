// Physical frame allocator: one bit per 4 KiB frame over the usable ranges of a FramePlan.
#pragma once

#include "mm/phys_ranges.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mm {

// clang-format off
enum class [[nodiscard]] FrameError : std::uint8_t {
    None,
    Exhausted,    // alloc: no free frame left (never a panic)
    Misaligned,   // free: the address is not 4 KiB aligned
    NotManaged,   // free: the frame is in no usable range
    NotAllocated, // free: the frame is free already (a double free)
    NoBitmap,     // init: the bitmap storage given is too small
};
// clang-format on
const char* frame_error_name(FrameError e);

struct [[nodiscard]] FrameResult {
    std::uint64_t pa; // page-aligned physical address; 0 unless error == None
    FrameError error;
};

// Not thread-safe: the kernel wraps it in a lock (mm/frames.hpp). Portable: it never
// touches the frames it manages, only the bitmap the caller gives it, so the host tests run
// it over the real QEMU memory maps.
class FrameAllocator {
  public:
    // Bitmap words needed for `usable` (one bit per frame, rounded up to 64).
    static std::size_t bitmap_words(const RangeSet& usable);

    // Manages every frame of `usable` (all free). `bits` holds `words` 64-bit words, at least
    // bitmap_words(usable), and stays owned by the caller for the allocator's lifetime.
    FrameError init(const RangeSet& usable, std::uint64_t* bits, std::size_t words);

    // One free frame, lowest address at or after the rotating cursor; Exhausted when none.
    FrameResult alloc();
    // Returns a frame obtained from alloc().
    FrameError free(std::uint64_t pa);
    bool is_free(std::uint64_t pa) const;

    // Readable without the owner's lock (a statistic, stale as soon as it is read): the count
    // is an atomic that only the lock holder writes.
    std::uint64_t free_frames() const { return free_.load(std::memory_order_relaxed); }
    std::uint64_t total_frames() const { return total_; }
    const RangeSet& ranges() const { return ranges_; }

  private:
    bool index_of(std::uint64_t pa, std::uint64_t& index) const;
    std::uint64_t pa_of(std::uint64_t index) const;

    RangeSet ranges_;
    std::uint64_t first_index_[RangeSet::kCapacity]{}; // frame index of each range's base
    std::uint64_t* bits_ = nullptr;                    // bit set: frame allocated
    std::size_t words_ = 0;
    std::uint64_t total_ = 0;
    std::atomic<std::uint64_t> free_{0}; // written by the lock holder only
    std::size_t cursor_ = 0;             // word where the next search starts
};

} // namespace mm
