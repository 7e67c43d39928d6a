// The message tag word: layout, round trip, and what check() refuses.
#include "ipc/message.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using ipc::MessageTag;
using ipc::TagError;

TEST_CASE("message tag: label, caps and length round-trip through the word", "[ipc][tag]") {
    const MessageTag t{0xabcdef, 7, 1};
    const std::uint64_t w = t.word();
    CHECK(w == ((std::uint64_t{0xabcdef} << 12) | (1u << 7) | 7u));
    CHECK(MessageTag::from_word(w) == t);
    CHECK(MessageTag::check(w) == TagError::Ok);
    const MessageTag top{MessageTag::kLabelLimit - 1, ipc::kMaxLength, ipc::kMaxTransferCaps};
    CHECK(MessageTag::from_word(top.word()) == top);
    CHECK(MessageTag::check(top.word()) == TagError::Ok);
    CHECK(MessageTag::check(0) == TagError::Ok);
    CHECK(MessageTag::from_word(0) == MessageTag{});
}

TEST_CASE("message tag: lengths over the bound, two caps and reserved bits are refused",
          "[ipc][tag]") {
    CHECK(MessageTag::check(ipc::kMaxLength) == TagError::Ok);
    CHECK(MessageTag::check(ipc::kMaxLength + 1) == TagError::LengthTooLong);
    CHECK(MessageTag::check(0x7f) == TagError::LengthTooLong);
    CHECK(MessageTag::check(2u << 7) == TagError::TooManyCaps);
    CHECK(MessageTag::check(3u << 7) == TagError::TooManyCaps);
    for (std::uint32_t bit = 9; bit < 12; ++bit)
        CHECK(MessageTag::check(std::uint64_t{1} << bit) == TagError::ReservedBits);
    CHECK(MessageTag::check(~std::uint64_t{0}) == TagError::ReservedBits);
}

TEST_CASE("message tag: registers first, the rest from the buffer", "[ipc][tag]") {
    CHECK(MessageTag{0, 0, 0}.buffer_words() == 0);
    CHECK(MessageTag{0, ipc::kMessageRegisters, 0}.buffer_words() == 0);
    CHECK(MessageTag{0, ipc::kMessageRegisters + 1, 0}.buffer_words() == 1);
    CHECK(MessageTag{0, ipc::kMaxLength, 0}.buffer_words() == ipc::kMaxBufferWords);
    static_assert(ipc::kMaxLength <= 0x7f, "the length field is 7 bits");
}
