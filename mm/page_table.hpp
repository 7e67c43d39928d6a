// Sv39 page tables (RISC-V privileged spec v1.12 §4.4): one root per address space, built from
// frames of a FrameSource, reused for the kernel's space and (later) each user space.
#pragma once

#include "mm/frame_allocator.hpp"

#include <cstdint>

namespace mm {

// PTE bits (privileged spec §4.4.1, figure 4.21).
namespace pte {
inline constexpr std::uint64_t kV = 1u << 0;
inline constexpr std::uint64_t kR = 1u << 1;
inline constexpr std::uint64_t kW = 1u << 2;
inline constexpr std::uint64_t kX = 1u << 3;
inline constexpr std::uint64_t kU = 1u << 4;
inline constexpr std::uint64_t kG = 1u << 5;
inline constexpr std::uint64_t kA = 1u << 6;
inline constexpr std::uint64_t kD = 1u << 7;
inline constexpr std::uint64_t kSw0 = 1u << 8; // RSW bit 8, ours: a user page from map_anon
inline constexpr std::uint64_t kPermMask = kR | kW | kX | kU | kG;
inline constexpr std::uint64_t kFlagMask = 0x3ff; // V..D and the two RSW bits
} // namespace pte

// Sv39: 39-bit virtual addresses, sign-extended from bit 38 (§4.4.1); three levels of 512.
inline constexpr std::uint32_t kLevels = 3;
inline constexpr std::uint64_t kVaBits = 39;
inline constexpr std::uint64_t kSatpModeSv39 = 8;   // satp.MODE (§4.1.11, table 4.4)
inline constexpr std::uint64_t kMaxAsid = 0xffff;   // satp.ASID is 16 bits in RV64
inline constexpr std::uint64_t kMaxPa = 1ull << 56; // Sv39 PPN is 44 bits
// The top of Sv39's lower half (2^38): canonical addresses are below it or in the upper half.
inline constexpr std::uint64_t kLowerHalfEnd = std::uint64_t{1} << (kVaBits - 1);
// The kernel identity-maps RAM up to here (VA == PA): the whole lower half. The user ABI's
// kestrel::kUserLimit is the same bound (mm/address_space.hpp checks it).
inline constexpr std::uint64_t kIdentityLimit = kLowerHalfEnd;

// Bytes a leaf at `level` maps: 4 KiB (0), 2 MiB (1), 1 GiB (2).
constexpr std::uint64_t level_size(std::uint32_t level) {
    return kPageSize << (9 * level);
}

// Where the page-table pages are reachable: pointer = pa + offset (identity in the kernel).
struct PhysWindow {
    std::uintptr_t offset = 0;
    template <typename T>
    T* at(std::uint64_t pa) const {
        return reinterpret_cast<T*>(static_cast<std::uintptr_t>(pa) + offset);
    }
};

// Frames for page-table pages and user pages. alloc hands out zeroed frames (k::frames::alloc
// zeroes each; source_of does too), so nothing that takes one zeroes it again.
struct FrameSource {
    void* ctx = nullptr;
    FrameResult (*alloc)(void* ctx) = nullptr;
    FrameError (*free)(void* ctx, std::uint64_t pa) = nullptr;
};
// A FrameSource over a FrameAllocator the caller serialises (the host tests); it zeroes each
// frame through the identity map (the frame's address is its pointer).
FrameSource source_of(FrameAllocator& a);

// clang-format off
enum class [[nodiscard]] MapError : std::uint8_t {
    None,
    NoFrame,      // the frame source is exhausted (what was mapped so far stays)
    BadAddress,   // va/pa/size not 4 KiB aligned, va not canonical Sv39, pa above 56 bits
    BadPerms,     // no R/X (a leaf needs one), or W without R (reserved, §4.4.1)
    Overlap,      // a page of the range is mapped already
    NotMapped,    // unmap: a page of the range is not mapped
    Superpage,    // unmap: the page is inside a larger leaf (map that region with 4 KiB pages)
    KernelRange,  // a page lies in a root entry borrowed by share_kernel(): the kernel's tables
};
// clang-format on
const char* map_error_name(MapError e);

enum class Granule : std::uint8_t {
    Page,  // 4 KiB leaves only (regions that will have pages unmapped later)
    Large, // 2 MiB / 1 GiB leaves where va, pa and the remaining size allow
};

struct Translation {
    bool mapped = false;
    std::uint64_t pa = 0;    // the translated address (offset within the page kept)
    std::uint64_t flags = 0; // the leaf's pte bits (V R W X U G A D and RSW, pte::kFlagMask)
    std::uint32_t level = 0; // 0: 4 KiB leaf, 1: 2 MiB, 2: 1 GiB
};

class PageTable {
  public:
    constexpr PageTable() = default; // no source: init() fails with NoFrame
    constexpr PageTable(FrameSource frames, PhysWindow window) : frames_(frames), window_(window) {}

    // Allocates a zeroed root; NoFrame when the source is empty.
    MapError init();
    std::uint64_t root() const { return root_; }

    // Maps [va, va + size) to [pa, pa + size) with `flags` (pte::kR/kW/kX/kU/kG; A and D are
    // set so no hardware A/D update is needed). Sizes in bytes, 4 KiB aligned. KernelRange
    // (nothing written) when a page lies in a root entry borrowed by share_kernel(): writing
    // there would change the kernel's own tables.
    MapError map(std::uint64_t va, std::uint64_t pa, std::uint64_t size, std::uint64_t flags,
                 Granule g);
    // Clears the 4 KiB leaves of [va, va + size). The caller flushes the TLBs (sfence.vma,
    // SBI RFENCE on other harts) before it reuses what was mapped there.
    MapError unmap(std::uint64_t va, std::uint64_t size);
    Translation translate(std::uint64_t va) const;

    // True when a root entry of [va, va + size) (size > 0, no wrap, one half) is borrowed from
    // the kernel by share_kernel(); false for a non-canonical range.
    bool borrowed(std::uint64_t va, std::uint64_t size = kPageSize) const;
    // Frees the level-0 and level-1 tables below [va, va + size) that hold no entry at all
    // (not even an invalid one with software bits), clearing the entries that pointed at them.
    // Only for a table no hart has loaded: a walk in flight could still read a freed table.
    void prune(std::uint64_t va, std::uint64_t size);
    // The level-0 entry for va (canonical, not borrowed), allocating the tables above it
    // (zeroed) on the way: NoFrame, BadAddress, KernelRange, or Overlap when a superpage
    // covers va. For an owner that manages 4 KiB leaves itself (mm::AddressSpace).
    MapError leaf_slot(std::uint64_t va, std::uint64_t*& slot);
    // The same without allocating: null when a table on the way is missing or a superpage
    // covers va (or va is not canonical or borrowed).
    std::uint64_t* find_leaf_slot(std::uint64_t va) const;

    // Copies the root entries of `kernel` that are valid into this (empty) table's root, so
    // the kernel's global mappings are present here too (user spaces, §4.4.1 G bit).
    void share_kernel(const PageTable& kernel);

    // satp value for this table (§4.1.11): MODE = Sv39, ASID (<= kMaxAsid), root PPN.
    std::uint64_t satp(std::uint16_t asid) const {
        return kSatpModeSv39 << 60 | std::uint64_t{asid} << 44 | root_ >> kPageShift;
    }

    // Calls f(va, pa, size, flags) for every leaf, in address order.
    template <typename F>
    void for_each_leaf(F&& f) const {
        if (root_) walk_leaves(root_, kLevels - 1, 0, f, false);
    }
    // The same for the leaves of this table's own root entries (not those share_kernel()
    // borrowed).
    template <typename F>
    void for_each_own_leaf(F&& f) const {
        if (root_) walk_leaves(root_, kLevels - 1, 0, f, true);
    }

    // Returns every page-table page below the root and the root itself to the source (not
    // the frames the leaves map; not the tables share_kernel() borrowed).
    void destroy();
    std::uint64_t table_pages() const { return table_pages_; }

  private:
    std::uint64_t* table(std::uint64_t pa) const { return window_.at<std::uint64_t>(pa); }
    MapError next_level(std::uint64_t& entry, std::uint64_t& table_pa);
    void free_tables(std::uint64_t table_pa, std::uint32_t level);
    bool touches_borrowed(std::uint64_t va, std::uint64_t last) const;
    static bool empty_table(const std::uint64_t* t);

    template <typename F>
    void walk_leaves(std::uint64_t table_pa, std::uint32_t level, std::uint64_t va_base, F& f,
                     bool own_only) const {
        const std::uint64_t* t = table(table_pa);
        for (std::uint64_t i = 0; i < 512; ++i) {
            const std::uint64_t e = t[i];
            if (!(e & pte::kV)) continue;
            if (own_only && level == kLevels - 1 && shared_[i]) continue;
            std::uint64_t va = va_base + i * level_size(level);
            if (level == kLevels - 1 && (va >> (kVaBits - 1)) != 0) va |= ~((1ull << kVaBits) - 1);
            const std::uint64_t pa = (e >> 10) << kPageShift;
            if (e & (pte::kR | pte::kX))
                f(va, pa, level_size(level), e & pte::kFlagMask);
            else if (level > 0)
                walk_leaves(pa, level - 1, va, f, own_only);
        }
    }

    FrameSource frames_;
    PhysWindow window_;
    std::uint64_t root_ = 0;        // physical address of the root table
    std::uint64_t table_pages_ = 0; // pages this table allocated (root included)
    bool shared_[512] = {};         // root entries borrowed by share_kernel()
};

} // namespace mm
