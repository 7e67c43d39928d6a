// Host-test helpers for the ELF validator: the real user images, exact-size copies, field edits.
#pragma once

#include "elf/elf.hpp"
#include "user_images_host.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace elftest {

using Bytes = std::vector<unsigned char>;

// Field offsets written out again from the ELF-64 1.5 spec (not taken from elf_format.hpp, so
// a wrong constant there cannot hide behind the same wrong constant here).
namespace off {
inline constexpr std::size_t type = 16, machine = 18, version = 20, entry = 24, phoff = 32,
                             shoff = 40, flags = 48, ehsize = 52, phentsize = 54, phnum = 56,
                             shentsize = 58, shnum = 60, shstrndx = 62;
inline constexpr std::size_t p_type = 0, p_flags = 4, p_offset = 8, p_vaddr = 16, p_filesz = 32,
                             p_memsz = 40, p_align = 48, phdr_size = 56;
inline constexpr std::size_t sh_type = 4, sh_offset = 24, sh_size = 32, shdr_size = 64;
} // namespace off

inline Bytes read_file(const char* path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE(f.good());
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline const ImageFile& image_file(const char* name) {
    for (const ImageFile& i : kImages)
        if (std::string(i.name) == name) return i;
    FAIL("no user image called " << name);
    return kImages[0];
}

inline Bytes image(const char* name) {
    return read_file(image_file(name).path);
}

inline std::uint64_t get(const Bytes& b, std::size_t at, unsigned width) {
    REQUIRE(at + width <= b.size());
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i)
        v |= static_cast<std::uint64_t>(b[at + i]) << (8 * i);
    return v;
}
inline void put(Bytes& b, std::size_t at, unsigned width, std::uint64_t v) {
    REQUIRE(at + width <= b.size());
    for (unsigned i = 0; i < width; ++i)
        b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

// Offset of program header i, and the indices of the PT_LOAD entries.
inline std::size_t phdr(const Bytes& b, std::size_t i) {
    return static_cast<std::size_t>(get(b, off::phoff, 8)) + i * off::phdr_size;
}
inline std::vector<std::size_t> loads(const Bytes& b) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < get(b, off::phnum, 2); ++i)
        if (get(b, phdr(b, i) + off::p_type, 4) == 1) out.push_back(i);
    return out;
}
// Field `field` (an off::p_* value) of the n-th PT_LOAD.
inline std::size_t load_field(const Bytes& b, std::size_t n, std::size_t field) {
    const std::vector<std::size_t> l = loads(b);
    REQUIRE(n < l.size());
    return phdr(b, l[n]) + field;
}

// Validates an exact-size heap copy, so ASan sees any read past the end (a zero-length span
// is a valid, non-null pointer to no bytes).
inline elf::ElfError check(const Bytes& b, elf::Plan& plan, const elf::Limits& limits = {},
                           std::size_t len = SIZE_MAX) {
    const std::size_t n = len == SIZE_MAX ? b.size() : len;
    std::unique_ptr<unsigned char[]> copy(new unsigned char[n]);
    if (n) std::memcpy(copy.get(), b.data(), n);
    return elf::validate(copy.get(), n, limits, plan);
}

// What any accepted plan must satisfy, whatever the bytes were.
inline void require_sane(const elf::Plan& p, std::size_t size, const elf::Limits& l = {}) {
    REQUIRE(p.count >= 1);
    REQUIRE(p.count <= elf::kMaxSegments);
    REQUIRE(p.pages <= l.max_pages);
    bool entry_ok = false;
    for (std::uint32_t i = 0; i < p.count; ++i) {
        const elf::Segment& s = p.segments[i];
        REQUIRE(s.memsz > 0);
        REQUIRE(s.filesz <= s.memsz);
        REQUIRE(s.offset <= size);
        REQUIRE(s.filesz <= size - s.offset);
        REQUIRE(s.vaddr >= l.user_base);
        REQUIRE(s.vaddr < l.user_limit);
        REQUIRE(s.memsz <= l.user_limit - s.vaddr);
        REQUIRE((s.perms & ~(elf::kRead | elf::kWrite | elf::kExec)) == 0);
        REQUIRE(!((s.perms & elf::kWrite) && (s.perms & elf::kExec)));
        REQUIRE(!((s.perms & elf::kWrite) && !(s.perms & elf::kRead)));
        if (i > 0) // ascending, no shared page
            REQUIRE(s.vaddr / 4096 >
                    (p.segments[i - 1].vaddr + p.segments[i - 1].memsz - 1) / 4096);
        if ((s.perms & elf::kExec) && p.entry >= s.vaddr && p.entry - s.vaddr < s.filesz)
            entry_ok = true;
    }
    REQUIRE(entry_ok);
}

} // namespace elftest
