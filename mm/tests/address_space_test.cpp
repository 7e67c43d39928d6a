// User address spaces on a host arena: the real user images loaded, anonymous maps and their
// refusals, unmap's flush-before-free order, all-or-nothing under exhaustion, frame counts.
#include "mm/address_space.hpp"
#include "mm/tests/address_space_fixture.hpp"
#include "user_images_host.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using mm::AddressSpace;
using mm::Granule;
using mm::MapError;
using mm::SpaceError;
using namespace mmtest;
namespace pte = mm::pte;

namespace {

std::vector<unsigned char> image(const char* name) {
    for (const elftest::ImageFile& i : elftest::kImages) {
        if (std::string(i.name) != name) continue;
        std::ifstream f(i.path, std::ios::binary);
        REQUIRE(f.good());
        return std::vector<unsigned char>(std::istreambuf_iterator<char>(f),
                                          std::istreambuf_iterator<char>());
    }
    FAIL("no user image called " << name);
    return {};
}

elf::Plan plan_of(const std::vector<unsigned char>& img) {
    elf::Plan p{};
    REQUIRE(elf::validate(img.data(), img.size(), elf::Limits{}, p) == elf::ElfError::Ok);
    return p;
}

const unsigned char* host(const AddressSpace& as, std::uint64_t va) {
    const mm::Translation t = as.translate(va);
    REQUIRE(t.mapped);
    return reinterpret_cast<const unsigned char*>(t.pa);
}

constexpr std::uint64_t kRW = pte::kR | pte::kW;
constexpr std::uint64_t kAnonVa = 0x20'0000'0000; // root entry 128: nobody's but the user's

} // namespace

TEST_CASE("address space: the real user images load byte for byte", "[mm][as]") {
    for (const char* name : {"init", "hello"}) {
        INFO(name);
        World w(256);
        const std::vector<unsigned char> img = image(name);
        const elf::Plan plan = plan_of(img);
        AddressSpace as = w.space();
        REQUIRE(as.load(plan, img.data(), img.size()) == SpaceError::None);
        CHECK(as.user_pages() == plan.pages);
        for (std::uint32_t i = 0; i < plan.count; ++i) {
            const elf::Segment& s = plan.segments[i];
            const std::uint64_t first = s.vaddr & ~(kPage - 1);
            const std::uint64_t end = (s.vaddr + s.memsz + kPage - 1) & ~(kPage - 1);
            for (std::uint64_t va = first; va < end; ++va) {
                const unsigned char want =
                    va >= s.vaddr && va - s.vaddr < s.filesz ? img[s.offset + (va - s.vaddr)] : 0;
                REQUIRE(*host(as, va) == want);
            }
            const std::uint64_t f = as.translate(s.vaddr).flags;
            CHECK((f & pte::kU));
            CHECK_FALSE((f & pte::kG));
            CHECK_FALSE((f & pte::kSw0)); // not an anonymous page: unmap refuses it
            CHECK(bool(f & pte::kR) == bool(s.perms & elf::kRead));
            CHECK(bool(f & pte::kW) == bool(s.perms & elf::kWrite));
            CHECK(bool(f & pte::kX) == bool(s.perms & elf::kExec));
            CHECK_FALSE(((f & pte::kW) && (f & pte::kX)));
        }
        CHECK((as.translate(plan.entry).flags & (pte::kX | pte::kU)) == (pte::kX | pte::kU));
        // Loading again (the same addresses) is refused and changes nothing.
        const std::uint64_t before = w.arena.free();
        CHECK(as.load(plan, img.data(), img.size()) == SpaceError::Overlap);
        CHECK(w.arena.free() == before);
        CHECK(as.user_pages() == plan.pages);
        // Unmap refuses image pages (only map_anon pages may go).
        CHECK(as.unmap(plan.segments[0].vaddr & ~(kPage - 1), kPage, [](auto, auto) {}) ==
              SpaceError::NotMapped);
        as.destroy();
        CHECK(w.arena.free() == w.start);
    }
}

TEST_CASE("address space: exhaustion at every point of a load maps nothing", "[mm][as]") {
    const std::vector<unsigned char> img = image("init");
    const elf::Plan plan = plan_of(img);
    World w(64);
    AddressSpace probe = w.space();
    REQUIRE(probe.load(plan, img.data(), img.size()) == SpaceError::None);
    const std::uint64_t need = w.start - w.arena.free() - 1; // frames after the root
    probe.destroy();
    REQUIRE(w.arena.free() == w.start);
    for (std::uint64_t budget = 0; budget < need; ++budget) {
        INFO("budget " << budget << " of " << need);
        AddressSpace as = w.space();
        std::vector<std::uint64_t> hog;
        while (w.arena.free() > budget)
            hog.push_back(w.arena.alloc.alloc().pa);
        CHECK(as.load(plan, img.data(), img.size()) == SpaceError::NoFrame);
        CHECK(w.arena.free() == budget); // every frame and table page it took is back
        CHECK(as.user_pages() == 0);
        CHECK(as.table_pages() == 1);
        for (std::uint32_t i = 0; i < plan.count; ++i)
            CHECK_FALSE(as.translate(plan.segments[i].vaddr).mapped);
        for (std::uint64_t pa : hog)
            REQUIRE(w.arena.alloc.free(pa) == mm::FrameError::None);
        as.destroy();
        REQUIRE(w.arena.free() == w.start);
    }
}

TEST_CASE("address space: map_anon refusals change nothing", "[mm][as]") {
    World w(64, true);
    AddressSpace as = w.space();
    REQUIRE(as.map_anon(kAnonVa + 8 * kPage, 2 * kPage, kRW) == SpaceError::None);
    const std::uint64_t before = w.arena.free();
    CHECK(as.map_anon(kAnonVa + 1, kPage, kRW) == SpaceError::BadAlign);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, 0, kRW) == SpaceError::BadLength);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, 100, kRW) == SpaceError::BadLength);
    CHECK(as.map_anon(0, kPage, kRW) == SpaceError::OutOfRange); // page 0
    CHECK(as.map_anon(kestrel::kUserLimit, kPage, kRW) == SpaceError::OutOfRange);
    CHECK(as.map_anon(kestrel::kUserLimit - kPage, 2 * kPage, kRW) == SpaceError::OutOfRange);
    CHECK(as.map_anon(kAnonVa, ~std::uint64_t{0} & ~(kPage - 1), kRW) == SpaceError::OutOfRange);
    CHECK(as.map_anon(0xffff'ffc0'0000'0000, kPage, kRW) == SpaceError::OutOfRange);
    // The kernel's identity map of RAM, and (today) the MMIO page in root entry 0.
    CHECK(as.map_anon(0x8000'0000, kPage, kRW) == SpaceError::KernelRange);
    CHECK(as.map_anon(0xbfff'f000, 2 * kPage, kRW) == SpaceError::KernelRange);
    CHECK(as.map_anon(0x1'0000, kPage, kRW) == SpaceError::KernelRange);
    CHECK(as.map_anon(0x3fff'f000, 2 * kPage, kRW) == SpaceError::KernelRange); // spans into it
    CHECK(as.kernel_range(0x1'0000, kPage));
    CHECK_FALSE(as.kernel_range(kAnonVa, kPage));
    CHECK(as.map_anon(kAnonVa + 20 * kPage, kPage, pte::kW) == SpaceError::BadPerms);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, kPage, kRW | pte::kX) == SpaceError::BadPerms);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, kPage, 0) == SpaceError::BadPerms);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, kPage, kRW | pte::kU) == SpaceError::BadPerms);
    CHECK(as.map_anon(kAnonVa + 20 * kPage, kPage, kRW | pte::kG) == SpaceError::BadPerms);
    // An overlap at the end of a longer range: the pages before it are not mapped either.
    CHECK(as.map_anon(kAnonVa + 5 * kPage, 4 * kPage, kRW) == SpaceError::Overlap);
    CHECK_FALSE(as.translate(kAnonVa + 5 * kPage).mapped);
    CHECK(as.map_anon(kAnonVa + 9 * kPage, 2 * kPage, kRW) == SpaceError::Overlap);
    CHECK_FALSE(as.translate(kAnonVa + 10 * kPage).mapped);
    CHECK(w.arena.free() == before);
    CHECK(as.user_pages() == 2);
    // The kernel's tables were never written through the borrowed entries.
    CHECK_FALSE(w.kernel.translate(0x1'0000).mapped);
    // PageTable itself refuses the borrowed entries too.
    mm::PageTable pt(w.arena.source(), mm::PhysWindow{0});
    REQUIRE(pt.init() == MapError::None);
    pt.share_kernel(w.kernel);
    CHECK(pt.map(0x8010'0000, 0x1000, kPage, kRW | pte::kU, Granule::Page) ==
          MapError::KernelRange);
    CHECK(pt.unmap(0x8020'0000, kPage) == MapError::KernelRange);
    pt.destroy();
    as.destroy();
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("address space: map_anon pages are zeroed user pages; exhaustion maps none", "[mm][as]") {
    World w(32);
    AddressSpace as = w.space();
    REQUIRE(as.map_anon(kAnonVa, 3 * kPage, pte::kR) == SpaceError::None);
    for (std::uint64_t va = kAnonVa; va < kAnonVa + 3 * kPage; va += 512)
        REQUIRE(*host(as, va) == 0);
    const mm::Translation t = as.translate(kAnonVa);
    CHECK(t.flags == (pte::kV | pte::kR | pte::kU | pte::kA | pte::kSw0));
    CHECK(as.user_pages() == 3);
    // More pages than there are frames: NoFrame, nothing new mapped; only (empty) tables stay.
    const std::uint64_t free = w.arena.free();
    CHECK(as.map_anon(kAnonVa + 0x4000'0000, 64 * kPage, kRW) == SpaceError::NoFrame);
    CHECK(as.user_pages() == 3);
    CHECK_FALSE(as.translate(kAnonVa + 0x4000'0000).mapped);
    CHECK(w.arena.free() == free - (as.table_pages() - 3)); // 3: root, L1, L0 before
    as.destroy();
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("address space: unmap flushes each chunk before its frames are freed", "[mm][as]") {
    World w(256);
    AddressSpace as = w.space();
    REQUIRE(as.map_anon(kAnonVa, 130 * kPage, kRW) == SpaceError::None);
    const std::uint64_t mapped = w.arena.free();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> flushes;
    std::uint64_t freed_before_flush = 0;
    const SpaceError e = as.unmap(kAnonVa, 130 * kPage, [&](std::uint64_t va, std::uint64_t len) {
        // At the flush the entries are gone and their frames not yet back.
        for (std::uint64_t at = va; at < va + len; at += kPage)
            CHECK_FALSE(as.translate(at).mapped);
        freed_before_flush += w.arena.free() - mapped - 64 * flushes.size();
        flushes.emplace_back(va, len);
    });
    REQUIRE(e == SpaceError::None);
    CHECK(freed_before_flush == 0);
    REQUIRE(flushes.size() == 3);
    CHECK(flushes[0] == std::make_pair(kAnonVa, 64 * kPage));
    CHECK(flushes[1] == std::make_pair(kAnonVa + 64 * kPage, 64 * kPage));
    CHECK(flushes[2] == std::make_pair(kAnonVa + 128 * kPage, 2 * kPage));
    CHECK(w.arena.free() == mapped + 130);
    CHECK(as.user_pages() == 0);
    as.destroy();
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("address space: unmap refusals change nothing", "[mm][as]") {
    World w(64);
    AddressSpace as = w.space();
    REQUIRE(as.map_anon(kAnonVa, 4 * kPage, kRW) == SpaceError::None);
    const std::uint64_t before = w.arena.free();
    std::uint32_t flushes = 0;
    const auto flush = [&](std::uint64_t, std::uint64_t) { ++flushes; };
    CHECK(as.unmap(kAnonVa + 8, kPage, flush) == SpaceError::BadAlign);
    CHECK(as.unmap(kAnonVa, 0, flush) == SpaceError::BadLength);
    CHECK(as.unmap(kAnonVa, 5 * kPage, flush) == SpaceError::NotMapped); // the last page is not
    CHECK(as.unmap(kAnonVa - kPage, 2 * kPage, flush) == SpaceError::NotMapped);
    CHECK(as.unmap(0x8000'0000, kPage, flush) == SpaceError::KernelRange);
    CHECK(as.unmap(kestrel::kUserLimit, kPage, flush) == SpaceError::OutOfRange);
    CHECK(flushes == 0);
    CHECK(w.arena.free() == before);
    CHECK(as.user_pages() == 4);
    CHECK(as.unmap(kAnonVa + kPage, 2 * kPage, flush) == SpaceError::None);
    CHECK(flushes == 1);
    CHECK(as.unmap(kAnonVa + kPage, kPage, flush) == SpaceError::NotMapped); // gone already
    CHECK(as.translate(kAnonVa).mapped);
    CHECK(as.translate(kAnonVa + 3 * kPage).mapped);
    // The hole can be mapped again.
    CHECK(as.map_anon(kAnonVa + kPage, 2 * kPage, pte::kR) == SpaceError::None);
    as.destroy();
    CHECK(w.arena.free() == w.start);
}

TEST_CASE("address space: write, user_accessible, satp", "[mm][as]") {
    World w(64);
    const std::vector<unsigned char> img = image("hello");
    const elf::Plan plan = plan_of(img);
    AddressSpace as = w.space();
    REQUIRE(as.load(plan, img.data(), img.size()) == SpaceError::None);
    REQUIRE(as.map_anon(kAnonVa, 2 * kPage, kRW) == SpaceError::None);
    REQUIRE(as.map_anon(kAnonVa + 4 * kPage, kPage, pte::kR) == SpaceError::None);
    const char msg[] = "argv across a page boundary";
    const std::uint64_t at = kAnonVa + kPage - 5;
    REQUIRE(as.write(at, msg, sizeof msg) == SpaceError::None);
    for (std::size_t i = 0; i < sizeof msg; ++i)
        REQUIRE(*host(as, at + i) == static_cast<unsigned char>(msg[i]));
    CHECK(as.write(kAnonVa + 2 * kPage - 2, msg, 4) == SpaceError::NotMapped); // runs off
    CHECK(*host(as, kAnonVa + 2 * kPage - 2) == 0);                            // nothing written
    CHECK(as.write(0x8000'0000, msg, 4) == SpaceError::NotMapped);             // kernel RAM
    CHECK(as.write(kestrel::kUserLimit - 2, msg, 4) == SpaceError::OutOfRange);
    CHECK(as.write(kAnonVa + 4 * kPage, msg, 4) == SpaceError::None); // read-only to the user
    CHECK(as.user_accessible(kAnonVa, 2 * kPage, true));
    CHECK(as.user_accessible(kAnonVa + 10, 1, false));
    CHECK(as.user_accessible(kAnonVa + 4 * kPage, kPage, false));
    CHECK_FALSE(as.user_accessible(kAnonVa + 4 * kPage, kPage, true));  // R only
    CHECK_FALSE(as.user_accessible(kAnonVa + kPage, 2 * kPage, false)); // runs off
    CHECK_FALSE(as.user_accessible(0x8000'0000, 8, false));             // kernel, no U
    CHECK_FALSE(as.user_accessible(~std::uint64_t{0} - 4, 8, false));
    CHECK(as.user_accessible(0x8000'0000, 0, true)); // nothing to touch
    bool text_checked = false;
    for (std::uint32_t i = 0; i < plan.count; ++i) {
        const elf::Segment& s = plan.segments[i];
        if (s.perms != (elf::kRead | elf::kExec)) continue;
        CHECK(as.user_accessible(s.vaddr, s.filesz, false));
        CHECK_FALSE(as.user_accessible(s.vaddr, s.filesz, true)); // text is not writable
        text_checked = true;
    }
    CHECK(text_checked);
    const std::uint64_t satp = as.satp(7);
    CHECK(satp >> 60 == mm::kSatpModeSv39);
    CHECK(((satp >> 44) & 0xffff) == 7);
    CHECK((satp & ((1ull << 44) - 1)) == as.table().root() >> 12);
    as.destroy();
    CHECK(w.arena.free() == w.start);
    CHECK(as.map_anon(kAnonVa, kPage, kRW) == SpaceError::NotReady);
    CHECK(w.kernel.translate(0x8000'0000).mapped); // the kernel's tables survive
}

// RFC-0026 invariant 4: a map is never partly visible. Every frame of a map is taken while its
// entry is only held (V = 0); at each of those allocations no page of the range may translate
// as mapped yet, and afterwards every page does. (The release fence before the entries become
// valid orders memory for other harts; a host test cannot show its absence.)
TEST_CASE("address space: no page of a map is visible before the whole map is", "[mm][as]") {
    World w(64);
    struct Watch {
        mm::FrameAllocator* alloc;
        const AddressSpace* as = nullptr;
        std::uint64_t va = 0, len = 0;
        int allocs = 0, visible = 0;
    };
    Watch watch{&w.arena.alloc};
    const mm::FrameSource src{
        &watch,
        [](void* ctx) {
            Watch& wt = *static_cast<Watch*>(ctx);
            if (wt.as) {
                ++wt.allocs;
                for (std::uint64_t va = wt.va; va < wt.va + wt.len; va += kPage)
                    wt.visible += wt.as->translate(va).mapped ? 1 : 0;
            }
            const mm::FrameResult r = wt.alloc->alloc();
            if (r.error == mm::FrameError::None)
                std::memset(reinterpret_cast<void*>(r.pa), 0, kPage);
            return r;
        },
        [](void* ctx, std::uint64_t pa) { return static_cast<Watch*>(ctx)->alloc->free(pa); },
    };
    AddressSpace as(src, mm::PhysWindow{0});
    REQUIRE(as.init(w.kernel) == SpaceError::None);
    watch.as = &as;
    watch.va = kAnonVa;
    watch.len = 8 * kPage;
    REQUIRE(as.map_anon(kAnonVa, 8 * kPage, kRW) == SpaceError::None);
    CHECK(watch.allocs >= 8);
    CHECK(watch.visible == 0);
    for (std::uint64_t va = kAnonVa; va < kAnonVa + 8 * kPage; va += kPage)
        CHECK(as.translate(va).mapped);
    watch.as = nullptr;
    as.destroy();
    CHECK(w.arena.free() == w.start);
}
