// A user address space (RFC-0026): an Sv39 table that borrows the kernel's root entries and
// owns every 4 KiB user page it maps. Portable: the kernel and the host tests build it.
#pragma once

#include "elf/elf.hpp"
#include "mm/page_table.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mm {

static_assert(kestrel::kUserLimit == kLowerHalfEnd, "the user half is Sv39's lower half");

// clang-format off
enum class [[nodiscard]] SpaceError : std::uint8_t {
    None,
    NoFrame,     // the source ran out; nothing was mapped (every frame taken went back)
    BadAlign,    // va not 4 KiB aligned
    BadLength,   // length 0 or not a multiple of 4 KiB
    OutOfRange,  // [va, va + len) not inside [kestrel::kUserBase, kestrel::kUserLimit)
    KernelRange, // a page lies in a root entry borrowed from the kernel (its identity map)
    BadPerms,    // no R, W without R, or W and X together
    Overlap,     // map_anon/load: a page of the range is mapped already
    NotMapped,   // unmap: a page is not a map_anon page; write: a page is not a user page
    BadImage,    // load: a segment's file bytes lie outside the image (validate() prevents it)
    NotReady,    // init() has not succeeded (or destroy() ran)
};
// clang-format on
const char* space_error_name(SpaceError e);

// Not thread-safe: the kernel serialises map/unmap/write per space (mm/user_space.hpp).
// The FrameSource hands out zeroed frames (mm/page_table.hpp); nothing here zeroes a user page
// again.
//
// Every map is all-or-nothing without ever exposing a partial state: frames are first held in
// level-0 entries with V = 0 and kStaged (hardware ignores an entry without V, §4.3.2
// step 3), filled, and only then made valid. So a thread of the same space running on another
// hart never sees a page that a failed map would take back.
class AddressSpace {
  public:
    static constexpr std::uint32_t kUnmapBatch = 64; // pages per flush in unmap()
    // A held frame: V = 0, RSW bit 9 set, PPN of the frame.
    static constexpr std::uint64_t kStaged = 1u << 9;

    constexpr AddressSpace() = default;
    constexpr AddressSpace(FrameSource frames, PhysWindow window)
        : frames_(frames), window_(window), table_(frames, window) {}

    // A zeroed root that borrows every valid root entry of `kernel` (share_kernel): the kernel
    // half and the kernel's identity map of RAM in the lower half. NoFrame.
    SpaceError init(const PageTable& kernel);
    bool ready() const { return table_.root() != 0; }

    // Maps every segment of `plan` (from elf::validate over [image, image + size)): its pages
    // [vaddr & ~4095, page_up(vaddr + memsz)) with PTE R/W/X from perms plus U (never W+X),
    // filesz bytes copied from image + offset, the rest zero. All or nothing: on an error every
    // frame and table page it took is back in the source. For a space no hart has loaded yet
    // (the empty tables of a failed load are freed without a TLB flush).
    SpaceError load(const elf::Plan& plan, const unsigned char* image, std::size_t size);

    // Maps [va, va + len) to zeroed frames with `flags` (pte::kR, optionally pte::kW; never
    // kX from the syscall, but R+X is allowed here for the kernel's own use) plus U and
    // pte::kSw0 (the mark unmap() requires). All or nothing for the pages; the table pages
    // a failed map allocated stay (empty) until destroy(): freeing one could race a walk on
    // another hart without a flush.
    SpaceError map_anon(std::uint64_t va, std::uint64_t len, std::uint64_t flags);

    // Unmaps [va, va + len), which must be map_anon() pages only (else NotMapped, nothing
    // changed), in chunks of at most kUnmapBatch pages: clear the entries, call
    // flush(chunk_va, chunk_len) which must make every hart that may cache this space forget
    // them, and only then give the chunk's frames back to the source. A frame is never
    // reusable while a TLB may still map it; the frames are not touched before the flush (a
    // stale entry could still let a user thread write them).
    template <typename Flush>
    SpaceError unmap(std::uint64_t va, std::uint64_t len, Flush&& flush) {
        if (const SpaceError e = check_unmap(va, len); e != SpaceError::None) return e;
        std::uint64_t batch[kUnmapBatch];
        while (len != 0) {
            const std::uint32_t n = clear_chunk(va, len, batch);
            std::atomic_thread_fence(std::memory_order_seq_cst); // the clears before the flush
            flush(va, std::uint64_t{n} * kPageSize);
            release_frames(batch, n);
            va += std::uint64_t{n} * kPageSize;
            len -= std::uint64_t{n} * kPageSize;
        }
        return SpaceError::None;
    }

    // A valid leaf with RSW bit 9: a page of a memory object (map_frames). Its frame is the
    // object's, not this space's: unmap_frames() and destroy() never free it. (With V = 0 the
    // same bit is kStaged: a frame held by a map in progress.)
    static constexpr std::uint64_t kShared = 1u << 9;

    // Maps [va, va + n pages) to the frames pas[0..n) (4 KiB aligned, the caller's) with
    // `flags` (pte::kR, optionally pte::kW; never kX) plus U and kShared. All or nothing:
    // BadPerms, the range errors of map_anon, Overlap, KernelRange, NoFrame (a table page);
    // on an error no entry of the range is left and every frame is still only the caller's.
    SpaceError map_frames(std::uint64_t va, const std::uint64_t* pas, std::uint64_t n,
                          std::uint64_t flags);

    // Unmaps [va, va + len), which must be map_frames() pages only (else NotMapped, nothing
    // changed), chunk by chunk as unmap(): clear, flush(chunk_va, chunk_len), and only then
    // the next chunk. The frames are not freed: once this returns, no hart that may cache this
    // space maps them, and the caller may drop its claim on them.
    template <typename Flush>
    SpaceError unmap_frames(std::uint64_t va, std::uint64_t len, Flush&& flush) {
        if (const SpaceError e = check_mapped(va, len, kShared); e != SpaceError::None) return e;
        std::uint64_t batch[kUnmapBatch];
        while (len != 0) {
            const std::uint32_t n = clear_chunk(va, len, batch);
            std::atomic_thread_fence(std::memory_order_seq_cst); // the clears before the flush
            flush(va, std::uint64_t{n} * kPageSize);
            va += std::uint64_t{n} * kPageSize;
            len -= std::uint64_t{n} * kPageSize;
        }
        return SpaceError::None;
    }

    // Copies [src, src + len) into the user pages at va through the window (the kernel writing
    // a stack or arguments; ignores W). NotMapped (nothing written) when a page of the range is
    // not a user page; OutOfRange for a range outside the user half.
    SpaceError write(std::uint64_t va, const void* src, std::uint64_t len);

    Translation translate(std::uint64_t va) const { return table_.translate(va); }
    // Every page of [va, va + len) is a user page with R (and W when `write`); true for len 0.
    // A snapshot: another thread may unmap meanwhile, so a copy relying on it must still
    // tolerate a fault.
    bool user_accessible(std::uint64_t va, std::uint64_t len, bool write) const;
    // True when a page of [va, va + len) lies in a borrowed (kernel) root entry.
    bool kernel_range(std::uint64_t va, std::uint64_t len) const {
        return table_.borrowed(va, len);
    }

    std::uint64_t user_pages() const { return user_pages_; } // leaves this space maps
    std::uint64_t table_pages() const { return table_.table_pages(); }
    std::uint64_t satp(std::uint16_t asid) const { return table_.satp(asid); }
    const PageTable& table() const { return table_; }

    // Every user frame and every table page back to the source; not the kernel's. For a space
    // no hart has loaded (or whose ASID every such hart has flushed).
    void destroy();

  private:
    SpaceError check_range(std::uint64_t va, std::uint64_t len) const;
    SpaceError check_unmap(std::uint64_t va, std::uint64_t len) const {
        return check_mapped(va, len, pte::kSw0);
    }
    // Every page of the range a valid user leaf with the `mark` bit (kSw0 or kShared).
    SpaceError check_mapped(std::uint64_t va, std::uint64_t len, std::uint64_t mark) const;
    void unhold(std::uint64_t va, std::uint64_t len);
    SpaceError stage(std::uint64_t va, std::uint64_t len, std::uint64_t& reached);
    void unstage(std::uint64_t va, std::uint64_t len);
    void commit(std::uint64_t va, std::uint64_t len, std::uint64_t leaf);
    std::uint32_t clear_chunk(std::uint64_t va, std::uint64_t len, std::uint64_t* batch);
    void release_frames(const std::uint64_t* batch, std::uint32_t n);

    FrameSource frames_;
    PhysWindow window_;
    PageTable table_;
    std::uint64_t user_pages_ = 0;
};

} // namespace mm
