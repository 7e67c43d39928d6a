// FDT plumbing: string helpers, header validation, the bounds-checked token walker.
#include "dtb/fdt.hpp"

namespace dtb::fdt {
namespace {

// Structure block tokens (DTSpec 5.4.1).
constexpr std::uint32_t kBeginNode = 1;
constexpr std::uint32_t kEndNode = 2;
constexpr std::uint32_t kProp = 3;
constexpr std::uint32_t kNop = 4;
constexpr std::uint32_t kEnd = 9;

constexpr std::uint64_t align4(std::uint64_t v) {
    return (v + 3) & ~std::uint64_t{3};
}

// True when node `name` is named by path component [comp, comp + len): either exactly, or the
// component has no unit address and equals the name's part before '@'.
bool component_matches(const char* comp, std::size_t len, const char* name) {
    if (mem_eq_str(comp, len, name)) return true;
    for (std::size_t i = 0; i < len; ++i) {
        if (comp[i] == '@' || name[i] != comp[i]) // also stops at name's NUL (comp has none)
            return false;
    }
    return name[len] == '@';
}

} // namespace

std::size_t str_len(const char* s) {
    std::size_t n = 0;
    while (s[n] != '\0')
        ++n;
    return n;
}

bool str_eq(const char* a, const char* b) {
    for (; *a != '\0' && *a == *b; ++a, ++b) {
    }
    return *a == *b;
}

bool mem_eq_str(const char* a, std::size_t alen, const char* b) {
    for (std::size_t i = 0; i < alen; ++i) {
        if (b[i] == '\0' || b[i] != a[i]) return false;
    }
    return b[alen] == '\0';
}

bool bounded_len(const unsigned char* p, const unsigned char* end, std::size_t& len) {
    for (const unsigned char* q = p; q < end; ++q) {
        if (*q == 0) {
            len = static_cast<std::size_t>(q - p);
            return true;
        }
    }
    return false;
}

bool Value::as_string(const char*& s) const {
    std::size_t n = 0;
    if (data == nullptr || !bounded_len(data, data + len, n)) return false;
    s = reinterpret_cast<const char*>(data);
    return true;
}

bool Value::list_has(const char* s, bool& found) const {
    found = false;
    if (data == nullptr || len == 0 || data[len - 1] != 0) return false;
    for (std::uint32_t pos = 0; pos < len;) {
        const char* entry = reinterpret_cast<const char*>(data + pos);
        std::size_t n = 0;
        (void)bounded_len(data + pos, data + len, n); // cannot fail: the last byte is NUL
        if (str_eq(entry, s)) found = true;
        pos += static_cast<std::uint32_t>(n) + 1;
    }
    return true;
}

bool Value::as_u64(std::uint64_t& v) const {
    if (data == nullptr) return false;
    if (len == 4) {
        v = be32(data);
        return true;
    }
    if (len == 8) {
        v = std::uint64_t{be32(data)} << 32 | be32(data + 4);
        return true;
    }
    return false;
}

Status check_header(const void* blob, std::size_t size, Blob& out) {
    if (blob == nullptr) return Status::NullBlob;
    const auto* b = static_cast<const unsigned char*>(blob);
    if (size < 4) return Status::Truncated;
    if (be32(b) != kMagic) return Status::BadMagic;
    if (size < kHeaderSize) return Status::Truncated;

    const std::uint64_t total = be32(b + 4);
    const std::uint64_t off_struct = be32(b + 8);
    const std::uint64_t off_strings = be32(b + 12);
    const std::uint64_t off_rsvmap = be32(b + 16);
    const std::uint32_t version = be32(b + 20);
    const std::uint32_t last_comp = be32(b + 24);
    const std::uint64_t size_strings = be32(b + 32);
    const std::uint64_t size_struct = be32(b + 36);

    // size_dt_struct only exists from version 17 on; newer versions must stay compatible.
    if (version < kVersion || last_comp > kVersion) return Status::BadVersion;
    if (total > size) return Status::Truncated;
    if (total < kHeaderSize) return Status::BadStructure;
    // 64-bit sums: no overflow. Blocks must lie after the header and inside totalsize.
    if (off_struct < kHeaderSize || off_struct % 4 != 0 || off_struct + size_struct > total)
        return Status::BadStructure;
    if (off_strings < kHeaderSize || off_strings + size_strings > total)
        return Status::BadStructure;
    // The memory reservation block must at least hold its terminating entry.
    if (off_rsvmap < kHeaderSize || off_rsvmap % 8 != 0 || off_rsvmap + 16 > total)
        return Status::BadStructure;

    out.base = b;
    out.struct_off = static_cast<std::uint32_t>(off_struct);
    out.struct_size = static_cast<std::uint32_t>(size_struct);
    out.strings_off = static_cast<std::uint32_t>(off_strings);
    out.strings_size = static_cast<std::uint32_t>(size_strings);
    out.rsvmap_off = static_cast<std::uint32_t>(off_rsvmap);
    out.total = static_cast<std::uint32_t>(total);
    return Status::Ok;
}

Status Walker::next(Event& ev) {
    ev = Event{};
    if (done_) return Status::Ok; // End again
    const unsigned char* st = blob_.base + blob_.struct_off;
    for (;;) {
        if (pos_ + 4 > blob_.struct_size)
            return Status::BadStructure; // ran off the block without FDT_END
        const std::uint32_t token = be32(st + pos_);
        pos_ += 4;
        switch (token) {
        case kBeginNode:
            return begin_node(ev);
        case kProp:
            return prop(ev);
        case kEndNode:
            if (open_ == 0) return Status::BadStructure;
            --open_;
            ev.kind = Token::EndNode;
            ev.depth = open_;
            return Status::Ok;
        case kNop:
            break;
        case kEnd:
            if (open_ != 0 || !root_seen_) return Status::BadStructure;
            done_ = true;
            return Status::Ok;
        default:
            return Status::BadStructure;
        }
    }
}

Status Walker::begin_node(Event& ev) {
    if ((open_ == 0 && root_seen_) || open_ == kMaxDepth)
        return Status::BadStructure; // a second root, or nested too deep
    const unsigned char* st = blob_.base + blob_.struct_off;
    std::size_t n = 0;
    if (!bounded_len(st + pos_, st + blob_.struct_size, n)) return Status::BadStructure;
    if (open_ > 0 && n == 0) return Status::BadStructure; // only the root has an empty name
    if (open_ > 0) closed_ |= 1u << (open_ - 1);          // the parent's properties are over
    closed_ &= ~(1u << open_);
    ev.kind = Token::BeginNode;
    ev.depth = open_;
    ev.name = reinterpret_cast<const char*>(st + pos_);
    ++open_;
    root_seen_ = true;
    pos_ = align4(pos_ + n + 1);
    return Status::Ok;
}

Status Walker::prop(Event& ev) {
    if (open_ == 0 || (closed_ & (1u << (open_ - 1))) != 0)
        return Status::BadStructure; // outside any node, or after a subnode
    const unsigned char* st = blob_.base + blob_.struct_off;
    if (pos_ + 8 > blob_.struct_size) return Status::BadStructure;
    const std::uint32_t len = be32(st + pos_);
    const std::uint32_t name_off = be32(st + pos_ + 4);
    pos_ += 8;
    if (len > blob_.struct_size - pos_ || name_off >= blob_.strings_size)
        return Status::BadStructure;
    const unsigned char* strings = blob_.base + blob_.strings_off;
    std::size_t n = 0;
    if (!bounded_len(strings + name_off, strings + blob_.strings_size, n) || n == 0)
        return Status::BadStructure;
    ev.kind = Token::Prop;
    ev.depth = open_ - 1;
    ev.name = reinterpret_cast<const char*>(strings + name_off);
    ev.value = Value{st + pos_, len};
    pos_ = align4(pos_ + len);
    return Status::Ok;
}

bool PathMatch::enter(std::uint32_t depth, const char* name) {
    if (depth >= kMaxDepth) return false;
    next_[depth] = -1;
    if (depth == 0) {
        if (len_ == 0 || path_[0] != '/') return false;
        if (len_ > 1) next_[0] = 1;
        return len_ == 1;
    }
    const std::int64_t start = next_[depth - 1];
    if (start < 0) return false;
    auto end = static_cast<std::uint32_t>(start);
    while (end < len_ && path_[end] != '/')
        ++end;
    const auto begin = static_cast<std::uint32_t>(start);
    if (!component_matches(path_ + begin, end - begin, name)) return false;
    if (end >= len_ - 1) // last component, possibly with a trailing '/'
        return true;
    next_[depth] = end + 1;
    return false;
}

Status find_property(const Blob& blob, const char* path, std::uint32_t path_len, const char* prop,
                     std::uint32_t prop_len, Value& out) {
    out = Value{};
    Walker walker(blob);
    PathMatch match(path, path_len);
    bool in_target = false;
    for (;;) {
        Event ev;
        if (const Status s = walker.next(ev); s != Status::Ok) return s;
        switch (ev.kind) {
        case Token::BeginNode:
            if (in_target) return Status::Ok; // a subnode: the target's properties are over
            in_target = match.enter(ev.depth, ev.name);
            break;
        case Token::Prop:
            if (in_target && mem_eq_str(prop, prop_len, ev.name)) {
                out = ev.value;
                return Status::Ok;
            }
            break;
        case Token::EndNode:
            if (in_target) return Status::Ok;
            break;
        case Token::End:
            return Status::Ok;
        }
    }
}

} // namespace dtb::fdt
