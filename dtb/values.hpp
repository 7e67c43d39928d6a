// Internal to the dtb reader: value decoding with refusals, defaults, and /chosen/stdout-path.
#pragma once

#include "dtb/dtb.hpp"
#include "dtb/fdt.hpp"

#include <cstdint>

namespace dtb {

inline constexpr std::uint32_t kMaxCells = 4;    // #address-cells/#size-cells accepted
inline constexpr std::uint64_t kMaxRegShift = 3; // 8-bit .. 64-bit register stride

// The cell sizes a node gives its children (defaults per DTSpec 2.3.5). cells_ok is false
// when the node's own #address-cells/#size-cells was refused: its children's reg then is
// unreadable.
struct Level {
    const char* name = "";
    std::uint32_t addr_cells = 2;
    std::uint32_t size_cells = 1;
    bool cells_ok = true;
};

struct RegCheck {
    bool ok = true;
    Problem problem = Problem::Missing; // when !ok
    std::uint64_t value = 0;            // the length (WrongLength) or the cell count (BadCells)
};

// Entry `index` of a reg property, read with the parent's cell sizes. A reg must hold whole
// entries; an address needs 1..2 cells and a size 0..2 (our numbers are 64-bit); address +
// size must not wrap around. An index past the last entry is refused as Missing.
RegCheck read_reg(const fdt::Value& reg, const Level& parent, std::uint64_t& addr,
                  std::uint64_t& size, std::uint32_t index = 0);
// Whole entries in a reg property (0 when its length or the parent's cells are unusable).
std::uint32_t reg_entries(const fdt::Value& reg, const Level& parent);

// Records a refusal in `out` (or counts it when the table is full).
void add_refusal(Platform& out, const char* node, const char* prop, Problem p, Effect e,
                 std::uint64_t value);

// Every fact at its default, no harts, no refusals.
void set_defaults(Platform& out);

// The node /chosen/stdout-path names: "path[:options]" or "alias[:options]" (DTSpec 3.6).
// A value that is no string is refused (ignored, with a refusal in `out`); only a broken blob
// is a non-Ok status.
Status stdout_path(const fdt::Blob& blob, Platform& out, const char*& path, std::uint32_t& len);

} // namespace dtb
