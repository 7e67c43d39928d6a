// Sv39 page-table construction, removal and lookup (privileged spec v1.12 §4.3.2 walk, §4.4).
#include "mm/page_table.hpp"

namespace mm {

namespace {

bool canonical(std::uint64_t va) {
    return va < kLowerHalfEnd || va >= ~std::uint64_t{0} - (kLowerHalfEnd - 1);
}

std::uint32_t index(std::uint64_t va, std::uint32_t level) {
    return static_cast<std::uint32_t>((va >> (kPageShift + 9 * level)) & 511);
}

std::uint64_t pa_of(std::uint64_t e) {
    return (e >> 10) << kPageShift;
}

bool is_leaf(std::uint64_t e) {
    return (e & pte::kV) && (e & (pte::kR | pte::kX));
}

} // namespace

const char* map_error_name(MapError e) {
    switch (e) {
    case MapError::None:
        return "none";
    case MapError::NoFrame:
        return "no frame";
    case MapError::BadAddress:
        return "bad address";
    case MapError::BadPerms:
        return "bad permissions";
    case MapError::Overlap:
        return "overlap";
    case MapError::NotMapped:
        return "not mapped";
    case MapError::Superpage:
        return "inside a superpage";
    case MapError::KernelRange:
        return "in a root entry borrowed from the kernel";
    }
    return "unknown";
}

FrameSource source_of(FrameAllocator& a) {
    return FrameSource{
        &a,
        [](void* ctx) {
            const FrameResult r = static_cast<FrameAllocator*>(ctx)->alloc();
            if (r.error == FrameError::None)
                __builtin_memset(reinterpret_cast<void*>(r.pa), 0, kPageSize);
            return r;
        },
        [](void* ctx, std::uint64_t pa) { return static_cast<FrameAllocator*>(ctx)->free(pa); },
    };
}

MapError PageTable::init() {
    if (root_) return MapError::None;
    const FrameResult f = frames_.alloc(frames_.ctx);
    if (f.error != FrameError::None) return MapError::NoFrame;
    root_ = f.pa; // zeroed by the source
    table_pages_ = 1;
    return MapError::None;
}

// A non-leaf entry's table, allocated (zeroed) when the entry is invalid.
MapError PageTable::next_level(std::uint64_t& entry, std::uint64_t& table_pa) {
    if (is_leaf(entry)) return MapError::Overlap;
    if (!(entry & pte::kV)) {
        const FrameResult f = frames_.alloc(frames_.ctx);
        if (f.error != FrameError::None) return MapError::NoFrame;
        ++table_pages_;                               // the frame came zeroed: every entry invalid
        entry = (f.pa >> kPageShift) << 10 | pte::kV; // non-leaf: R = W = X = 0 (§4.4.1)
    }
    table_pa = pa_of(entry);
    return MapError::None;
}

MapError PageTable::map(std::uint64_t va, std::uint64_t pa, std::uint64_t size, std::uint64_t flags,
                        Granule g) {
    if (!root_) return MapError::NoFrame;
    if ((va | pa | size) % kPageSize != 0) return MapError::BadAddress;
    if (size == 0) return MapError::None;
    const std::uint64_t last = va + (size - 1);
    if (last < va || !canonical(va) || !canonical(last) ||
        (va < kLowerHalfEnd) != (last < kLowerHalfEnd))
        return MapError::BadAddress;
    if (pa >= kMaxPa || size > kMaxPa - pa) return MapError::BadAddress;
    if (!(flags & (pte::kR | pte::kX)) || ((flags & pte::kW) && !(flags & pte::kR)))
        return MapError::BadPerms;
    if (touches_borrowed(va, last)) return MapError::KernelRange;
    const std::uint64_t leaf =
        (flags & pte::kPermMask) | pte::kV | pte::kA | ((flags & pte::kW) ? pte::kD : 0);
    while (size != 0) {
        std::uint32_t level = 0;
        if (g == Granule::Large) {
            for (std::uint32_t l = kLevels - 1; l > 0; --l) {
                const std::uint64_t ls = level_size(l);
                if (va % ls == 0 && pa % ls == 0 && size >= ls) {
                    level = l;
                    break;
                }
            }
        }
        std::uint64_t tpa = root_;
        for (std::uint32_t l = kLevels - 1; l > level; --l) {
            std::uint64_t& e = table(tpa)[index(va, l)];
            if (const MapError err = next_level(e, tpa); err != MapError::None) return err;
        }
        std::uint64_t& e = table(tpa)[index(va, level)];
        if (e & pte::kV) {
            if (level == 0 || is_leaf(e)) return MapError::Overlap;
            // A table already sits where a superpage would go: fall back to 4 KiB leaves
            // for this superpage's span.
            const std::uint64_t span = level_size(level);
            if (const MapError err = map(va, pa, span, flags, Granule::Page); err != MapError::None)
                return err;
            va += span;
            pa += span;
            size -= span;
            continue;
        }
        e = (pa >> kPageShift) << 10 | leaf;
        va += level_size(level);
        pa += level_size(level);
        size -= level_size(level);
    }
    return MapError::None;
}

MapError PageTable::unmap(std::uint64_t va, std::uint64_t size) {
    if ((va | size) % kPageSize != 0 || !canonical(va)) return MapError::BadAddress;
    if (size != 0 && va + (size - 1) >= va && touches_borrowed(va, va + (size - 1)))
        return MapError::KernelRange;
    for (; size != 0; va += kPageSize, size -= kPageSize) {
        if (!root_) return MapError::NotMapped;
        std::uint64_t tpa = root_;
        for (std::uint32_t l = kLevels - 1; l > 0; --l) {
            const std::uint64_t e = table(tpa)[index(va, l)];
            if (!(e & pte::kV)) return MapError::NotMapped;
            if (is_leaf(e)) return MapError::Superpage;
            tpa = pa_of(e);
        }
        std::uint64_t& e = table(tpa)[index(va, 0)];
        if (!(e & pte::kV)) return MapError::NotMapped;
        e = 0;
    }
    return MapError::None;
}

Translation PageTable::translate(std::uint64_t va) const {
    if (!root_ || !canonical(va)) return Translation{};
    std::uint64_t tpa = root_;
    for (std::uint32_t l = kLevels; l-- > 0;) {
        const std::uint64_t e = table(tpa)[index(va, l)];
        if (!(e & pte::kV)) return Translation{};
        if (is_leaf(e)) {
            const std::uint64_t ls = level_size(l);
            return Translation{true, pa_of(e) + (va & (ls - 1)), e & pte::kFlagMask, l};
        }
        if (l == 0) return Translation{}; // a non-leaf at level 0 is reserved: page fault
        tpa = pa_of(e);
    }
    return Translation{};
}

bool PageTable::borrowed(std::uint64_t va, std::uint64_t size) const {
    if (size == 0) return false;
    const std::uint64_t last = va + (size - 1);
    if (last < va || !canonical(va) || !canonical(last) ||
        (va < kLowerHalfEnd) != (last < kLowerHalfEnd))
        return false;
    return touches_borrowed(va, last);
}

bool PageTable::empty_table(const std::uint64_t* t) {
    for (std::uint32_t i = 0; i < 512; ++i)
        if (t[i] != 0) return false;
    return true;
}

void PageTable::prune(std::uint64_t va, std::uint64_t size) {
    if (!root_ || va % kPageSize != 0 || size == 0 || borrowed(va, size)) return;
    const std::uint64_t last = va + (size - 1);
    if (last < va || !canonical(va) || !canonical(last)) return;
    // The level-1 entries first (each names a level-0 table, 2 MiB), then the root's (each a
    // level-1 table, 1 GiB): a level-1 table emptied by the first pass goes in the second.
    for (std::uint32_t level = 1; level < kLevels; ++level) {
        const std::uint64_t span = level_size(level);
        for (std::uint64_t at = va & ~(span - 1);; at += span) {
            std::uint64_t tpa = root_;
            std::uint64_t* e = &table(tpa)[index(at, kLevels - 1)];
            for (std::uint32_t l = kLevels - 1; l > level && (*e & pte::kV) && !is_leaf(*e);) {
                tpa = pa_of(*e);
                e = &table(tpa)[index(at, --l)];
            }
            const bool at_level = level == kLevels - 1 || tpa != root_;
            if (at_level && (*e & pte::kV) && !is_leaf(*e) && empty_table(table(pa_of(*e)))) {
                (void)frames_.free(frames_.ctx, pa_of(*e));
                --table_pages_;
                *e = 0;
            }
            if (at >= (last & ~(span - 1))) break;
        }
    }
}

// Every root entry from va's to last's (same half, canonical, last >= va).
bool PageTable::touches_borrowed(std::uint64_t va, std::uint64_t last) const {
    const std::uint32_t first = index(va, kLevels - 1), end = index(last, kLevels - 1);
    for (std::uint32_t i = first; i <= end; ++i)
        if (shared_[i]) return true;
    return false;
}

MapError PageTable::leaf_slot(std::uint64_t va, std::uint64_t*& slot) {
    slot = nullptr;
    if (!root_) return MapError::NoFrame;
    if (va % kPageSize != 0 || !canonical(va)) return MapError::BadAddress;
    if (shared_[index(va, kLevels - 1)]) return MapError::KernelRange;
    std::uint64_t tpa = root_;
    for (std::uint32_t l = kLevels - 1; l > 0; --l)
        if (const MapError err = next_level(table(tpa)[index(va, l)], tpa); err != MapError::None)
            return err;
    slot = &table(tpa)[index(va, 0)];
    return MapError::None;
}

std::uint64_t* PageTable::find_leaf_slot(std::uint64_t va) const {
    if (!root_ || !canonical(va) || shared_[index(va, kLevels - 1)]) return nullptr;
    std::uint64_t tpa = root_;
    for (std::uint32_t l = kLevels - 1; l > 0; --l) {
        const std::uint64_t e = table(tpa)[index(va, l)];
        if (!(e & pte::kV) || is_leaf(e)) return nullptr;
        tpa = pa_of(e);
    }
    return &table(tpa)[index(va, 0)];
}

void PageTable::share_kernel(const PageTable& kernel) {
    if (!root_ || !kernel.root_) return;
    const std::uint64_t* from = table(kernel.root_);
    std::uint64_t* to = table(root_);
    for (std::uint32_t i = 0; i < 512; ++i) {
        if (!(from[i] & pte::kV)) continue;
        to[i] = from[i];
        shared_[i] = true;
    }
}

void PageTable::free_tables(std::uint64_t table_pa, std::uint32_t level) {
    std::uint64_t* t = table(table_pa);
    for (std::uint32_t i = 0; i < 512; ++i) {
        const std::uint64_t e = t[i];
        if (!(e & pte::kV) || is_leaf(e) || level == 0) continue;
        if (level == kLevels - 1 && shared_[i]) continue;
        free_tables(pa_of(e), level - 1);
    }
    (void)frames_.free(frames_.ctx, table_pa);
    --table_pages_;
}

void PageTable::destroy() {
    if (!root_) return;
    free_tables(root_, kLevels - 1);
    root_ = 0;
    for (bool& s : shared_)
        s = false;
}

} // namespace mm
