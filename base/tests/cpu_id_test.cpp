// Host table test of CPU-id resolution: tp fast path, stack-range fallback, BOOT.
#include "base/cpu_id.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using k::CpuIdPath;
using k::CpuSlot;

namespace {

constexpr std::uint64_t kMagic = 0x4b45535452454c31ull;
constexpr std::uintptr_t kBlock0 = 0x80201000;
constexpr std::uintptr_t kBlockStride = 0x1000;
constexpr std::uintptr_t kStack0 = 0x80400000;
constexpr std::uintptr_t kStackSize = 0x4000;

constexpr std::uintptr_t block(std::uint32_t i) {
    return kBlock0 + i * kBlockStride;
}
constexpr std::uintptr_t stack_lo(std::uint32_t i) {
    return kStack0 + i * kStackSize;
}
constexpr std::uintptr_t in_stack(std::uint32_t i) {
    return stack_lo(i) + 0x1230;
}

// Four cpus, adjacent stacks; cpu 2 is coming up (stack set, block not claimed yet).
constexpr k::CpuSlot kSlots[4] = {
    {block(0), kMagic, stack_lo(0), stack_lo(0) + kStackSize, true},
    {block(1), kMagic, stack_lo(1), stack_lo(1) + kStackSize, true},
    {block(2), kMagic, stack_lo(2), stack_lo(2) + kStackSize, false},
    {block(3), kMagic, stack_lo(3), stack_lo(3) + kStackSize, true},
};

} // namespace

static_assert(k::resolve_cpu_id(block(1), in_stack(1), kSlots, 4, kMagic).path ==
              k::CpuIdPath::TpFast);
static_assert(k::resolve_cpu_id(0, 0, nullptr, 0, kMagic).cpu == 0);

TEST_CASE("cpu id: resolution table", "[base][cpuid]") {
    struct Row {
        const char* what;
        std::uintptr_t tp;
        std::uintptr_t sp;
        std::uint32_t count;
        std::uint32_t cpu;
        k::CpuIdPath path;
        int line;
    };
    const Row rows[] = {
        {"tp and sp agree (cpu 1)", block(1), in_stack(1), 4, 1, k::CpuIdPath::TpFast, __LINE__},
        {"tp and sp agree (cpu 0)", block(0), in_stack(0), 4, 0, k::CpuIdPath::TpFast, __LINE__},
        {"tp and sp agree (cpu 3)", block(3), in_stack(3), 4, 3, k::CpuIdPath::TpFast, __LINE__},
        {"sp at stack_lo is inside", block(1), stack_lo(1), 4, 1, k::CpuIdPath::TpFast, __LINE__},
        {"sp at stack_hi is outside", block(1), stack_lo(2), 4, 2, k::CpuIdPath::StackRange,
         __LINE__},
        {"tp names cpu 0, sp in cpu 3", block(0), in_stack(3), 4, 3, k::CpuIdPath::StackRange,
         __LINE__},
        {"tp names cpu 3, sp in cpu 1", block(3), in_stack(1), 4, 1, k::CpuIdPath::StackRange,
         __LINE__},
        {"tp to an offline cpu", block(2), in_stack(2), 4, 2, k::CpuIdPath::StackRange, __LINE__},
        {"tp zero", 0, in_stack(1), 4, 1, k::CpuIdPath::StackRange, __LINE__},
        {"tp poisoned", 0xdeadbeef, in_stack(3), 4, 3, k::CpuIdPath::StackRange, __LINE__},
        {"tp all ones", ~std::uintptr_t{0}, in_stack(1), 4, 1, k::CpuIdPath::StackRange, __LINE__},
        {"tp misaligned", block(1) + 1, in_stack(1), 4, 1, k::CpuIdPath::StackRange, __LINE__},
        {"tp inside a block", block(1) + 0x40, in_stack(1), 4, 1, k::CpuIdPath::StackRange,
         __LINE__},
        {"tp past the last block", block(4), in_stack(0), 4, 0, k::CpuIdPath::StackRange, __LINE__},
        {"tp to a slot beyond count", block(3), in_stack(1), 2, 1, k::CpuIdPath::StackRange,
         __LINE__},
        {"sp in no stack, tp valid", block(1), 0x1000, 4, 0, k::CpuIdPath::Boot, __LINE__},
        {"sp in no stack, tp zero", 0, stack_lo(4), 4, 0, k::CpuIdPath::Boot, __LINE__},
        {"sp below every stack", block(3), stack_lo(0) - 8, 4, 0, k::CpuIdPath::Boot, __LINE__},
        {"no cpus", block(1), in_stack(1), 0, 0, k::CpuIdPath::Boot, __LINE__},
    };
    for (const Row& r : rows) {
        CAPTURE(r.what, r.line);
        const auto got = k::resolve_cpu_id(r.tp, r.sp, kSlots, r.count, kMagic);
        CHECK(got.cpu == r.cpu);
        CHECK(got.path == r.path);
    }
}

TEST_CASE("cpu id: bad magic and broken slots fall back", "[base][cpuid]") {
    k::CpuSlot slots[4] = {kSlots[0], kSlots[1], kSlots[2], kSlots[3]};
    slots[1].magic = kMagic ^ 1;
    auto got = k::resolve_cpu_id(block(1), in_stack(1), slots, 4, kMagic);
    CHECK(got.cpu == 1);
    CHECK(got.path == k::CpuIdPath::StackRange);

    // A slot with an empty stack range never matches, tp or not.
    slots[3].stack_hi = slots[3].stack_lo;
    got = k::resolve_cpu_id(block(3), slots[3].stack_lo, slots, 4, kMagic);
    CHECK(got.cpu == 0);
    CHECK(got.path == k::CpuIdPath::Boot);

    // An unset slot (block 0) is never matched by tp == 0.
    slots[0].block = 0;
    got = k::resolve_cpu_id(0, in_stack(0), slots, 4, kMagic);
    CHECK(got.path == k::CpuIdPath::StackRange);

    got = k::resolve_cpu_id(block(1), in_stack(1), nullptr, 4, kMagic);
    CHECK(got.cpu == 0);
    CHECK(got.path == k::CpuIdPath::Boot);
    CHECK(std::string(k::cpu_id_path_name(k::CpuIdPath::StackRange)) == "stack");
}
