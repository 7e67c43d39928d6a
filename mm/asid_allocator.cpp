// ASID allocation: a first-fit bitmap over [1, limit).
#include "mm/asid_allocator.hpp"

namespace mm {

void AsidAllocator::init(std::uint32_t bits, std::uint64_t* words, std::size_t count) {
    bits_ = bits > 16 ? 16 : bits;
    words_ = words;
    for (std::size_t i = 0; i < count; ++i)
        words_[i] = 0;
    const std::uint64_t asids = std::uint64_t{1} << bits_;
    const std::uint64_t room = std::uint64_t{count} * 64;
    limit_ = static_cast<std::uint32_t>(asids < room ? asids : room);
    if (limit_ == 0) limit_ = 1;
    in_use_ = 0;
}

std::uint16_t AsidAllocator::alloc() {
    for (std::uint32_t a = 1; a < limit_; ++a) {
        std::uint64_t& w = words_[a / 64];
        const std::uint64_t bit = std::uint64_t{1} << (a % 64);
        if (w == ~std::uint64_t{0}) {
            a |= 63; // the whole word is taken
            continue;
        }
        if (w & bit) continue;
        w |= bit;
        ++in_use_;
        return static_cast<std::uint16_t>(a);
    }
    return 0;
}

AsidError AsidAllocator::free(std::uint16_t asid) {
    if (asid >= limit_) return AsidError::OutOfRange;
    std::uint64_t& w = words_[asid / 64];
    const std::uint64_t bit = std::uint64_t{1} << (asid % 64);
    if (asid == 0 || !(w & bit)) return AsidError::NotAllocated;
    w &= ~bit;
    --in_use_;
    return AsidError::None;
}

} // namespace mm
