// dtb value decoding: reg entries, refusals, defaults, /chosen/stdout-path.
#include "dtb/values.hpp"

namespace dtb {
namespace {

constexpr std::uint32_t kAllDefaulted =
    kNoMemory | kNoUart | kNoTestDevice | kNoTimebase | kNoBootargs | kNoCpus;

std::uint64_t read_cells(const unsigned char* p, std::uint32_t cells) {
    std::uint64_t v = 0;
    for (std::uint32_t i = 0; i < cells; ++i)
        v = v << 32 | fdt::be32(p + 4 * i);
    return v;
}

RegCheck refused(Problem p, std::uint64_t value) {
    return RegCheck{false, p, value};
}

} // namespace

RegCheck read_reg(const fdt::Value& reg, const Level& parent, std::uint64_t& addr,
                  std::uint64_t& size, std::uint32_t index) {
    const std::uint32_t ac = parent.addr_cells;
    const std::uint32_t sc = parent.size_cells;
    if (!reg.present()) return refused(Problem::Missing, 0);
    if (!parent.cells_ok || ac < 1 || ac > 2 || sc > 2) return refused(Problem::BadCells, ac);
    const std::uint32_t entry = 4 * (ac + sc);
    if (reg.len < entry || reg.len % entry != 0) return refused(Problem::WrongLength, reg.len);
    if (index >= reg.len / entry) return refused(Problem::Missing, index);
    const unsigned char* e = reg.data + std::uint64_t{entry} * index;
    addr = read_cells(e, ac);
    size = read_cells(e + 4 * ac, sc);
    if (size != 0 && addr + (size - 1) < addr) return refused(Problem::OutOfRange, addr);
    return RegCheck{};
}

std::uint32_t reg_entries(const fdt::Value& reg, const Level& parent) {
    const std::uint32_t ac = parent.addr_cells;
    const std::uint32_t sc = parent.size_cells;
    if (!reg.present() || !parent.cells_ok || ac < 1 || ac > 2 || sc > 2) return 0;
    const std::uint32_t entry = 4 * (ac + sc);
    return reg.len % entry == 0 ? reg.len / entry : 0;
}

void add_refusal(Platform& out, const char* node, const char* prop, Problem p, Effect e,
                 std::uint64_t value) {
    if (out.refusal_count == kMaxRefusals) {
        ++out.refusals_dropped;
        return;
    }
    out.refusals[out.refusal_count++] = Refusal{node, prop, p, e, {}, value};
}

void set_defaults(Platform& p) {
    for (Hart& h : p.harts)
        h = Hart{};
    p.hart_count = 0;
    p.harts_dropped = 0;
    p.mem_base = kDefaultMemBase;
    p.mem_size = kDefaultMemSize;
    for (MemRange& m : p.memory)
        m = MemRange{0, 0};
    p.memory_count = 0;
    p.memory_dropped = 0;
    for (MemRange& m : p.reserved)
        m = MemRange{0, 0};
    p.reserved_count = 0;
    p.reserved_dropped = 0;
    for (MemRange& m : p.memreserve)
        m = MemRange{0, 0};
    p.memreserve_count = 0;
    p.memreserve_dropped = 0;
    p.uart_base = kDefaultUartBase;
    p.uart_reg_shift = 0;
    p.test_base = 0;
    p.htif_base = 0;
    p.timebase_hz = kDefaultTimebaseHz;
    p.bootargs = "";
    p.defaulted = kAllDefaulted;
    for (Refusal& r : p.refusals)
        r = Refusal{"", "", Problem::Missing, Effect::Ignored, {}, 0};
    p.refusal_count = 0;
    p.refusals_dropped = 0;
}

Status stdout_path(const fdt::Blob& blob, Platform& out, const char*& path, std::uint32_t& len) {
    path = "";
    len = 0;
    fdt::Value v;
    const char* which = "";
    static constexpr const char* kProps[] = {"stdout-path", "linux,stdout-path"};
    for (const char* prop : kProps) {
        if (const Status s = fdt::find_property(blob, "/chosen", 7, prop,
                                                static_cast<std::uint32_t>(fdt::str_len(prop)), v);
            s != Status::Ok)
            return s;
        which = prop;
        if (v.present()) break;
    }
    const char* spec = "";
    if (v.present() && !v.as_string(spec)) {
        add_refusal(out, "chosen", which, Problem::NotString, Effect::Ignored, v.len);
        return Status::Ok;
    }
    std::uint32_t n = 0;
    while (spec[n] != '\0' && spec[n] != ':')
        ++n;
    if (n == 0 || spec[0] == '/') {
        path = spec;
        len = n;
        return Status::Ok;
    }
    if (const Status s = fdt::find_property(blob, "/aliases", 8, spec, n, v); s != Status::Ok)
        return s;
    if (v.present() && !v.as_string(path)) {
        add_refusal(out, "aliases", "(stdout-path alias)", Problem::NotString, Effect::Ignored,
                    v.len);
        path = "";
        return Status::Ok;
    }
    len = static_cast<std::uint32_t>(fdt::str_len(path));
    return Status::Ok;
}

} // namespace dtb
