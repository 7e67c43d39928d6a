// ELF64 validator: the file header, the program and section header tables (then elf_load.cpp).
#include "elf/elf.hpp"
#include "elf/elf_format.hpp"

namespace elf {

using namespace fmt;

namespace {

// e_ident and the fixed header fields. Source: System V gABI "ELF Header" (ELF-64 Object File
// Format 1.5 section 3) unless noted.
ElfError check_ident_and_header(const unsigned char* p) {
    if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F') return ElfError::BadMagic;
    if (p[kEiClass] != kClass64) return ElfError::BadClass;            // ELFCLASS64
    if (p[kEiData] != kData2Lsb) return ElfError::BadDataEncoding;     // RV64 is little-endian
    if (p[kEiVersion] != kEvCurrent) return ElfError::BadIdentVersion; // EV_CURRENT
    // The psABI uses no OS ABI extensions; GNU ones (IFUNC) would need a dynamic loader.
    if (p[kEiOsAbi] != kOsAbiNone || p[kEiAbiVersion] != 0) return ElfError::BadOsAbi;
    // ET_EXEC: linked at fixed addresses. ET_DYN would need relocation, which we do not do.
    if (le16(p + kType) != kEtExec) return ElfError::BadType;
    if (le16(p + kMachine) != kEmRiscv) return ElfError::BadMachine; // RISC-V psABI: EM_RISCV
    if (le32(p + kVersion) != kEvCurrent) return ElfError::BadVersion;
    // RISC-V psABI "e_flags": RVC (bit 0), float ABI (bits 1-2), RVE (bit 3), TSO (bit 4).
    // Only RVC is accepted besides the float ABI: RVE and TSO promise a machine we do not run.
    const std::uint32_t flags = le32(p + kFlags);
    if ((flags & ~kEfKnown) != 0) return ElfError::BadFlags;
    // Soft, single or double: a user thread has the D extension's registers (RFC-0027
    // "Floating point"). Quad needs Q, which no machine we run has.
    if ((flags & kEfFloatAbiMask) == kEfFloatAbiQuad) return ElfError::BadFloatAbi;
    if (le16(p + kEhsize) != kEhdrSize) return ElfError::BadEhsize; // sizeof(Elf64_Ehdr)
    return ElfError::Ok;
}

// The program header table: entries of sizeof(Elf64_Phdr), after the ELF header, in the file.
// Source: gABI "ELF Header" (e_phoff, e_phentsize, e_phnum; PN_XNUM = 0xffff means extended
// numbering, refused here as too many).
ElfError check_phdr_table(const unsigned char* p, std::size_t size) {
    if (le16(p + kPhentsize) != kPhdrSize) return ElfError::BadPhentsize;
    const std::uint16_t phnum = le16(p + kPhnum);
    if (phnum > kMaxPhdrs) return ElfError::TooManyPhdrs;
    if (phnum == 0) return ElfError::Ok; // then there is no PT_LOAD: refused by the next pass
    const std::uint64_t phoff = le64(p + kPhoff);
    if (phoff < kEhdrSize) return ElfError::PhdrsOverlapHeader;
    if (!fits(phoff, std::uint64_t{phnum} * kPhdrSize, size)) return ElfError::PhdrsOutOfFile;
    return ElfError::Ok;
}

// The section header table and every section's file bytes. The loader uses no section, but
// an image whose tables point past its end is damaged (truncated or corrupted), and a load
// from it is refused. Source: gABI "Sections" (e_shoff, e_shentsize, e_shnum, e_shstrndx;
// SHN_UNDEF = 0; extended numbering when e_shnum is 0 and e_shoff is not; SHT_NOBITS
// occupies no file space).
ElfError check_sections(const unsigned char* p, std::size_t size) {
    const std::uint64_t shoff = le64(p + kShoff);
    const std::uint16_t shnum = le16(p + kShnum);
    const std::uint16_t shstrndx = le16(p + kShstrndx);
    if (shnum == 0) {
        if (shoff != 0) return ElfError::ShdrsUnsupported;
        return shstrndx == 0 ? ElfError::Ok : ElfError::BadShstrndx;
    }
    if (le16(p + kShentsize) != kShdrSize) return ElfError::BadShentsize;
    if (shnum > kMaxSections) return ElfError::TooManySections;
    if (shoff < kEhdrSize || !fits(shoff, std::uint64_t{shnum} * kShdrSize, size))
        return ElfError::ShdrsOutOfFile;
    if (shstrndx >= shnum) return ElfError::BadShstrndx; // SHN_XINDEX (0xffff) included
    for (std::uint16_t i = 0; i < shnum; ++i) {
        const unsigned char* sh = p + shoff + std::uint64_t{i} * kShdrSize;
        const std::uint32_t type = le32(sh + kShType);
        if (type == kShtNull || type == kShtNobits) continue;
        if (!fits(le64(sh + kShOffset), le64(sh + kShSize), size))
            return ElfError::SectionOutOfFile;
    }
    return ElfError::Ok;
}

} // namespace

ElfError validate(const unsigned char* image, std::size_t size, const Limits& limits, Plan& out) {
    out = Plan{};
    if (image == nullptr || size < kEhdrSize) return ElfError::Truncated;
    ElfError e = check_ident_and_header(image);
    if (e == ElfError::Ok) e = check_phdr_table(image, size);
    if (e == ElfError::Ok) e = check_sections(image, size);
    if (e != ElfError::Ok) return e;
    const Header h{le64(image + kEntry), le64(image + kPhoff), le16(image + kPhnum),
                   (le32(image + kFlags) & kEfRvc) != 0};
    Plan plan{};
    e = plan_segments(image, size, h, limits, plan);
    switch (le32(image + kFlags) & kEfFloatAbiMask) {
    case kEfFloatAbiSingle:
        plan.float_abi = FloatAbi::Single;
        break;
    case kEfFloatAbiDouble:
        plan.float_abi = FloatAbi::Double;
        break;
    default:
        plan.float_abi = FloatAbi::Soft;
        break; // quad was refused above
    }
    if (e == ElfError::Ok) out = plan;
    return e;
}

} // namespace elf
