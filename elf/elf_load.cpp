// ELF64 validator, second pass: every PT_LOAD checked and turned into a load plan segment.
#include "elf/elf_format.hpp"

namespace elf::fmt {

namespace {

constexpr std::uint64_t kPageShift = 12;
static_assert(std::uint64_t{1} << kPageShift == kPageSize);

bool power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

std::uint8_t perms_of(std::uint32_t pf) {
    return static_cast<std::uint8_t>(((pf & kPfR) ? kRead : 0) | ((pf & kPfW) ? kWrite : 0) |
                                     ((pf & kPfX) ? kExec : 0));
}

// One PT_LOAD entry. `ph` points at its 56 bytes, inside the image. Sources: gABI "Program
// Header" (p_filesz <= p_memsz, the bytes past p_filesz are zero; p_align a power of two with
// p_vaddr = p_offset mod p_align; loadable segments are page-aligned in the file and memory);
// RISC-V privileged spec, Sv39 (a PTE with W = 1 and R = 0 is reserved; 4 KiB pages; the lower
// half ends at 2^38); W^X is this kernel's rule (CONTRACT section 7).
ElfError check_load(const unsigned char* ph, std::size_t size, const Limits& limits, Segment& seg) {
    const std::uint32_t pf = le32(ph + kPFlags);
    const std::uint64_t off = le64(ph + kPOffset), vaddr = le64(ph + kPVaddr);
    const std::uint64_t filesz = le64(ph + kPFilesz), memsz = le64(ph + kPMemsz);
    const std::uint64_t align = le64(ph + kPAlign);
    if ((pf & ~(kPfR | kPfW | kPfX)) != 0 || (pf & (kPfR | kPfW | kPfX)) == 0)
        return ElfError::BadSegmentFlags; // PF_MASKOS / PF_MASKPROC bits mean nothing to us
    if ((pf & kPfW) && (pf & kPfX)) return ElfError::WriteAndExecute;
    if ((pf & kPfW) && !(pf & kPfR)) return ElfError::WriteWithoutRead;
    if (memsz == 0) return ElfError::EmptySegment;
    if (filesz > memsz) return ElfError::FileszOverMemsz;
    if (off > ~std::uint64_t{0} - filesz) return ElfError::FileRangeOverflow;
    if (off + filesz > size) return ElfError::FileRangeOutOfFile;
    if (!power_of_two(align) || align < kPageSize) return ElfError::BadAlign;
    if (vaddr % align != off % align) return ElfError::AlignMismatch;
    if (vaddr > ~std::uint64_t{0} - memsz) return ElfError::AddressOverflow;
    if (vaddr < limits.user_base) return ElfError::BelowUserBase;
    if (vaddr + memsz > limits.user_limit) return ElfError::AboveUserLimit;
    seg = Segment{vaddr, memsz, off, filesz, perms_of(pf)};
    return ElfError::Ok;
}

// First and last page number a segment touches (memsz > 0, so the last byte exists).
std::uint64_t first_page(const Segment& s) {
    return s.vaddr >> kPageShift;
}
std::uint64_t last_page(const Segment& s) {
    return (s.vaddr + s.memsz - 1) >> kPageShift;
}

} // namespace

ElfError plan_segments(const unsigned char* image, std::size_t size, const Header& h,
                       const Limits& limits, Plan& plan) {
    plan = Plan{};
    for (std::uint16_t i = 0; i < h.phnum; ++i) {
        const unsigned char* ph = image + h.phoff + std::uint64_t{i} * kPhdrSize;
        const std::uint32_t type = le32(ph + kPType);
        // gABI: PT_SHLIB "does not conform to the ABI"; PT_DYNAMIC and PT_INTERP need a
        // dynamic linker and PT_TLS a thread pointer set-up, none of which we provide. Other
        // types (PT_NOTE, PT_PHDR, PT_GNU_STACK, PT_RISCV_ATTRIBUTES, ...) load nothing.
        if (type == kPtDynamic || type == kPtInterp || type == kPtShlib || type == kPtTls)
            return ElfError::UnsupportedSegment;
        if (type != kPtLoad) continue;
        if (plan.count == kMaxSegments) return ElfError::TooManySegments;
        Segment seg{};
        if (const ElfError e = check_load(ph, size, limits, seg); e != ElfError::Ok) return e;
        if (plan.count > 0) {
            // gABI: "Loadable segment entries ... appear in ascending order, sorted on the
            // p_vaddr member." Pages are mapped with one set of permissions each, so two
            // segments may not share a page either.
            const Segment& prev = plan.segments[plan.count - 1];
            if (seg.vaddr < prev.vaddr) return ElfError::Unsorted;
            if (first_page(seg) <= last_page(prev)) return ElfError::Overlap;
        }
        // No overflow: each span is below 2^52 pages and there are at most kMaxSegments.
        plan.pages += last_page(seg) - first_page(seg) + 1;
        if (plan.pages > limits.max_pages) return ElfError::TooLarge;
        plan.segments[plan.count++] = seg;
    }
    if (plan.count == 0) return ElfError::NoLoadSegment;
    // RISC-V unprivileged spec: instructions are 4-byte aligned, 2-byte with the C extension
    // (IALIGN); a misaligned entry would fault on the first fetch.
    if (h.entry % (h.rvc ? 2 : 4) != 0) return ElfError::EntryMisaligned;
    // gABI e_entry: the address control is first transferred to. It must be an instruction
    // the file supplies in an executable segment (not in the zeroed tail past p_filesz).
    for (std::uint32_t i = 0; i < plan.count; ++i) {
        const Segment& s = plan.segments[i];
        if ((s.perms & kExec) && h.entry >= s.vaddr && h.entry - s.vaddr < s.filesz) {
            plan.entry = h.entry;
            return ElfError::Ok;
        }
    }
    return ElfError::EntryNotExecutable;
}

} // namespace elf::fmt
