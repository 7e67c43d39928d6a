// ELF64 field offsets and constants (System V gABI, RISC-V psABI) and little-endian loads.
#pragma once

#include "elf/elf.hpp"

#include <cstddef>
#include <cstdint>

namespace elf::fmt {

// gABI "ELF Header": e_ident indexes and values.
inline constexpr std::size_t kIdentSize = 16;
inline constexpr std::size_t kEiClass = 4, kEiData = 5, kEiVersion = 6, kEiOsAbi = 7,
                             kEiAbiVersion = 8;
inline constexpr std::uint8_t kClass64 = 2, kData2Lsb = 1, kEvCurrent = 1, kOsAbiNone = 0;
inline constexpr std::uint16_t kEtExec = 2;
inline constexpr std::uint16_t kEmRiscv = 243; // RISC-V psABI: e_machine EM_RISCV

// RISC-V psABI "File Header": e_flags.
inline constexpr std::uint32_t kEfRvc = 0x1;
inline constexpr std::uint32_t kEfFloatAbiMask = 0x6; // 0 = soft, 2 = single, 4 = double, 6 = quad
inline constexpr std::uint32_t kEfFloatAbiSingle = 0x2, kEfFloatAbiDouble = 0x4,
                               kEfFloatAbiQuad = 0x6;
inline constexpr std::uint32_t kEfKnown = kEfRvc | kEfFloatAbiMask;

// ELF-64 1.5: Elf64_Ehdr field offsets (64 bytes).
inline constexpr std::size_t kEhdrSize = 64;
inline constexpr std::size_t kType = 16, kMachine = 18, kVersion = 20, kEntry = 24, kPhoff = 32,
                             kShoff = 40, kFlags = 48, kEhsize = 52, kPhentsize = 54, kPhnum = 56,
                             kShentsize = 58, kShnum = 60, kShstrndx = 62;

// Elf64_Phdr (56 bytes) and p_type / p_flags values.
inline constexpr std::size_t kPhdrSize = 56;
inline constexpr std::size_t kPType = 0, kPFlags = 4, kPOffset = 8, kPVaddr = 16, kPFilesz = 32,
                             kPMemsz = 40, kPAlign = 48;
inline constexpr std::uint32_t kPtNull = 0, kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3,
                               kPtShlib = 5, kPtTls = 7;
inline constexpr std::uint32_t kPfX = 1, kPfW = 2, kPfR = 4;

// Elf64_Shdr (64 bytes) and the section types without file bytes.
inline constexpr std::size_t kShdrSize = 64;
inline constexpr std::size_t kShType = 4, kShOffset = 24, kShSize = 32;
inline constexpr std::uint32_t kShtNull = 0, kShtNobits = 8;

// Little-endian loads, byte by byte; the caller has checked [p, p + N) lies in the image.
inline std::uint16_t le16(const unsigned char* p) {
    return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}
inline std::uint32_t le32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t le64(const unsigned char* p) {
    return static_cast<std::uint64_t>(le32(p)) | static_cast<std::uint64_t>(le32(p + 4)) << 32;
}

// [off, off + len) lies inside a file of `size` bytes; no sum is formed, so none overflows.
inline bool fits(std::uint64_t off, std::uint64_t len, std::uint64_t size) {
    return off <= size && len <= size - off;
}

// The header fields the segment pass needs, already checked.
struct Header {
    std::uint64_t entry;
    std::uint64_t phoff;
    std::uint16_t phnum;
    bool rvc;
};

// The PT_LOAD pass (elf_load.cpp): fills plan from the program headers and checks the entry.
ElfError plan_segments(const unsigned char* image, std::size_t size, const Header& h,
                       const Limits& limits, Plan& plan);

} // namespace elf::fmt
