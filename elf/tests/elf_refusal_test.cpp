// Crafted images: each is a copy of the real `init` image with one field changed, and each must
// be refused with its own ElfError. Together they cover every refusal the validator has.
#include "elf/tests/elf_test_util.hpp"

#include <functional>
#include <set>
#include <string>

using elf::ElfError;
using namespace elftest;

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};

struct Case {
    const char* what;
    ElfError expect;
    std::function<void(Bytes&)> mutate;
};

// Shorthands for the n-th PT_LOAD (0 text R-X, 1 rodata R--, 2 data RW-) of the image.
void set_load(Bytes& b, std::size_t n, std::size_t field, std::uint64_t v) {
    put(b, load_field(b, n, field), field == off::p_type || field == off::p_flags ? 4 : 8, v);
}
std::uint64_t get_load(const Bytes& b, std::size_t n, std::size_t field) {
    return get(b, load_field(b, n, field), field == off::p_type || field == off::p_flags ? 4 : 8);
}
// The first section with file bytes (type not NULL/NOBITS).
std::size_t first_file_section(const Bytes& b) {
    const std::size_t shoff = static_cast<std::size_t>(get(b, off::shoff, 8));
    for (std::size_t i = 1; i < get(b, off::shnum, 2); ++i) {
        const std::size_t sh = shoff + i * off::shdr_size;
        const std::uint64_t t = get(b, sh + off::sh_type, 4);
        if (t != 0 && t != 8) return sh;
    }
    FAIL("no section with file bytes");
    return 0;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        {"bad magic", ElfError::BadMagic, [](Bytes& b) { b[1] = 'X'; }},
        {"magic byte 0", ElfError::BadMagic, [](Bytes& b) { b[0] = 0x7e; }},
        {"ELFCLASS32", ElfError::BadClass, [](Bytes& b) { b[4] = 1; }},
        {"big-endian", ElfError::BadDataEncoding, [](Bytes& b) { b[5] = 2; }},
        {"ident version 0", ElfError::BadIdentVersion, [](Bytes& b) { b[6] = 0; }},
        {"OSABI GNU", ElfError::BadOsAbi, [](Bytes& b) { b[7] = 3; }},
        {"ABI version 1", ElfError::BadOsAbi, [](Bytes& b) { b[8] = 1; }},
        {"ET_DYN", ElfError::BadType, [](Bytes& b) { put(b, off::type, 2, 3); }},
        {"ET_REL", ElfError::BadType, [](Bytes& b) { put(b, off::type, 2, 1); }},
        {"EM_X86_64", ElfError::BadMachine, [](Bytes& b) { put(b, off::machine, 2, 62); }},
        {"e_version 2", ElfError::BadVersion, [](Bytes& b) { put(b, off::version, 4, 2); }},
        {"RVE flag", ElfError::BadFlags, [](Bytes& b) { put(b, off::flags, 4, 0x1 | 0x8); }},
        {"TSO flag", ElfError::BadFlags, [](Bytes& b) { put(b, off::flags, 4, 0x1 | 0x10); }},
        {"quad-float ABI", ElfError::BadFloatAbi,
         [](Bytes& b) { put(b, off::flags, 4, 0x1 | 0x6); }},
        {"e_ehsize 52", ElfError::BadEhsize, [](Bytes& b) { put(b, off::ehsize, 2, 52); }},
        {"e_phentsize 32", ElfError::BadPhentsize, [](Bytes& b) { put(b, off::phentsize, 2, 32); }},
        {"e_phnum PN_XNUM", ElfError::TooManyPhdrs,
         [](Bytes& b) { put(b, off::phnum, 2, 0xffff); }},
        {"e_phnum 17", ElfError::TooManyPhdrs, [](Bytes& b) { put(b, off::phnum, 2, 17); }},
        {"e_phoff 0", ElfError::PhdrsOverlapHeader, [](Bytes& b) { put(b, off::phoff, 8, 0); }},
        {"e_phoff past the end", ElfError::PhdrsOutOfFile,
         [](Bytes& b) { put(b, off::phoff, 8, b.size() - 8); }},
        {"e_phoff + table overflows", ElfError::PhdrsOutOfFile,
         [](Bytes& b) { put(b, off::phoff, 8, kMax - 16); }},
        {"e_shentsize 40", ElfError::BadShentsize, [](Bytes& b) { put(b, off::shentsize, 2, 40); }},
        {"e_shnum 65", ElfError::TooManySections, [](Bytes& b) { put(b, off::shnum, 2, 65); }},
        {"extended section numbering", ElfError::ShdrsUnsupported,
         [](Bytes& b) { put(b, off::shnum, 2, 0); }},
        {"e_shoff past the end", ElfError::ShdrsOutOfFile,
         [](Bytes& b) { put(b, off::shoff, 8, b.size()); }},
        {"e_shoff + table overflows", ElfError::ShdrsOutOfFile,
         [](Bytes& b) { put(b, off::shoff, 8, kMax - 64); }},
        {"e_shoff inside the ELF header", ElfError::ShdrsOutOfFile,
         [](Bytes& b) { put(b, off::shoff, 8, 8); }},
        {"e_shstrndx == e_shnum", ElfError::BadShstrndx,
         [](Bytes& b) { put(b, off::shstrndx, 2, get(b, off::shnum, 2)); }},
        {"e_shstrndx SHN_XINDEX", ElfError::BadShstrndx,
         [](Bytes& b) { put(b, off::shstrndx, 2, 0xffff); }},
        {"no sections but a string table index", ElfError::BadShstrndx,
         [](Bytes& b) {
             put(b, off::shnum, 2, 0);
             put(b, off::shoff, 8, 0);
         }},
        {"section size past the end", ElfError::SectionOutOfFile,
         [](Bytes& b) { put(b, first_file_section(b) + off::sh_size, 8, b.size()); }},
        {"section offset + size overflows", ElfError::SectionOutOfFile,
         [](Bytes& b) { put(b, first_file_section(b) + off::sh_offset, 8, kMax - 2); }},
        {"PT_INTERP", ElfError::UnsupportedSegment,
         [](Bytes& b) { set_load(b, 1, off::p_type, 3); }},
        {"PT_DYNAMIC", ElfError::UnsupportedSegment,
         [](Bytes& b) { set_load(b, 2, off::p_type, 2); }},
        {"PT_TLS", ElfError::UnsupportedSegment, [](Bytes& b) { set_load(b, 0, off::p_type, 7); }},
        {"e_phnum 0", ElfError::NoLoadSegment, [](Bytes& b) { put(b, off::phnum, 2, 0); }},
        {"every PT_LOAD a PT_NOTE", ElfError::NoLoadSegment,
         [](Bytes& b) {
             for (std::size_t i : loads(b))
                 put(b, phdr(b, i) + off::p_type, 4, 4);
         }},
        {"nine PT_LOADs", ElfError::TooManySegments,
         [](Bytes& b) {
             // Rewrite the table at its place (the padding before text has room) as nine
             // read-only one-page segments.
             put(b, off::phnum, 2, 9);
             for (std::size_t i = 0; i < 9; ++i) {
                 const std::size_t ph = phdr(b, i);
                 put(b, ph + off::p_type, 4, 1);
                 put(b, ph + off::p_flags, 4, 4);
                 put(b, ph + off::p_offset, 8, 0);
                 put(b, ph + off::p_vaddr, 8, 0x100000 + i * 0x1000);
                 put(b, ph + 24, 8, 0);
                 put(b, ph + off::p_filesz, 8, 0);
                 put(b, ph + off::p_memsz, 8, 16);
                 put(b, ph + off::p_align, 8, 4096);
             }
         }},
        {"no permissions", ElfError::BadSegmentFlags,
         [](Bytes& b) { set_load(b, 1, off::p_flags, 0); }},
        {"PF_MASKOS bit", ElfError::BadSegmentFlags,
         [](Bytes& b) { set_load(b, 1, off::p_flags, 4 | 0x00100000); }},
        {"text R+W+X", ElfError::WriteAndExecute,
         [](Bytes& b) { set_load(b, 0, off::p_flags, 7); }},
        {"data RW -> RWX", ElfError::WriteAndExecute,
         [](Bytes& b) { set_load(b, 2, off::p_flags, 7); }},
        {"write-only", ElfError::WriteWithoutRead,
         [](Bytes& b) { set_load(b, 1, off::p_flags, 2); }},
        {"p_memsz 0", ElfError::EmptySegment, [](Bytes& b) { set_load(b, 1, off::p_memsz, 0); }},
        {"p_filesz > p_memsz", ElfError::FileszOverMemsz,
         [](Bytes& b) { set_load(b, 2, off::p_filesz, get_load(b, 2, off::p_memsz) + 1); }},
        {"p_offset + p_filesz overflows", ElfError::FileRangeOverflow,
         [](Bytes& b) { set_load(b, 0, off::p_offset, kMax - 0x10); }},
        {"p_filesz past the end", ElfError::FileRangeOutOfFile,
         [](Bytes& b) {
             set_load(b, 0, off::p_filesz, b.size());
             set_load(b, 0, off::p_memsz, b.size());
         }},
        {"p_align 3", ElfError::BadAlign, [](Bytes& b) { set_load(b, 0, off::p_align, 3); }},
        {"p_align 2048", ElfError::BadAlign, [](Bytes& b) { set_load(b, 0, off::p_align, 2048); }},
        {"p_align 0", ElfError::BadAlign, [](Bytes& b) { set_load(b, 0, off::p_align, 0); }},
        {"p_offset misaligned to p_vaddr", ElfError::AlignMismatch,
         [](Bytes& b) { set_load(b, 0, off::p_offset, get_load(b, 0, off::p_offset) + 8); }},
        {"p_vaddr + p_memsz overflows", ElfError::AddressOverflow,
         [](Bytes& b) {
             set_load(b, 2, off::p_vaddr, 0xffff'ffff'ffff'f000);
             set_load(b, 2, off::p_memsz, 0x2000);
         }},
        {"text at page 0", ElfError::BelowUserBase,
         [](Bytes& b) { set_load(b, 0, off::p_vaddr, 0); }},
        {"data in the Sv39 kernel half", ElfError::AboveUserLimit,
         [](Bytes& b) { set_load(b, 2, off::p_vaddr, 0xffff'ffc0'0000'0000); }},
        {"data in the non-canonical hole", ElfError::AboveUserLimit,
         [](Bytes& b) { set_load(b, 2, off::p_vaddr, 0x40'0000'0000); }},
        {"data ends one byte past the user limit", ElfError::AboveUserLimit,
         [](Bytes& b) {
             set_load(b, 2, off::p_vaddr, 0x40'0000'0000 - 0x1000);
             set_load(b, 2, off::p_memsz, 0x1001);
         }},
        {"rodata below text", ElfError::Unsorted,
         [](Bytes& b) { set_load(b, 1, off::p_vaddr, 0x2000); }},
        {"rodata on text's page", ElfError::Overlap,
         [](Bytes& b) { set_load(b, 1, off::p_vaddr, get_load(b, 0, off::p_vaddr)); }},
        {"data on rodata's last page", ElfError::Overlap,
         [](Bytes& b) { set_load(b, 2, off::p_vaddr, get_load(b, 1, off::p_vaddr)); }},
        {"bss of 16 MiB + 1 page", ElfError::TooLarge,
         [](Bytes& b) { set_load(b, 2, off::p_memsz, 4096 * 4097); }},
        {"entry odd", ElfError::EntryMisaligned,
         [](Bytes& b) { put(b, off::entry, 8, get(b, off::entry, 8) + 1); }},
        {"entry 2-aligned without RVC", ElfError::EntryMisaligned,
         [](Bytes& b) {
             put(b, off::flags, 4, 0);
             put(b, off::entry, 8, get(b, off::entry, 8) + 2);
         }},
        {"entry in rodata", ElfError::EntryNotExecutable,
         [](Bytes& b) { put(b, off::entry, 8, get_load(b, 1, off::p_vaddr)); }},
        {"entry just below text", ElfError::EntryNotExecutable,
         [](Bytes& b) { put(b, off::entry, 8, get_load(b, 0, off::p_vaddr) - 2); }},
        {"entry one past text's file bytes", ElfError::EntryNotExecutable,
         [](Bytes& b) {
             put(b, off::entry, 8, get_load(b, 0, off::p_vaddr) + get_load(b, 0, off::p_filesz));
         }},
        {"entry in text's zeroed tail", ElfError::EntryNotExecutable,
         [](Bytes& b) {
             const std::uint64_t f = get_load(b, 0, off::p_filesz);
             set_load(b, 0, off::p_memsz, f + 0x10);
             put(b, off::entry, 8, get_load(b, 0, off::p_vaddr) + ((f + 1) & ~std::uint64_t{1}));
         }},
        {"entry in the kernel half", ElfError::EntryNotExecutable,
         [](Bytes& b) { put(b, off::entry, 8, 0xffff'ffc0'8020'0000); }},
    };
    return c;
}

} // namespace

TEST_CASE("crafted images: each is refused with its own reason", "[elf][refusal]") {
    const Bytes orig = image("init");
    elf::Plan p{};
    REQUIRE(check(orig, p) == ElfError::Ok); // the base image is good
    REQUIRE(loads(orig).size() == 3);
    for (const Case& c : cases()) {
        Bytes b = orig;
        c.mutate(b);
        REQUIRE(b != orig); // the mutation changed something
        const ElfError e = check(b, p);
        INFO(c.what << ": got " << elf::name(e) << ", expected " << elf::name(c.expect));
        CHECK(e == c.expect);
        CHECK(p.count == 0);
    }
    // "Truncated" has its own case: shorter than the ELF header, including no bytes at all.
    REQUIRE(check(orig, p, {}, 63) == ElfError::Truncated);
    REQUIRE(check(orig, p, {}, 0) == ElfError::Truncated);
    REQUIRE(elf::validate(nullptr, 0, {}, p) == ElfError::Truncated);
}

TEST_CASE("soft, single and double float ABIs are accepted and named; quad is not", "[elf]") {
    Bytes b = image("init");
    elf::Plan p{};
    REQUIRE(check(b, p) == ElfError::Ok);
    CHECK(p.float_abi == elf::FloatAbi::Double); // the user build is lp64d
    const std::uint64_t rvc = get(b, off::flags, 4) & 0x1;
    const struct {
        std::uint64_t bits;
        elf::FloatAbi abi;
        const char* name;
    } accepted[] = {{0x0, elf::FloatAbi::Soft, "lp64"},
                    {0x2, elf::FloatAbi::Single, "lp64f"},
                    {0x4, elf::FloatAbi::Double, "lp64d"}};
    for (const auto& a : accepted) {
        put(b, off::flags, 4, rvc | a.bits);
        REQUIRE(check(b, p) == ElfError::Ok);
        CHECK(p.float_abi == a.abi);
        CHECK(std::string(elf::name(p.float_abi)) == a.name);
    }
    put(b, off::flags, 4, rvc | 0x6);
    CHECK(check(b, p) == ElfError::BadFloatAbi);
}

TEST_CASE("the crafted cases cover every refusal", "[elf][refusal]") {
    std::set<ElfError> covered{ElfError::Truncated}; // covered above
    for (const Case& c : cases())
        covered.insert(c.expect);
    for (unsigned i = 1; i < elf::kElfErrorCount; ++i) {
        INFO("refusal without a crafted case: " << elf::name(static_cast<ElfError>(i)));
        CHECK(covered.count(static_cast<ElfError>(i)) == 1);
    }
    WARN("crafted cases: " << cases().size() << ", refusals covered: " << covered.size() << " of "
                           << elf::kElfErrorCount - 1);
}

// "The first rule broken, in the table's order, is returned" (RFC-0026 "The ELF rules"): any two
// crafted cases that change only ELF header bytes, and not the same ones, applied together
// must give the refusal of the one listed first (the list follows the table's order). Cases
// that empty a table (a count of 0) are left out: with them the pair breaks only one rule.
TEST_CASE("two broken rules: the one first in the table's order is reported", "[elf][refusal]") {
    constexpr std::size_t kEhdrBytes = 64; // sizeof(Elf64_Ehdr)
    const Bytes orig = image("init");
    struct Header {
        const Case* c;
        std::set<std::size_t> bytes; // the header bytes its mutation changes
    };
    std::vector<Header> hs;
    for (const Case& c : cases()) {
        Bytes b = orig;
        c.mutate(b);
        Header h{&c, {}};
        bool header_only = true;
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (b[i] == orig[i]) continue;
            header_only = header_only && i < kEhdrBytes;
            h.bytes.insert(i);
        }
        // A count of 0 (e_phnum, e_shnum) empties its table, and the table's other fields
        // then break no rule: such a case paired with one of those breaks one rule, not two.
        const bool empties_a_table = get(b, off::phnum, 2) == 0 || get(b, off::shnum, 2) == 0;
        if (header_only && !empties_a_table) hs.push_back(h);
    }
    REQUIRE(hs.size() >= 20);
    elf::Plan p{};
    std::size_t pairs = 0;
    for (std::size_t i = 0; i < hs.size(); ++i) {
        for (std::size_t j = i + 1; j < hs.size(); ++j) {
            if (hs[i].c->expect == hs[j].c->expect) continue;
            bool shared = false;
            for (std::size_t k : hs[j].bytes)
                shared = shared || hs[i].bytes.count(k) != 0;
            if (shared) continue;
            Bytes b = orig;
            hs[j].c->mutate(b); // the later rule first: the order of the writes must not matter
            hs[i].c->mutate(b);
            const ElfError e = check(b, p);
            INFO(hs[i].c->what << " + " << hs[j].c->what << ": got " << elf::name(e)
                               << ", expected " << elf::name(hs[i].c->expect));
            CHECK(e == hs[i].c->expect);
            CHECK(p.count == 0);
            ++pairs;
        }
    }
    WARN("header cases: " << hs.size() << ", pairs checked: " << pairs);
}
