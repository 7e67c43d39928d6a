// The header's memory reservation block (DTSpec 5.3), read into Platform::memreserve.
#include "dtb/fdt.hpp"
#include "dtb/values.hpp"

namespace dtb::fdt {

namespace {
inline constexpr const char* kNode = "/memreserve/";
inline constexpr std::uint32_t kEntrySize = 16;

std::uint64_t be64(const unsigned char* p) {
    return static_cast<std::uint64_t>(be32(p)) << 32 | be32(p + 4);
}
} // namespace

Status read_memreserve(const Blob& blob, Platform& out) {
    // 64-bit offsets: an entry that would cross totalsize is caught before it is read.
    for (std::uint64_t off = blob.rsvmap_off; off + kEntrySize <= blob.total; off += kEntrySize) {
        const std::uint64_t base = be64(blob.base + off);
        const std::uint64_t size = be64(blob.base + off + 8);
        // DTSpec ends the block with (0, 0); libfdt (fdt_num_mem_rsv), and so Linux and U-Boot,
        // end it at the first entry of size 0, whatever its address. So does this reader, and
        // says so when the address is not 0.
        if (size == 0) {
            if (base != 0)
                add_refusal(out, kNode, "size", Problem::OutOfRange, Effect::Ignored, base);
            return Status::Ok;
        }
        if (base + size < base) {
            add_refusal(out, kNode, "size", Problem::OutOfRange, Effect::Ignored, size);
        } else if (out.memreserve_count == kMaxReserved) {
            ++out.memreserve_dropped;
        } else {
            out.memreserve[out.memreserve_count++] = MemRange{base, size};
        }
    }
    return Status::BadStructure; // no terminating entry before totalsize
}

} // namespace dtb::fdt
