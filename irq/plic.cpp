// PLIC register access: 32-bit MMIO loads and stores.
#include "irq/plic.hpp"

namespace k::irq::plic {

namespace {

std::uintptr_t g_base = 0; // written once by the boot hart, before any other hart reads it

constexpr std::uintptr_t kPriority = 0x0;
constexpr std::uintptr_t kPending = 0x1000;
constexpr std::uintptr_t kEnable = 0x2000;
constexpr std::uintptr_t kEnableStride = 0x80;
constexpr std::uintptr_t kContext = 0x20'0000;
constexpr std::uintptr_t kContextStride = 0x1000;
constexpr std::uintptr_t kClaim = 4;

volatile std::uint32_t& reg(std::uintptr_t off) {
    return *reinterpret_cast<volatile std::uint32_t*>(g_base + off);
}

std::uintptr_t enable_word(std::uint32_t context, std::uint32_t source) {
    return kEnable + context * kEnableStride + (source / 32) * 4;
}

} // namespace

void set_base(std::uintptr_t va) {
    g_base = va;
}

bool present() {
    return g_base != 0;
}

void set_priority(std::uint32_t source, std::uint32_t prio) {
    reg(kPriority + source * 4) = prio;
}

std::uint32_t priority(std::uint32_t source) {
    return reg(kPriority + source * 4);
}

bool pending(std::uint32_t source) {
    return (reg(kPending + (source / 32) * 4) >> (source % 32)) & 1;
}

void set_enabled(std::uint32_t context, std::uint32_t source, bool on) {
    volatile std::uint32_t& w = reg(enable_word(context, source));
    const std::uint32_t bit = 1u << (source % 32);
    w = on ? (w | bit) : (w & ~bit);
}

bool enabled(std::uint32_t context, std::uint32_t source) {
    return (reg(enable_word(context, source)) >> (source % 32)) & 1;
}

void set_threshold(std::uint32_t context, std::uint32_t threshold) {
    reg(kContext + context * kContextStride) = threshold;
}

std::uint32_t claim(std::uint32_t context) {
    return reg(kContext + context * kContextStride + kClaim);
}

void complete(std::uint32_t context, std::uint32_t source) {
    reg(kContext + context * kContextStride + kClaim) = source;
}

} // namespace k::irq::plic
