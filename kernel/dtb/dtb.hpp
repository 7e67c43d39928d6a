// Flattened Device Tree reader: extracts the few platform facts the kernel needs at boot.
#pragma once

#include <cstddef>
#include <cstdint>

// Portable: no heap, no exceptions, no libc. Compiled freestanding into the kernel and natively
// for the host tests. The reader never touches memory outside [blob, blob + size) and never
// assumes the blob is aligned (big-endian values are read byte by byte).
namespace dtb {

inline constexpr std::uint32_t kMaxHarts = 32; // cpu nodes beyond this: counted in harts_dropped

// clang-format 14 mangles the attribute into "std::uint8_t{".
// clang-format off
enum class [[nodiscard]] Status : std::uint8_t {
    Ok,
    NullBlob,     // blob pointer is null
    BadMagic,     // first word is not 0xd00dfeed
    Truncated,    // size too small for the header, or header totalsize > size
    BadVersion,   // version < 17 or last_comp_version > 17
    BadStructure, // any other inconsistency: block bounds, tokens, nesting, malformed values
};
// clang-format on
const char* status_name(Status s);

struct Hart {
    std::uint32_t hart_id; // from reg
    bool enabled;          // status absent or "okay"/"ok"
    bool s_mode;           // mmu-type present and not "riscv,none" (hart can run an S-mode kernel)
    bool sstc;             // riscv,isa (or riscv,isa-extensions) lists the "sstc" extension
    bool usable() const { return enabled && s_mode; }
};

// Bits saying which optional facts were missing and defaulted.
enum Defaulted : std::uint32_t {
    kNoMemory = 1,
    kNoUart = 2,
    kNoTestDevice = 4,
    kNoTimebase = 8,
    kNoBootargs = 16,
    kNoCpus = 32,
};

inline constexpr std::uint64_t kDefaultMemBase = 0x8000'0000;
inline constexpr std::uint64_t kDefaultMemSize = 128ull << 20;
inline constexpr std::uint64_t kDefaultUartBase = 0x1000'0000;
inline constexpr std::uint64_t kDefaultTimebaseHz = 10'000'000;

// Addresses are the first reg entry of the node, read with the parent's #address-cells and
// #size-cells. No `ranges` translation is done: every bus above these devices is assumed to map
// 1:1 (an empty `ranges;`, as on QEMU virt/spike/sifive_u).
struct Platform {
    Hart harts[kMaxHarts];
    std::uint32_t hart_count;     // entries used in harts[] (document order)
    std::uint32_t harts_dropped;  // cpu nodes beyond kMaxHarts, or with a hart id above 32 bits
    std::uint64_t mem_base;       // first /memory node reg with a nonzero size
    std::uint64_t mem_size;       //
    std::uint64_t uart_base;      // ns16550a: /chosen/stdout-path target, else first compatible
    std::uint32_t uart_reg_shift; // reg-shift property of that node, default 0
    std::uint64_t test_base;      // first node compatible with "sifive,test0"; 0 if absent
    std::uint64_t timebase_hz;    // /cpus/timebase-frequency, else the first cpu node's
    const char* bootargs;         // /chosen/bootargs, pointer into the blob, "" if none
    std::uint32_t defaulted;      // Defaulted bits
};

// Parse the blob. On anything but Ok, `out` still holds safe defaults: no harts (kNoCpus and
// every other Defaulted bit set), mem 0x80000000 + 128 MiB, uart 0x10000000, test_base 0,
// timebase 10 MHz, bootargs "". The whole tree is validated before Ok is returned; malformed
// values of the properties the reader consumes (reg, status, compatible, ...) are BadStructure.
Status parse(const void* blob, std::size_t size, Platform& out);

// Reads only the 40-byte header's totalsize (checked against magic), for a caller that does
// not know the blob's size yet (the kernel gets only a pointer from the firmware). Returns 0
// when blob is null, the magic is wrong, or totalsize is smaller than the header.
std::size_t blob_size(const void* blob);

// Finds `key` in a bootargs string of space-separated tokens. "key=value" sets value/len to the
// text after '='; a bare "key" gives len 0 (value points at the token's end). When the key is
// given several times the last one wins, as in Linux. No quoting. False if absent.
bool bootarg_value(const char* bootargs, const char* key, const char*& value, std::size_t& len);

} // namespace dtb
