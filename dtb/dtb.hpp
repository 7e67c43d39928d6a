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
    BadStructure, // any other inconsistency of the blob: block bounds, tokens, nesting, names
    TooLarge,     // header totalsize above kMaxBlobSize (parse_blob only)
};
// clang-format on
const char* status_name(Status s);

// The largest blob parse_blob() reads: far above any real tree (QEMU's are a few KiB, padded
// ones a few MiB), small enough that a corrupt totalsize cannot send the reader across RAM.
inline constexpr std::size_t kMaxBlobSize = 32u << 20;

// Why a value or node was refused, and what the reader did instead. A refusal never ends the
// parse: the rest of the tree is still used.
enum class Problem : std::uint8_t {
    Missing,     // a property the node needs is absent (reg)
    WrongLength, // length is not what the property's encoding allows (value = the length)
    NotString,   // not a NUL-terminated string (list) inside the property
    OutOfRange,  // decoded, but outside the accepted range (value = the decoded number)
    Duplicate,   // a hart id an earlier cpu node already has (value = the id)
    BadCells,    // the parent's #address-cells/#size-cells cannot describe this reg
};
enum class Effect : std::uint8_t {
    NodeSkipped, // the node is not used at all
    DefaultUsed, // the fact keeps its default (said with the Defaulted bits)
    Ignored,     // the value is not used; the node is, without it
};
struct Refusal {
    const char* node;    // the node's own name (pointer into the blob), "" for the root
    const char* prop;    // the property's name (pointer into the blob or a literal)
    Problem problem;     //
    Effect effect;       //
    std::uint8_t pad[6]; // zero: no byte of a Platform is left undefined (it is compared whole)
    std::uint64_t value; // see Problem; 0 where it says nothing
};
inline constexpr std::uint32_t kMaxRefusals = 16; // more are counted in refusals_dropped
const char* problem_name(Problem p);
const char* effect_name(Effect e);

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
// Accepted timebase-frequency range (the kernel's time arithmetic is exact over it).
inline constexpr std::uint64_t kMinTimebaseHz = 1'000;
inline constexpr std::uint64_t kMaxTimebaseHz = 10'000'000'000;

// A physical range from a reg entry: [base, base + size), size > 0, no wrap-around.
struct MemRange {
    std::uint64_t base;
    std::uint64_t size;
};
inline constexpr std::uint32_t kMaxMemRanges = 16; // memory reg entries; more: memory_dropped
inline constexpr std::uint32_t kMaxReserved = 16;  // /reserved-memory entries; more: dropped

// Addresses are the first reg entry of the node, read with the parent's #address-cells and
// #size-cells. No `ranges` translation is done: every bus above these devices is assumed to map
// 1:1 (an empty `ranges;`, as on QEMU virt/spike/sifive_u).
struct Platform {
    Hart harts[kMaxHarts];
    std::uint32_t hart_count;     // entries used in harts[] (document order), ids unique
    std::uint32_t harts_dropped;  // cpu nodes beyond kMaxHarts, or with a hart id above 32 bits
    std::uint64_t mem_base;       // first usable /memory node: reg with a nonzero size
    std::uint64_t mem_size;       //
    std::uint64_t uart_base;      // ns16550a: /chosen/stdout-path target, else first compatible
    std::uint32_t uart_reg_shift; // reg-shift property of that node (0..3), default 0
    std::uint64_t test_base;      // first node compatible with "sifive,test0"; 0 if absent
    std::uint64_t htif_base;      // first node compatible with "ucb,htif0"; 0 if absent
    std::uint64_t timebase_hz;    // /cpus/timebase-frequency, else the first cpu node's
    const char* bootargs;         // /chosen/bootargs, pointer into the blob, "" if none
    std::uint32_t defaulted;      // Defaulted bits
    Refusal refusals[kMaxRefusals];
    std::uint32_t refusal_count;    // entries used in refusals[] (document order)
    std::uint32_t refusals_dropped; // refusals beyond kMaxRefusals
    // Every usable reg entry of every /memory node (device_type "memory", status okay), in
    // document order; entries of size 0 are refused. Empty when kNoMemory is set.
    MemRange memory[kMaxMemRanges];
    std::uint32_t memory_count;   // entries used in memory[]
    std::uint32_t memory_dropped; // usable entries beyond kMaxMemRanges
    // Every reg entry of the children of /reserved-memory (DTSpec 3.5.4), whatever their
    // no-map/reusable flags: the kernel never hands these out. A child without reg (a
    // dynamic `size` request) or with a bad one is refused with a line.
    MemRange reserved[kMaxReserved];
    std::uint32_t reserved_count;   // entries used in reserved[]
    std::uint32_t reserved_dropped; // entries beyond kMaxReserved (the caller must not
                                    // hand out memory it cannot see: treat as unusable)
    // Every entry of the header's memory reservation block (/memreserve/, DTSpec 5.3: what a
    // boot loader keeps for an initrd, spin tables or itself), in block order, up to the first
    // entry of size 0 (libfdt's end of the block; refused with a line when its address is not
    // 0). An entry that wraps around is refused with a line (node "/memreserve/").
    MemRange memreserve[kMaxReserved];
    std::uint32_t memreserve_count;   // entries used in memreserve[]
    std::uint32_t memreserve_dropped; // entries beyond kMaxReserved (as reserved_dropped)
};

// Parse the blob. On anything but Ok, `out` still holds safe defaults: no harts (kNoCpus and
// every other Defaulted bit set), mem 0x80000000 + 128 MiB, uart 0x10000000, test_base 0,
// htif_base 0, timebase 10 MHz, bootargs "", no refusals. A non-Ok status means the blob
// itself is broken (header, block bounds, tokens, nesting). A bad value of a property the
// reader consumes is refused instead (see Refusal): its node is skipped or the value is
// defaulted, and the rest of the tree is used. Values checked: #address-cells/#size-cells
// (4 bytes, 0..4), reg (whole entries, 1..2 address and 0..2 size cells, no wrap-around),
// cpu reg (unique hart ids), status/mmu-type/riscv,isa/device_type/bootargs/stdout-path
// (strings), compatible/riscv,isa-extensions (string lists), timebase-frequency (4 or 8
// bytes, kMinTimebaseHz..kMaxTimebaseHz), reg-shift (4 bytes, 0..3), memory and reserved-memory
// sizes (nonzero, every reg entry, no wrap-around).
Status parse(const void* blob, std::size_t size, Platform& out);

// Parse a blob handed over by the firmware, whose size only its header knows: totalsize is
// read from the header and must be at most kMaxBlobSize (else TooLarge, defaults in `out`).
Status parse_blob(const void* blob, Platform& out);

// Reads only the 40-byte header's totalsize (checked against magic), for a caller that does
// not know the blob's size yet (the kernel gets only a pointer from the firmware). Returns 0
// when blob is null, the magic is wrong, or totalsize is smaller than the header.
std::size_t blob_size(const void* blob);

// Finds `key` in a bootargs string of space-separated tokens. "key=value" sets value/len to the
// text after '='; a bare "key" gives len 0 (value points at the token's end). When the key is
// given several times the last one wins, as in Linux. No quoting. False if absent.
bool bootarg_value(const char* bootargs, const char* key, const char*& value, std::size_t& len);
// Whether a value found by bootarg_value (len bytes, not NUL-terminated) is exactly `word`.
bool bootarg_value_is(const char* value, std::size_t len, const char* word);

} // namespace dtb
