// Host fixtures for the address-space tests: an arena of host frames behind a real
// FrameAllocator, and a kernel table as kestrel builds it.
#pragma once

#include "mm/address_space.hpp"
#include "mm/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace mmtest {

using mm::AddressSpace;
using mm::Granule;
using mm::MapError;
using mm::SpaceError;
namespace pte = mm::pte;

constexpr std::uint64_t kPage = 4096;

// Frames are host memory (identity window); alloc hands them out zeroed, as k::frames does.
struct Arena {
    explicit Arena(std::uint64_t frames)
        : mem(static_cast<std::uint8_t*>(std::aligned_alloc(kPage, frames * kPage)), &std::free) {
        std::memset(mem.get(), 0xa5, frames * kPage); // garbage, so zeroing is what tests see
        const auto base = reinterpret_cast<std::uint64_t>(mem.get());
        REQUIRE(set.add(base, base + frames * kPage));
        bits.resize(mm::FrameAllocator::bitmap_words(set));
        REQUIRE(alloc.init(set, bits.data(), bits.size()) == mm::FrameError::None);
    }
    mm::FrameSource source() {
        return mm::FrameSource{
            &alloc,
            [](void* ctx) {
                const mm::FrameResult r = static_cast<mm::FrameAllocator*>(ctx)->alloc();
                if (r.error == mm::FrameError::None)
                    std::memset(reinterpret_cast<void*>(r.pa), 0, kPage);
                return r;
            },
            [](void* ctx, std::uint64_t pa) {
                std::memset(reinterpret_cast<void*>(pa), 0x5a, kPage); // a use after free shows
                return static_cast<mm::FrameAllocator*>(ctx)->free(pa);
            },
        };
    }
    std::uint64_t free() const { return alloc.free_frames(); }

    std::unique_ptr<std::uint8_t, decltype(&std::free)> mem;
    mm::RangeSet set;
    std::vector<std::uint64_t> bits;
    mm::FrameAllocator alloc;
};

// A kernel table as kestrel builds it: RAM identity-mapped from 0x80000000 (root entry 2),
// and (while MMIO still sits in the lower half) a UART page at 0x10000000 (root entry 0).
struct World {
    explicit World(std::uint64_t frames, bool mmio_low = false)
        : arena(frames), kernel(arena.source(), mm::PhysWindow{0}) {
        REQUIRE(kernel.init() == MapError::None);
        REQUIRE(kernel.map(0x8000'0000, 0x8000'0000, 1ull << 30, pte::kR | pte::kW | pte::kG,
                           Granule::Large) == MapError::None);
        if (mmio_low)
            REQUIRE(kernel.map(0x1000'0000, 0x1000'0000, kPage, pte::kR | pte::kW | pte::kG,
                               Granule::Page) == MapError::None);
        start = arena.free();
    }
    AddressSpace space() {
        AddressSpace as(arena.source(), mm::PhysWindow{0});
        REQUIRE(as.init(kernel) == SpaceError::None);
        return as;
    }
    Arena arena;
    mm::PageTable kernel;
    std::uint64_t start = 0; // free frames with the kernel table built
};

} // namespace mmtest
