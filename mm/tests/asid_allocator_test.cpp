// The ASID bitmap: [1, limit) handed out once each, 0 when none is left or ASIDLEN is 0.
#include "mm/asid_allocator.hpp"

#include <catch2/catch.hpp>

#include <set>

TEST_CASE("asid: 16 bits over a 5-word bitmap hands out 1..319 once each", "[mm][asid]") {
    std::uint64_t words[5];
    mm::AsidAllocator a;
    a.init(16, words, 5);
    CHECK(a.limit() == 320);
    std::set<std::uint16_t> got;
    for (std::uint32_t i = 1; i < 320; ++i) {
        const std::uint16_t asid = a.alloc();
        REQUIRE(asid == i);
        got.insert(asid);
    }
    CHECK(a.in_use() == 319);
    CHECK(a.alloc() == 0); // none left: the caller shares ASID 0 and flushes
    CHECK(a.free(77) == mm::AsidError::None);
    CHECK(a.free(77) == mm::AsidError::NotAllocated);
    CHECK(a.free(0) == mm::AsidError::NotAllocated);
    CHECK(a.free(320) == mm::AsidError::OutOfRange);
    CHECK(a.alloc() == 77); // lowest free
    CHECK(a.in_use() == 319);
}

TEST_CASE("asid: ASIDLEN bounds the range; 0 bits means every space shares ASID 0", "[mm][asid]") {
    std::uint64_t words[5];
    mm::AsidAllocator a;
    a.init(0, words, 5);
    CHECK(a.limit() == 1);
    CHECK(a.alloc() == 0);
    CHECK(a.free(1) == mm::AsidError::OutOfRange);
    a.init(2, words, 5);
    CHECK(a.alloc() == 1);
    CHECK(a.alloc() == 2);
    CHECK(a.alloc() == 3);
    CHECK(a.alloc() == 0);
    a.init(20, words, 5); // clamped to 16 bits
    CHECK(a.bits() == 16);
    CHECK(a.in_use() == 0);
    a.init(9, words, 5);
    CHECK(a.limit() == 320); // the bitmap is the bound, not 512
}
