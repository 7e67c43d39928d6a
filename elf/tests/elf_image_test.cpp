// The real user images: each validates, and its plan matches what binutils' readelf says.
#include "elf/tests/elf_test_util.hpp"

using elf::ElfError;
using namespace elftest;

TEST_CASE("every user image validates and its plan matches readelf", "[elf]") {
    REQUIRE(std::size(kImages) == 18); // init, hello, fault, exiter, waiter, ipcpair, ipcbench,
                                       // ipcdiff, killer, ipcsrv, fuzz, hotplug, fpstorm,
                                       // memshare, console, shell, shellscript, busy
    for (const ImageFile& f : kImages) {
        INFO("image " << f.name << " at " << f.path);
        const Bytes b = read_file(f.path);
        elf::Plan p{};
        const ElfError e = check(b, p);
        INFO("refusal " << elf::name(e));
        REQUIRE(e == ElfError::Ok);
        require_sane(p, b.size());
        // readelf -lW is the oracle: same rows, same order, same permissions.
        REQUIRE(p.count == f.loads);
        REQUIRE(p.entry == f.entry);
        for (std::uint32_t i = 0; i < p.count; ++i) {
            const elf::Segment& s = p.segments[i];
            const LoadRow& r = f.rows[i];
            CHECK(s.vaddr == r.vaddr);
            CHECK(s.memsz == r.memsz);
            CHECK(s.offset == r.offset);
            CHECK(s.filesz == r.filesz);
            CHECK(s.perms == r.perms);
            CHECK(r.align == 4096);
        }
        // The layout user/user.ld promises: text R-X at 0x10000 with the entry at its start
        // (crt0's .text.start is first), then rodata R--, then data+bss RW-, each on its pages.
        REQUIRE(p.count == 3);
        CHECK(p.segments[0].vaddr == 0x10000);
        CHECK(p.segments[0].perms == (elf::kRead | elf::kExec));
        CHECK(p.segments[1].perms == elf::kRead);
        CHECK(p.segments[2].perms == (elf::kRead | elf::kWrite));
        CHECK(p.segments[2].memsz > p.segments[2].filesz); // .bss is zero-filled
        CHECK(p.entry == 0x10000);
        std::uint64_t pages = 0;
        for (std::uint32_t i = 0; i < p.count; ++i)
            pages += (p.segments[i].vaddr + p.segments[i].memsz - 1) / 4096 -
                     p.segments[i].vaddr / 4096 + 1;
        CHECK(p.pages == pages);
    }
}

TEST_CASE("the validator reads byte by byte: a misaligned copy gives the same plan", "[elf]") {
    const Bytes b = image("init");
    elf::Plan aligned{}, shifted{};
    REQUIRE(check(b, aligned) == ElfError::Ok);
    for (std::size_t shift = 1; shift < 8; ++shift) {
        std::unique_ptr<unsigned char[]> buf(new unsigned char[b.size() + shift]);
        std::memcpy(buf.get() + shift, b.data(), b.size());
        REQUIRE(elf::validate(buf.get() + shift, b.size(), {}, shifted) == ElfError::Ok);
        REQUIRE(std::memcmp(&aligned, &shifted, sizeof aligned) == 0);
    }
}

TEST_CASE("limits are the caller's: a lower user limit or page budget refuses", "[elf]") {
    const Bytes b = image("hello");
    elf::Plan p{};
    REQUIRE(check(b, p) == ElfError::Ok);
    const elf::Segment last = p.segments[p.count - 1];
    elf::Limits l{};
    l.user_limit = last.vaddr + last.memsz; // exactly enough
    REQUIRE(check(b, p, l) == ElfError::Ok);
    l.user_limit -= 1;
    REQUIRE(check(b, p, l) == ElfError::AboveUserLimit);
    REQUIRE(p.count == 0); // a refusal leaves the plan empty
    l = {};
    l.user_base = 0x10001;
    REQUIRE(check(b, p, l) == ElfError::BelowUserBase);
    REQUIRE(check(b, p) == ElfError::Ok);
    l = {};
    l.max_pages = p.pages;
    REQUIRE(check(b, p, l) == ElfError::Ok);
    l.max_pages -= 1;
    REQUIRE(check(b, p, l) == ElfError::TooLarge);
}

TEST_CASE("every refusal has a distinct name", "[elf]") {
    std::vector<std::string> seen;
    for (unsigned i = 0; i < elf::kElfErrorCount; ++i) {
        const std::string n = elf::name(static_cast<ElfError>(i));
        REQUIRE(n != "unknown");
        REQUIRE(std::find(seen.begin(), seen.end(), n) == seen.end());
        seen.push_back(n);
    }
    REQUIRE(std::string(elf::name(static_cast<ElfError>(elf::kElfErrorCount))) == "unknown");
}
