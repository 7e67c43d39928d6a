// Device tree reader: walks the validated structure block and fills a Platform, refusing bad
// values one by one (never the whole tree for a bad value).
#include "dtb/dtb.hpp"

#include "dtb/fdt.hpp"
#include "dtb/values.hpp"

namespace dtb {
namespace {

using fdt::Event;
using fdt::Token;
using fdt::Value;

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
    void on_prop(const Event& ev);
    void finish_node();
    void cpu(const Level& parent, const char* name);
    void memory(const Level& parent, const char* name);
    void reserved(const Level& parent, const char* name);
    std::uint32_t ranges(const Level& parent, const char* name, MemRange* out, std::uint32_t cap,
                         std::uint32_t& count, std::uint32_t& dropped);
    void uart(const Level& parent, const char* name);
    bool device_reg(const Level& parent, const char* name, std::uint64_t& base);
    void take_timebase(const char* name);
    void take_bootargs(const char* name);
    bool node_okay(const char* name, bool& okay);
    void finish();
    void refuse(const char* node, const char* prop, Problem p, Effect e, std::uint64_t v = 0) {
        add_refusal(out_, node, prop, p, e, v);
    }

    const fdt::Blob& blob_;
    Platform& out_;
    fdt::PathMatch stdout_;
    Level levels_[fdt::kMaxDepth];
    std::uint32_t depth_ = 0; // depth of the node whose NodeProps are pending
    NodeProps cur_;

    bool mem_found_ = false, test_found_ = false, htif_found_ = false, timebase_found_ = false;
    bool bootargs_found_ = false, uart_first_found_ = false, uart_stdout_found_ = false;
    std::uint64_t uart_first_base_ = 0, uart_stdout_base_ = 0;
    std::uint32_t uart_first_shift_ = 0, uart_stdout_shift_ = 0;
};

Status Parser::run() {
    fdt::Walker walker(blob_);
    for (;;) {
        Event ev;
        if (const Status s = walker.next(ev); s != Status::Ok) return s;
        switch (ev.kind) {
        case Token::BeginNode:
            if (cur_.pending) finish_node(); // the parent's properties are complete
            depth_ = ev.depth;
            levels_[depth_] = Level{ev.name};
            cur_ = NodeProps{};
            cur_.pending = true;
            cur_.stdout_target = stdout_.enter(ev.depth, ev.name);
            break;
        case Token::Prop:
            on_prop(ev); // the walker guarantees ev.depth == depth_
            break;
        case Token::EndNode:
            if (cur_.pending) finish_node();
            break;
        case Token::End:
            finish();
            return Status::Ok;
        }
    }
}

void Parser::on_prop(const Event& ev) {
    const char* n = ev.name;
    Level& lv = levels_[depth_];
    if (fdt::str_eq(n, "#address-cells") || fdt::str_eq(n, "#size-cells")) {
        std::uint32_t& cells = n[1] == 'a' ? lv.addr_cells : lv.size_cells;
        if (ev.value.len != 4) {
            refuse(lv.name, n, Problem::WrongLength, Effect::Ignored, ev.value.len);
            lv.cells_ok = false;
        } else if (fdt::be32(ev.value.data) > kMaxCells) {
            refuse(lv.name, n, Problem::OutOfRange, Effect::Ignored, fdt::be32(ev.value.data));
            lv.cells_ok = false;
        } else {
            cells = fdt::be32(ev.value.data);
        }
        return;
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
}

void Parser::finish_node() {
    cur_.pending = false;
    const std::uint32_t d = depth_;
    if (d == 0) return;
    const Level& parent = levels_[d - 1];
    const char* name = levels_[d].name;

    // device_type and compatible decide what a node is: unreadable, it is nothing.
    const char* type = "";
    bool uart_compat = false, test_compat = false, htif_compat = false;
    if (cur_.device_type.present() && !cur_.device_type.as_string(type)) {
        refuse(name, "device_type", Problem::NotString, Effect::NodeSkipped);
        return;
    }
    if (cur_.compatible.present() && (!cur_.compatible.list_has("ns16550a", uart_compat) ||
                                      !cur_.compatible.list_has("sifive,test0", test_compat) ||
                                      !cur_.compatible.list_has("ucb,htif0", htif_compat))) {
        refuse(name, "compatible", Problem::NotString, Effect::NodeSkipped);
        return;
    }

    if (d == 1 && fdt::str_eq(name, "chosen")) take_bootargs(name);
    if (d == 1 && fdt::str_eq(name, "cpus")) take_timebase(name);
    if (d == 2 && fdt::str_eq(levels_[1].name, "cpus") && fdt::str_eq(type, "cpu"))
        return cpu(parent, name);
    if (d == 1 && fdt::str_eq(type, "memory")) memory(parent, name);
    if (d == 2 && fdt::str_eq(levels_[1].name, "reserved-memory")) reserved(parent, name);
    if (uart_compat) uart(parent, name);
    if (test_compat && !test_found_) test_found_ = device_reg(parent, name, out_.test_base);
    if (htif_compat && !htif_found_) htif_found_ = device_reg(parent, name, out_.htif_base);
}

// status: absent or "okay"/"ok" means usable. False (and a refusal) when it is no string.
bool Parser::node_okay(const char* name, bool& okay) {
    const char* s = "";
    okay = true;
    if (!cur_.status.present()) return true;
    if (!cur_.status.as_string(s)) {
        refuse(name, "status", Problem::NotString, Effect::NodeSkipped);
        return false;
    }
    okay = fdt::str_eq(s, "okay") || fdt::str_eq(s, "ok");
    return true;
}

// The first entry of a device's reg; false (and a refusal: node skipped) when unusable.
bool Parser::device_reg(const Level& parent, const char* name, std::uint64_t& base) {
    bool okay = false;
    if (!node_okay(name, okay) || !okay) return false;
    std::uint64_t size = 0;
    const RegCheck r = read_reg(cur_.reg, parent, base, size);
    if (!r.ok) refuse(name, "reg", r.problem, Effect::NodeSkipped, r.value);
    return r.ok;
}

// timebase-frequency of /cpus, or of a cpu node when /cpus has none usable (the first one
// wins). DTSpec allows one or two cells; the value must be within the accepted range.
void Parser::take_timebase(const char* name) {
    const Value& v = cur_.timebase;
    if (!v.present() || timebase_found_) return;
    std::uint64_t hz = 0;
    if (!v.as_u64(hz)) {
        refuse(name, "timebase-frequency", Problem::WrongLength, Effect::DefaultUsed, v.len);
    } else if (hz < kMinTimebaseHz || hz > kMaxTimebaseHz) {
        refuse(name, "timebase-frequency", Problem::OutOfRange, Effect::DefaultUsed, hz);
    } else {
        out_.timebase_hz = hz;
        timebase_found_ = true;
    }
}

// /chosen/bootargs: exactly one NUL-terminated string filling the property.
void Parser::take_bootargs(const char* name) {
    const Value& v = cur_.bootargs;
    if (!v.present()) return;
    const char* s = "";
    if (!v.as_string(s) || fdt::str_len(s) + 1 != v.len) {
        refuse(name, "bootargs", Problem::NotString, Effect::DefaultUsed, v.len);
        return;
    }
    out_.bootargs = s;
    bootargs_found_ = true;
}

void Parser::cpu(const Level& parent, const char* name) {
    std::uint64_t id = 0, size = 0;
    if (const RegCheck r = read_reg(cur_.reg, parent, id, size); !r.ok)
        return refuse(name, "reg", r.problem, Effect::NodeSkipped, r.value);
    Hart h{};
    h.hart_id = static_cast<std::uint32_t>(id);
    if (!node_okay(name, h.enabled)) return;
    const char* s = "";
    if (cur_.mmu_type.present()) {
        if (!cur_.mmu_type.as_string(s))
            return refuse(name, "mmu-type", Problem::NotString, Effect::NodeSkipped);
        h.s_mode = !fdt::str_eq(s, "riscv,none");
    }
    if (cur_.isa.present()) {
        if (cur_.isa.as_string(s))
            h.sstc = fdt::isa_has_sstc(s);
        else
            refuse(name, "riscv,isa", Problem::NotString, Effect::Ignored);
    }
    if (cur_.isa_ext.present()) { // the newer string-list form
        bool listed = false;
        if (cur_.isa_ext.list_has("sstc", listed))
            h.sstc = h.sstc || listed;
        else
            refuse(name, "riscv,isa-extensions", Problem::NotString, Effect::Ignored);
    }
    take_timebase(name);
    if (id > 0xffff'ffffu || out_.hart_count == kMaxHarts) {
        ++out_.harts_dropped;
        return;
    }
    for (std::uint32_t i = 0; i < out_.hart_count; ++i)
        if (out_.harts[i].hart_id == h.hart_id)
            return refuse(name, "reg", Problem::Duplicate, Effect::NodeSkipped, id);
    out_.harts[out_.hart_count++] = h;
}

// Every reg entry of the open node into out[] (up to cap; more are counted in dropped).
// Entries of size 0 are refused one by one; a node left without any is skipped. Returns the
// number of usable entries.
std::uint32_t Parser::ranges(const Level& parent, const char* name, MemRange* out,
                             std::uint32_t cap, std::uint32_t& count, std::uint32_t& dropped) {
    std::uint64_t base = 0, size = 0;
    if (const RegCheck r = read_reg(cur_.reg, parent, base, size); !r.ok) {
        refuse(name, "reg", r.problem, Effect::NodeSkipped, r.value);
        return 0;
    }
    const std::uint32_t n = reg_entries(cur_.reg, parent);
    std::uint32_t usable = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        if (const RegCheck r = read_reg(cur_.reg, parent, base, size, i); !r.ok) {
            refuse(name, "reg", r.problem, n == 1 ? Effect::NodeSkipped : Effect::Ignored, r.value);
            continue;
        }
        if (size == 0) {
            refuse(name, "reg", Problem::OutOfRange, n == 1 ? Effect::NodeSkipped : Effect::Ignored,
                   0);
            continue;
        }
        ++usable;
        if (count == cap) {
            ++dropped;
            continue;
        }
        out[count++] = MemRange{base, size};
    }
    return usable;
}

void Parser::memory(const Level& parent, const char* name) {
    bool okay = false;
    if (!node_okay(name, okay) || !okay) return;
    const std::uint32_t first = out_.memory_count;
    if (ranges(parent, name, out_.memory, kMaxMemRanges, out_.memory_count, out_.memory_dropped) ==
        0)
        return;
    if (!mem_found_ && out_.memory_count > first) {
        out_.mem_base = out_.memory[first].base;
        out_.mem_size = out_.memory[first].size;
        mem_found_ = true;
    }
}

// A child of /reserved-memory; a disabled one reserves nothing (as in Linux).
void Parser::reserved(const Level& parent, const char* name) {
    bool okay = false;
    if (!node_okay(name, okay) || !okay) return;
    (void)ranges(parent, name, out_.reserved, kMaxReserved, out_.reserved_count,
                 out_.reserved_dropped);
}

void Parser::uart(const Level& parent, const char* name) {
    std::uint64_t base = 0, shift = 0;
    if (!device_reg(parent, name, base)) return;
    if (cur_.reg_shift.present()) {
        if (cur_.reg_shift.len != 4 || !cur_.reg_shift.as_u64(shift))
            return refuse(name, "reg-shift", Problem::WrongLength, Effect::NodeSkipped,
                          cur_.reg_shift.len);
        if (shift > kMaxRegShift)
            return refuse(name, "reg-shift", Problem::OutOfRange, Effect::NodeSkipped, shift);
    }
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

} // namespace

Status parse(const void* blob, std::size_t size, Platform& out) {
    set_defaults(out);
    fdt::Blob b;
    if (const Status s = fdt::check_header(blob, size, b); s != Status::Ok) return s;
    const char* path = "";
    std::uint32_t len = 0;
    if (const Status s = stdout_path(b, out, path, len); s != Status::Ok) {
        set_defaults(out);
        return s;
    }
    // The main walk validates the whole blob; on failure nothing it wrote may survive.
    Parser parser(b, out, path, len);
    Status s = parser.run();
    if (s == Status::Ok) s = fdt::read_memreserve(b, out);
    if (s != Status::Ok) set_defaults(out);
    return s;
}

Status parse_blob(const void* blob, Platform& out) {
    if (blob == nullptr) return parse(blob, 0, out);
    const std::size_t total = blob_size(blob);
    if (total > kMaxBlobSize) {
        set_defaults(out);
        return Status::TooLarge;
    }
    // A bad magic or a totalsize below the header: let the header check say which.
    return parse(blob, total != 0 ? total : fdt::kHeaderSize, out);
}

} // namespace dtb
