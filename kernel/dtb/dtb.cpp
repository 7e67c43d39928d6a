// Device tree reader: walks the validated structure block and fills a Platform.
#include "kernel/dtb/dtb.hpp"

#include "kernel/dtb/fdt.hpp"

namespace dtb {
namespace {

using fdt::Event;
using fdt::Token;
using fdt::Value;

constexpr std::uint32_t kAllDefaulted =
    kNoMemory | kNoUart | kNoTestDevice | kNoTimebase | kNoBootargs | kNoCpus;
constexpr std::uint64_t kMaxRegShift = 3; // 8-bit .. 64-bit register stride

void set_defaults(Platform& p) {
    for (Hart& h : p.harts)
        h = Hart{};
    p.hart_count = 0;
    p.harts_dropped = 0;
    p.mem_base = kDefaultMemBase;
    p.mem_size = kDefaultMemSize;
    p.uart_base = kDefaultUartBase;
    p.uart_reg_shift = 0;
    p.test_base = 0;
    p.timebase_hz = kDefaultTimebaseHz;
    p.bootargs = "";
    p.defaulted = kAllDefaulted;
}

std::uint64_t read_cells(const unsigned char* p, std::uint32_t cells) {
    std::uint64_t v = 0;
    for (std::uint32_t i = 0; i < cells; ++i)
        v = v << 32 | fdt::be32(p + 4 * i);
    return v;
}

// The cell sizes a node gives its children (defaults per DTSpec 2.3.5).
struct Level {
    const char* name = "";
    std::uint32_t addr_cells = 2;
    std::uint32_t size_cells = 1;
};

// First entry of a reg property, read with the parent's cell sizes. A reg must hold whole
// entries; more than two cells per number does not fit our 64-bit values.
bool read_reg(const Value& reg, const Level& parent, std::uint64_t& addr, std::uint64_t& size) {
    const std::uint32_t ac = parent.addr_cells;
    const std::uint32_t sc = parent.size_cells;
    if (!reg.present() || ac < 1 || ac > 2 || sc > 2) return false;
    const std::uint32_t entry = 4 * (ac + sc);
    if (reg.len < entry || reg.len % entry != 0) return false;
    addr = read_cells(reg.data, ac);
    size = read_cells(reg.data + 4 * ac, sc);
    return true;
}

// Properties of the open node that the reader may consume. Properties precede subnodes, so a
// node is complete at its first subnode or its end, whichever comes first.
struct NodeProps {
    Value device_type, compatible, reg, status, mmu_type, isa, isa_ext, reg_shift, timebase,
        bootargs;
    bool stdout_target = false;
    bool pending = false;
};

class Parser {
  public:
    Parser(const fdt::Blob& blob, Platform& out, const char* stdout_path, std::uint32_t len)
        : blob_(blob), out_(out), stdout_(stdout_path, len) {}
    Status run();

  private:
    Status on_prop(const Event& ev);
    Status finish_node();
    Status cpu(const Level& parent);
    Status uart(const Level& parent);
    Status take_timebase();
    void finish();

    const fdt::Blob& blob_;
    Platform& out_;
    fdt::PathMatch stdout_;
    Level levels_[fdt::kMaxDepth];
    std::uint32_t depth_ = 0; // depth of the node whose NodeProps are pending
    NodeProps cur_;

    bool mem_found_ = false, test_found_ = false, timebase_found_ = false;
    bool bootargs_found_ = false, uart_first_found_ = false, uart_stdout_found_ = false;
    std::uint64_t uart_first_base_ = 0, uart_stdout_base_ = 0;
    std::uint32_t uart_first_shift_ = 0, uart_stdout_shift_ = 0;
};

Status Parser::run() {
    fdt::Walker walker(blob_);
    for (;;) {
        Event ev;
        if (const Status s = walker.next(ev); s != Status::Ok) return s;
        Status s = Status::Ok;
        switch (ev.kind) {
        case Token::BeginNode:
            if (cur_.pending) s = finish_node(); // the parent's properties are complete
            depth_ = ev.depth;
            levels_[depth_] = Level{ev.name};
            cur_ = NodeProps{};
            cur_.pending = true;
            cur_.stdout_target = stdout_.enter(ev.depth, ev.name);
            break;
        case Token::Prop:
            s = on_prop(ev); // the walker guarantees ev.depth == depth_
            break;
        case Token::EndNode:
            if (cur_.pending) s = finish_node();
            break;
        case Token::End:
            finish();
            return Status::Ok;
        }
        if (s != Status::Ok) return s;
    }
}

Status Parser::on_prop(const Event& ev) {
    const char* n = ev.name;
    Level& lv = levels_[depth_];
    if (fdt::str_eq(n, "#address-cells") || fdt::str_eq(n, "#size-cells")) {
        if (ev.value.len != 4) return Status::BadStructure;
        (n[1] == 'a' ? lv.addr_cells : lv.size_cells) = fdt::be32(ev.value.data);
        return Status::Ok;
    }
    struct Slot {
        const char* name;
        Value NodeProps::*field;
    };
    static constexpr Slot kSlots[] = {
        {"device_type", &NodeProps::device_type},
        {"compatible", &NodeProps::compatible},
        {"reg", &NodeProps::reg},
        {"status", &NodeProps::status},
        {"mmu-type", &NodeProps::mmu_type},
        {"riscv,isa", &NodeProps::isa},
        {"riscv,isa-extensions", &NodeProps::isa_ext},
        {"reg-shift", &NodeProps::reg_shift},
        {"timebase-frequency", &NodeProps::timebase},
        {"bootargs", &NodeProps::bootargs},
    };
    for (const Slot& slot : kSlots) {
        if (fdt::str_eq(n, slot.name)) {
            cur_.*slot.field = ev.value;
            break;
        }
    }
    return Status::Ok;
}

Status Parser::finish_node() {
    cur_.pending = false;
    const std::uint32_t d = depth_;
    if (d == 0) return Status::Ok;
    const Level& parent = levels_[d - 1];
    const char* name = levels_[d].name;

    // device_type and compatible are checked on every node that has them.
    const char* type = "";
    bool uart_compat = false;
    bool test_compat = false;
    if (cur_.device_type.present() && !cur_.device_type.as_string(type))
        return Status::BadStructure;
    if (cur_.compatible.present() && (!cur_.compatible.list_has("ns16550a", uart_compat) ||
                                      !cur_.compatible.list_has("sifive,test0", test_compat)))
        return Status::BadStructure;

    if (d == 1 && fdt::str_eq(name, "chosen") && cur_.bootargs.present()) {
        if (!cur_.bootargs.as_string(out_.bootargs)) return Status::BadStructure;
        bootargs_found_ = true;
    }
    if (d == 1 && fdt::str_eq(name, "cpus")) return take_timebase();
    if (d == 2 && fdt::str_eq(levels_[1].name, "cpus") && fdt::str_eq(type, "cpu"))
        return cpu(parent);
    if (d == 1 && fdt::str_eq(type, "memory") && !mem_found_) {
        std::uint64_t base = 0, size = 0;
        if (!read_reg(cur_.reg, parent, base, size) || base + size < base)
            return Status::BadStructure; // missing, malformed, or wrapping around
        if (size != 0) {
            out_.mem_base = base;
            out_.mem_size = size;
            mem_found_ = true;
        }
    }
    if (uart_compat) {
        if (const Status s = uart(parent); s != Status::Ok) return s;
    }
    if (test_compat && !test_found_) {
        std::uint64_t size = 0;
        if (!read_reg(cur_.reg, parent, out_.test_base, size)) return Status::BadStructure;
        test_found_ = true;
    }
    return Status::Ok;
}

// timebase-frequency of /cpus, or of a cpu node when /cpus has none (the first one wins).
// A zero frequency counts as absent: it would only make the kernel divide by zero.
Status Parser::take_timebase() {
    std::uint64_t hz = 0;
    if (!cur_.timebase.present() || timebase_found_) return Status::Ok;
    if (!cur_.timebase.as_u64(hz)) return Status::BadStructure;
    if (hz != 0) {
        out_.timebase_hz = hz;
        timebase_found_ = true;
    }
    return Status::Ok;
}

Status Parser::cpu(const Level& parent) {
    std::uint64_t id = 0, size = 0;
    if (!read_reg(cur_.reg, parent, id, size)) return Status::BadStructure;
    Hart h{};
    h.hart_id = static_cast<std::uint32_t>(id);
    const char* s = "";
    if (cur_.status.present() && !cur_.status.as_string(s)) return Status::BadStructure;
    h.enabled = !cur_.status.present() || fdt::str_eq(s, "okay") || fdt::str_eq(s, "ok");
    if (cur_.mmu_type.present()) {
        if (!cur_.mmu_type.as_string(s)) return Status::BadStructure;
        h.s_mode = !fdt::str_eq(s, "riscv,none");
    }
    if (cur_.isa.present()) {
        if (!cur_.isa.as_string(s)) return Status::BadStructure;
        h.sstc = fdt::isa_has_sstc(s);
    }
    if (cur_.isa_ext.present()) { // the newer string-list form
        bool listed = false;
        if (!cur_.isa_ext.list_has("sstc", listed)) return Status::BadStructure;
        h.sstc = h.sstc || listed;
    }
    if (const Status st = take_timebase(); st != Status::Ok) return st;
    if (id > 0xffff'ffffu || out_.hart_count == kMaxHarts) {
        ++out_.harts_dropped;
        return Status::Ok;
    }
    out_.harts[out_.hart_count++] = h;
    return Status::Ok;
}

Status Parser::uart(const Level& parent) {
    std::uint64_t base = 0, size = 0, shift = 0;
    if (!read_reg(cur_.reg, parent, base, size)) return Status::BadStructure;
    if (cur_.reg_shift.present() &&
        (cur_.reg_shift.len != 4 || !cur_.reg_shift.as_u64(shift) || shift > kMaxRegShift))
        return Status::BadStructure;
    if (cur_.stdout_target && !uart_stdout_found_) { // the first match, if ambiguous
        uart_stdout_base_ = base;
        uart_stdout_shift_ = static_cast<std::uint32_t>(shift);
        uart_stdout_found_ = true;
    }
    if (!uart_first_found_) {
        uart_first_base_ = base;
        uart_first_shift_ = static_cast<std::uint32_t>(shift);
        uart_first_found_ = true;
    }
    return Status::Ok;
}

// Whatever was not found keeps its default from set_defaults() and gets its Defaulted bit.
void Parser::finish() {
    std::uint32_t bits = 0;
    if (uart_stdout_found_) {
        out_.uart_base = uart_stdout_base_;
        out_.uart_reg_shift = uart_stdout_shift_;
    } else if (uart_first_found_) {
        out_.uart_base = uart_first_base_;
        out_.uart_reg_shift = uart_first_shift_;
    } else {
        bits |= kNoUart;
    }
    if (!mem_found_) bits |= kNoMemory;
    if (!test_found_) bits |= kNoTestDevice;
    if (!timebase_found_) bits |= kNoTimebase;
    if (!bootargs_found_) bits |= kNoBootargs;
    if (out_.hart_count == 0) bits |= kNoCpus;
    out_.defaulted = bits;
}

// The node /chosen/stdout-path names: "path[:options]" or "alias[:options]" (DTSpec 3.6).
Status stdout_path(const fdt::Blob& blob, const char*& path, std::uint32_t& len) {
    path = "";
    len = 0;
    Value v;
    static constexpr const char* kProps[] = {"stdout-path", "linux,stdout-path"};
    for (const char* prop : kProps) {
        if (const Status s = fdt::find_property(blob, "/chosen", 7, prop,
                                                static_cast<std::uint32_t>(fdt::str_len(prop)), v);
            s != Status::Ok)
            return s;
        if (v.present()) break;
    }
    const char* spec = "";
    if (v.present() && !v.as_string(spec)) return Status::BadStructure;
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
    if (v.present() && !v.as_string(path)) return Status::BadStructure;
    len = static_cast<std::uint32_t>(fdt::str_len(path));
    return Status::Ok;
}

} // namespace

Status parse(const void* blob, std::size_t size, Platform& out) {
    set_defaults(out);
    fdt::Blob b;
    if (const Status s = fdt::check_header(blob, size, b); s != Status::Ok) return s;
    const char* path = "";
    std::uint32_t len = 0;
    if (const Status s = stdout_path(b, path, len); s != Status::Ok) return s;
    // The main walk validates the whole tree; on failure nothing it wrote may survive.
    Parser parser(b, out, path, len);
    const Status s = parser.run();
    if (s != Status::Ok) set_defaults(out);
    return s;
}

} // namespace dtb
