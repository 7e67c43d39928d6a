// RangeSet and the frame plan: pure arithmetic over [base, end) intervals.
#include "mm/phys_ranges.hpp"

namespace mm {

namespace {
// End of [base, base + size) for a reg entry (size > 0, no wrap-around, as the reader
// checks); a range that reaches the top of the address space saturates there.
std::uint64_t end_of(const dtb::MemRange& r) {
    const std::uint64_t last = r.base + (r.size - 1);
    return last == ~std::uint64_t{0} ? last : last + 1;
}
} // namespace

void RangeSet::insert_at(std::uint32_t i, Range r) {
    for (std::uint32_t j = count_; j > i; --j)
        r_[j] = r_[j - 1];
    r_[i] = r;
    ++count_;
}

void RangeSet::erase_at(std::uint32_t i) {
    for (std::uint32_t j = i; j + 1 < count_; ++j)
        r_[j] = r_[j + 1];
    --count_;
}

bool RangeSet::add(std::uint64_t base, std::uint64_t end) {
    if (base >= end) return true;
    // First range that ends at or after base: it and its successors may merge with us.
    std::uint32_t i = 0;
    while (i < count_ && r_[i].end < base)
        ++i;
    if (i < count_ && r_[i].base <= end) {
        r_[i].base = r_[i].base < base ? r_[i].base : base;
        r_[i].end = r_[i].end > end ? r_[i].end : end;
        while (i + 1 < count_ && r_[i + 1].base <= r_[i].end) {
            if (r_[i + 1].end > r_[i].end) r_[i].end = r_[i + 1].end;
            erase_at(i + 1);
        }
        return true;
    }
    if (count_ == kCapacity) {
        lost_ += end - base;
        return false;
    }
    insert_at(i, Range{base, end});
    return true;
}

void RangeSet::remove(std::uint64_t base, std::uint64_t end) {
    base = page_down(base);
    end = page_up(end);
    if (base >= end) return;
    for (std::uint32_t i = 0; i < count_;) {
        Range& r = r_[i];
        if (r.end <= base || r.base >= end) {
            ++i;
            continue;
        }
        if (base <= r.base && end >= r.end) { // covers it
            erase_at(i);
            continue;
        }
        if (base > r.base && end < r.end) { // splits it
            const Range upper{end, r.end};
            r.end = base;
            if (count_ == kCapacity)
                lost_ += upper.bytes();
            else
                insert_at(i + 1, upper);
            return;
        }
        if (base > r.base)
            r.end = base; // cuts its top
        else
            r.base = end; // cuts its bottom
        ++i;
    }
}

std::uint64_t RangeSet::bytes() const {
    std::uint64_t n = 0;
    for (std::uint32_t i = 0; i < count_; ++i)
        n += r_[i].bytes();
    return n;
}

std::int32_t RangeSet::find(std::uint64_t pa) const {
    for (std::uint32_t i = 0; i < count_; ++i)
        if (pa >= r_[i].base && pa < r_[i].end) return static_cast<std::int32_t>(i);
    return -1;
}

void plan_frames(const dtb::Platform& p, const Keep& keep, FramePlan& out) {
    out = FramePlan{};
    dtb::MemRange fallback{p.mem_base, p.mem_size};
    const dtb::MemRange* mem = p.memory_count ? p.memory : &fallback;
    const std::uint32_t n = p.memory_count ? p.memory_count : 1;
    // The union first: two nodes that describe the same bank, or overlap, count once.
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint64_t base = page_up(mem[i].base);
        const std::uint64_t end = mem[i].size ? page_down(end_of(mem[i])) : base;
        if (base < end) (void)out.memory.add(base, end); // a full table counts lost_bytes()
    }
    out.memory_bytes = out.memory.bytes();
    const std::uint64_t lowest = out.memory.count() ? out.memory[0].base : 0;
    for (std::uint32_t i = 0; i < out.memory.count(); ++i) {
        const Range& r = out.memory[i];
        const std::uint64_t top = r.end < keep.limit ? r.end : keep.limit;
        if (r.end > keep.limit)
            out.beyond_limit += r.end - (r.base > keep.limit ? r.base : keep.limit);
        if (r.base < top) (void)out.usable.add(r.base, top);
    }
    const std::uint64_t before = out.usable.bytes();
    if (p.reserved_count == 0 || p.reserved_dropped != 0 || p.memreserve_dropped != 0) {
        out.below_kernel_assumed = true;
        if (out.memory.count() && lowest < keep.kernel_base) {
            const std::uint64_t had = out.usable.bytes();
            out.usable.remove(lowest, keep.kernel_base);
            out.below_kernel_bytes = had - out.usable.bytes();
        }
    }
    for (std::uint32_t i = 0; i < p.reserved_count; ++i) {
        if (p.reserved[i].size) out.usable.remove(p.reserved[i].base, end_of(p.reserved[i]));
    }
    for (std::uint32_t i = 0; i < p.memreserve_count; ++i) {
        if (p.memreserve[i].size) out.usable.remove(p.memreserve[i].base, end_of(p.memreserve[i]));
    }
    out.firmware_bytes = before - out.usable.bytes();
    out.usable.remove(keep.kernel_base, keep.kernel_end);
    out.usable.remove(keep.dtb_base, keep.dtb_end);
}

} // namespace mm
