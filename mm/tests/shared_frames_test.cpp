// Frames mapped into several address spaces (map_frames / unmap_frames, the memory objects of
// issue 19): the frames stay the caller's through unmap and destroy, every unmap flushes each
// chunk, refusals leave nothing behind, and anonymous and shared pages never mix.
#include "mm/address_space.hpp"
#include "mm/tests/address_space_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using namespace mmtest;

namespace {

constexpr std::uint64_t kVa = 0x20'0000'0000, kVb = 0x21'0000'0000;
constexpr std::uint64_t kRW = pte::kR | pte::kW;

// n frames from the arena, as a memory object takes them (zeroed).
std::vector<std::uint64_t> take(Arena& a, std::uint64_t n) {
    std::vector<std::uint64_t> f;
    mm::FrameSource src = a.source();
    for (std::uint64_t i = 0; i < n; ++i) {
        const mm::FrameResult r = src.alloc(src.ctx);
        REQUIRE(r.error == mm::FrameError::None);
        f.push_back(r.pa);
    }
    return f;
}

} // namespace

TEST_CASE("shared frames: two spaces see one frame; unmap and destroy never free it",
          "[mm][shared]") {
    World w(256);
    std::vector<std::uint64_t> f = take(w.arena, 4);
    const std::uint64_t after_take = w.arena.free();
    AddressSpace a = w.space(), b = w.space();
    REQUIRE(a.map_frames(kVa, f.data(), 4, kRW) == SpaceError::None);
    REQUIRE(b.map_frames(kVb, f.data() + 1, 2, pte::kR) == SpaceError::None);
    CHECK(a.user_pages() == 4);
    CHECK(b.user_pages() == 2);
    const mm::Translation ta = a.translate(kVa + kPage), tb = b.translate(kVb);
    REQUIRE(ta.mapped);
    REQUIRE(tb.mapped);
    CHECK(ta.pa == f[1]);
    CHECK(tb.pa == f[1]);
    CHECK((ta.flags & (pte::kU | pte::kW | AddressSpace::kShared)) ==
          (pte::kU | pte::kW | AddressSpace::kShared));
    CHECK((tb.flags & pte::kW) == 0);
    CHECK(a.user_accessible(kVa, 4 * kPage, true));
    CHECK(!b.user_accessible(kVb, kPage, true));
    // A write through one space is read through the other.
    static_cast<unsigned char*>(reinterpret_cast<void*>(f[1]))[7] = 0x42;
    CHECK(reinterpret_cast<const unsigned char*>(tb.pa)[7] == 0x42);

    std::vector<std::pair<std::uint64_t, std::uint64_t>> flushed;
    auto flush = [&](std::uint64_t va, std::uint64_t len) { flushed.emplace_back(va, len); };
    REQUIRE(a.unmap_frames(kVa, 4 * kPage, flush) == SpaceError::None);
    CHECK(flushed == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{kVa, 4 * kPage}});
    CHECK(!a.translate(kVa).mapped);
    CHECK(a.user_pages() == 0);
    b.destroy(); // its tables back, the shared frames not
    a.destroy();
    CHECK(w.arena.free() == after_take);
    CHECK(reinterpret_cast<const unsigned char*>(f[1])[7] == 0x42); // not freed (0x5a) either
    mm::FrameSource src = w.arena.source();
    for (std::uint64_t pa : f)
        REQUIRE(src.free(src.ctx, pa) == mm::FrameError::None);
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("shared frames: unmap flushes chunk by chunk before it returns", "[mm][shared]") {
    const std::uint64_t n = 3 * AddressSpace::kUnmapBatch + 5;
    World w(n + 64);
    std::vector<std::uint64_t> f = take(w.arena, n);
    AddressSpace a = w.space();
    REQUIRE(a.map_frames(kVa, f.data(), n, kRW) == SpaceError::None);
    std::uint64_t flushed = 0, calls = 0;
    REQUIRE(a.unmap_frames(kVa, n * kPage, [&](std::uint64_t va, std::uint64_t len) {
        CHECK(va == kVa + flushed);
        CHECK(!a.translate(va).mapped); // cleared before the flush
        flushed += len;
        ++calls;
    }) == SpaceError::None);
    CHECK(flushed == n * kPage);
    CHECK(calls == 4);
    a.destroy();
}

TEST_CASE("shared frames: refusals map nothing and keep every frame the caller's", "[mm][shared]") {
    World w(256, true);
    std::vector<std::uint64_t> f = take(w.arena, 8);
    AddressSpace a = w.space();
    REQUIRE(a.map_anon(kVa + 4 * kPage, kPage, kRW) == SpaceError::None);
    const std::uint64_t free0 = w.arena.free();
    CHECK(a.map_frames(kVa, f.data(), 8, kRW) == SpaceError::Overlap); // page 4 is anonymous
    CHECK(a.map_frames(kVa + 1, f.data(), 1, kRW) == SpaceError::BadAlign);
    CHECK(a.map_frames(kVa, f.data(), 0, kRW) == SpaceError::BadLength);
    CHECK(a.map_frames(kVa, f.data(), 1, pte::kR | pte::kX) == SpaceError::BadPerms);
    CHECK(a.map_frames(kVa, f.data(), 1, pte::kW) == SpaceError::BadPerms);
    CHECK(a.map_frames(0x8000'0000, f.data(), 1, kRW) == SpaceError::KernelRange);
    CHECK(a.map_frames(0x1000'0000, f.data(), 1, kRW) == SpaceError::KernelRange);
    CHECK(a.map_frames(kestrel::kUserLimit - kPage, f.data(), 2, kRW) == SpaceError::OutOfRange);
    std::uint64_t odd[1] = {f[0] + 8};
    CHECK(a.map_frames(kVb, odd, 1, kRW) == SpaceError::BadAlign);
    for (std::uint64_t i = 0; i < 4; ++i)
        CHECK(!a.translate(kVa + i * kPage).mapped); // the held entries before the overlap
    CHECK(a.user_pages() == 1);
    CHECK(w.arena.free() <= free0); // table pages may stay (empty) until destroy
    // Anonymous and shared pages never mix in one unmap.
    REQUIRE(a.map_frames(kVb, f.data(), 2, kRW) == SpaceError::None);
    auto none = [](std::uint64_t, std::uint64_t) {};
    CHECK(a.unmap_frames(kVa + 4 * kPage, kPage, none) == SpaceError::NotMapped);
    CHECK(a.unmap(kVb, kPage, none) == SpaceError::NotMapped);
    CHECK(a.unmap_frames(kVb, 3 * kPage, none) == SpaceError::NotMapped);
    CHECK(a.translate(kVb + kPage).mapped); // nothing of a refused unmap happened
    REQUIRE(a.unmap_frames(kVb, 2 * kPage, none) == SpaceError::None);
    REQUIRE(a.unmap(kVa + 4 * kPage, kPage, none) == SpaceError::None);
    a.destroy();
    mm::FrameSource src = w.arena.source();
    for (std::uint64_t pa : f)
        REQUIRE(src.free(src.ctx, pa) == mm::FrameError::None);
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("shared frames: a table page that cannot be had maps nothing", "[mm][shared]") {
    World w(64);
    std::vector<std::uint64_t> f = take(w.arena, 2);
    AddressSpace a = w.space();
    mm::FrameSource src = w.arena.source();
    std::vector<std::uint64_t> rest; // drain the arena: the new table pages cannot be had
    for (mm::FrameResult r = src.alloc(src.ctx); r.error == mm::FrameError::None;
         r = src.alloc(src.ctx))
        rest.push_back(r.pa);
    CHECK(a.map_frames(kVa, f.data(), 2, kRW) == SpaceError::NoFrame);
    CHECK(!a.translate(kVa).mapped);
    for (std::uint64_t pa : rest)
        REQUIRE(src.free(src.ctx, pa) == mm::FrameError::None);
    REQUIRE(a.map_frames(kVa, f.data(), 2, kRW) == SpaceError::None);
    a.destroy();
    for (std::uint64_t pa : f)
        REQUIRE(src.free(src.ctx, pa) == mm::FrameError::None);
    CHECK(w.arena.free() == w.start);
}
