// ELF64 validator and load plan for user images: portable (kernel and host), no heap.
#pragma once

#include "user/include/kestrel/syscall.hpp"

#include <cstddef>
#include <cstdint>

namespace elf {

// One value per refusal (RFC-0026 lists the rule and its source for each).
enum class [[nodiscard]] ElfError : std::uint8_t{
    Ok,
    Truncated,          // shorter than the 64-byte ELF header
    BadMagic,           // e_ident[EI_MAG0..3] != 0x7f 'E' 'L' 'F'
    BadClass,           // EI_CLASS != ELFCLASS64
    BadDataEncoding,    // EI_DATA != ELFDATA2LSB
    BadIdentVersion,    // EI_VERSION != EV_CURRENT
    BadOsAbi,           // EI_OSABI != ELFOSABI_NONE or EI_ABIVERSION != 0
    BadType,            // e_type != ET_EXEC
    BadMachine,         // e_machine != EM_RISCV (243)
    BadVersion,         // e_version != EV_CURRENT
    BadFlags,           // e_flags has bits other than RVC and the float ABI (RVE, TSO, reserved)
    BadFloatAbi,        // e_flags float ABI quad: the machine has no Q extension
    BadEhsize,          // e_ehsize != 64
    BadPhentsize,       // e_phentsize != 56
    TooManyPhdrs,       // e_phnum > kMaxPhdrs (PN_XNUM included)
    PhdrsOverlapHeader, // e_phoff < e_ehsize (0 included)
    PhdrsOutOfFile,     // e_phoff + e_phnum * e_phentsize past the end (or overflowing)
    BadShentsize,       // e_shnum > 0 and e_shentsize != 64
    TooManySections,    // e_shnum > kMaxSections
    ShdrsUnsupported,   // e_shnum == 0 with e_shoff != 0 (extended section numbering)
    ShdrsOutOfFile,     // section header table overlaps the ELF header or runs past the end
    BadShstrndx,        // e_shstrndx not SHN_UNDEF and not below e_shnum
    SectionOutOfFile,   // a section with file bytes runs past the end (or overflows)
    UnsupportedSegment, // PT_DYNAMIC, PT_INTERP, PT_SHLIB or PT_TLS: we load static images only
    NoLoadSegment,      // no PT_LOAD at all
    TooManySegments,    // more than kMaxSegments PT_LOAD entries
    BadSegmentFlags,    // p_flags has bits other than R/W/X, or none of them
    WriteAndExecute,    // a PT_LOAD both writable and executable
    WriteWithoutRead,   // writable but not readable: reserved in Sv39 PTEs
    EmptySegment,       // p_memsz == 0
    FileszOverMemsz,    // p_filesz > p_memsz
    FileRangeOverflow,  // p_offset + p_filesz overflows 64 bits
    FileRangeOutOfFile, // p_offset + p_filesz past the end of the image
    BadAlign,           // p_align not a power of two, or below the page size
    AlignMismatch,      // p_vaddr % p_align != p_offset % p_align
    AddressOverflow,    // p_vaddr + p_memsz overflows 64 bits
    BelowUserBase,      // p_vaddr below Limits::user_base (page 0 stays unmapped)
    AboveUserLimit,     // p_vaddr + p_memsz above Limits::user_limit (kernel half or hole)
    Unsorted,           // PT_LOAD entries not in ascending p_vaddr order
    Overlap,            // two PT_LOAD entries share a page
    TooLarge,           // the segments need more than Limits::max_pages pages
    EntryMisaligned,    // e_entry not 2-byte aligned (4 without the RVC flag)
    EntryNotExecutable, // e_entry not inside the file bytes of an executable PT_LOAD
};
inline constexpr unsigned kElfErrorCount = static_cast<unsigned>(ElfError::EntryNotExecutable) + 1;

// The enumerator's name ("Ok", "BadMagic", ...); "unknown" outside the enum.
const char* name(ElfError e);

inline constexpr std::uint64_t kPageSize = kestrel::kPageSize; // the ABI's page
inline constexpr std::uint16_t kMaxPhdrs = 16;                 // program headers we read
inline constexpr std::uint16_t kMaxSections = 64;              // section headers we check
inline constexpr std::uint32_t kMaxSegments = 8;               // PT_LOAD entries in a plan

// Where user segments may go. Defaults: Sv39's lower half above page 0, 16 MiB of pages.
struct Limits {
    std::uint64_t user_base = kestrel::kUserBase;   // lowest address a segment may start at
    std::uint64_t user_limit = kestrel::kUserLimit; // a segment ends at or below it
    std::uint64_t max_pages = 4096;                 // pages of all segments together
};

// Segment permissions in the plan (not the ELF PF_* bit values).
enum Perm : std::uint8_t { kRead = 1, kWrite = 2, kExec = 4 };

struct Segment {
    std::uint64_t vaddr;  // first byte; the mapping covers its page through the last byte's
    std::uint64_t memsz;  // bytes in memory, > 0
    std::uint64_t offset; // file offset of the first file byte
    std::uint64_t filesz; // bytes copied from the file (<= memsz); the rest is zeroed
    std::uint8_t perms;   // Perm bits: R, RX, X or RW (never W+X, never W without R)
};

// The image's floating-point calling convention (e_flags bits 1-2): soft (lp64), single
// (lp64f) or double (lp64d). Each runs: a user thread gets f0-f31 of 64 bits and fcsr.
enum class FloatAbi : std::uint8_t { Soft, Single, Double };
// "lp64", "lp64f", "lp64d".
const char* name(FloatAbi a);

// The loader's plan: segments in ascending address order, no two sharing a page.
struct Plan {
    std::uint64_t entry; // inside the file bytes of an executable segment
    FloatAbi float_abi;  // what e_flags said
    std::uint64_t pages; // pages the segments cover (each counted once), <= max_pages
    std::uint32_t count; // 1..kMaxSegments
    Segment segments[kMaxSegments];
};

// Validates the ELF64 image [image, image + size) as a static RV64 executable for user space
// (ELF-64 Object File Format 1.5 / System V gABI ch. 4-5; RISC-V psABI "ELF Object Files")
// and fills `out`. Reads only inside the span, byte by byte (any alignment, either host
// endianness); image may be null only when size is 0. On any refusal `out` is left empty
// (count 0) and the first rule broken, in the order of the enum, is returned.
[[nodiscard]] ElfError validate(const unsigned char* image, std::size_t size, const Limits& limits,
                                Plan& out);

} // namespace elf
