// The frame bitmap over the real QEMU memory maps: every frame handed out once, exhaustion an
// error, the count conserved across alloc/free, bad frees refused.
#include "mm/frame_allocator.hpp"
#include "mm/tests/mm_fixture.hpp"

#include <cstdio>
#include <unordered_set>

using mm::FrameAllocator;
using mm::FrameError;
using namespace mmtest;

namespace {

struct Pool {
    mm::FramePlan plan;
    std::vector<std::uint64_t> bits;
    FrameAllocator a;
    mm::Keep keep{};
};

void make_pool(const std::string& file, Pool& pool) {
    const Tree t = load(file);
    pool.keep = keep_for(t.p, t.blob.size());
    mm::plan_frames(t.p, pool.keep, pool.plan);
    pool.bits.assign(FrameAllocator::bitmap_words(pool.plan.usable), 0xa5a5);
    REQUIRE(pool.a.init(pool.plan.usable, pool.bits.data(), pool.bits.size()) == FrameError::None);
}

} // namespace

TEST_CASE("frames: every frame of 64M/256M/1G handed out exactly once", "[mm][frames]") {
    for (const char* file : {"virt-64m.dtb", "virt-256m.dtb", "virt-1g.dtb"}) {
        INFO(file);
        Pool pool;
        make_pool(file, pool);
        FrameAllocator& a = pool.a;
        const std::uint64_t total = pool.plan.usable.bytes() / 4096;
        REQUIRE(a.total_frames() == total);
        REQUIRE(a.free_frames() == total);
        std::printf("mm figures: %s free frames %llu (%llu KiB)\n", file,
                    static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(total * 4));
        std::unordered_set<std::uint64_t> seen;
        seen.reserve(total);
        for (;;) {
            const mm::FrameResult f = a.alloc();
            if (f.error != FrameError::None) {
                CHECK(f.error == FrameError::Exhausted);
                CHECK(f.pa == 0);
                break;
            }
            REQUIRE(f.pa % 4096 == 0);
            REQUIRE(pool.plan.usable.find(f.pa) >= 0);
            REQUIRE((f.pa + 4096 <= pool.keep.kernel_base || f.pa >= pool.keep.kernel_end));
            REQUIRE((f.pa + 4096 <= pool.keep.dtb_base || f.pa >= pool.keep.dtb_end));
            REQUIRE(f.pa >= 0x8020'0000); // nothing of the firmware below the kernel
            REQUIRE(seen.insert(f.pa).second);
        }
        CHECK(seen.size() == total);
        CHECK(a.free_frames() == 0);
        CHECK(a.alloc().error == FrameError::Exhausted); // again: still an error, no panic
        for (std::uint64_t pa : seen)
            REQUIRE(a.free(pa) == FrameError::None);
        CHECK(a.free_frames() == total);
    }
}

TEST_CASE("frames: bad frees are refused and change nothing", "[mm][frames]") {
    Pool pool;
    make_pool("virt-256m.dtb", pool);
    FrameAllocator& a = pool.a;
    const std::uint64_t start = a.free_frames();
    const mm::FrameResult f = a.alloc();
    REQUIRE(f.error == FrameError::None);
    CHECK(a.free_frames() == start - 1);
    CHECK_FALSE(a.is_free(f.pa));
    CHECK(a.free(f.pa + 8) == FrameError::Misaligned);
    CHECK(a.free(pool.keep.kernel_base) == FrameError::NotManaged);
    CHECK(a.free(0x8000'0000) == FrameError::NotManaged); // firmware
    CHECK(a.free(0x1'0000'0000) == FrameError::NotManaged);
    CHECK(a.free(f.pa) == FrameError::None);
    CHECK(a.free(f.pa) == FrameError::NotAllocated); // double free
    CHECK(a.is_free(f.pa));
    CHECK(a.free_frames() == start);
}

TEST_CASE("frames: freed frames come back, count conserved over churn", "[mm][frames]") {
    Pool pool;
    make_pool("mem-two-nodes.dtb", pool);
    FrameAllocator& a = pool.a;
    const std::uint64_t start = a.free_frames();
    std::vector<std::uint64_t> held;
    std::uint64_t x = 12345;
    for (int round = 0; round < 20000; ++round) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if ((x >> 33) % 3 != 0 || held.empty()) {
            const mm::FrameResult f = a.alloc();
            REQUIRE(f.error == FrameError::None);
            held.push_back(f.pa);
        } else {
            const std::size_t i = (x >> 20) % held.size();
            REQUIRE(a.free(held[i]) == FrameError::None);
            held[i] = held.back();
            held.pop_back();
        }
        REQUIRE(a.free_frames() + held.size() == start);
    }
    for (std::uint64_t pa : held)
        REQUIRE(a.free(pa) == FrameError::None);
    CHECK(a.free_frames() == start);
}

TEST_CASE("frames: a bitmap that is too small is refused", "[mm][frames]") {
    mm::RangeSet s;
    REQUIRE(s.add(0x8000'0000, 0x8000'0000 + 65 * 4096));
    REQUIRE(FrameAllocator::bitmap_words(s) == 2);
    std::uint64_t one[1];
    FrameAllocator a;
    CHECK(a.init(s, one, 1) == FrameError::NoBitmap);
    std::uint64_t two[2];
    REQUIRE(a.init(s, two, 2) == FrameError::None);
    for (int i = 0; i < 65; ++i)
        REQUIRE(a.alloc().error == FrameError::None);
    CHECK(a.alloc().error == FrameError::Exhausted); // the 63 padding bits are never handed out
}

TEST_CASE("frames: an empty plan manages nothing", "[mm][frames]") {
    mm::RangeSet s;
    FrameAllocator a;
    REQUIRE(a.init(s, nullptr, 0) == FrameError::None);
    CHECK(a.free_frames() == 0);
    CHECK(a.alloc().error == FrameError::Exhausted);
    CHECK(a.free(0x8000'0000) == FrameError::NotManaged);
}
