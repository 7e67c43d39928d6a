// dtb reader tests on synthetic trees: defaults, cell sizes, stdout-path, cpu flags, bad shapes.
// The well-formed trees are dtc-built fixtures (fixtures/synthetic/build-*.dts); FdtBuilder makes
// only what dtc will not write (NOP tokens, broken token streams).
#include "dtb/dtb.hpp"
#include "dtb/fdt.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <iterator>
#include <string>

using dtb::Status;
using dtbtest::Bytes;
using dtbtest::FdtBuilder;
using dtbtest::parse_bytes;

namespace {

dtbtest::Parsed parse_fixture(const std::string& name) {
    const Bytes blob = dtbtest::load_fixture(name + ".dtb");
    INFO("fixture " << name);
    REQUIRE(!blob.empty());
    return parse_bytes(blob);
}

} // namespace

TEST_CASE("a minimal tree defaults every optional fact", "[dtb][build]") {
    const auto r = parse_fixture("build-minimal");
    REQUIRE(r.status == Status::Ok);
    CHECK(dtbtest::is_default(r.p));
    CHECK(r.p.defaulted == (dtb::kNoMemory | dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoTimebase |
                            dtb::kNoBootargs | dtb::kNoCpus));
}

namespace {

void check_cpus_memory(const dtb::Platform& p) {
    CHECK(p.defaulted == (dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoBootargs));
    CHECK(p.mem_base == 0x4000'0000);
    CHECK(p.mem_size == 0x1000);
    CHECK(p.timebase_hz == 1'000'000);
    REQUIRE(p.hart_count == 1);
    CHECK(p.harts[0].usable()); // status absent: enabled
    CHECK_FALSE(p.harts[0].sstc);
}

} // namespace

TEST_CASE("cpus and memory only: the rest is defaulted", "[dtb][build]") {
    // No #address-cells/#size-cells at the root: 2 and 1 per the spec.
    const auto r = parse_fixture("build-cpus-memory");
    REQUIRE(r.status == Status::Ok);
    check_cpus_memory(r.p);
}

TEST_CASE("NOP tokens are skipped anywhere", "[dtb][build]") {
    // The build-cpus-memory tree with FDT_NOPs in it: dtc never writes a NOP.
    FdtBuilder b;
    b.begin("").nop();
    b.begin("memory@40000000").str("device_type", "memory").cells("reg", {0, 0x4000'0000, 0x1000});
    b.end().begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    b.cells("timebase-frequency", {1'000'000});
    b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0}).str("mmu-type", "riscv,sv39");
    b.end().nop().end().end();
    const auto r = parse_bytes(b.finish());
    REQUIRE(r.status == Status::Ok);
    check_cpus_memory(r.p);
}

TEST_CASE("stdout-path selects the uart, by path, alias or unit-less name", "[dtb][build]") {
    struct Case {
        const char* fixture; // build-stdout.dtsi plus the stdout-path in the comment
        std::uint64_t base;
        std::uint32_t shift;
    };
    const Case cases[] = {
        {"build-stdout-path", 0x2000, 2},           // "/soc/serial@2000"
        {"build-stdout-path-opts", 0x2000, 2},      // "/soc/serial@2000:115200n8"
        {"build-stdout-path-first", 0x1000, 0},     // "/soc/serial@1000"
        {"build-stdout-alias1", 0x2000, 2},         // "serial1"
        {"build-stdout-alias1-opts", 0x2000, 2},    // "serial1:115200"
        {"build-stdout-alias0", 0x1000, 0},         // "serial0"
        {"build-stdout-unitless", 0x1000, 0},       // "/soc/serial": first node without unit
        {"build-stdout-not-uart", 0x1000, 0},       // "/soc/test@3000": not ns16550a, the first
        {"build-stdout-nowhere", 0x1000, 0},        // "/nowhere"
        {"build-stdout-alias-unknown", 0x1000, 0},  // "serial7"
        {"build-stdout-empty", 0x1000, 0},          // ""
        {"build-stdout-trailing-slash", 0x2000, 2}, // "/soc/serial@2000/"
    };
    for (const Case& c : cases) {
        INFO("fixture " << c.fixture);
        const auto r = parse_fixture(c.fixture);
        REQUIRE(r.status == Status::Ok);
        CHECK(r.p.uart_base == c.base);
        CHECK(r.p.uart_reg_shift == c.shift);
        CHECK(r.p.test_base == 0x3000);
        CHECK(std::string(r.p.bootargs) == "a=b");
        CHECK(r.p.defaulted == (dtb::kNoMemory | dtb::kNoTimebase | dtb::kNoCpus));
    }
}

TEST_CASE("linux,stdout-path is the fallback", "[dtb][build]") {
    const auto r = parse_fixture("build-linux-stdout-path");
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.uart_base == 2);
}

TEST_CASE("cpu flags: status, mmu-type, sstc tokens", "[dtb][build]") {
    // Row i is cpu@i (hart id i) of build-cpu-flags.dts, with the property in the comment.
    struct Row {
        bool enabled, s_mode, sstc;
    };
    const Row rows[] = {
        {true, false, false},  // status = "okay"
        {true, false, false},  // status = "ok"
        {false, false, false}, // status = "disabled"
        {false, false, false}, // status = "fail"
        {false, false, false}, // status = "okay2"
        {true, true, false},   // mmu-type = "riscv,sv57"
        {true, false, false},  // mmu-type = "riscv,none"
        {true, false, false},  // no mmu-type
        {false, true, false},  // status = "disabled", mmu-type = "riscv,sv39": not usable
        {true, false, true},   // riscv,isa = "rv64imafdch_zicsr_sstc"
        {true, false, true},   // "rv64imac_sstc_zicsr"
        {true, false, true},   // "rv64i_SSTC"
        {true, false, true},   // "rv64i_sstc1p0"
        {true, false, true},   // "rv64i_sstc1"
        {true, false, false},  // "rv64imac_zicsr"
        {true, false, false},  // "rv64imac_xsstc"
        {true, false, false},  // "rv64imac_sstcx"
        {true, false, false},  // "rv64imac_sst"
        {true, false, false},  // "rv64imac_sstc1p"
        {true, false, false},  // "sstc"
        {true, false, false},  // "rv64imac_"
        {true, false, true},   // riscv,isa-extensions = "i", "m", "sstc"
        {true, false, false},  // riscv,isa-extensions = "i", "sstcx"
    };
    const auto r = parse_fixture("build-cpu-flags");
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.p.hart_count == std::size(rows));
    CHECK(r.p.refusal_count == 0);
    for (std::uint32_t i = 0; i < r.p.hart_count; ++i) {
        INFO("cpu@" << i);
        const dtb::Hart& h = r.p.harts[i];
        CHECK(h.hart_id == i);
        CHECK(h.enabled == rows[i].enabled);
        CHECK(h.s_mode == rows[i].s_mode);
        CHECK(h.usable() == (rows[i].enabled && rows[i].s_mode));
        CHECK(h.sstc == rows[i].sstc);
    }
}

TEST_CASE("timebase-frequency on a cpu node, 64-bit values", "[dtb][build]") {
    auto timebase = [](const char* fixture) {
        const auto r = parse_fixture(fixture);
        REQUIRE(r.status == Status::Ok);
        REQUIRE(r.p.hart_count == 1);
        CHECK(r.p.harts[0].hart_id == 5);
        return r.p;
    };
    CHECK(timebase("build-timebase-cpu-4mhz").timebase_hz == 4'000'000);
    CHECK(timebase("build-timebase-cpu-64bit").timebase_hz == std::uint64_t{1} << 32);
    const dtb::Platform zero = timebase("build-timebase-cpu-zero");
    CHECK(zero.timebase_hz == 10'000'000); // zero counts as absent
    CHECK((zero.defaulted & dtb::kNoTimebase) != 0);
}

TEST_CASE("hart ids that do not fit 32 bits are dropped", "[dtb][build]") {
    const auto r = parse_fixture("build-hartid-64bit");
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.p.hart_count == 1);
    CHECK(r.p.harts[0].hart_id == 7);
    CHECK(r.p.harts_dropped == 1);
}

TEST_CASE("memory: first node with a nonzero size, 1-cell sizes", "[dtb][build]") {
    const auto r = parse_fixture("build-memory-first");
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.mem_base == 0x1000);
    CHECK(r.p.mem_size == 0x2000);
    CHECK((r.p.defaulted & dtb::kNoMemory) == 0);
}

TEST_CASE("nesting: 16 levels are fine, 17 are not", "[dtb][build]") {
    CHECK(parse_fixture("build-nest16").status == Status::Ok);
    const auto r = parse_fixture("build-nest17");
    CHECK(r.status == Status::BadStructure);
    CHECK(dtbtest::is_default(r.p));
}

TEST_CASE("a malformed blob is BadStructure", "[dtb][build]") {
    using F = void (*)(FdtBuilder&);
    const std::pair<const char*, F> cases[] = {
        {"property after a subnode",
         [](FdtBuilder& b) { b.begin("").begin("a").end().str("x", "y").end(); }},
        {"property outside the root", [](FdtBuilder& b) { b.str("x", "y").begin("").end(); }},
        {"two roots", [](FdtBuilder& b) { b.begin("").end().begin("").end(); }},
        {"END inside a node", [](FdtBuilder& b) { b.begin("").begin("a").word(9); }},
        {"END_NODE without node", [](FdtBuilder& b) { b.begin("").end().end(); }},
        {"no root", [](FdtBuilder&) {}},
        {"unknown token", [](FdtBuilder& b) { b.begin("").word(5).end(); }},
        {"empty child name", [](FdtBuilder& b) { b.begin("").begin("").end().end(); }},
        {"name offset past strings",
         [](FdtBuilder& b) { b.begin("").word(3).word(0).word(999).end(); }},
        {"length past struct",
         [](FdtBuilder& b) { b.begin("").word(3).word(0xffff'fff0).word(0).end(); }},
    };
    for (const auto& [what, build] : cases) {
        INFO(what);
        FdtBuilder b;
        build(b);
        const auto r = parse_bytes(b.finish());
        CHECK(r.status == Status::BadStructure);
        CHECK(dtbtest::is_default(r.p));
    }
    // Without FDT_END the walk runs off the struct block.
    const auto r = parse_bytes(FdtBuilder().begin("").end().finish(false));
    CHECK(r.status == Status::BadStructure);
}

TEST_CASE("the walker rejects an overlong property at the property itself", "[dtb][build]") {
    // parse() would also fail at the next token; the walker must not even hand the value out.
    for (std::uint32_t len : {5u, 8u, 1000u, 0xffff'ffffu}) {
        INFO("len " << len);
        FdtBuilder b;
        b.begin("").str("x", "y").word(3).word(len).word(0).word(0x0101'0101); // 4 bytes of room
        const dtbtest::Exact e(b.finish(false));
        dtb::fdt::Blob blob;
        REQUIRE(dtb::fdt::check_header(e.data(), e.size(), blob) == Status::Ok);
        dtb::fdt::Walker w(blob);
        dtb::fdt::Event ev;
        REQUIRE(w.next(ev) == Status::Ok);
        CHECK(ev.kind == dtb::fdt::Token::BeginNode);
        REQUIRE(w.next(ev) == Status::Ok);
        CHECK(ev.kind == dtb::fdt::Token::Prop);
        CHECK(w.next(ev) == Status::BadStructure);
    }
}
