// Physical ranges: a small sorted set of page-aligned, disjoint [base, end) intervals, and the
// plan that turns the DTB's memory into the frames the kernel may hand out.
#pragma once

#include "dtb/dtb.hpp"

#include <cstdint>

namespace mm {

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kPageShift = 12;

constexpr std::uint64_t page_down(std::uint64_t a) {
    return a & ~(kPageSize - 1);
}
// Rounds up; an address in the last page of the 64-bit space saturates to its page base.
constexpr std::uint64_t page_up(std::uint64_t a) {
    return a > ~std::uint64_t{0} - (kPageSize - 1) ? page_down(a) : page_down(a + kPageSize - 1);
}

struct Range {
    std::uint64_t base; // page-aligned
    std::uint64_t end;  // page-aligned, > base; exclusive
    std::uint64_t bytes() const { return end - base; }
};

// Fixed-capacity set of disjoint, sorted, page-aligned ranges (no heap). Adding merges
// overlapping or touching ranges; removing may split one. When a split finds the set full, the
// upper piece is dropped and counted in lost_bytes(): the set only ever errs towards less
// usable memory, never towards handing out memory it was told to keep.
class RangeSet {
  public:
    static constexpr std::uint32_t kCapacity = 32;

    // Adds [base, end) (page-aligned by the caller, base < end). False when the set is full
    // and the range could not be merged (the range is then counted in lost_bytes()).
    [[nodiscard]] bool add(std::uint64_t base, std::uint64_t end);
    // Removes [base, end); any alignment (removal rounds outward to whole pages).
    void remove(std::uint64_t base, std::uint64_t end);

    std::uint32_t count() const { return count_; }
    const Range& operator[](std::uint32_t i) const { return r_[i]; }
    std::uint64_t bytes() const;
    std::uint64_t lost_bytes() const { return lost_; }
    // The range containing pa, or -1.
    std::int32_t find(std::uint64_t pa) const;

  private:
    void insert_at(std::uint32_t i, Range r);
    void erase_at(std::uint32_t i);

    Range r_[kCapacity]{};
    std::uint32_t count_ = 0;
    std::uint64_t lost_ = 0;
};

// What the kernel must keep for itself, in physical addresses.
struct Keep {
    std::uint64_t kernel_base, kernel_end; // the image, __kernel_start .. __kernel_end
    std::uint64_t dtb_base, dtb_end;       // the blob, [dtb, dtb + totalsize)
    std::uint64_t limit;                   // highest usable address + 1 (e.g. what Sv39 maps)
};

// The usable RAM and why the rest is not.
struct FramePlan {
    RangeSet memory; // the union of the DTB's memory ranges, page-rounded
    RangeSet usable;
    std::uint64_t memory_bytes = 0;       // bytes of `memory` (overlapping ranges count once)
    std::uint64_t firmware_bytes = 0;     // removed as /reserved-memory, /memreserve/ or below
                                          // the kernel
    std::uint64_t beyond_limit = 0;       // memory at or above Keep::limit (not usable)
    std::uint64_t below_kernel_bytes = 0; // usable before the below-the-kernel rule removed it
    bool below_kernel_assumed = false;    // the DTB named no /reserved-memory (or dropped some)
};

// Usable frames = the union of the memory ranges of `p` (or its default range when it has
// none), minus /reserved-memory and the header's /memreserve/ entries (and, when the DTB names
// no /reserved-memory or either table dropped entries, everything from the lowest memory
// address up to the kernel, where fw_dynamic OpenSBI lives), minus the kernel image,
// minus the DTB blob, clipped below keep.limit. Partial pages at a range's edges are not used.
void plan_frames(const dtb::Platform& p, const Keep& keep, FramePlan& out);

} // namespace mm
