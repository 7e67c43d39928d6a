// The frame bitmap: allocation scans words from a rotating cursor (O(frames / 64) worst case,
// O(1) while memory is mostly free); free checks the frame was really handed out.
#include "mm/frame_allocator.hpp"

namespace mm {

const char* frame_error_name(FrameError e) {
    switch (e) {
    case FrameError::None:
        return "none";
    case FrameError::Exhausted:
        return "exhausted";
    case FrameError::Misaligned:
        return "misaligned";
    case FrameError::NotManaged:
        return "not managed";
    case FrameError::NotAllocated:
        return "not allocated";
    case FrameError::NoBitmap:
        return "bitmap too small";
    }
    return "unknown";
}

std::size_t FrameAllocator::bitmap_words(const RangeSet& usable) {
    const std::uint64_t frames = usable.bytes() >> kPageShift;
    return static_cast<std::size_t>((frames + 63) / 64);
}

FrameError FrameAllocator::init(const RangeSet& usable, std::uint64_t* bits, std::size_t words) {
    const std::size_t need = bitmap_words(usable);
    if (need > words || (need != 0 && bits == nullptr)) return FrameError::NoBitmap;
    ranges_ = usable;
    std::uint64_t index = 0;
    for (std::uint32_t i = 0; i < ranges_.count(); ++i) {
        first_index_[i] = index;
        index += ranges_[i].bytes() >> kPageShift;
    }
    bits_ = bits;
    words_ = need;
    total_ = index;
    free_.store(index, std::memory_order_relaxed);
    cursor_ = 0;
    for (std::size_t w = 0; w < words_; ++w)
        bits_[w] = 0;
    // Bits past the last frame read as allocated, so the search never returns them.
    if (total_ % 64 != 0) bits_[words_ - 1] = ~std::uint64_t{0} << (total_ % 64);
    return FrameError::None;
}

bool FrameAllocator::index_of(std::uint64_t pa, std::uint64_t& index) const {
    const std::int32_t r = ranges_.find(pa);
    if (r < 0) return false;
    const auto i = static_cast<std::uint32_t>(r);
    index = first_index_[i] + ((pa - ranges_[i].base) >> kPageShift);
    return true;
}

std::uint64_t FrameAllocator::pa_of(std::uint64_t index) const {
    std::uint32_t i = 0;
    while (i + 1 < ranges_.count() && first_index_[i + 1] <= index)
        ++i;
    return ranges_[i].base + ((index - first_index_[i]) << kPageShift);
}

FrameResult FrameAllocator::alloc() {
    if (free_frames() == 0) return FrameResult{0, FrameError::Exhausted};
    for (std::size_t n = 0; n < words_; ++n) {
        const std::size_t w = (cursor_ + n) % words_;
        if (bits_[w] == ~std::uint64_t{0}) continue;
        const auto bit = static_cast<std::uint32_t>(__builtin_ctzll(~bits_[w]));
        bits_[w] |= std::uint64_t{1} << bit;
        free_.store(free_frames() - 1, std::memory_order_relaxed);
        cursor_ = w;
        return FrameResult{pa_of(std::uint64_t{w} * 64 + bit), FrameError::None};
    }
    return FrameResult{0, FrameError::Exhausted}; // free_ said otherwise: never reached
}

FrameError FrameAllocator::free(std::uint64_t pa) {
    if (pa % kPageSize != 0) return FrameError::Misaligned;
    std::uint64_t index = 0;
    if (!index_of(pa, index)) return FrameError::NotManaged;
    std::uint64_t& word = bits_[index / 64];
    const std::uint64_t mask = std::uint64_t{1} << (index % 64);
    if ((word & mask) == 0) return FrameError::NotAllocated;
    word &= ~mask;
    free_.store(free_frames() + 1, std::memory_order_relaxed);
    if (index / 64 < cursor_) cursor_ = static_cast<std::size_t>(index / 64);
    return FrameError::None;
}

bool FrameAllocator::is_free(std::uint64_t pa) const {
    std::uint64_t index = 0;
    if (pa % kPageSize != 0 || !index_of(pa, index)) return false;
    return (bits_[index / 64] & (std::uint64_t{1} << (index % 64))) == 0;
}

} // namespace mm
