// The message a send carries: a tag word (label, length, capability count) and the registers.
#pragma once

#include <cstdint>

namespace ipc {

inline constexpr std::uint32_t kMessageRegisters = 4; // words passed in CPU registers (RFC-0028)
inline constexpr std::uint32_t kMaxBufferWords = 60;  // words copied from the caller's buffer
inline constexpr std::uint32_t kMaxLength = kMessageRegisters + kMaxBufferWords; // words
inline constexpr std::uint32_t kMaxTransferCaps = 1; // capabilities a message may carry

// clang-format off
enum class [[nodiscard]] TagError : std::uint8_t {
    Ok,
    LengthTooLong, // length > kMaxLength
    TooManyCaps,   // caps > kMaxTransferCaps
    ReservedBits,  // bits 9..11 are not zero
};
// clang-format on

// The tag word, seL4's layout without capsUnwrapped:
//   bits 63..12 label  (52 bits: the protocol's meaning, never read by the kernel)
//   bits 11..9  reserved, 0
//   bits  8..7  caps   (0 or 1: a capability to transfer, only with the Grant right)
//   bits  6..0  length (0..kMaxLength words: the first kMessageRegisters in registers, the
//                       rest from the buffer)
struct MessageTag {
    std::uint64_t label = 0; // < 2^52
    std::uint32_t length = 0;
    std::uint32_t caps = 0;

    static constexpr std::uint64_t kLabelLimit = std::uint64_t{1} << 52;

    // Any word decodes; check() then says whether the kernel may act on it.
    [[nodiscard]] static constexpr MessageTag from_word(std::uint64_t w) {
        return {w >> 12, static_cast<std::uint32_t>(w & 0x7fu),
                static_cast<std::uint32_t>((w >> 7) & 0x3u)};
    }
    // Fields out of range are cut to their bit widths (check() first).
    [[nodiscard]] constexpr std::uint64_t word() const {
        return (label << 12) | (std::uint64_t{caps & 0x3u} << 7) | (length & 0x7fu);
    }
    [[nodiscard]] static constexpr TagError check(std::uint64_t w) {
        if ((w >> 9) & 0x7u) return TagError::ReservedBits;
        const MessageTag t = from_word(w);
        if (t.length > kMaxLength) return TagError::LengthTooLong;
        if (t.caps > kMaxTransferCaps) return TagError::TooManyCaps;
        return TagError::Ok;
    }
    // The words of the message that come from the buffer rather than registers.
    [[nodiscard]] constexpr std::uint32_t buffer_words() const {
        return length > kMessageRegisters ? length - kMessageRegisters : 0;
    }
    [[nodiscard]] constexpr bool operator==(const MessageTag&) const = default;
};

// What moves in a rendezvous on the portable side. The buffer words and the capability are
// copied by the kernel after the match (checked user copies), not here.
struct Message {
    MessageTag tag;
    std::uint64_t mr[kMessageRegisters] = {};
};

} // namespace ipc
