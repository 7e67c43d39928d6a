// Host-only helpers for the mm tests: fixture loading and parsing, a typical kernel layout.
#pragma once

#include "dtb/dtb.hpp"
#include "mm/page_table.hpp"
#include "mm/phys_ranges.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef MM_FIXTURE_DIR
#error "MM_FIXTURE_DIR must name the fixture directory"
#endif

namespace mmtest {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kKernelBase = 0x8020'0000;
constexpr std::uint64_t kKernelSize = 0x72'3000; // a kernel.elf image of this branch's order

struct Tree {
    std::vector<std::uint8_t> blob;
    dtb::Platform p{};
};

inline Tree load(const std::string& name) {
    std::ifstream f(std::string(MM_FIXTURE_DIR) + "/" + name, std::ios::binary);
    Tree t;
    t.blob.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    REQUIRE(t.blob.size() > 40);
    REQUIRE(dtb::parse(t.blob.data(), t.blob.size(), t.p) == dtb::Status::Ok);
    return t;
}

// Where QEMU virt puts the DTB for the kernel: the last 2 MiB-aligned slot below the end of
// the DRAM bank at the lowest address (or 3 GiB), as riscv_compute_fdt_addr() does.
inline mm::Keep keep_for(const dtb::Platform& p, std::uint64_t blob_size,
                         std::uint64_t limit = mm::kIdentityLimit) {
    dtb::MemRange low{p.mem_base, p.mem_size};
    for (std::uint32_t i = 0; i < p.memory_count; ++i)
        if (p.memory[i].base < low.base) low = p.memory[i];
    std::uint64_t top = low.base + low.size;
    if (top > 0xc000'0000) top = 0xc000'0000;
    const std::uint64_t dtb = (top - blob_size) & ~(2 * kMiB - 1);
    return mm::Keep{kKernelBase, kKernelBase + kKernelSize, dtb, dtb + blob_size, limit};
}

inline std::uint64_t pages(std::uint64_t bytes) {
    return (bytes + 4095) / 4096;
}

} // namespace mmtest
