// libfdt (Debian libfdt-dev, the reference parser) as the DTB reader's oracle: every fixture in
// fixtures/*.dtb is read by libfdt and by dtb::parse_blob, and the reader's facts must equal
// those computed with libfdt by the reader's documented rules (dtb.hpp), or be refused with a
// said refusal (Platform::refusals) where libfdt hands back a value the reader must not use.
#include "dtb/dtb.hpp"
#include "dtb/fdt.hpp"
#include "dtb/tests/fdt_builder.hpp"
#include "dtb/values.hpp"

#include <catch2/catch.hpp>
#include <libfdt.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {

// ------------------------------------------------------------------ libfdt side
struct Blob {
    std::vector<std::uint64_t> words; // 8-byte aligned, as libfdt wants
    std::size_t size = 0;
    const void* fdt() const { return words.data(); }
};

Blob load(const std::string& name) {
    const dtbtest::Bytes b = dtbtest::load_fixture(name);
    Blob out;
    out.size = b.size();
    out.words.resize((b.size() + 7) / 8);
    if (!b.empty()) std::memcpy(out.words.data(), b.data(), b.size());
    return out;
}

std::uint64_t be_cells(const void* p, int cells) {
    std::uint64_t v = 0;
    const auto* c = static_cast<const fdt32_t*>(p);
    for (int i = 0; i < cells; ++i)
        v = v << 32 | fdt32_to_cpu(c[i]);
    return v;
}

// A property as libfdt returns it (nullopt when absent).
std::optional<std::string> prop_bytes(const void* fdt, int node, const char* name) {
    int len = 0;
    const void* v = fdt_getprop(fdt, node, name, &len);
    if (v == nullptr) return std::nullopt;
    return std::string(static_cast<const char*>(v), static_cast<std::size_t>(len));
}

// The first string of a string property (what a C consumer of libfdt would take).
std::optional<std::string> prop_str(const void* fdt, int node, const char* name) {
    auto b = prop_bytes(fdt, node, name);
    if (!b) return std::nullopt;
    return std::string(b->c_str());
}

bool okay(const void* fdt, int node) {
    const auto s = prop_str(fdt, node, "status");
    return !s || *s == "okay" || *s == "ok";
}

struct Reg {
    std::uint64_t addr = 0, size = 0;
};
// First reg entry with the parent's cells (libfdt's defaults 2/1 when absent); nullopt when
// there is no reg, it holds no whole entry, the cells are more than 64 bits (libfdt allows 4;
// the reader refuses them), or the range wraps past 2^64 (the reader refuses it).
std::optional<Reg> first_reg(const void* fdt, int node) {
    const int parent = fdt_parent_offset(fdt, node);
    const int ac = fdt_address_cells(fdt, parent);
    const int sc = fdt_size_cells(fdt, parent);
    int len = 0;
    const void* v = fdt_getprop(fdt, node, "reg", &len);
    if (v == nullptr || ac < 1 || ac > 2 || sc < 0 || sc > 2) return std::nullopt;
    const int entry = 4 * (ac + sc);
    if (len < entry || len % entry != 0) return std::nullopt;
    const Reg r{be_cells(v, ac), be_cells(static_cast<const fdt32_t*>(v) + ac, sc)};
    if (r.size != 0 && r.addr + (r.size - 1) < r.addr) return std::nullopt;
    return r;
}

// A property the reader can read as a string: a NUL within its bytes.
bool is_str(const std::optional<std::string>& b) {
    return b && b->find('\0') != std::string::npos;
}

// Nesting depth of the tree, the root being level 1.
int levels(const void* fdt) {
    int depth = 0, most = 0;
    for (int node = 0; node >= 0; node = fdt_next_node(fdt, node, &depth))
        most = std::max(most, depth + 1);
    return most;
}

std::string name_of(const void* fdt, int node) {
    const char* n = fdt_get_name(fdt, node, nullptr);
    return n ? n : "";
}

// "rv64imafdc_zicsr_sstc": '_'-separated multi-letter extensions after the base; "sstc" with
// an optional version ("sstc1p0"), any case.
bool isa_lists_sstc(const std::string& isa) {
    std::string s;
    for (char c : isa)
        s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t at = s.find('_');
    while (at != std::string::npos) {
        const std::size_t end = s.find('_', at + 1);
        const std::string tok = s.substr(at + 1, end == std::string::npos ? end : end - at - 1);
        if (tok.rfind("sstc", 0) == 0) {
            const std::string ver = tok.substr(4);
            const std::size_t p = ver.find('p');
            const auto digits = [](const std::string& d) {
                return std::all_of(d.begin(), d.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c));
                });
            };
            if (p == std::string::npos ? digits(ver)
                                       : p > 0 && p + 1 < ver.size() && digits(ver.substr(0, p)) &&
                                             digits(ver.substr(p + 1)))
                return true;
        }
        at = end;
    }
    return false;
}

bool list_has(const std::string& list, const std::string& want) {
    std::size_t at = 0;
    while (at < list.size()) {
        const std::string item(list.c_str() + at);
        if (item == want) return true;
        at += item.size() + 1;
    }
    return false;
}

struct OracleHart {
    std::string node;
    std::uint64_t id;
    bool enabled, s_mode, sstc;
};

// ------------------------------------------------------------------ the reader's refusals
bool refused(const dtb::Platform& p, const std::string& node, const std::string& prop) {
    for (std::uint32_t i = 0; i < p.refusal_count; ++i)
        if (node == p.refusals[i].node && prop == p.refusals[i].prop) return true;
    return false;
}

// How many comparisons went through the refusal branch, over all fixtures (at least the field
// fixtures must exercise it, or the test would not be testing it).
int g_refusal_branches = 0;

void compare(const std::string& fixture) {
    INFO("fixture " << fixture);
    const Blob blob = load(fixture);
    const void* fdt = blob.fdt();
    REQUIRE(blob.size > 40);
    REQUIRE(fdt_check_header(fdt) == 0);
    REQUIRE(fdt_totalsize(fdt) == blob.size);
    REQUIRE(fdt_check_full(fdt, blob.size) == 0);

    const dtbtest::Exact exact(dtbtest::load_fixture(fixture));
    dtb::Platform p{};
    const dtb::Status parsed = dtb::parse_blob(exact.data(), p);
    // libfdt reads any depth; the reader refuses a tree nested beyond its bound, as a whole.
    if (levels(fdt) > static_cast<int>(dtb::fdt::kMaxDepth)) {
        CHECK(parsed == dtb::Status::BadStructure);
        CHECK(dtbtest::is_default(p));
        ++g_refusal_branches;
        return;
    }
    REQUIRE(parsed == dtb::Status::Ok);

    // ---- harts: /cpus children with device_type "cpu", in document order. A cpu node whose reg
    // or status the reader cannot read must be a said refusal (libfdt hands the bytes back).
    const int cpus = fdt_path_offset(fdt, "/cpus");
    std::vector<OracleHart> harts;
    std::vector<int> cpu_nodes; // the ones the reader keeps reading (timebase below)
    std::uint32_t dropped = 0;
    if (cpus >= 0) {
        int node = 0;
        fdt_for_each_subnode(node, fdt, cpus) {
            if (prop_str(fdt, node, "device_type") != std::optional<std::string>("cpu")) continue;
            INFO("cpu node " << name_of(fdt, node));
            const auto reg = first_reg(fdt, node);
            if (!reg) {
                CHECK(refused(p, name_of(fdt, node), "reg"));
                ++g_refusal_branches;
                continue;
            }
            const auto status = prop_bytes(fdt, node, "status");
            if (status && !is_str(status)) {
                CHECK(refused(p, name_of(fdt, node), "status"));
                ++g_refusal_branches;
                continue;
            }
            cpu_nodes.push_back(node);
            if (reg->addr > 0xffff'ffffu) { // a hart id the reader's 32 bits cannot hold
                ++dropped;
                continue;
            }
            const auto mmu = prop_str(fdt, node, "mmu-type");
            const auto isa = prop_str(fdt, node, "riscv,isa");
            const auto ext = prop_bytes(fdt, node, "riscv,isa-extensions");
            harts.push_back(OracleHart{
                name_of(fdt, node), reg->addr, okay(fdt, node), mmu && *mmu != "riscv,none",
                (isa && isa_lists_sstc(*isa)) || (ext && list_has(*ext, "sstc"))});
        }
    }
    // Each libfdt hart is the reader's next hart, or beyond kMaxHarts and counted as dropped,
    // or (a second node with an id already seen) refused as a duplicate.
    std::uint32_t next = 0;
    std::vector<std::uint64_t> seen;
    for (const OracleHart& h : harts) {
        INFO("cpu node " << h.node << " hart id " << h.id);
        if (next == dtb::kMaxHarts) {
            ++dropped;
            continue;
        }
        if (std::find(seen.begin(), seen.end(), h.id) != seen.end()) {
            CHECK(refused(p, h.node, "reg"));
            ++g_refusal_branches;
            continue;
        }
        seen.push_back(h.id);
        REQUIRE(next < p.hart_count);
        const dtb::Hart& r = p.harts[next++];
        CHECK(r.hart_id == h.id);
        CHECK(r.enabled == h.enabled);
        CHECK(r.s_mode == h.s_mode);
        CHECK(r.usable() == (h.enabled && h.s_mode));
        CHECK(r.sstc == h.sstc);
    }
    CHECK(p.hart_count == next);
    CHECK(p.harts_dropped == dropped);
    CHECK(((p.defaulted & dtb::kNoCpus) != 0) == (next == 0));

    // ---- memory: the first okay device_type "memory" child of / whose reg has a nonzero size.
    // Memory nodes before it that libfdt cannot give a usable reg for must be said refusals.
    std::optional<Reg> mem;
    int node = 0;
    fdt_for_each_subnode(node, fdt, 0) {
        if (prop_str(fdt, node, "device_type") != std::optional<std::string>("memory") ||
            !okay(fdt, node))
            continue;
        const auto reg = first_reg(fdt, node);
        if (reg && reg->size != 0) {
            mem = reg;
            break;
        }
        INFO("memory node " << name_of(fdt, node) << " without a usable reg");
        CHECK(refused(p, name_of(fdt, node), "reg"));
        ++g_refusal_branches;
    }
    if (mem) {
        CHECK(p.mem_base == mem->addr);
        CHECK(p.mem_size == mem->size);
        CHECK((p.defaulted & dtb::kNoMemory) == 0);
    } else {
        CHECK((p.defaulted & dtb::kNoMemory) != 0);
    }

    // ---- timebase: /cpus/timebase-frequency, else the first cpu node's (of those the reader
    // reads); the first one of 4 or 8 bytes within range wins, each one before it refused.
    std::vector<int> tb_nodes;
    if (cpus >= 0) tb_nodes.push_back(cpus);
    tb_nodes.insert(tb_nodes.end(), cpu_nodes.begin(), cpu_nodes.end());
    std::optional<std::uint64_t> timebase;
    for (const int n : tb_nodes) {
        const auto tb = prop_bytes(fdt, n, "timebase-frequency");
        if (!tb) continue;
        const std::string tb_node = name_of(fdt, n);
        const bool cells = tb->size() == 4 || tb->size() == 8;
        const std::uint64_t hz = cells ? be_cells(tb->data(), static_cast<int>(tb->size() / 4)) : 0;
        INFO("libfdt timebase " << tb->size() << " bytes, " << hz << " from " << tb_node);
        if (cells && hz >= dtb::kMinTimebaseHz && hz <= dtb::kMaxTimebaseHz) {
            timebase = hz;
            break;
        }
        // libfdt hands back the bytes; the reader must refuse them, and say so
        CHECK(refused(p, tb_node, "timebase-frequency"));
        ++g_refusal_branches;
    }
    if (timebase) {
        CHECK(p.timebase_hz == *timebase);
        CHECK((p.defaulted & dtb::kNoTimebase) == 0);
    } else {
        CHECK(p.timebase_hz == dtb::kDefaultTimebaseHz);
        CHECK((p.defaulted & dtb::kNoTimebase) != 0);
    }

    // ---- UART: the ns16550a /chosen/stdout-path (else linux,stdout-path) names (libfdt
    // resolves aliases and ":opts"), else the first okay ns16550a node; reg-shift 4 bytes,
    // 0..kMaxRegShift, default 0. An okay ns16550a whose reg or reg-shift the reader cannot use
    // must be a said refusal.
    const auto reg_shift = [&](int n) -> std::optional<std::uint64_t> {
        int len = 0;
        const void* rs = fdt_getprop(fdt, n, "reg-shift", &len);
        if (rs == nullptr) return 0;
        if (len != 4 || be_cells(rs, 1) > dtb::kMaxRegShift) return std::nullopt;
        return be_cells(rs, 1);
    };
    const auto usable_uart = [&](int n) {
        return n >= 0 && fdt_node_check_compatible(fdt, n, "ns16550a") == 0 && okay(fdt, n) &&
               first_reg(fdt, n).has_value() && reg_shift(n).has_value();
    };
    for (int n = fdt_node_offset_by_compatible(fdt, -1, "ns16550a"); n >= 0;
         n = fdt_node_offset_by_compatible(fdt, n, "ns16550a")) {
        if (!okay(fdt, n) || usable_uart(n)) continue;
        INFO("ns16550a node " << name_of(fdt, n) << " without a usable reg or reg-shift");
        CHECK((refused(p, name_of(fdt, n), "reg") || refused(p, name_of(fdt, n), "reg-shift")));
        ++g_refusal_branches;
    }
    int uart = -1;
    const int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen >= 0) {
        auto sp = prop_str(fdt, chosen, "stdout-path");
        if (!sp) sp = prop_str(fdt, chosen, "linux,stdout-path");
        if (sp) {
            const std::string path = sp->substr(0, sp->find(':'));
            const int n = fdt_path_offset(fdt, path.c_str());
            if (usable_uart(n)) uart = n;
        }
    }
    for (int n = fdt_node_offset_by_compatible(fdt, -1, "ns16550a"); uart < 0 && n >= 0;
         n = fdt_node_offset_by_compatible(fdt, n, "ns16550a"))
        if (usable_uart(n)) uart = n;
    if (uart >= 0) {
        INFO("uart node " << name_of(fdt, uart));
        CHECK(p.uart_base == first_reg(fdt, uart)->addr);
        CHECK(p.uart_reg_shift == *reg_shift(uart));
        CHECK((p.defaulted & dtb::kNoUart) == 0);
    } else {
        CHECK((p.defaulted & dtb::kNoUart) != 0);
        CHECK(p.uart_base == dtb::kDefaultUartBase);
    }

    // ---- test finisher (sifive,test0) and HTIF (ucb,htif0): the first okay one's reg
    const auto first_device = [&](const char* compat) -> std::uint64_t {
        for (int n = fdt_node_offset_by_compatible(fdt, -1, compat); n >= 0;
             n = fdt_node_offset_by_compatible(fdt, n, compat))
            if (okay(fdt, n))
                if (const auto r = first_reg(fdt, n)) return r->addr;
        return 0;
    };
    const std::uint64_t test = first_device("sifive,test0");
    CHECK(p.test_base == test);
    CHECK(((p.defaulted & dtb::kNoTestDevice) != 0) == (test == 0));
    CHECK(p.htif_base == first_device("ucb,htif0"));

    // ---- bootargs: one NUL-terminated string filling the property, else a said refusal
    const auto raw = chosen >= 0 ? prop_bytes(fdt, chosen, "bootargs") : std::nullopt;
    const bool args = raw && !raw->empty() && raw->find('\0') == raw->size() - 1;
    if (raw && !args) {
        CHECK(refused(p, "chosen", "bootargs"));
        ++g_refusal_branches;
    }
    CHECK(std::string(p.bootargs) == (args ? raw->substr(0, raw->size() - 1) : std::string()));
    CHECK(((p.defaulted & dtb::kNoBootargs) != 0) == !args);

    // ---- the header's memory reservation block: libfdt's entries in order, those with a
    // nonzero size and no wrap-around kept up to the table's size, the rest counted as dropped.
    const int rsv = fdt_num_mem_rsv(fdt);
    REQUIRE(rsv >= 0);
    std::uint32_t rsv_kept = 0, rsv_dropped = 0;
    for (int i = 0; i < rsv; ++i) {
        std::uint64_t addr = 0, size = 0;
        REQUIRE(fdt_get_mem_rsv(fdt, i, &addr, &size) == 0);
        if (size == 0 || addr + size < addr) { // refused by the reader, with a line
            CHECK(refused(p, "/memreserve/", "size"));
            ++g_refusal_branches;
            continue;
        }
        if (rsv_kept == dtb::kMaxReserved) {
            ++rsv_dropped;
            continue;
        }
        CHECK(p.memreserve[rsv_kept].base == addr);
        CHECK(p.memreserve[rsv_kept].size == size);
        ++rsv_kept;
    }
    // libfdt ends the block at the first entry of size 0; the reader says so when that entry
    // has an address (DTSpec's end is (0, 0)).
    const auto* end = static_cast<const unsigned char*>(fdt) + fdt_off_mem_rsvmap(fdt) + 16 * rsv;
    if (be_cells(end, 2) != 0) {
        CHECK(refused(p, "/memreserve/", "size"));
        ++g_refusal_branches;
    }
    CHECK(p.memreserve_count == rsv_kept);
    CHECK(p.memreserve_dropped == rsv_dropped);
}

std::vector<std::string> fixtures() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(DTB_FIXTURE_DIR))
        if (e.path().extension() == ".dtb") names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE("libfdt oracle: every fixture reads the same through libfdt and the reader",
          "[dtb][libfdt]") {
    const std::vector<std::string> names = fixtures();
    // The QEMU dumps, the field inputs, the phantom, virt-big (16) and the synthetic trees of
    // fixtures/synthetic (50): a glob that found nothing proves nothing.
    REQUIRE(names.size() >= 66);
    g_refusal_branches = 0;
    for (const std::string& n : names)
        compare(n);
    // 44: virt-timebase-2cell (timebase), virt-memory-noreg (memory), virt-dup-hartid (hart
    // id); 14 bad-* trees, refused-keeps-rest 4, refusals-overflow 20, build-nest17,
    // build-timebase-cpu-zero and build-memory-first 1 each.
    CHECK(g_refusal_branches >= 46); // and memreserve-shapes 2
}

TEST_CASE("libfdt oracle: a mismatch is caught (the oracle is not the reader)", "[dtb][libfdt]") {
    // Independently of the reader: libfdt's view of two fixtures whose facts differ must differ.
    const Blob a = load("virt-smp2.dtb");
    const Blob b = load("sifive_u-smp2.dtb");
    const int ca = fdt_path_offset(a.fdt(), "/cpus");
    const int cb = fdt_path_offset(b.fdt(), "/cpus");
    REQUIRE(ca >= 0);
    REQUIRE(cb >= 0);
    const auto ta = prop_bytes(a.fdt(), ca, "timebase-frequency");
    const auto tb = prop_bytes(b.fdt(), cb, "timebase-frequency");
    REQUIRE(ta);
    REQUIRE(tb);
    CHECK(be_cells(ta->data(), 1) == 10'000'000);
    CHECK(be_cells(tb->data(), 1) == 1'000'000);
    CHECK(isa_lists_sstc("rv64imafdch_zicsr_sstc"));
    CHECK(isa_lists_sstc("rv64i_SSTC1p0_zba"));
    CHECK_FALSE(isa_lists_sstc("rv64imac_zicsr_sstcx"));
    CHECK_FALSE(isa_lists_sstc("rv64imasstc"));
}
