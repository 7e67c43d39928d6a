// The interrupt facts of a device tree: one walk, a stack of open nodes, the PLIC's contexts
// resolved through the cpus' interrupt-controller phandles at the end.
#include "dtb/irq_info.hpp"

#include "dtb/fdt.hpp"
#include "dtb/values.hpp"

namespace dtb {
namespace {

using fdt::Event;
using fdt::Token;
using fdt::Value;

struct Open {
    Level level;
    Value compatible, reg, interrupts, ext, ndev, phandle;
    bool intc = false; // has the interrupt-controller property
};

constexpr std::uint32_t kMaxPhandles = kMaxIrqContexts;
struct HartPhandle {
    std::uint32_t phandle, hart_id;
};

bool starts_with(const char* s, const char* prefix) {
    while (*prefix)
        if (*s++ != *prefix++) return false;
    return true;
}

bool compat_has(const Value& v, const char* s) {
    bool found = false;
    return v.present() && v.list_has(s, found) && found;
}

void clear(IrqInfo& out) {
    out = IrqInfo{};
    out.refused = "";
}

} // namespace

Status parse_irq(const void* blob, std::size_t size, IrqInfo& out) {
    clear(out);
    fdt::Blob b;
    if (const Status s = fdt::check_header(blob, size, b); s != Status::Ok) return s;
    fdt::Walker walker(b);
    Open open[fdt::kMaxDepth];
    HartPhandle harts[kMaxPhandles];
    std::uint32_t hart_count = 0;
    Value plic_ext;
    for (;;) {
        Event ev;
        if (const Status s = walker.next(ev); s != Status::Ok) {
            clear(out);
            return s;
        }
        if (ev.kind == Token::End) break;
        const std::uint32_t d = ev.depth;
        if (ev.kind == Token::BeginNode) {
            open[d] = Open{};
            open[d].level.name = ev.name;
            continue;
        }
        Open& o = open[d];
        if (ev.kind == Token::Prop) {
            const char* n = ev.name;
            if (fdt::str_eq(n, "#address-cells") || fdt::str_eq(n, "#size-cells")) {
                std::uint32_t& cells = n[1] == 'a' ? o.level.addr_cells : o.level.size_cells;
                if (ev.value.len == 4 && fdt::be32(ev.value.data) <= kMaxCells)
                    cells = fdt::be32(ev.value.data);
                else
                    o.level.cells_ok = false;
            } else if (fdt::str_eq(n, "compatible")) {
                o.compatible = ev.value;
            } else if (fdt::str_eq(n, "reg")) {
                o.reg = ev.value;
            } else if (fdt::str_eq(n, "interrupts")) {
                o.interrupts = ev.value;
            } else if (fdt::str_eq(n, "interrupts-extended")) {
                o.ext = ev.value;
            } else if (fdt::str_eq(n, "riscv,ndev")) {
                o.ndev = ev.value;
            } else if (fdt::str_eq(n, "phandle")) {
                o.phandle = ev.value;
            } else if (fdt::str_eq(n, "interrupt-controller")) {
                o.intc = true;
            }
            continue;
        }
        // EndNode: the node is complete; its parent's cells are open[d - 1].
        if (d == 0) continue;
        const Level& parent = open[d - 1].level;
        // A cpu's interrupt controller: /cpus/cpu@N/interrupt-controller.
        if (d == 3 && o.intc && fdt::str_eq(open[1].level.name, "cpus") &&
            starts_with(open[2].level.name, "cpu@") && o.phandle.len == 4 &&
            hart_count < kMaxPhandles) {
            std::uint64_t id = 0, sz = 0;
            if (read_reg(open[2].reg, open[1].level, id, sz).ok && id <= 0xffff'ffffu)
                harts[hart_count++] = {fdt::be32(o.phandle.data), static_cast<std::uint32_t>(id)};
            continue;
        }
        const bool plic = compat_has(o.compatible, "sifive,plic-1.0.0") ||
                          compat_has(o.compatible, "riscv,plic0");
        const bool aplic = compat_has(o.compatible, "riscv,aplic");
        if (plic && out.controller != IrqController::Plic) {
            std::uint64_t base = 0, sz = 0, ndev = 0;
            if (!read_reg(o.reg, parent, base, sz).ok || sz == 0) {
                out.refused = "plic reg";
            } else if (o.ndev.len != 4 || !o.ndev.as_u64(ndev) || ndev == 0 ||
                       ndev > kMaxPlicSources) {
                out.refused = "plic riscv,ndev";
            } else if (!o.ext.present() || o.ext.len % 8 != 0) {
                out.refused = "plic interrupts-extended";
            } else {
                out.controller = IrqController::Plic;
                out.base = base;
                out.size = sz;
                out.sources = static_cast<std::uint32_t>(ndev);
                plic_ext = o.ext;
            }
            continue;
        }
        if (aplic) {
            if (out.controller == IrqController::None) {
                std::uint64_t base = 0, sz = 0;
                if (read_reg(o.reg, parent, base, sz).ok) {
                    out.base = base;
                    out.size = sz;
                }
                out.controller = IrqController::Aplic;
            }
            continue;
        }
        if (d < 2 || o.intc || !o.compatible.present() || !o.reg.present()) continue;
        const char* compat = "";
        std::uint64_t base = 0, sz = 0;
        bool listed = false; // a well-formed string list (the probe's answer does not matter)
        if (!o.compatible.as_string(compat) || !o.compatible.list_has("", listed) ||
            !read_reg(o.reg, parent, base, sz).ok || sz == 0)
            continue;
        if (out.device_count == kMaxDeviceNodes) {
            ++out.devices_dropped;
            continue;
        }
        const std::uint32_t irq = o.interrupts.len == 4 ? fdt::be32(o.interrupts.data) : 0;
        out.devices[out.device_count++] =
            DeviceNode{o.level.name,
                       compat,
                       reinterpret_cast<const char*>(o.compatible.data),
                       o.compatible.len,
                       base,
                       sz,
                       irq};
    }
    if (out.controller == IrqController::Plic) {
        // interrupts-extended: <phandle cause> per context, in context order.
        const std::uint32_t pairs = plic_ext.len / 8;
        for (std::uint32_t i = 0; i < pairs; ++i) {
            const std::uint32_t ph = fdt::be32(plic_ext.data + 8 * i);
            const std::uint32_t cause = fdt::be32(plic_ext.data + 8 * i + 4);
            if (cause != 9) continue;
            bool found = false;
            for (std::uint32_t h = 0; h < hart_count && !found; ++h) {
                if (harts[h].phandle != ph) continue;
                found = true;
                if (out.context_count < kMaxIrqContexts)
                    out.contexts[out.context_count++] = IrqContext{harts[h].hart_id, i};
            }
            if (!found && out.refused[0] == '\0') out.refused = "plic context of no cpu";
        }
    }
    return Status::Ok;
}

bool compatible_with(const DeviceNode& node, const char* s, std::size_t len) {
    for (std::uint32_t pos = 0; pos < node.compat_len;) {
        const char* entry = node.compat_list + pos;
        const std::size_t n = fdt::str_len(entry); // the list ends in a NUL (checked)
        if (fdt::mem_eq_str(s, len, entry)) return true;
        pos += static_cast<std::uint32_t>(n) + 1;
    }
    return false;
}

const DeviceNode* find_device(const IrqInfo& info, const char* compat) {
    for (std::uint32_t i = 0; i < info.device_count; ++i)
        if (compatible_with(info.devices[i], compat, fdt::str_len(compat))) return &info.devices[i];
    return nullptr;
}

} // namespace dtb
