// dtb helpers that need no tree walk: ISA string scan, status names, blob size, bootargs lookup.
#include "dtb/dtb.hpp"

#include "dtb/fdt.hpp"

namespace dtb {
namespace fdt {
namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// An ISA string token [t, t + n) names extension "sstc", maybe with a version ("sstc1p0").
bool is_sstc_token(const char* t, std::size_t n) {
    const char* ext = "sstc";
    std::size_t i = 0;
    for (; ext[i] != '\0'; ++i) {
        if (i == n || lower(t[i]) != ext[i]) return false;
    }
    while (i < n && is_digit(t[i]))
        ++i;
    if (i < n && lower(t[i]) == 'p' && i + 1 < n) {
        ++i;
        while (i < n && is_digit(t[i]))
            ++i;
    }
    return i == n;
}

} // namespace

// riscv,isa = "rv64imafdch_zicsr_..._sstc": multi-letter extensions are '_'-separated tokens
// after the base; match a whole token, not a substring of another one.
bool isa_has_sstc(const char* isa) {
    const char* p = isa;
    while (*p != '\0' && *p != '_') // skip "rv64imafdc..."
        ++p;
    while (*p == '_') {
        const char* t = ++p;
        while (*p != '\0' && *p != '_')
            ++p;
        if (is_sstc_token(t, static_cast<std::size_t>(p - t))) return true;
    }
    return false;
}

} // namespace fdt

const char* status_name(Status s) {
    switch (s) {
    case Status::Ok:
        return "Ok";
    case Status::NullBlob:
        return "NullBlob";
    case Status::BadMagic:
        return "BadMagic";
    case Status::Truncated:
        return "Truncated";
    case Status::BadVersion:
        return "BadVersion";
    case Status::BadStructure:
        return "BadStructure";
    case Status::TooLarge:
        return "TooLarge";
    }
    return "Unknown";
}

const char* problem_name(Problem p) {
    switch (p) {
    case Problem::Missing:
        return "missing";
    case Problem::WrongLength:
        return "wrong length";
    case Problem::NotString:
        return "not a string";
    case Problem::OutOfRange:
        return "out of range";
    case Problem::Duplicate:
        return "duplicate hart id";
    case Problem::BadCells:
        return "parent #address-cells/#size-cells unusable";
    }
    return "?";
}

const char* effect_name(Effect e) {
    switch (e) {
    case Effect::NodeSkipped:
        return "node skipped";
    case Effect::DefaultUsed:
        return "default used";
    case Effect::Ignored:
        return "value ignored";
    }
    return "?";
}

std::size_t blob_size(const void* blob) {
    if (blob == nullptr) return 0;
    const auto* b = static_cast<const unsigned char*>(blob);
    if (fdt::be32(b) != fdt::kMagic) return 0;
    const std::uint32_t total = fdt::be32(b + 4);
    return total < fdt::kHeaderSize ? 0 : total;
}

bool bootarg_value(const char* bootargs, const char* key, const char*& value, std::size_t& len) {
    if (bootargs == nullptr || key == nullptr || key[0] == '\0') return false;
    const std::size_t klen = fdt::str_len(key);
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    bool found = false;
    const char* p = bootargs;
    for (;;) {
        while (is_space(*p))
            ++p;
        if (*p == '\0') return found;
        const char* tok = p;
        while (*p != '\0' && !is_space(*p))
            ++p;
        const auto tlen = static_cast<std::size_t>(p - tok);
        std::size_t i = 0;
        while (i < klen && i < tlen && tok[i] == key[i])
            ++i;
        if (i != klen) continue; // not this key
        if (tlen == klen) {      // bare "key"
            value = p;
            len = 0;
            found = true;
        } else if (tok[klen] == '=') {
            value = tok + klen + 1;
            len = tlen - klen - 1;
            found = true;
        }
    }
}

bool bootarg_value_is(const char* value, std::size_t len, const char* word) {
    std::size_t i = 0;
    for (; i < len && word[i]; ++i)
        if (value[i] != word[i]) return false;
    return i == len && word[i] == 0;
}

} // namespace dtb
