// Fixed-size line formatting: no heap, no varargs, truncates instead of overflowing.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace k {

struct Hex {
    std::uint64_t value;
};
inline Hex hex(std::uint64_t v) {
    return Hex{v};
}

class LineBuffer final {
  public:
    static constexpr std::size_t kCapacity = 200;

    void put(char c) {
        if (len_ < kCapacity) buf_[len_++] = c;
    }
    void put(const char* s) {
        while (s && *s)
            put(*s++);
    }
    void put(Hex h) {
        put("0x");
        bool started = false;
        for (int shift = 60; shift >= 0; shift -= 4) {
            unsigned digit = static_cast<unsigned>((h.value >> shift) & 0xf);
            if (digit || started || shift == 0) {
                started = true;
                put(static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }
    }
    template <std::unsigned_integral T>
    void put(T v) {
        put_unsigned(static_cast<std::uint64_t>(v));
    }
    template <std::signed_integral T>
    requires(!std::same_as<T, char>) void put(T v) {
        if (v < 0) {
            put('-');
            put_unsigned(static_cast<std::uint64_t>(-(static_cast<std::int64_t>(v) + 1)) + 1);
        } else {
            put_unsigned(static_cast<std::uint64_t>(v));
        }
    }
    void put(bool b) { put(b ? "true" : "false"); }

    const char* data() const { return buf_; }
    std::size_t size() const { return len_; }

  private:
    void put_unsigned(std::uint64_t v) {
        char tmp[20];
        int n = 0;
        do {
            tmp[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (n)
            put(tmp[--n]);
    }

    char buf_[kCapacity];
    std::size_t len_ = 0;
};

} // namespace k
