// ASIDs for user address spaces (RISC-V privileged spec v1.12 §4.1.11: satp.ASID, ASIDLEN
// 0..16 on RV64, probed at boot). Portable; the caller serialises and owns the bitmap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mm {

// clang-format off
enum class [[nodiscard]] AsidError : std::uint8_t {
    None,
    NotAllocated, // free: not handed out (a double free), or 0 (the shared ASID)
    OutOfRange,   // free: above what init() manages
};
// clang-format on

// ASID 0 is the kernel's (kernel_space runs with it; its leaves are global anyway). Private
// ASIDs are [1, min(2^bits, 64 * words)). With bits == 0, or when every private ASID is in use,
// alloc() returns 0: that space shares ASID 0, and whoever loads it must flush the whole TLB
// (RFC-0026 "ASIDs"). No generations or rollover: the kernel has fewer spaces
// (k::uspace::kMaxSpaces) than a 16-bit ASID space, and a freed ASID is flushed everywhere
// before it is freed.
class AsidAllocator {
  public:
    // `bits` is ASIDLEN (clamped to 16); `words` 64-bit words of caller memory, zeroed here.
    void init(std::uint32_t bits, std::uint64_t* words, std::size_t count);

    // The lowest free private ASID, or 0 when none is (or bits == 0).
    [[nodiscard]] std::uint16_t alloc();
    AsidError free(std::uint16_t asid);

    std::uint32_t bits() const { return bits_; }
    std::uint32_t limit() const { return limit_; } // private ASIDs are [1, limit)
    std::uint32_t in_use() const { return in_use_; }

  private:
    std::uint64_t* words_ = nullptr;
    std::uint32_t bits_ = 0;
    std::uint32_t limit_ = 1;
    std::uint32_t in_use_ = 0;
};

} // namespace mm
