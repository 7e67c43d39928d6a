// Internal FDT plumbing for the dtb reader: byte helpers, header check and a bounds-checked walker.
#pragma once

#include "dtb/dtb.hpp"

#include <cstddef>
#include <cstdint>

namespace dtb::fdt {

inline constexpr std::uint32_t kMagic = 0xd00d'feed;
inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::uint32_t kVersion = 17;  // the format this reader implements
inline constexpr std::uint32_t kMaxDepth = 16; // open nodes, the root included

// Big-endian loads, byte by byte: the blob may be unaligned.
inline std::uint32_t be32(const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

// Our own string helpers (no libc in the kernel). Unbounded ones are only used on strings
// known to be NUL-terminated: our literals, or blob strings already bounds-checked.
std::size_t str_len(const char* s);
bool str_eq(const char* a, const char* b);
// True when [a, a + alen) equals the NUL-terminated string b.
bool mem_eq_str(const char* a, std::size_t alen, const char* b);
// Length of the string at p if a NUL occurs before end; false otherwise.
bool bounded_len(const unsigned char* p, const unsigned char* end, std::size_t& len);

// riscv,isa lists extension "sstc" as a whole '_'-separated token (maybe with a version).
bool isa_has_sstc(const char* isa);

// A property value: pointer into the struct block and its length. `data` null: absent.
struct Value {
    const unsigned char* data = nullptr;
    std::uint32_t len = 0;

    bool present() const { return data != nullptr; }
    // The value as a C string: needs a NUL inside the property.
    bool as_string(const char*& s) const;
    // Value is a NUL-terminated string list (non-empty, last byte NUL) containing `s`.
    bool list_has(const char* s, bool& found) const;
    // One cell (4 bytes) or two cells (8 bytes) as an integer.
    bool as_u64(std::uint64_t& v) const;
};

// Validated header fields; blob offsets are already checked against totalsize.
struct Blob {
    const unsigned char* base = nullptr;
    std::uint32_t struct_off = 0, struct_size = 0;
    std::uint32_t strings_off = 0, strings_size = 0;
    std::uint32_t rsvmap_off = 0; // 8-aligned; at least one 16-byte entry fits before total
    std::uint32_t total = 0;      // totalsize
};
Status check_header(const void* blob, std::size_t size, Blob& out);

// The memory reservation block (DTSpec 5.3): 16-byte (address, size) entries up to the first
// of size 0 (as libfdt reads it; one with a nonzero address is refused with a line). Fills
// out.memreserve[] (entries that wrap around are refused with a line), memreserve_count and
// memreserve_dropped. BadStructure when the block runs to totalsize without an end.
Status read_memreserve(const Blob& blob, Platform& out);

enum class Token : std::uint8_t { BeginNode, Prop, EndNode, End };

struct Event {
    Token kind = Token::End;
    std::uint32_t depth = 0; // of the node (BeginNode/EndNode) or of the property's owner
    const char* name = "";   // node name or property name, NUL-terminated inside the blob
    Value value;             // Prop only
};

// Pull parser over the struct block. Enforces the spec's shape: one root, properties before
// subnodes, nesting <= kMaxDepth, END only at depth 0, every name and length in bounds.
class Walker {
  public:
    explicit Walker(const Blob& blob) : blob_(blob) {}
    Status next(Event& ev);

  private:
    Status begin_node(Event& ev);
    Status prop(Event& ev);

    const Blob& blob_;
    std::uint64_t pos_ = 0;    // offset into the struct block, 4-aligned
    std::uint32_t open_ = 0;   // nodes currently open
    std::uint32_t closed_ = 0; // bit d: node at depth d has seen a subnode (no more props)
    bool root_seen_ = false;
    bool done_ = false;
};

// Matches node paths against a target like "/soc/serial@10000000" while walking. A path
// component without a unit address also matches "name@addr" (DTSpec 2.2.3).
class PathMatch {
  public:
    PathMatch(const char* path, std::uint32_t len) : path_(path), len_(len) {}
    // Call on every BeginNode; returns true when this node is the target.
    bool enter(std::uint32_t depth, const char* name);

  private:
    const char* path_;
    std::uint32_t len_;
    std::int64_t next_[kMaxDepth] = {}; // per depth: where the children's component starts, -1 none
};

// Finds property `prop` (prop_len bytes, not NUL-terminated) of the node at `path`.
// Ok with an absent value when the node or property does not exist.
Status find_property(const Blob& blob, const char* path, std::uint32_t path_len, const char* prop,
                     std::uint32_t prop_len, Value& out);

} // namespace dtb::fdt
