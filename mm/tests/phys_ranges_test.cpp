// The frame plan over real QEMU trees (64M, 256M, 1G) and crafted ones (two memory nodes, a
// reserved region over the kernel, a size-0 node, memory past 4 GiB, /memreserve/, a bank named
// twice or overlapped), and RangeSet itself.
#include "mm/phys_ranges.hpp"
#include "mm/tests/mm_fixture.hpp"

#include <cstring>

using mm::FramePlan;
using mm::RangeSet;
using namespace mmtest;

TEST_CASE("RangeSet: add merges, remove cuts and splits", "[mm][ranges]") {
    RangeSet s;
    REQUIRE(s.add(0x3000, 0x5000));
    REQUIRE(s.add(0x1000, 0x2000));
    REQUIRE(s.add(0x2000, 0x3000)); // touches both: one range
    REQUIRE(s.count() == 1);
    CHECK(s[0].base == 0x1000);
    CHECK(s[0].end == 0x5000);
    s.remove(0x2800, 0x3001); // rounds outward: [0x2000, 0x4000)
    REQUIRE(s.count() == 2);
    CHECK(s[0].end == 0x2000);
    CHECK(s[1].base == 0x4000);
    s.remove(0, 0x1000'0000);
    CHECK(s.count() == 0);
    CHECK(s.bytes() == 0);
    CHECK(s.find(0x1000) == -1);
}

TEST_CASE("RangeSet: when full, a split drops the upper piece and says so", "[mm][ranges]") {
    RangeSet s;
    for (std::uint64_t i = 0; i < RangeSet::kCapacity; ++i)
        REQUIRE(s.add(i * 0x10000, i * 0x10000 + 0x4000));
    CHECK_FALSE(s.add(0x1000'0000, 0x1000'1000));
    CHECK(s.lost_bytes() == 0x1000);
    s.remove(0x1000, 0x2000); // splits the first range: no room for [0x2000, 0x4000)
    CHECK(s.count() == RangeSet::kCapacity);
    CHECK(s[0].end == 0x1000);
    CHECK(s.find(0x2000) == -1);
    CHECK(s.lost_bytes() == 0x3000);
}

TEST_CASE("plan: real QEMU virt trees at 64M, 256M and 1G", "[mm][plan][fixture]") {
    struct Row {
        const char* file;
        std::uint64_t mem;
    };
    for (const Row& row : {Row{"virt-64m.dtb", 64 * kMiB}, Row{"virt-256m.dtb", 256 * kMiB},
                           Row{"virt-1g.dtb", 1024 * kMiB}}) {
        INFO(row.file);
        const Tree t = load(row.file);
        REQUIRE(t.p.memory_count == 1);
        CHECK(t.p.reserved_count == 0);
        const mm::Keep keep = keep_for(t.p, t.blob.size());
        FramePlan plan;
        mm::plan_frames(t.p, keep, plan);
        CHECK(plan.memory_bytes == row.mem);
        CHECK(plan.below_kernel_assumed); // QEMU names no /reserved-memory
        CHECK(plan.firmware_bytes == 2 * kMiB);
        CHECK(plan.beyond_limit == 0);
        const std::uint64_t frames =
            row.mem / 4096 - 512 - pages(kKernelSize) - pages(t.blob.size());
        CHECK(plan.usable.bytes() / 4096 == frames);
        // Nothing usable below the kernel, in it, or in the blob.
        CHECK(plan.usable.find(0x8000'0000) == -1);
        CHECK(plan.usable.find(0x801f'f000) == -1);
        CHECK(plan.usable.find(kKernelBase) == -1);
        CHECK(plan.usable.find(keep.kernel_end - 1) == -1);
        CHECK(plan.usable.find(keep.kernel_end) >= 0);
        CHECK(plan.usable.find(keep.dtb_base) == -1);
        const bool after_blob = plan.usable.find(keep.dtb_end + 4095) >= 0;
        CHECK((after_blob || keep.dtb_end + 4095 >= 0x8000'0000 + row.mem));
    }
}

TEST_CASE("plan: OpenSBI's /reserved-memory replaces the below-the-kernel rule", "[mm][plan]") {
    const Tree t = load("virt-256m-opensbi.dtb");
    REQUIRE(t.p.reserved_count == 1);
    CHECK(t.p.reserved[0].base == 0x8000'0000);
    CHECK(t.p.reserved[0].size == 0x4'0000);
    FramePlan plan;
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size()), plan);
    CHECK_FALSE(plan.below_kernel_assumed);
    CHECK(plan.firmware_bytes == 0x4'0000);
    CHECK(plan.usable.find(0x8003'f000) == -1);
    CHECK(plan.usable.find(0x8004'0000) >= 0); // between the firmware and the kernel
    CHECK(plan.usable.find(kKernelBase) == -1);
}

TEST_CASE("plan: two memory nodes with a hole between them", "[mm][plan][crafted]") {
    const Tree t = load("mem-two-nodes.dtb");
    REQUIRE(t.p.memory_count == 2);
    const mm::Keep keep = keep_for(t.p, t.blob.size());
    FramePlan plan;
    mm::plan_frames(t.p, keep, plan);
    CHECK(plan.memory_bytes == 192 * kMiB);
    CHECK(plan.usable.find(0xb000'0000) == -1); // the hole
    CHECK(plan.usable.find(0xc000'0000) >= 0);
    CHECK(plan.usable.find(0xc3ff'f000) >= 0);
    CHECK(plan.usable.find(0xc400'0000) == -1);
    CHECK(plan.usable.bytes() / 4096 ==
          192 * kMiB / 4096 - 512 - pages(kKernelSize) - pages(t.blob.size()));
}

TEST_CASE("plan: a reserved region overlapping the kernel is removed once", "[mm][plan][crafted]") {
    const Tree t = load("resv-overlaps-kernel.dtb");
    REQUIRE(t.p.reserved_count == 2);
    mm::Keep keep = keep_for(t.p, t.blob.size());
    keep.kernel_end = kKernelBase + 0x18'0000; // a small kernel: [0x80200000, 0x80380000)
    FramePlan plan;
    mm::plan_frames(t.p, keep, plan);
    CHECK_FALSE(plan.below_kernel_assumed);
    CHECK(plan.usable.find(0x8004'0000) >= 0);
    CHECK(plan.usable.find(0x8037'f000) == -1);
    CHECK(plan.usable.find(0x803f'f000) == -1); // the reserved tail past the kernel
    CHECK(plan.usable.find(0x8040'0000) >= 0);
    const std::uint64_t lost = 0x4'0000 + (0x8040'0000 - kKernelBase);
    CHECK(plan.usable.bytes() == 256 * kMiB - lost - pages(t.blob.size()) * 4096);
}

TEST_CASE("plan: a memory node of size 0 is refused with a line, the rest used",
          "[mm][plan][crafted]") {
    const Tree t = load("mem-size0.dtb");
    CHECK(t.p.memory_count == 1);
    bool said = false;
    for (std::uint32_t i = 0; i < t.p.refusal_count; ++i) {
        const dtb::Refusal& r = t.p.refusals[i];
        said =
            said || (std::strcmp(r.node, "memory@90000000") == 0 &&
                     r.problem == dtb::Problem::OutOfRange && r.effect == dtb::Effect::NodeSkipped);
    }
    CHECK(said);
    FramePlan plan;
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size()), plan);
    CHECK(plan.memory_bytes == 256 * kMiB);
}

TEST_CASE("plan: memory past 4 GiB is used up to the limit", "[mm][plan][crafted]") {
    const Tree t = load("mem-above-4g.dtb");
    REQUIRE(t.p.memory_count == 2);
    // fdtput -c puts the new node first: document order, not address order.
    CHECK(t.p.memory[0].base == 0x1'0000'0000);
    CHECK(t.p.memory[0].size == 512 * kMiB);
    CHECK(t.p.mem_base == 0x1'0000'0000);
    FramePlan plan;
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size()), plan);
    CHECK(plan.usable.find(0x1'1fff'f000) >= 0);
    CHECK(plan.beyond_limit == 0);
    // With a 4 GiB limit (say, a 32-bit DMA pool) the high node is reported, not used.
    FramePlan low;
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size(), 1ull << 32), low);
    CHECK(low.beyond_limit == 512 * kMiB);
    CHECK(low.usable.find(0x1'0000'0000) == -1);
    CHECK(plan.usable.bytes() - low.usable.bytes() == 512 * kMiB);
}

TEST_CASE("plan: no memory node falls back to the reader's default range", "[mm][plan]") {
    dtb::Platform p{};
    REQUIRE(dtb::parse(nullptr, 0, p) != dtb::Status::Ok); // defaults
    FramePlan plan;
    mm::plan_frames(p, mm::Keep{kKernelBase, kKernelBase + kKernelSize, 0, 0, mm::kIdentityLimit},
                    plan);
    CHECK(plan.memory_bytes == dtb::kDefaultMemSize);
    CHECK(plan.usable.bytes() == dtb::kDefaultMemSize - 2 * kMiB - pages(kKernelSize) * 4096);
}

TEST_CASE("plan: unaligned memory edges lose their partial pages", "[mm][plan]") {
    dtb::Platform p{};
    (void)dtb::parse(nullptr, 0, p);
    p.memory[0] = dtb::MemRange{0x8000'0800, 0x10'0000};
    p.memory_count = 1;
    p.reserved[0] = dtb::MemRange{0x8000'0800, 0x10}; // names firmware: no below-kernel rule
    p.reserved_count = 1;
    FramePlan plan;
    mm::plan_frames(p, mm::Keep{0x9000'0000, 0x9000'1000, 0, 0, mm::kIdentityLimit}, plan);
    REQUIRE(plan.usable.count() == 1);
    CHECK(plan.usable[0].base ==
          0x8000'1000); // first whole page; the reserved bytes fall before it
    CHECK(plan.usable[0].end == 0x8010'0000);
}

TEST_CASE("plan: the header's /memreserve/ entries are never handed out", "[mm][plan][crafted]") {
    const Tree t = load("virt-256m-memreserve.dtb");
    REQUIRE(t.p.memreserve_count == 1);
    const mm::Keep keep = keep_for(t.p, t.blob.size());
    FramePlan plan, without;
    mm::plan_frames(t.p, keep, plan);
    const Tree plain = load("virt-256m.dtb");
    mm::plan_frames(plain.p, keep_for(plain.p, plain.blob.size()), without);
    CHECK(plan.memory_bytes == 256 * kMiB);
    CHECK(plan.usable.find(0x83ff'f000) >= 0);
    CHECK(plan.usable.find(0x8400'0000) == -1);
    CHECK(plan.usable.find(0x84ff'f000) == -1);
    CHECK(plan.usable.find(0x8500'0000) >= 0);
    CHECK(plan.usable.bytes() == without.usable.bytes() - 16 * kMiB);
    CHECK(plan.firmware_bytes == without.firmware_bytes + 16 * kMiB);
}

TEST_CASE("plan: a bank named by two memory nodes, or overlapped, counts once",
          "[mm][plan][crafted]") {
    const Tree plain = load("virt-256m.dtb");
    FramePlan one;
    mm::plan_frames(plain.p, keep_for(plain.p, plain.blob.size()), one);
    const Tree twice = load("mem-twice.dtb");
    REQUIRE(twice.p.memory_count == 2);
    FramePlan plan;
    mm::plan_frames(twice.p, keep_for(twice.p, twice.blob.size()), plan);
    CHECK(plan.memory_bytes == 256 * kMiB); // not 512
    REQUIRE(plan.memory.count() == 1);
    CHECK(plan.memory[0].base == 0x8000'0000);
    CHECK(plan.memory[0].end == 0x9000'0000);
    CHECK(plan.usable.bytes() == one.usable.bytes());
    const Tree over = load("mem-overlap.dtb");
    REQUIRE(over.p.memory_count == 2);
    mm::plan_frames(over.p, keep_for(over.p, over.blob.size()), plan);
    CHECK(plan.memory_bytes == 320 * kMiB); // [0x80000000, 0x94000000), not 384
    REQUIRE(plan.memory.count() == 1);
    CHECK(plan.memory[0].end == 0x9400'0000);
}

TEST_CASE("plan: /memreserve/ entries beyond the table keep everything below the kernel",
          "[mm][plan][crafted]") {
    Tree t = load("virt-256m-opensbi.dtb"); // names /reserved-memory: the rule is off
    FramePlan plan;
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size()), plan);
    CHECK_FALSE(plan.below_kernel_assumed);
    CHECK(plan.usable.find(0x8004'0000) >= 0);
    t.p.memreserve_dropped = 1; // an entry the reader could not keep: its place is unknown
    mm::plan_frames(t.p, keep_for(t.p, t.blob.size()), plan);
    CHECK(plan.below_kernel_assumed);
    CHECK(plan.usable.find(0x8004'0000) == -1);
    CHECK(plan.below_kernel_bytes == kKernelBase - 0x8000'0000); // all of it, firmware's included
}
