// Host-only helpers for the dtb tests: an FDT blob builder, fixture loading, exact-size copies.
#pragma once

#include "dtb/dtb.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#ifndef DTB_FIXTURE_DIR
#error "DTB_FIXTURE_DIR must name the fixture directory"
#endif

namespace dtbtest {

using Bytes = std::vector<std::uint8_t>;

inline void put_be32(Bytes& b, std::size_t off, std::uint32_t v) {
    b[off] = static_cast<std::uint8_t>(v >> 24);
    b[off + 1] = static_cast<std::uint8_t>(v >> 16);
    b[off + 2] = static_cast<std::uint8_t>(v >> 8);
    b[off + 3] = static_cast<std::uint8_t>(v);
}

inline std::uint32_t get_be32(const Bytes& b, std::size_t off) {
    return std::uint32_t{b[off]} << 24 | std::uint32_t{b[off + 1]} << 16 |
           std::uint32_t{b[off + 2]} << 8 | std::uint32_t{b[off + 3]};
}

// Header field offsets (DTSpec 5.2).
enum HeaderField : std::size_t {
    kMagicOff = 0,
    kTotalSize = 4,
    kOffStruct = 8,
    kOffStrings = 12,
    kOffRsvmap = 16,
    kVersionOff = 20,
    kLastComp = 24,
    kBootCpu = 28,
    kSizeStrings = 32,
    kSizeStruct = 36,
};

// Builds a blob token by token; nothing stops a test from emitting a malformed one.
// Every well-formed tree the tests read is a dtc-built fixture (fixtures/synthetic/*.dts); this
// builder is kept only for blobs dtc will not write, each use for one of these reasons:
// - dtb_build_test "NOP tokens are skipped anywhere": dtc never emits FDT_NOP.
// - dtb_build_test "a malformed blob is BadStructure": a property after a subnode, a property
//   outside the root, two roots, FDT_END inside a node, an END_NODE without a node, no root,
//   an unknown token, an empty child name, a name offset past the strings block, a property
//   length past the struct block, no FDT_END: the dts grammar cannot say any of them (dtc
//   orders properties first, merges roots, and derives every token, offset and length itself).
// - dtb_build_test "the walker rejects an overlong property": a property length running past
//   the struct block, again a length dtc computes and cannot be told.
// - dtb_fuzz_test, dtb_test and dtb_field_test start from dtc fixtures and corrupt bytes with
// put_be32 (header
//   fields, truncation, misalignment); they do not use this class.
class FdtBuilder {
  public:
    FdtBuilder& begin(std::string_view name) {
        word(1);
        for (char c : name)
            struct_.push_back(static_cast<std::uint8_t>(c));
        struct_.push_back(0);
        pad();
        return *this;
    }
    FdtBuilder& end() { return word(2); }
    FdtBuilder& nop() { return word(4); }
    FdtBuilder& word(std::uint32_t w) {
        struct_.resize(struct_.size() + 4);
        put_be32(struct_, struct_.size() - 4, w);
        return *this;
    }
    FdtBuilder& prop(std::string_view name, const Bytes& data) {
        word(3).word(static_cast<std::uint32_t>(data.size())).word(name_offset(name));
        struct_.insert(struct_.end(), data.begin(), data.end());
        pad();
        return *this;
    }
    FdtBuilder& str(std::string_view name, std::string_view s) {
        Bytes d(s.begin(), s.end());
        d.push_back(0);
        return prop(name, d);
    }
    // A string list: pass "a\0b" style via several arguments.
    FdtBuilder& strs(std::string_view name, std::initializer_list<std::string_view> list) {
        Bytes d;
        for (std::string_view s : list) {
            d.insert(d.end(), s.begin(), s.end());
            d.push_back(0);
        }
        return prop(name, d);
    }
    FdtBuilder& cells(std::string_view name, std::initializer_list<std::uint32_t> cs) {
        Bytes d(cs.size() * 4);
        std::size_t off = 0;
        for (std::uint32_t c : cs) {
            put_be32(d, off, c);
            off += 4;
        }
        return prop(name, d);
    }
    // Header (40) + empty reservation map (16) + struct block (with FDT_END) + strings.
    Bytes finish(bool add_end = true) {
        if (add_end) word(9);
        const auto off_strings = static_cast<std::uint32_t>(56 + struct_.size());
        Bytes b(off_strings + strings_.size()); // sized once: GCC 12 misfires on vector::insert
        std::memcpy(b.data() + 56, struct_.data(), struct_.size());
        std::memcpy(b.data() + off_strings, strings_.data(), strings_.size());
        put_be32(b, kMagicOff, 0xd00dfeed);
        put_be32(b, kTotalSize, static_cast<std::uint32_t>(b.size()));
        put_be32(b, kOffStruct, 56);
        put_be32(b, kOffStrings, off_strings);
        put_be32(b, kOffRsvmap, 40);
        put_be32(b, kVersionOff, 17);
        put_be32(b, kLastComp, 16);
        put_be32(b, kSizeStrings, static_cast<std::uint32_t>(strings_.size()));
        put_be32(b, kSizeStruct, static_cast<std::uint32_t>(struct_.size()));
        return b;
    }

  private:
    void pad() {
        while (struct_.size() % 4 != 0)
            struct_.push_back(0);
    }
    std::uint32_t name_offset(std::string_view name) {
        const std::string key = std::string(name) + '\0';
        const std::size_t at = strings_.find(key);
        if (at != std::string::npos && (at == 0 || strings_[at - 1] == '\0'))
            return static_cast<std::uint32_t>(at);
        strings_ += key;
        return static_cast<std::uint32_t>(strings_.size() - key.size());
    }

    Bytes struct_;
    std::string strings_;
};

inline Bytes load_fixture(const std::string& name) {
    std::ifstream f(std::string(DTB_FIXTURE_DIR) + "/" + name, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// An exact-size heap copy (so ASan flags any read past the end), optionally misaligned by
// `shift` bytes at the front; data() points at the blob.
class Exact {
  public:
    Exact(const std::uint8_t* p, std::size_t n, std::size_t shift = 0)
        : mem_(new std::uint8_t[n + shift]), data_(mem_.get() + shift), size_(n) {
        if (n != 0) std::memcpy(data_, p, n);
    }
    explicit Exact(const Bytes& b, std::size_t shift = 0) : Exact(b.data(), b.size(), shift) {}
    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }

  private:
    std::unique_ptr<std::uint8_t[]> mem_;
    std::uint8_t* data_;
    std::size_t size_;
};

// A parse result that keeps its blob alive (bootargs points into it).
struct Parsed {
    Exact blob;
    dtb::Platform p{};
    dtb::Status status = dtb::Status::Ok;
};

inline Parsed parse_bytes(const Bytes& b, std::size_t shift = 0) {
    Parsed r{Exact(b, shift)};
    r.status = dtb::parse(r.blob.data(), r.blob.size(), r.p);
    return r;
}

// The defaults parse() must leave behind on failure.
inline bool is_default(const dtb::Platform& p) {
    for (const dtb::Hart& h : p.harts) {
        if (h.hart_id != 0 || h.enabled || h.s_mode || h.sstc) return false;
    }
    return p.hart_count == 0 && p.harts_dropped == 0 && p.mem_base == 0x8000'0000 &&
           p.mem_size == 128u << 20 && p.uart_base == 0x1000'0000 && p.uart_reg_shift == 0 &&
           p.test_base == 0 && p.timebase_hz == 10'000'000 && p.bootargs != nullptr &&
           p.bootargs[0] == '\0' && p.defaulted == 63;
}

} // namespace dtbtest
