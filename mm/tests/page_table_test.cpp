// Sv39 tables on a host arena: the table pages are real host memory (identity window), the
// addresses they map are just numbers.
#include "mm/page_table.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>

using mm::Granule;
using mm::MapError;
using mm::PageTable;
namespace pte = mm::pte;

namespace {

struct Arena {
    explicit Arena(std::uint64_t frames)
        : mem(static_cast<std::uint8_t*>(std::aligned_alloc(4096, frames * 4096)), &std::free) {
        std::memset(mem.get(), 0xa5, frames * 4096); // garbage: a table page must come zeroed
        const auto base = reinterpret_cast<std::uint64_t>(mem.get());
        REQUIRE(set.add(base, base + frames * 4096));
        bits.resize(mm::FrameAllocator::bitmap_words(set));
        REQUIRE(alloc.init(set, bits.data(), bits.size()) == mm::FrameError::None);
    }
    PageTable table() { return PageTable(mm::source_of(alloc), mm::PhysWindow{0}); }

    std::unique_ptr<std::uint8_t, decltype(&std::free)> mem;
    mm::RangeSet set;
    std::vector<std::uint64_t> bits;
    mm::FrameAllocator alloc;
};

constexpr std::uint64_t kRX = pte::kR | pte::kX | pte::kG;
constexpr std::uint64_t kRW = pte::kR | pte::kW | pte::kG;

} // namespace

TEST_CASE("page table: 4 KiB map, translate, unmap", "[mm][pt]") {
    Arena arena(16);
    PageTable pt = arena.table();
    REQUIRE(pt.init() == MapError::None);
    REQUIRE(pt.map(0x8020'0000, 0x8020'0000, 0x3000, kRX, Granule::Page) == MapError::None);
    CHECK(pt.table_pages() == 3); // root, one level-1, one level-0 table
    const mm::Translation t = pt.translate(0x8020'1234);
    REQUIRE(t.mapped);
    CHECK(t.pa == 0x8020'1234);
    CHECK(t.level == 0);
    CHECK(t.flags == (kRX | pte::kV | pte::kA)); // not dirty: not writable
    CHECK_FALSE(pt.translate(0x8020'3000).mapped);
    CHECK(pt.map(0x8020'1000, 0x9000'0000, 0x1000, kRW, Granule::Page) == MapError::Overlap);
    REQUIRE(pt.unmap(0x8020'1000, 0x1000) == MapError::None);
    CHECK_FALSE(pt.translate(0x8020'1000).mapped);
    CHECK(pt.translate(0x8020'2000).mapped);
    CHECK(pt.unmap(0x8020'1000, 0x1000) == MapError::NotMapped);
    const mm::Translation w = [&] {
        REQUIRE(pt.map(0x8020'1000, 0x9000'0000, 0x1000, kRW, Granule::Page) == MapError::None);
        return pt.translate(0x8020'1008);
    }();
    CHECK(w.pa == 0x9000'0008);
    CHECK(w.flags == (kRW | pte::kV | pte::kA | pte::kD));
}

TEST_CASE("page table: superpages where aligned, 4 KiB elsewhere", "[mm][pt]") {
    Arena arena(16);
    PageTable pt = arena.table();
    REQUIRE(pt.init() == MapError::None);
    // 0x80000000 + 1 GiB + 6 MiB + 4 KiB: one gigapage, three megapages, one page.
    const std::uint64_t size = (1ull << 30) + (6ull << 20) + 0x1000;
    REQUIRE(pt.map(0x8000'0000, 0x8000'0000, size, kRW, Granule::Large) == MapError::None);
    CHECK(pt.translate(0x8000'0000).level == 2);
    CHECK(pt.translate(0xc000'0000).level == 1);
    CHECK(pt.translate(0xc040'0000).level == 1);
    CHECK(pt.translate(0xc060'0000).level == 0);
    CHECK(pt.translate(0xc060'0fff).pa == 0xc060'0fff);
    CHECK_FALSE(pt.translate(0xc060'1000).mapped);
    std::uint64_t leaves = 0, bytes = 0;
    pt.for_each_leaf([&](std::uint64_t va, std::uint64_t pa, std::uint64_t sz, std::uint64_t f) {
        CHECK(va == pa);
        CHECK((f & pte::kW));
        ++leaves;
        bytes += sz;
    });
    CHECK(leaves == 5);
    CHECK(bytes == size);
    CHECK(pt.unmap(0xc000'0000, 0x1000) == MapError::Superpage);
    // Misaligned pa: no superpage even if va is aligned.
    REQUIRE(pt.map(0x1'0000'0000, 0x1'0000'1000, 2ull << 20, kRW, Granule::Large) ==
            MapError::None);
    CHECK(pt.translate(0x1'0000'0000).level == 0);
}

TEST_CASE("page table: bad requests are refused", "[mm][pt]") {
    Arena arena(8);
    PageTable pt = arena.table();
    CHECK(pt.map(0x1000, 0x1000, 0x1000, kRW, Granule::Page) == MapError::NoFrame); // no init
    REQUIRE(pt.init() == MapError::None);
    CHECK(pt.map(0x1001, 0x1000, 0x1000, kRW, Granule::Page) == MapError::BadAddress);
    CHECK(pt.map(0x1000, 0x1000, 0x800, kRW, Granule::Page) == MapError::BadAddress);
    CHECK(pt.map(mm::kLowerHalfEnd, 0, 0x1000, kRW, Granule::Page) == MapError::BadAddress);
    CHECK(pt.map(mm::kLowerHalfEnd - 0x1000, 0, 0x2000, kRW, Granule::Page) ==
          MapError::BadAddress);
    CHECK(pt.map(0x1000, 1ull << 56, 0x1000, kRW, Granule::Page) == MapError::BadAddress);
    CHECK(pt.map(0x1000, 0x1000, 0x1000, pte::kW, Granule::Page) == MapError::BadPerms);
    CHECK(pt.map(0x1000, 0x1000, 0x1000, pte::kG, Granule::Page) == MapError::BadPerms);
    CHECK(pt.map(0x1000, 0x1000, 0x1000, pte::kW | pte::kX, Granule::Page) == MapError::BadPerms);
    // The upper half is canonical (sign-extended bit 38).
    REQUIRE(pt.map(~std::uint64_t{0} - 0xfff, 0x1000, 0x1000, kRW, Granule::Page) ==
            MapError::None);
    CHECK(pt.translate(~std::uint64_t{0}).pa == 0x1fff);
    bool seen = false;
    pt.for_each_leaf([&](std::uint64_t va, std::uint64_t, std::uint64_t, std::uint64_t) {
        seen = seen || va == ~std::uint64_t{0} - 0xfff;
    });
    CHECK(seen);
}

TEST_CASE("page table: exhaustion is an error, destroy returns every table page", "[mm][pt]") {
    Arena arena(5);
    const std::uint64_t start = arena.alloc.free_frames();
    PageTable pt = arena.table();
    REQUIRE(pt.init() == MapError::None);
    REQUIRE(pt.map(0x1000, 0x1000, 0x1000, kRW, Granule::Page) == MapError::None);      // 3 pages
    REQUIRE(pt.map(0x4000'0000, 0x1000, 0x1000, kRW, Granule::Page) == MapError::None); // +2
    CHECK(arena.alloc.free_frames() == 0);
    CHECK(pt.map(0x2000, 0x1000, 0x1000, kRW, Granule::Page) == MapError::None); // no new table
    CHECK(pt.map(0x8000'0000, 0x1000, 0x1000, kRW, Granule::Page) == MapError::NoFrame);
    CHECK_FALSE(pt.translate(0x8000'0000).mapped);
    pt.destroy();
    CHECK(arena.alloc.free_frames() == start);
    CHECK(pt.table_pages() == 0);
}

TEST_CASE("page table: a user space shares the kernel's root entries and its ASID in satp",
          "[mm][pt]") {
    Arena arena(16);
    PageTable kernel = arena.table();
    REQUIRE(kernel.init() == MapError::None);
    REQUIRE(kernel.map(0x8020'0000, 0x8020'0000, 0x1000, kRX, Granule::Page) == MapError::None);
    const std::uint64_t after_kernel = arena.alloc.free_frames();
    PageTable user = arena.table();
    REQUIRE(user.init() == MapError::None);
    user.share_kernel(kernel);
    REQUIRE(user.map(0x1'0000, 0x9000'0000, 0x1000, pte::kR | pte::kW | pte::kU, Granule::Page) ==
            MapError::None);
    CHECK(user.translate(0x8020'0000).flags == kernel.translate(0x8020'0000).flags);
    CHECK((user.translate(0x1'0000).flags & pte::kU));
    CHECK_FALSE(kernel.translate(0x1'0000).mapped);
    const std::uint64_t satp = user.satp(0x1234);
    CHECK(satp >> 60 == mm::kSatpModeSv39);
    CHECK(((satp >> 44) & 0xffff) == 0x1234);
    CHECK((satp & ((1ull << 44) - 1)) == user.root() >> 12);
    user.destroy(); // frees its own tables, not the kernel's
    CHECK(arena.alloc.free_frames() == after_kernel);
    CHECK(kernel.translate(0x8020'0000).mapped);
}
