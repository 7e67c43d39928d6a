// User address spaces: staged all-or-nothing maps, the ELF loader, chunked unmap, teardown.
#include "mm/address_space.hpp"

namespace mm {

namespace {

constexpr std::uint64_t ppn_bits(std::uint64_t pa) {
    return (pa >> kPageShift) << 10;
}
constexpr std::uint64_t pa_of(std::uint64_t e) {
    return (e >> 10) << kPageShift;
}

// PTE bits for a plan segment: R/W/X from its perms, plus U (RFC-0026).
std::uint64_t leaf_flags(std::uint8_t perms) {
    return ((perms & elf::kRead) ? pte::kR : 0) | ((perms & elf::kWrite) ? pte::kW : 0) |
           ((perms & elf::kExec) ? pte::kX : 0) | pte::kU;
}

// A leaf needs R or X; W needs R (W without R is reserved, §4.4.1); never W and X (W^X).
bool perms_ok(std::uint64_t f) {
    if (!(f & (pte::kR | pte::kX))) return false;
    if ((f & pte::kW) && !(f & pte::kR)) return false;
    return !((f & pte::kW) && (f & pte::kX));
}

} // namespace

const char* space_error_name(SpaceError e) {
    switch (e) {
    case SpaceError::None:
        return "none";
    case SpaceError::NoFrame:
        return "no frame";
    case SpaceError::BadAlign:
        return "address not page-aligned";
    case SpaceError::BadLength:
        return "length zero or not whole pages";
    case SpaceError::OutOfRange:
        return "outside the user half";
    case SpaceError::KernelRange:
        return "in a root entry borrowed from the kernel";
    case SpaceError::BadPerms:
        return "bad permissions";
    case SpaceError::Overlap:
        return "overlaps a mapping";
    case SpaceError::NotMapped:
        return "not mapped";
    case SpaceError::BadImage:
        return "segment outside the image";
    case SpaceError::NotReady:
        return "no root";
    }
    return "unknown";
}

SpaceError AddressSpace::init(const PageTable& kernel) {
    if (ready()) return SpaceError::None;
    if (table_.init() != MapError::None) return SpaceError::NoFrame;
    table_.share_kernel(kernel);
    user_pages_ = 0;
    return SpaceError::None;
}

SpaceError AddressSpace::check_range(std::uint64_t va, std::uint64_t len) const {
    if (!ready()) return SpaceError::NotReady;
    if (va % kPageSize != 0) return SpaceError::BadAlign;
    if (len == 0 || len % kPageSize != 0) return SpaceError::BadLength;
    if (va < kestrel::kUserBase || va > kestrel::kUserLimit || len > kestrel::kUserLimit - va)
        return SpaceError::OutOfRange;
    if (table_.borrowed(va, len)) return SpaceError::KernelRange;
    return SpaceError::None;
}

// Holds a zeroed frame in every level-0 entry of the range (V = 0). Overlap when an entry is
// in use (mapped or held); NoFrame when the source runs dry. On an error the entries this call
// held are still held: the caller unstages [va, va + reached).
SpaceError AddressSpace::stage(std::uint64_t va, std::uint64_t len, std::uint64_t& reached) {
    for (reached = 0; reached != len; reached += kPageSize) {
        const std::uint64_t at = va + reached;
        std::uint64_t* slot = nullptr;
        const MapError m = table_.leaf_slot(at, slot);
        if (m == MapError::NoFrame) return SpaceError::NoFrame;
        if (m == MapError::KernelRange) return SpaceError::KernelRange;
        if (m != MapError::None || *slot != 0) return SpaceError::Overlap; // a leaf or superpage
        const FrameResult f = frames_.alloc(frames_.ctx);
        if (f.error != FrameError::None) return SpaceError::NoFrame;
        *slot = ppn_bits(f.pa) | kStaged;
    }
    return SpaceError::None;
}

// Gives back every frame held (not mapped) in the range; leaves other entries alone.
void AddressSpace::unstage(std::uint64_t va, std::uint64_t len) {
    for (; len != 0; va += kPageSize, len -= kPageSize) {
        std::uint64_t* slot = table_.find_leaf_slot(va);
        if (!slot || (*slot & pte::kV) || !(*slot & kStaged)) continue;
        (void)frames_.free(frames_.ctx, pa_of(*slot));
        *slot = 0;
    }
}

// Makes every held entry of the range a valid leaf with `leaf` (A, and D when writable, set so
// no hardware A/D update is needed).
void AddressSpace::commit(std::uint64_t va, std::uint64_t len, std::uint64_t leaf) {
    const std::uint64_t bits =
        leaf | pte::kV | pte::kA | ((leaf & pte::kW) ? pte::kD : std::uint64_t{0});
    // The frames' contents (zero, or the copied file bytes) before any entry that maps them.
    std::atomic_thread_fence(std::memory_order_release);
    for (; len != 0; va += kPageSize, len -= kPageSize) {
        std::uint64_t* slot = table_.find_leaf_slot(va);
        *slot = ppn_bits(pa_of(*slot)) | bits;
        ++user_pages_;
    }
}

SpaceError AddressSpace::load(const elf::Plan& plan, const unsigned char* image, std::size_t size) {
    if (!ready()) return SpaceError::NotReady;
    if (plan.count == 0 || plan.count > elf::kMaxSegments) return SpaceError::BadImage;
    // The validator's rules this code relies on, checked again (cheap, and the plan is plain
    // data): file bytes inside the image, the page count bounded by elf::Limits' default.
    std::uint64_t first[elf::kMaxSegments], bytes[elf::kMaxSegments], pages = 0;
    for (std::uint32_t i = 0; i < plan.count; ++i) {
        const elf::Segment& s = plan.segments[i];
        if (s.memsz == 0 || s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset ||
            s.memsz > kestrel::kUserLimit || s.vaddr > kestrel::kUserLimit - s.memsz)
            return SpaceError::BadImage;
        if (!perms_ok(leaf_flags(s.perms))) return SpaceError::BadPerms;
        first[i] = page_down(s.vaddr);
        bytes[i] = page_up(s.vaddr + s.memsz) - first[i];
        if (const SpaceError e = check_range(first[i], bytes[i]); e != SpaceError::None) return e;
        pages += bytes[i] / kPageSize;
    }
    if (pages != plan.pages || pages > elf::Limits{}.max_pages) return SpaceError::BadImage;
    for (std::uint32_t i = 0; i < plan.count; ++i) {
        std::uint64_t reached = 0;
        if (const SpaceError e = stage(first[i], bytes[i], reached); e != SpaceError::None) {
            bytes[i] = reached + kPageSize; // the failed page may hold tables of its own
            for (std::uint32_t j = 0; j <= i; ++j) {
                unstage(first[j], bytes[j]);
                table_.prune(first[j], bytes[j]);
            }
            return e;
        }
    }
    for (std::uint32_t i = 0; i < plan.count; ++i) {
        const elf::Segment& s = plan.segments[i];
        const unsigned char* from = image + s.offset;
        for (std::uint64_t done = 0; done < s.filesz;) {
            const std::uint64_t va = s.vaddr + done;
            const std::uint64_t in_page = kPageSize - (va & (kPageSize - 1));
            const std::uint64_t n = s.filesz - done < in_page ? s.filesz - done : in_page;
            const std::uint64_t pa = pa_of(*table_.find_leaf_slot(page_down(va)));
            __builtin_memcpy(window_.at<unsigned char>(pa + (va & (kPageSize - 1))), from + done,
                             n);
            done += n;
        }
    }
    for (std::uint32_t i = 0; i < plan.count; ++i)
        commit(first[i], bytes[i], leaf_flags(plan.segments[i].perms));
    return SpaceError::None;
}

SpaceError AddressSpace::map_anon(std::uint64_t va, std::uint64_t len, std::uint64_t flags) {
    if (const SpaceError e = check_range(va, len); e != SpaceError::None) return e;
    if ((flags & ~(pte::kR | pte::kW | pte::kX)) != 0 || !perms_ok(flags))
        return SpaceError::BadPerms;
    std::uint64_t reached = 0;
    if (const SpaceError e = stage(va, len, reached); e != SpaceError::None) {
        unstage(va, reached);
        return e;
    }
    commit(va, len, flags | pte::kU | pte::kSw0);
    return SpaceError::None;
}

SpaceError AddressSpace::check_mapped(std::uint64_t va, std::uint64_t len,
                                      std::uint64_t mark) const {
    if (const SpaceError e = check_range(va, len); e != SpaceError::None) return e;
    const std::uint64_t want = pte::kV | pte::kU | mark;
    for (std::uint64_t at = va, left = len; left != 0; at += kPageSize, left -= kPageSize) {
        const std::uint64_t* slot = table_.find_leaf_slot(at);
        if (!slot || (*slot & want) != want) return SpaceError::NotMapped;
    }
    return SpaceError::None;
}

// Clears every held (staged) entry of the range without freeing its frame: map_frames' frames
// are the caller's.
void AddressSpace::unhold(std::uint64_t va, std::uint64_t len) {
    for (; len != 0; va += kPageSize, len -= kPageSize) {
        std::uint64_t* slot = table_.find_leaf_slot(va);
        if (slot && !(*slot & pte::kV) && (*slot & kStaged)) *slot = 0;
    }
}

SpaceError AddressSpace::map_frames(std::uint64_t va, const std::uint64_t* pas, std::uint64_t n,
                                    std::uint64_t flags) {
    if (n == 0 || n > kestrel::kUserLimit / kPageSize) return SpaceError::BadLength;
    const std::uint64_t len = n * kPageSize;
    if (const SpaceError e = check_range(va, len); e != SpaceError::None) return e;
    if ((flags & ~(pte::kR | pte::kW)) != 0 || !perms_ok(flags)) return SpaceError::BadPerms;
    for (std::uint64_t i = 0; i < n; ++i)
        if (pas[i] % kPageSize != 0) return SpaceError::BadAlign;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::uint64_t* slot = nullptr;
        const MapError m = table_.leaf_slot(va + i * kPageSize, slot);
        SpaceError e = SpaceError::None;
        if (m == MapError::NoFrame)
            e = SpaceError::NoFrame;
        else if (m == MapError::KernelRange)
            e = SpaceError::KernelRange;
        else if (m != MapError::None || *slot != 0)
            e = SpaceError::Overlap;
        if (e != SpaceError::None) {
            unhold(va, i * kPageSize);
            return e;
        }
        *slot = ppn_bits(pas[i]) | kStaged;
    }
    commit(va, len, flags | pte::kU | kShared);
    return SpaceError::None;
}

// Clears up to kUnmapBatch leaves from va (all checked to be map_anon pages) and records their
// frames in batch; returns how many.
std::uint32_t AddressSpace::clear_chunk(std::uint64_t va, std::uint64_t len, std::uint64_t* batch) {
    std::uint32_t n = 0;
    for (; len != 0 && n < kUnmapBatch; va += kPageSize, len -= kPageSize) {
        std::uint64_t* slot = table_.find_leaf_slot(va);
        batch[n++] = pa_of(*slot);
        *slot = 0;
        --user_pages_;
    }
    return n;
}

void AddressSpace::release_frames(const std::uint64_t* batch, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i)
        (void)frames_.free(frames_.ctx, batch[i]);
}

SpaceError AddressSpace::write(std::uint64_t va, const void* src, std::uint64_t len) {
    if (!ready()) return SpaceError::NotReady;
    if (len == 0) return SpaceError::None;
    if (va < kestrel::kUserBase || va > kestrel::kUserLimit || len > kestrel::kUserLimit - va)
        return SpaceError::OutOfRange;
    for (std::uint64_t at = page_down(va); at < va + len; at += kPageSize) {
        const Translation t = table_.translate(at);
        if (!t.mapped || !(t.flags & pte::kU) || t.level != 0) return SpaceError::NotMapped;
    }
    const auto* from = static_cast<const unsigned char*>(src);
    for (std::uint64_t done = 0; done < len;) {
        const std::uint64_t at = va + done;
        const std::uint64_t in_page = kPageSize - (at & (kPageSize - 1));
        const std::uint64_t n = len - done < in_page ? len - done : in_page;
        __builtin_memcpy(window_.at<unsigned char>(table_.translate(at).pa), from + done, n);
        done += n;
    }
    return SpaceError::None;
}

bool AddressSpace::user_accessible(std::uint64_t va, std::uint64_t len, bool write) const {
    if (len == 0) return true;
    if (va > kestrel::kUserLimit || len > kestrel::kUserLimit - va) return false;
    const std::uint64_t want = pte::kU | pte::kR | (write ? pte::kW : 0);
    for (std::uint64_t at = page_down(va); at < va + len; at += kPageSize) {
        const Translation t = table_.translate(at);
        if (!t.mapped || (t.flags & want) != want) return false;
    }
    return true;
}

void AddressSpace::destroy() {
    if (!ready()) return;
    table_.for_each_own_leaf(
        [this](std::uint64_t, std::uint64_t pa, std::uint64_t size, std::uint64_t flags) {
            if ((flags & pte::kU) && !(flags & kShared) && size == kPageSize)
                (void)frames_.free(frames_.ctx, pa);
        });
    table_.destroy();
    user_pages_ = 0;
}

} // namespace mm
